//! The crate's one pseudo-random generator for its model tests: seeded
//! and reproducible, so a failure names the seed that replays it, and no
//! dependency.

/// xorshift64.
#[derive(Debug)]
pub(crate) struct Rng(u64);

// Under loom the coop model, the one user of `index` and `chance`, is not
// built.
#[cfg_attr(loom, allow(dead_code))]
impl Rng {
    /// A generator from `seed`. Any seed works, 0 included, and seeds 1, 2,
    /// 3... start far apart.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index in `0..n` (`n > 0`).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
