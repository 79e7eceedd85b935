//! A seeded source of randomness for stress tests.

/// A xorshift64 generator: the same seed replays the same sequence, so a
/// failing seed can be run again, and it needs no dependency. The seed must
/// not be zero (zero stays zero forever).
#[derive(Clone, Debug)]
pub struct XorShift(
    /// The state, which is also the last number returned.
    pub u64,
);

impl XorShift {
    /// Advances the state and returns it.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An index into a collection of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        (self.next_u64() % len as u64) as usize
    }
}
