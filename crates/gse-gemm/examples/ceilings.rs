//! Register-only throughput ceilings of the candidate multiply-accumulate instruction
//! sequences, on every core at once. No loads or stores: each loop body is a fixed
//! instruction sequence over registers, so the numbers bound what any kernel built on the
//! same sequence can reach on this machine.
//!
//! Run: `cargo run --release -p gse-gemm --example ceilings [threads]`

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::asm;

    /// Iterations of each asm loop per call.
    pub const ITERS: u64 = 1 << 22;

    /// One sequence under test: its name, multiply-accumulates per loop iteration and the loop.
    pub struct Seq {
        pub name: &'static str,
        pub macs_per_iter: u64,
        pub run: unsafe fn(u64),
    }

    /// `vfmadd231ps`: 12 independent accumulators, 8 f32 MACs each.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn f32_fma(n: u64) {
        unsafe {
            asm!(
                "vxorps ymm0, ymm0, ymm0", "vxorps ymm14, ymm14, ymm14", "vxorps ymm15, ymm15, ymm15",
                "2:",
                "vfmadd231ps ymm0, ymm14, ymm15", "vfmadd231ps ymm1, ymm14, ymm15",
                "vfmadd231ps ymm2, ymm14, ymm15", "vfmadd231ps ymm3, ymm14, ymm15",
                "vfmadd231ps ymm4, ymm14, ymm15", "vfmadd231ps ymm5, ymm14, ymm15",
                "vfmadd231ps ymm6, ymm14, ymm15", "vfmadd231ps ymm7, ymm14, ymm15",
                "vfmadd231ps ymm8, ymm14, ymm15", "vfmadd231ps ymm9, ymm14, ymm15",
                "vfmadd231ps ymm10, ymm14, ymm15", "vfmadd231ps ymm11, ymm14, ymm15",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// `vpmaddwd` + `vpaddd`: i16 x i16 pairs into i32, 16 MACs per pair of instructions.
    #[target_feature(enable = "avx2")]
    unsafe fn i16_maddwd(n: u64) {
        unsafe {
            asm!(
                "vpxor ymm14, ymm14, ymm14", "vpxor ymm15, ymm15, ymm15",
                "2:",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm0, ymm0, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm1, ymm1, ymm13",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm2, ymm2, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm3, ymm3, ymm13",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm4, ymm4, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm5, ymm5, ymm13",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm6, ymm6, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm7, ymm7, ymm13",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm8, ymm8, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm9, ymm9, ymm13",
                "vpmaddwd ymm12, ymm14, ymm15", "vpaddd ymm10, ymm10, ymm12",
                "vpmaddwd ymm13, ymm14, ymm15", "vpaddd ymm11, ymm11, ymm13",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm12") _, out("ymm13") _,
                out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// `vpmaddubsw` -> `vpmaddwd` with ones -> `vpaddd`: u8 x s8, 32 MACs per triple.
    #[target_feature(enable = "avx2")]
    unsafe fn u8s8(n: u64) {
        unsafe {
            asm!(
                "vpxor ymm14, ymm14, ymm14", "vpxor ymm15, ymm15, ymm15", "vpxor ymm13, ymm13, ymm13",
                "2:",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm0, ymm0, ymm10",
                "vpmaddubsw ymm11, ymm14, ymm15", "vpmaddwd ymm11, ymm11, ymm13", "vpaddd ymm1, ymm1, ymm11",
                "vpmaddubsw ymm12, ymm14, ymm15", "vpmaddwd ymm12, ymm12, ymm13", "vpaddd ymm2, ymm2, ymm12",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm3, ymm3, ymm10",
                "vpmaddubsw ymm11, ymm14, ymm15", "vpmaddwd ymm11, ymm11, ymm13", "vpaddd ymm4, ymm4, ymm11",
                "vpmaddubsw ymm12, ymm14, ymm15", "vpmaddwd ymm12, ymm12, ymm13", "vpaddd ymm5, ymm5, ymm12",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm6, ymm6, ymm10",
                "vpmaddubsw ymm11, ymm14, ymm15", "vpmaddwd ymm11, ymm11, ymm13", "vpaddd ymm7, ymm7, ymm11",
                "vpmaddubsw ymm12, ymm14, ymm15", "vpmaddwd ymm12, ymm12, ymm13", "vpaddd ymm8, ymm8, ymm12",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm9, ymm9, ymm10",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm12") _, out("ymm13") _,
                out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// Two `vpmaddubsw` k-steps summed with `vpaddw` before one `vpmaddwd` widening:
    /// 64 MACs per five instructions (needs small operands so the i16 sum cannot overflow).
    #[target_feature(enable = "avx2")]
    unsafe fn u8s8_two_step(n: u64) {
        unsafe {
            asm!(
                "vpxor ymm14, ymm14, ymm14", "vpxor ymm15, ymm15, ymm15", "vpxor ymm13, ymm13, ymm13",
                "2:",
                "vpmaddubsw ymm8, ymm14, ymm15", "vpmaddubsw ymm9, ymm14, ymm15", "vpaddw ymm8, ymm8, ymm9",
                "vpmaddwd ymm8, ymm8, ymm13", "vpaddd ymm0, ymm0, ymm8",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15", "vpaddw ymm10, ymm10, ymm11",
                "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm1, ymm1, ymm10",
                "vpmaddubsw ymm12, ymm14, ymm15", "vpmaddubsw ymm9, ymm14, ymm15", "vpaddw ymm12, ymm12, ymm9",
                "vpmaddwd ymm12, ymm12, ymm13", "vpaddd ymm2, ymm2, ymm12",
                "vpmaddubsw ymm8, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15", "vpaddw ymm8, ymm8, ymm11",
                "vpmaddwd ymm8, ymm8, ymm13", "vpaddd ymm3, ymm3, ymm8",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddubsw ymm9, ymm14, ymm15", "vpaddw ymm10, ymm10, ymm9",
                "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm4, ymm4, ymm10",
                "vpmaddubsw ymm12, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15", "vpaddw ymm12, ymm12, ymm11",
                "vpmaddwd ymm12, ymm12, ymm13", "vpaddd ymm5, ymm5, ymm12",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                out("ymm5") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm12") _, out("ymm13") _,
                out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// Eight `vpmaddubsw` k-steps summed in i16 before one widening: the INT6-and-narrower
    /// path where a whole 32-element group fits the i16 lanes. 256 MACs per 17 instructions.
    #[target_feature(enable = "avx2")]
    unsafe fn u8s8_group_i16(n: u64) {
        unsafe {
            asm!(
                "vpxor ymm14, ymm14, ymm14", "vpxor ymm15, ymm15, ymm15", "vpxor ymm13, ymm13, ymm13",
                "2:",
                "vpmaddubsw ymm8, ymm14, ymm15", "vpmaddubsw ymm9, ymm14, ymm15",
                "vpmaddubsw ymm10, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15",
                "vpaddw ymm8, ymm8, ymm9", "vpaddw ymm10, ymm10, ymm11",
                "vpmaddubsw ymm9, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15",
                "vpaddw ymm8, ymm8, ymm9", "vpaddw ymm10, ymm10, ymm11",
                "vpmaddubsw ymm9, ymm14, ymm15", "vpmaddubsw ymm11, ymm14, ymm15",
                "vpaddw ymm8, ymm8, ymm9", "vpaddw ymm10, ymm10, ymm11",
                "vpaddw ymm8, ymm8, ymm10",
                "vpmaddwd ymm8, ymm8, ymm13", "vpaddd ymm0, ymm0, ymm8",
                "vpmaddubsw ymm4, ymm14, ymm15", "vpmaddubsw ymm5, ymm14, ymm15",
                "vpmaddubsw ymm6, ymm14, ymm15", "vpmaddubsw ymm7, ymm14, ymm15",
                "vpaddw ymm4, ymm4, ymm5", "vpaddw ymm6, ymm6, ymm7",
                "vpmaddubsw ymm5, ymm14, ymm15", "vpmaddubsw ymm7, ymm14, ymm15",
                "vpaddw ymm4, ymm4, ymm5", "vpaddw ymm6, ymm6, ymm7",
                "vpmaddubsw ymm5, ymm14, ymm15", "vpmaddubsw ymm7, ymm14, ymm15",
                "vpaddw ymm4, ymm4, ymm5", "vpaddw ymm6, ymm6, ymm7",
                "vpaddw ymm4, ymm4, ymm6",
                "vpmaddwd ymm4, ymm4, ymm13", "vpaddd ymm1, ymm1, ymm4",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm4") _, out("ymm5") _, out("ymm6") _,
                out("ymm7") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm13") _,
                out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    /// s8 x s8 through the sign trick: `vpsignb` moves a's sign onto b, `vpmaddubsw` takes |a|.
    #[target_feature(enable = "avx2")]
    unsafe fn s8s8_sign(n: u64) {
        unsafe {
            asm!(
                "vpxor ymm14, ymm14, ymm14", "vpxor ymm15, ymm15, ymm15", "vpxor ymm13, ymm13, ymm13",
                "vpxor ymm12, ymm12, ymm12",
                "2:",
                "vpsignb ymm8, ymm15, ymm12", "vpmaddubsw ymm8, ymm14, ymm8", "vpmaddwd ymm8, ymm8, ymm13", "vpaddd ymm0, ymm0, ymm8",
                "vpsignb ymm9, ymm15, ymm12", "vpmaddubsw ymm9, ymm14, ymm9", "vpmaddwd ymm9, ymm9, ymm13", "vpaddd ymm1, ymm1, ymm9",
                "vpsignb ymm10, ymm15, ymm12", "vpmaddubsw ymm10, ymm14, ymm10", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm2, ymm2, ymm10",
                "vpsignb ymm11, ymm15, ymm12", "vpmaddubsw ymm11, ymm14, ymm11", "vpmaddwd ymm11, ymm11, ymm13", "vpaddd ymm3, ymm3, ymm11",
                "vpsignb ymm8, ymm15, ymm12", "vpmaddubsw ymm8, ymm14, ymm8", "vpmaddwd ymm8, ymm8, ymm13", "vpaddd ymm4, ymm4, ymm8",
                "vpsignb ymm9, ymm15, ymm12", "vpmaddubsw ymm9, ymm14, ymm9", "vpmaddwd ymm9, ymm9, ymm13", "vpaddd ymm5, ymm5, ymm9",
                "vpsignb ymm10, ymm15, ymm12", "vpmaddubsw ymm10, ymm14, ymm10", "vpmaddwd ymm10, ymm10, ymm13", "vpaddd ymm6, ymm6, ymm10",
                "vpsignb ymm11, ymm15, ymm12", "vpmaddubsw ymm11, ymm14, ymm11", "vpmaddwd ymm11, ymm11, ymm13", "vpaddd ymm7, ymm7, ymm11",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
                out("ymm10") _, out("ymm11") _, out("ymm12") _, out("ymm13") _,
                out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    }

    pub fn sequences() -> Vec<Seq> {
        vec![
            Seq {
                name: "f32 vfmadd231ps",
                macs_per_iter: 12 * 8,
                run: f32_fma,
            },
            Seq {
                name: "i16 vpmaddwd+vpaddd",
                macs_per_iter: 12 * 16,
                run: i16_maddwd,
            },
            Seq {
                name: "u8s8 vpmaddubsw->vpmaddwd(1)->vpaddd",
                macs_per_iter: 10 * 32,
                run: u8s8,
            },
            Seq {
                name: "u8s8 two k-steps in i16",
                macs_per_iter: 6 * 64,
                run: u8s8_two_step,
            },
            Seq {
                name: "u8s8 whole group in i16 (8 steps)",
                macs_per_iter: 2 * 256,
                run: u8s8_group_i16,
            },
            Seq {
                name: "s8s8 vpsignb sign trick",
                macs_per_iter: 8 * 32,
                run: s8s8_sign,
            },
        ]
    }
}

#[cfg(target_arch = "x86_64")]
fn main() {
    use std::time::Instant;
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !is_x86_feature_detected!("avx2") || !is_x86_feature_detected!("fma") {
        eprintln!("needs AVX2 and FMA");
        return;
    }
    println!(
        "{threads} thread(s), {} iterations per thread per repeat, best of 5",
        x86::ITERS
    );
    let mut int8_ceiling = 0.0f64;
    let mut rows = Vec::new();
    for seq in x86::sequences() {
        let mut best = 0.0f64;
        for _ in 0..5 {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    // SAFETY: AVX2/FMA were detected above.
                    s.spawn(|| unsafe { (seq.run)(x86::ITERS) });
                }
            });
            let secs = start.elapsed().as_secs_f64();
            let gmacs = (seq.macs_per_iter * x86::ITERS * threads as u64) as f64 / secs / 1e9;
            best = best.max(gmacs);
        }
        if seq.name.starts_with("u8s8 vpmaddubsw") {
            int8_ceiling = best;
        }
        rows.push((seq.name, best));
    }
    println!(
        "{:<42} {:>10} {:>14}",
        "sequence", "GMAC/s", "x u8s8 ceiling"
    );
    for (name, g) in rows {
        println!("{name:<42} {g:>10.1} {:>14.2}", g / int8_ceiling);
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("the ceilings example measures x86_64 instruction sequences only");
}
