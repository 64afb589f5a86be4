//! Rounding a value to fewer bits: nearest-even and stochastic, plus the counter-based PRNG
//! that makes stochastic rounding reproducible whatever the thread count.

/// How a quantizer rounds values that fall between two representable mantissas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rounding {
    /// Round to nearest, ties to even: deterministic, error at most half a quantum.
    #[default]
    NearestEven,
    /// Round up with probability equal to the dropped fraction, so the expected rounded value
    /// is the exact value. The random bits of element `i` are `mix64(seed, i)`, so results do not
    /// depend on how the work is split between threads.
    Stochastic { seed: u64 },
}

/// `round(mag / 2^k)` with ties to even.
#[inline]
pub const fn shr_nearest_even(mag: u128, k: u32) -> u128 {
    if k == 0 {
        return mag;
    }
    if k >= 128 {
        return 0;
    }
    let kept = mag >> k;
    let rest = mag & ((1u128 << k) - 1);
    let half = 1u128 << (k - 1);
    if rest > half || (rest == half && kept & 1 == 1) {
        kept + 1
    } else {
        kept
    }
}

/// `round(mag / 2^k)` with ties to even, for `k < 64`.
#[inline]
pub const fn shr_nearest_even_u64(mag: u64, k: u32) -> u64 {
    if k == 0 {
        return mag;
    }
    let kept = mag >> k;
    let rest = mag & ((1u64 << k) - 1);
    let half = 1u64 << (k - 1);
    kept + (rest > half || (rest == half && kept & 1 == 1)) as u64
}

/// `floor(m / 2^k + u)` with `u = random / 2^64` uniform in `[0, 1)`.
#[inline]
pub const fn shr_stochastic(m: i128, k: u32, random: u64) -> i128 {
    if k == 0 {
        return m;
    }
    // Scale the 64 random bits to the k dropped bits: exact for k <= 64, a 64-bit
    // approximation of u (bias below 2^-64 of a quantum) for longer shifts.
    if k <= 64 {
        let noise = (random >> (64 - k)) as i128;
        (m + noise) >> k
    } else if k <= 126 {
        // noise < 2^126 and |m| < 2^64 (an i64 mantissa), so the sum fits an i128.
        let noise = (random as i128) << (k - 64);
        (m + noise) >> k
    } else {
        // |m / 2^k| < 2^-63: the value rounds to 0 (or -1 for negatives with odds below 2^-63).
        0
    }
}

/// SplitMix64's finalizer: a bijective 64-bit mixer with full avalanche.
#[inline]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random word for element `index` of a stream seeded by `seed`.
#[inline]
pub const fn random_bits(seed: u64, index: u64) -> u64 {
    mix64(seed ^ mix64(index.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// A seedable sequential generator (SplitMix64) for code that draws numbers one after another.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in `0..bound` (Lemire's multiply-shift; bias below `bound / 2^64`).
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_even_ties() {
        assert_eq!(shr_nearest_even(0b101, 1), 0b10);
        assert_eq!(shr_nearest_even(0b111, 1), 0b100);
        assert_eq!(shr_nearest_even(0b1011, 2), 0b11);
        assert_eq!(shr_nearest_even(u128::MAX, 128), 0);
    }

    #[test]
    fn stochastic_floor_semantics() {
        assert_eq!(shr_stochastic(-1, 4, 0), -1);
        assert_eq!(shr_stochastic(-1, 4, u64::MAX), 0);
        assert_eq!(shr_stochastic(16, 4, u64::MAX), 1);
        assert_eq!(shr_stochastic(17, 4, u64::MAX), 2);
    }
}
