//! A log-linear latency histogram: exact below 128 ns, then 64 buckets per
//! power of two (under 1.6 % error), fixed size, no allocation per sample.
//!
//! ```text
//! value v          bucket index
//! v < 128          v
//! v >= 128         (e - 5) * 64 + (v >> (e - 6)) - 64,  e = floor(log2 v)
//! ```

/// Sub-buckets per power of two, as a bit count.
const SUB_BITS: u32 = 6;
/// Sub-buckets per power of two.
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for any `u64`.
const LEN: usize = ((64 - SUB_BITS) as usize) * SUB as usize + SUB as usize;

/// Counts of nanosecond samples.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    /// One counter per bucket, indexed as in the module table.
    counts: Vec<u64>,
    /// Number of samples recorded, so percentiles need no extra pass.
    total: u64,
}

impl Histogram {
    /// An empty histogram.
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: vec![0; LEN],
            total: 0,
        }
    }

    /// Records one sample in nanoseconds.
    pub(crate) fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
        self.total += 1;
    }

    /// The value below which a fraction `q` of the samples lie (bucket midpoint), 0 if empty.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return midpoint(i);
            }
        }
        midpoint(LEN - 1)
    }
}

/// Bucket of a value.
fn index(v: u64) -> usize {
    if v < 2 * SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let shift = exp - SUB_BITS;
    ((shift as u64 + 1) * SUB + (v >> shift) - SUB) as usize
}

/// Middle of the value range a bucket covers.
fn midpoint(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB {
        return i;
    }
    let shift = i / SUB - 1;
    let low = (i % SUB + SUB) << shift;
    low + (1u64 << shift) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_whose_midpoint_is_within_two_percent() {
        for v in (0..20_000u64).chain([1 << 20, 123_456_789, u64::MAX / 3]) {
            let m = midpoint(index(v));
            let err = m.abs_diff(v) as f64 / (v.max(1)) as f64;
            assert!(err < 0.02, "v={v} m={m}");
        }
        assert!(index(u64::MAX) < LEN);
    }

    #[test]
    fn quantiles_of_a_uniform_run_match_the_ranks() {
        let mut h = Histogram::new();
        for v in 1..=1000 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.02, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.02, "{p99}");
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }
}
