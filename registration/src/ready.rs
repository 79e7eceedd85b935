//! [`Ready`]: the readiness bits the driver reports for one resource.

use std::fmt;
use std::ops;

use crate::Interest;

/// A set of readiness bits, as the driver last saw them for one resource.
///
/// The crate does not depend on mio: the driver converts each mio event into
/// a `Ready` and hands it to `ScheduledIo::set_readiness`.
///
/// ```text
///  bit  | 5        | 4     | 3            | 2           | 1        | 0
///  -----+----------+-------+--------------+-------------+----------+---------
///  name | PRIORITY | ERROR | WRITE_CLOSED | READ_CLOSED | WRITABLE | READABLE
/// ```
///
/// Only the low 16 bits may ever be used: the readiness word of a
/// `ScheduledIo` reserves bits 0-15 for them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(
    /// The bits in the table above. A `u16` because that is all the
    /// readiness word has room for: the type enforces the 16-bit limit.
    u16,
);

impl Ready {
    /// No bit set.
    pub const EMPTY: Ready = Ready(0);
    /// A read would not block.
    pub const READABLE: Ready = Ready(1 << 0);
    /// A write would not block.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The peer closed its write half: reads will return EOF. Kept by
    /// `clear_readiness` (after a short read); cleared by
    /// `clear_would_block`, since a read that says `WouldBlock` proves it
    /// promises nothing.
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write half is closed: writes will fail. Kept and cleared like
    /// `READ_CLOSED`.
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The resource has a pending error.
    pub const ERROR: Ready = Ready(1 << 4);
    /// Priority (out-of-band) data is readable.
    pub const PRIORITY: Ready = Ready(1 << 5);
    /// Every bit.
    pub const ALL: Ready = Ready(0b11_1111);

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `READABLE` is set.
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE)
    }

    /// Whether `WRITABLE` is set.
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE)
    }

    /// Whether `READ_CLOSED` is set.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }

    /// Whether `WRITE_CLOSED` is set.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }

    /// Whether `ERROR` is set.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }

    /// Whether `PRIORITY` is set.
    pub fn is_priority(self) -> bool {
        self.contains(Ready::PRIORITY)
    }

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of `self` that `interest` cares about (see [`Interest::mask`]).
    pub fn intersection(self, interest: Interest) -> Ready {
        Ready(self.0 & interest.mask().0)
    }

    /// Whether `self` and `other` share a bit.
    pub(crate) fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits as they are packed into the readiness word.
    pub(crate) const fn as_usize(self) -> usize {
        self.0 as usize
    }

    /// Unpacks bits from the readiness word; bits outside [`Ready::ALL`] are
    /// dropped so a corrupt caller cannot invent a state.
    pub(crate) const fn from_usize(bits: usize) -> Ready {
        Ready((bits & Ready::ALL.0 as usize) as u16)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    /// `self` without the bits of `other`.
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 6] = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
            (Ready::PRIORITY, "PRIORITY"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in NAMES {
            if self.contains(bit) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_removes_only_the_given_bits() {
        let r = Ready::READABLE | Ready::READ_CLOSED | Ready::WRITABLE;
        let left = r - Ready::READABLE;
        assert!(!left.is_readable());
        assert!(left.is_read_closed());
        assert!(left.is_writable());
    }

    #[test]
    fn intersection_keeps_only_bits_the_interest_cares_about() {
        let r = Ready::ALL;
        let read = r.intersection(Interest::READABLE);
        assert_eq!(read, Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR);
        let write = r.intersection(Interest::WRITABLE);
        assert_eq!(write, Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR);
        assert_eq!(
            Ready::WRITABLE.intersection(Interest::READABLE),
            Ready::EMPTY
        );
    }

    #[test]
    fn debug_lists_the_set_bits_by_name() {
        let s = format!("{:?}", Ready::READABLE | Ready::ERROR);
        assert_eq!(s, "{READABLE, ERROR}");
        assert_eq!(format!("{:?}", Ready::EMPTY), "{}");
    }

    #[test]
    fn from_usize_drops_bits_outside_all() {
        assert_eq!(Ready::from_usize(usize::MAX), Ready::ALL);
        assert_eq!(Ready::from_usize(Ready::ALL.as_usize()), Ready::ALL);
    }

    #[test]
    fn predicates_match_their_bit() {
        assert!(Ready::READABLE.is_readable() && !Ready::READABLE.is_writable());
        assert!(Ready::WRITABLE.is_writable());
        assert!(Ready::READ_CLOSED.is_read_closed());
        assert!(Ready::WRITE_CLOSED.is_write_closed());
        assert!(Ready::ERROR.is_error());
        assert!(Ready::PRIORITY.is_priority());
        assert!(Ready::EMPTY.is_empty() && !Ready::ALL.is_empty());
        let mut r = Ready::EMPTY;
        r |= Ready::PRIORITY;
        assert!(Ready::ALL.contains(r));
    }
}
