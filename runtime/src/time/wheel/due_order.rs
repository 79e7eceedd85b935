//! [`sort_due`]: puts the entries of one due millisecond in firing order.
//!
//! A millisecond slot can hold many thousands of timers (a burst of
//! sleeps set a moment apart), and a comparison sort of them costs more
//! than everything else the wheel does for a timer. Within one slot the
//! sort keys (nanoseconds before the slot's end) span less than 2^20, so
//! two counting passes of 10 bits each sort them in linear time.
//!
//! Everything else (short slots, the rare wide or out-of-order one) takes a
//! hand-written heapsort rather than `sort_unstable`: the standard library's
//! pattern-defeating quicksort is about 6 KB of machine code in every
//! program with a timer, for slots that are short or rare; heapsort is a
//! few hundred bytes and still O(n log n) on any input.

/// One due timer: `(key, seq, slab index)`; smaller key fires first, then
/// smaller `seq`.
pub(crate) type Due = (u64, u64, u32);

/// Bits of the key one counting pass sorts by.
const DIGIT_BITS: u32 = 10;
/// Buckets per counting pass.
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Below this many items a comparison sort is cheaper than two passes
/// over `BUCKETS` counters.
const MIN_COUNTING: usize = 256;

/// Sorts `items` by `(key, seq)`, using `spare` as scratch.
///
/// Counting sort is stable, so it orders equal keys by `seq` only if they
/// arrive in `seq` order; a slot list does (entries are appended as they
/// are inserted, and a cascade moves a whole list into empty lower slots
/// in order), but that is checked, not trusted: out-of-order input, keys
/// spanning more than two passes can sort (the "already due" slot, which
/// mixes old deadlines) and short inputs take [`heap_sort`] instead.
pub(crate) fn sort_due(items: &mut Vec<Due>, spare: &mut Vec<Due>) {
    let in_seq_order = items.windows(2).all(|pair| pair[0].1 < pair[1].1);
    let low = items.iter().map(|item| item.0).min().unwrap_or(0);
    let high = items.iter().map(|item| item.0).max().unwrap_or(0);
    if items.len() < MIN_COUNTING || !in_seq_order || high - low >= 1 << (2 * DIGIT_BITS) {
        heap_sort(items);
        return;
    }
    // Least significant digit first: after the second (stable) pass the
    // order is by the whole offset, equal offsets still in `seq` order.
    for shift in [0, DIGIT_BITS] {
        let digit = |item: &Due| ((item.0 - low) >> shift) as usize % BUCKETS;
        let mut starts = [0usize; BUCKETS];
        for item in items.iter() {
            starts[digit(item)] += 1;
        }
        let mut next = 0;
        for start in starts.iter_mut() {
            let count = *start;
            *start = next;
            next += count;
        }
        spare.clear();
        spare.resize(items.len(), (0, 0, 0));
        for item in items.iter() {
            let bucket = &mut starts[digit(item)];
            spare[*bucket] = *item;
            *bucket += 1;
        }
        std::mem::swap(items, spare);
    }
}

/// Sorts `items` ascending by `(key, seq)` (`seq` is unique, so the slab
/// index never decides): heapsort, O(n log n) on every input, no
/// allocation, and small code.
fn heap_sort(items: &mut [Due]) {
    // Arrange a max-heap, then move its top (the largest) behind the
    // shrinking heap until the heap is empty.
    for root in (0..items.len() / 2).rev() {
        sift_down(items, root);
    }
    for end in (1..items.len()).rev() {
        items.swap(0, end);
        sift_down(&mut items[..end], 0);
    }
}

/// Moves `items[root]` down the max-heap `items` until it is no smaller
/// than its children.
fn sift_down(items: &mut [Due], mut root: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= items.len() {
            return;
        }
        if child + 1 < items.len() && items[child] < items[child + 1] {
            child += 1;
        }
        if items[root] >= items[child] {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers from `seed`.
    fn numbers(seed: u64) -> impl FnMut() -> u64 {
        let mut rng = crate::test_rng::Rng::new(seed);
        move || rng.next()
    }

    fn check(items: Vec<Due>) {
        let mut expected = items.clone();
        expected.sort_unstable();
        let mut sorted = items;
        sort_due(&mut sorted, &mut Vec::new());
        assert_eq!(sorted, expected);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri: too slow interpreted (safe code at scale)")]
    fn counting_sort_matches_a_comparison_sort_with_ties_and_runs() {
        let mut next = numbers(0x1234_5678_9abc_def1);
        for len in [0, 1, 2, 255, 256, 257, 1_000, 5_000, 50_000] {
            // One millisecond of keys near the top of the range (keys count
            // down from u64::MAX), with many ties and repeating runs.
            let base = u64::MAX - 1_000_000;
            let items: Vec<Due> = (0..len as u64)
                .map(|seq| {
                    let key = match seq % 3 {
                        0 => base + next() % 1_000_000,
                        1 => base + (seq % 1000) * 997,
                        _ => base + next() % 8,
                    };
                    (key, seq, seq as u32)
                })
                .collect();
            check(items);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri: too slow interpreted (safe code at scale)")]
    fn short_slots_sort_exactly_by_key_then_seq_at_every_length() {
        let mut next = numbers(7);
        for len in 0..64u64 {
            // Few distinct keys (many ties) and shuffled sequence numbers,
            // so both halves of the order are exercised.
            let items: Vec<Due> = (0..len).map(|i| (next() % 5, next(), i as u32)).collect();
            check(items);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri: too slow interpreted (safe code at scale)")]
    fn wide_or_out_of_order_input_still_sorts_exactly() {
        let mut next = numbers(42);
        let wide: Vec<Due> = (0..3_000u64).map(|seq| (next(), seq, seq as u32)).collect();
        check(wide);
        let shuffled: Vec<Due> = (0..3_000u64)
            .map(|i| (u64::MAX - next() % 16, next(), i as u32))
            .collect();
        check(shuffled);
    }
}
