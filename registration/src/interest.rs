//! [`Interest`]: which readiness a task (or a registration) waits for.

use std::fmt;
use std::ops;

use crate::Ready;

/// The kinds of readiness a caller wants to hear about.
///
/// ```text
///  bit  | 3     | 2        | 1        | 0
///  -----+-------+----------+----------+---------
///  name | ERROR | PRIORITY | WRITABLE | READABLE
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(
    /// The bits in the table above. A `u8` because four kinds fit, and
    /// an `Interest` is copied into every registration and poll.
    u8,
);

impl Interest {
    /// Wake when the resource becomes readable (or read-closed, or errored).
    pub const READABLE: Interest = Interest(1 << 0);
    /// Wake when the resource becomes writable (or write-closed, or errored).
    pub const WRITABLE: Interest = Interest(1 << 1);
    /// Wake on priority data (or when the read half closes).
    pub const PRIORITY: Interest = Interest(1 << 2);
    /// Wake on errors only.
    pub const ERROR: Interest = Interest(1 << 3);

    /// The union of `self` and `other`.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// Whether `READABLE` is included.
    pub fn is_readable(self) -> bool {
        self.0 & Interest::READABLE.0 != 0
    }

    /// Whether `WRITABLE` is included.
    pub fn is_writable(self) -> bool {
        self.0 & Interest::WRITABLE.0 != 0
    }

    /// Whether `PRIORITY` is included.
    pub fn is_priority(self) -> bool {
        self.0 & Interest::PRIORITY.0 != 0
    }

    /// Whether `ERROR` is included.
    pub fn is_error(self) -> bool {
        self.0 & Interest::ERROR.0 != 0
    }

    /// The readiness bits that satisfy this interest.
    ///
    /// A closed half or an error counts as "ready" for the matching
    /// direction: the task must run to observe EOF or the error, otherwise it
    /// would sleep forever on a socket that will never become readable again.
    ///
    /// | interest   | mask                                   |
    /// |------------|----------------------------------------|
    /// | `READABLE` | `READABLE \| READ_CLOSED \| ERROR`      |
    /// | `WRITABLE` | `WRITABLE \| WRITE_CLOSED \| ERROR`     |
    /// | `PRIORITY` | `PRIORITY \| READ_CLOSED`               |
    /// | `ERROR`    | `ERROR`                                |
    pub fn mask(self) -> Ready {
        let mut mask = Ready::EMPTY;
        if self.is_readable() {
            mask |= Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR;
        }
        if self.is_writable() {
            mask |= Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR;
        }
        if self.is_priority() {
            mask |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        if self.is_error() {
            mask |= Ready::ERROR;
        }
        mask
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Interest, &str); 4] = [
            (Interest::READABLE, "READABLE"),
            (Interest::WRITABLE, "WRITABLE"),
            (Interest::PRIORITY, "PRIORITY"),
            (Interest::ERROR, "ERROR"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in NAMES {
            if self.0 & bit.0 != 0 {
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
    fn add_and_bitor_combine_interests() {
        let both = Interest::READABLE.add(Interest::WRITABLE);
        assert_eq!(both, Interest::READABLE | Interest::WRITABLE);
        assert!(both.is_readable() && both.is_writable());
        assert!(!both.is_priority() && !both.is_error());
    }

    #[test]
    fn mask_follows_the_documented_table() {
        assert_eq!(
            Interest::READABLE.mask(),
            Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR
        );
        assert_eq!(
            Interest::WRITABLE.mask(),
            Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR
        );
        assert_eq!(
            Interest::PRIORITY.mask(),
            Ready::PRIORITY | Ready::READ_CLOSED
        );
        assert_eq!(Interest::ERROR.mask(), Ready::ERROR);
    }

    #[test]
    fn debug_lists_the_included_interests() {
        assert_eq!(
            format!("{:?}", Interest::READABLE | Interest::ERROR),
            "{READABLE, ERROR}"
        );
    }
}
