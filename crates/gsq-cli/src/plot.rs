//! The loss-curve PNG: one line per backend (plotters' bitmap backend; no fonts needed, so the
//! figure has no text: the legend is in the report and on the terminal).

use std::path::Path;

use plotters::prelude::*;

/// Colors of the backends' curves, in run order.
pub const COLORS: [(&str, RGBColor); 4] = [
    ("red", RGBColor(220, 40, 40)),
    ("blue", RGBColor(40, 80, 220)),
    ("green", RGBColor(30, 150, 60)),
    ("orange", RGBColor(230, 140, 20)),
];

/// Draws `curves` (name, losses per step) into a PNG at `path`; returns each curve's color.
pub fn loss_png(path: &Path, curves: &[(String, Vec<f32>)]) -> Result<Vec<String>, String> {
    let err = |e: &dyn std::fmt::Display| format!("plotting {}: {e}", path.display());
    let root = BitMapBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let steps = curves
        .iter()
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let values = curves
        .iter()
        .flat_map(|(_, l)| l.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = (hi - lo) * 0.05;
    let mut chart = ChartBuilder::on(&root)
        .margin(20)
        .build_cartesian_2d(0..(steps - 1), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(0, lo - pad), (steps - 1, hi + pad)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    let mut names = Vec::new();
    for (i, (_, losses)) in curves.iter().enumerate() {
        let (name, color) = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                losses.iter().enumerate().map(|(s, &v)| (s, v)),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
        names.push(name.to_string());
    }
    root.present().map_err(|e| err(&e))?;
    Ok(names)
}
