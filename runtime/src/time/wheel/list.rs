//! [`List`]: one slot of the wheel, a doubly linked list threaded through
//! slab indices.

use slab::Slab;

use super::Entry;

/// "No entry": ends a list and marks an empty one.
pub(crate) const NIL: u32 = u32::MAX;

/// The entries of one wheel slot, oldest first.
///
/// Appending at the tail keeps a slot in insertion order, which is usually
/// deadline order too, so sorting it when it fires costs one linear pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    /// First entry, or `NIL` when the list is empty.
    pub(crate) head: u32,
    /// Last entry, or `NIL` when the list is empty; makes append O(1).
    tail: u32,
}

impl List {
    /// A list with no entries.
    pub(crate) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    /// Whether the list holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Appends entry `index` (not in any list) as `list` number `id`.
    pub(crate) fn push_back(&mut self, id: u16, index: u32, entries: &mut Slab<Entry>) {
        let entry = &mut entries[index as usize];
        entry.prev = self.tail;
        entry.next = NIL;
        entry.list = id;
        match self.tail {
            NIL => self.head = index,
            tail => entries[tail as usize].next = index,
        }
        self.tail = index;
    }

    /// Removes entry `index`, which must be in this list.
    pub(crate) fn unlink(&mut self, index: u32, entries: &mut Slab<Entry>) {
        let (prev, next) = {
            let entry = &entries[index as usize];
            (entry.prev, entry.next)
        };
        match prev {
            NIL => self.head = next,
            prev => entries[prev as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => entries[next as usize].prev = prev,
        }
    }

    /// Empties the list and returns its former head; the caller walks the
    /// entries through `next` and relinks or frees every one of them.
    pub(crate) fn take(&mut self) -> u32 {
        std::mem::replace(self, List::EMPTY).head
    }
}
