//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::OnceLock;

use gsq_models::assets;
use gsq_models::gguf::Gguf;

/// The real SmolLM2 GGUF file, read once per test binary. Fails loudly when the assets were not
/// fetched: these tests must never pass by skipping.
pub fn smollm2() -> &'static Gguf {
    static MODEL: OnceLock<Gguf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = assets::require_model().unwrap_or_else(|e| panic!("{e}"));
        Gguf::open(&path).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
    })
}

pub fn moby_dick() -> String {
    let path = assets::require_moby_dick().unwrap_or_else(|e| panic!("{e}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every play as `(category/name.md, text)`, sorted by path.
pub fn shakespeare() -> Vec<(String, String)> {
    let dir = assets::require_shakespeare_dir().unwrap_or_else(|e| panic!("{e}"));
    assets::tree_files(&dir, ".md")
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .into_iter()
        .map(|(name, path)| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

/// The first `n` characters of `text`.
pub fn prefix_chars(text: &str, n: usize) -> &str {
    let end = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// FNV-1a 64 of token ids, each as 4 little-endian bytes (as tests/reference/hf_tokenizer.py).
pub fn fnv1a64(ids: &[u32]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for id in ids {
        for b in id.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
