//! The corpus: tokenized training and held-out splits, and deterministic batches.

use gsq_models::tokenizer::Tokenizer;

/// Fraction of the text (by bytes, from the end) held out for evaluation, in tenths.
pub const HELD_OUT_TENTHS: usize = 1;
/// At most this many bytes of the training split are tokenized (training samples windows from
/// them).
pub const MAX_TRAIN_BYTES: usize = 400_000;

/// Token ids of the two splits.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub train: Vec<u32>,
    pub held_out: Vec<u32>,
}

/// The byte index of the first char boundary at or after `i`.
fn boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

impl Corpus {
    /// The first 90% (up to [`MAX_TRAIN_BYTES`]) for training, the last 10% held out, split at a
    /// line start.
    pub fn new(text: &str, tok: &Tokenizer, held_out_tokens: usize) -> Self {
        let cut = boundary(text, text.len() - text.len() * HELD_OUT_TENTHS / 10);
        let cut = text[cut..].find('\n').map_or(cut, |n| cut + n + 1);
        let (train, held) = text.split_at(cut);
        let train = &train[..boundary(train, MAX_TRAIN_BYTES.min(train.len()))];
        // Enough held-out text for the requested tokens (about 4 bytes per token, doubled).
        let held = &held[..boundary(held, (held_out_tokens * 8 + 256).min(held.len()))];
        Self {
            train: tok.encode_ordinary(train),
            held_out: tok.encode_ordinary(held),
        }
    }

    /// The `step`-th batch: `batch` windows of `len` tokens at pseudo-random offsets, the same
    /// for every backend given the seed.
    pub fn batch(&self, seed: u64, step: usize, batch: usize, len: usize) -> Vec<Vec<u32>> {
        let span = self.train.len().saturating_sub(len).max(1);
        (0..batch)
            .map(|b| {
                let r = mix64(seed ^ mix64((step * 1024 + b) as u64));
                let start = (r % span as u64) as usize;
                self.train[start..(start + len).min(self.train.len())].to_vec()
            })
            .collect()
    }

    /// Held-out windows of `len` tokens (consecutive windows overlap by one token, so every
    /// scored token is predicted once), covering at most `tokens` predictions.
    pub fn held_out_windows(&self, len: usize, tokens: usize) -> Vec<Vec<u32>> {
        let step = len - 1;
        let mut out = Vec::new();
        let mut start = 0;
        while start + len <= self.held_out.len() && out.len() * step < tokens {
            out.push(self.held_out[start..start + len].to_vec());
            start += step;
        }
        out
    }
}

/// SplitMix64's finalizer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
