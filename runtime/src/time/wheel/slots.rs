//! [`Slots`]: the wheel's levels of slot lists, their occupancy bits, and
//! the rule that decides which slot holds a tick.

use slab::Slab;

use super::Entry;
use super::list::List;

/// Levels in the wheel.
const LEVELS: usize = 6;
/// Slots per level; a power of two, so a `u64` holds a level's occupancy.
const SLOTS: usize = 64;
/// Tick bits one level resolves: `SLOTS == 1 << SLOT_BITS`.
const SLOT_BITS: u32 = 6;
/// Tick bits the whole wheel resolves: it spans `2^36` ms, about 2.2 years.
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// List id of the overflow list: ticks too far ahead for the wheel.
const OVERFLOW: u16 = (LEVELS * SLOTS) as u16;

/// Every slot list of the wheel, plus the overflow list.
///
/// A tick is a 64-bit count of milliseconds. Level `L` resolves the six tick
/// bits `6L..6L+6`, so one of its slots spans `64^L` ticks and the level
/// spans `64^(L+1)`:
///
/// ```text
///  tick bit: 63 .. 36 | 35..30 | 29..24 | 23..18 | 17..12 | 11..6 | 5..0
///  field:    epoch    | lvl 5  | lvl 4  | lvl 3  | lvl 2  | lvl 1 | lvl 0
///  slot of:  overflow | 2.2 y  | 12.4 d | 4.7 h  | 4.4 m  | 4.1 s | 64 ms
///  (span column: what the whole level covers; a slot is 1/64 of it)
/// ```
///
/// An entry due at tick `t`, placed when the wheel's elapsed tick is `e`,
/// goes to the highest level whose field differs between `t` and `e`, in
/// the slot named by `t`'s field there. All of its higher fields equal
/// `e`'s, so it lies in the current span of that level, after the current
/// slot. When `e` reaches the start of a slot above level 0, that slot's
/// entries are placed again (cascaded): each lands strictly lower. A level-0
/// slot holds exactly one tick and fires whole. Entries already due
/// (`t <= e`) share the current level-0 slot and fire at the next drain.
/// One exception: a timer rescheduled to a later deadline stays where it was,
/// in a slot that comes up early for it; when that slot comes up it is
/// placed again by its new tick, like a cascade, instead of firing
/// (`Timers::reschedule`).
///
/// List ids pack a level and a slot, with one extra id for the overflow:
///
/// ```text
///  id:    0 ..= 383              | 384
///  means: level = id / 64,       | overflow: epoch (bits 36..) differs
///         slot  = id % 64        | from e's; placed again at the next epoch
/// ```
#[derive(Debug)]
pub(crate) struct Slots {
    /// `LEVELS * SLOTS` slot lists, level by level, then the overflow list.
    lists: [List; LEVELS * SLOTS + 1],
    /// Bit `s` of `occupied[L]` is set iff slot `s` of level `L` is
    /// non-empty: the next busy slot is one `trailing_zeros` away.
    occupied: [u64; LEVELS],
}

/// The next slot list that needs attention, and when.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expiration {
    /// Which list: level 0 fires, anything else is cascaded.
    pub(crate) list: u16,
    /// The tick at which that happens: the slot's first tick.
    pub(crate) tick: u64,
}

impl Expiration {
    /// Whether this list holds a single tick whose entries are all due.
    pub(crate) fn fires(&self) -> bool {
        usize::from(self.list) < SLOTS
    }
}

impl Slots {
    /// A wheel with every slot empty.
    pub(crate) fn new() -> Slots {
        Slots {
            lists: [List::EMPTY; LEVELS * SLOTS + 1],
            occupied: [0; LEVELS],
        }
    }

    /// The list that holds an entry due at `tick` while the wheel's elapsed
    /// tick is `elapsed` (see the type's docs).
    pub(crate) fn place(tick: u64, elapsed: u64) -> u16 {
        if tick <= elapsed {
            // Already due: the current level-0 slot, drained next.
            return (elapsed % SLOTS as u64) as u16;
        }
        let differ = tick ^ elapsed;
        if differ >> WHEEL_BITS != 0 {
            return OVERFLOW;
        }
        // `| 63` puts ticks within the current 64 ms at level 0.
        let top_bit = 63 - (differ | (SLOTS as u64 - 1)).leading_zeros();
        let level = top_bit / SLOT_BITS;
        let slot = (tick >> (level * SLOT_BITS)) % SLOTS as u64;
        (level as usize * SLOTS + slot as usize) as u16
    }

    /// Appends entry `index` to list `id`.
    pub(crate) fn link(&mut self, id: u16, index: u32, entries: &mut Slab<Entry>) {
        self.lists[usize::from(id)].push_back(id, index, entries);
        if id != OVERFLOW {
            self.occupied[usize::from(id) / SLOTS] |= 1 << (id as usize % SLOTS);
        }
    }

    /// Removes entry `index` from whichever list holds it.
    pub(crate) fn unlink(&mut self, index: u32, entries: &mut Slab<Entry>) {
        let id = entries[index as usize].list;
        let list = &mut self.lists[usize::from(id)];
        list.unlink(index, entries);
        if list.is_empty() && id != OVERFLOW {
            self.occupied[usize::from(id) / SLOTS] &= !(1 << (id as usize % SLOTS));
        }
    }

    /// Empties list `id`, returning its former head (walk it by `next`).
    pub(crate) fn take(&mut self, id: u16) -> u32 {
        if id != OVERFLOW {
            self.occupied[usize::from(id) / SLOTS] &= !(1 << (id as usize % SLOTS));
        }
        self.lists[usize::from(id)].take()
    }

    /// The earliest non-empty list at or after `elapsed`, or `None` when
    /// the wheel holds nothing.
    ///
    /// Every entry on a lower level is due before any entry on a higher one
    /// (it lies in the current slot of every level above it), so the first
    /// non-empty level decides; within it, the first busy slot.
    pub(crate) fn next_expiration(&self, elapsed: u64) -> Option<Expiration> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            let shift = level as u32 * SLOT_BITS;
            let current = (elapsed >> shift) % SLOTS as u64;
            // Slots before the current one are empty at every level (see
            // the type's docs); masking them is only a guard.
            let ahead = occupied & (u64::MAX << current);
            debug_assert_eq!(ahead, occupied, "a slot behind the wheel is busy");
            if ahead == 0 {
                continue;
            }
            let slot = u64::from(ahead.trailing_zeros());
            // The first tick of this level's current span, then the slot.
            let span_start = elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
            return Some(Expiration {
                list: (level * SLOTS) as u16 + slot as u16,
                tick: span_start + (slot << shift),
            });
        }
        if self.lists[usize::from(OVERFLOW)].is_empty() {
            return None;
        }
        // The overflow is looked at when the next epoch begins.
        Some(Expiration {
            list: OVERFLOW,
            tick: ((elapsed >> WHEEL_BITS) + 1) << WHEEL_BITS,
        })
    }
}
