//! An intrusive doubly linked list.
//!
//! The nodes own their links (a [`Pointers`] field inside the target type),
//! so pushing and unlinking never allocate and a node can be unlinked in
//! O(1) by address alone: the driver knows a registration only by its
//! address, and a dropped `Readiness` future knows only itself.
//!
//! The list does not own memory directly; it owns *handles*. Pushing a
//! handle (for example an `Arc<ScheduledIo>`) turns it into a raw pointer
//! and keeps it alive; popping or removing turns the pointer back into the
//! handle, which the caller then drops or keeps.
//!
//! ```text
//!  head                                   tail
//!   |                                      |
//!   v                                      v
//!  [node] <-next/prev-> [node] <-next/prev-> [node]
//!  push_front adds here              pop_back takes here
//! ```
//!
//! Every operation takes `&mut self`: whoever owns the list (a `Synced`
//! behind the driver's mutex, or the waiters mutex of a `ScheduledIo`)
//! serialises all access to the links, which is what makes the unsynchronised
//! `Pointers` cells sound.

use std::fmt;
use std::marker::{PhantomData, PhantomPinned};
use std::ptr::NonNull;

use crate::loom::cell::UnsafeCell;

/// Describes how a type is linked into a [`LinkedList`].
///
/// # Safety
///
/// Implementations must guarantee that:
/// - `as_raw` returns the same address `from_raw` later receives, and the
///   target stays at that address (pinned) while it is linked;
/// - `pointers` returns a pointer to a `Pointers` field embedded in the
///   target, used by no list other than the one the target is in;
/// - a handle passed to `push_front` keeps its target alive until
///   `from_raw` gives it back.
pub(crate) unsafe trait Link {
    /// What the list stores: an owning or non-owning reference to a node.
    type Handle;
    /// The node type that embeds the `Pointers`.
    type Target;

    /// The address of the node `handle` refers to, without consuming it.
    fn as_raw(handle: &Self::Handle) -> NonNull<Self::Target>;

    /// Turns an address produced by `as_raw` back into a handle.
    ///
    /// # Safety
    ///
    /// `ptr` must come from `as_raw` on a handle that was then forgotten (its
    /// ownership was transferred into the list), and it may be turned back
    /// into a handle only once.
    unsafe fn from_raw(ptr: NonNull<Self::Target>) -> Self::Handle;

    /// The links embedded in `target`.
    ///
    /// # Safety
    ///
    /// `target` must point to a live node. Implementations must compute the
    /// field address without creating a reference to the whole node
    /// (`&raw mut`), because other threads may hold shared references to it.
    unsafe fn pointers(target: NonNull<Self::Target>) -> NonNull<Pointers<Self::Target>>;
}

/// An intrusive doubly linked list of `L::Handle`s.
///
/// It has no `Drop`: it cannot turn nodes back into handles without knowing
/// `L`, so an owner whose handles own memory drains it first (`Synced` does).
pub(crate) struct LinkedList<L, T> {
    /// The most recently pushed node, if any.
    head: Option<NonNull<T>>,
    /// The oldest node, if any: `pop_back` takes it.
    tail: Option<NonNull<T>>,
    /// The list owns `L::Handle`s even though it stores raw pointers.
    _marker: PhantomData<*const L>,
}

/// The prev/next links a node embeds to be put in a [`LinkedList`].
///
/// `!Unpin` (via `PhantomPinned`): once a node is linked, its neighbours hold
/// its address, so moving it would leave them pointing at freed or reused
/// memory.
pub(crate) struct Pointers<T> {
    /// The links, mutated through shared references by the list owner.
    inner: UnsafeCell<PointersInner<T>>,
}

/// The mutable part of [`Pointers`].
struct PointersInner<T> {
    /// The neighbour towards the head (pushed later).
    prev: Option<NonNull<T>>,
    /// The neighbour towards the tail (pushed earlier).
    next: Option<NonNull<T>>,
    /// Makes every node that embeds `Pointers` `!Unpin`.
    _pin: PhantomPinned,
}

// SAFETY: the links are only read or written by the owner of the list the node
// is in, who holds `&mut LinkedList` (behind a mutex), so moving the node
// between threads is as safe as moving `T`.
unsafe impl<T: Send> Send for Pointers<T> {}
// SAFETY: shared references to a node never touch the links except through
// the list owner (see above), so sharing them is as safe as sharing `T`.
unsafe impl<T: Sync> Sync for Pointers<T> {}

// SAFETY: the list logically owns its handles; sending it sends them.
unsafe impl<L: Link> Send for LinkedList<L, L::Target> where L::Handle: Send {}
// SAFETY: `&LinkedList` only allows `is_empty` and `iter`, which read the
// links; the handles themselves must be shareable.
unsafe impl<L: Link> Sync for LinkedList<L, L::Target> where L::Handle: Sync {}

impl<L, T> LinkedList<L, T> {
    /// An empty list.
    pub(crate) const fn new() -> LinkedList<L, T> {
        LinkedList {
            head: None,
            tail: None,
            _marker: PhantomData,
        }
    }

    /// Whether the list holds no node.
    pub(crate) fn is_empty(&self) -> bool {
        debug_assert_eq!(self.head.is_none(), self.tail.is_none());
        self.head.is_none()
    }
}

impl<L: Link> LinkedList<L, L::Target> {
    /// Links `handle`'s node at the head; the list now owns `handle`.
    ///
    /// # Safety
    ///
    /// `handle`'s node must be linked in no list, this one included. Its
    /// links are overwritten: pushing a linked node again (anywhere but at
    /// the head, which the assert below catches) left its old neighbours
    /// pointing at it and made a cycle, and one linked in another list
    /// would be cut out of that list's chain without that list knowing.
    pub(crate) unsafe fn push_front(&mut self, handle: L::Handle) {
        let node = L::as_raw(&handle);
        // Ownership moves into the list; `pop_back`/`remove` give it back.
        std::mem::forget(handle);
        // `assert!`, not `assert_ne!`: the two addresses say nothing the
        // message does not, and printing them compiled `Debug` for both
        // node types and a formatting panic into every program.
        assert!(self.head != Some(node), "node pushed twice");

        // SAFETY: `node` is alive (its handle is owned, and `Link` keeps it
        // alive while listed) and, by our contract, in no list: nobody else
        // touches its links.
        unsafe {
            let links = L::pointers(node).as_ref();
            links.set_next(self.head);
            links.set_prev(None);
        }
        if let Some(head) = self.head {
            // SAFETY: `head` is linked in this list, hence alive.
            unsafe { L::pointers(head).as_ref().set_prev(Some(node)) };
        }
        self.head = Some(node);
        if self.tail.is_none() {
            self.tail = Some(node);
        }
    }

    /// Unlinks and returns the oldest node.
    pub(crate) fn pop_back(&mut self) -> Option<L::Handle> {
        let tail = self.tail?;
        // SAFETY: `tail` is linked in this list, so `remove`'s contract holds.
        unsafe { self.remove(tail) }
    }

    /// Unlinks `node` in O(1) and returns its handle.
    ///
    /// Returns `None`, and touches nothing, if `node` has no predecessor and
    /// is not the head: that is a node already unlinked from this list (its
    /// links were reset to `None`), so removing it twice is harmless.
    ///
    /// # Safety
    ///
    /// `node` must point to a live node that is either linked in *this* list
    /// or linked in no list at all. A node linked in another list would
    /// corrupt both lists.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<L::Target>) -> Option<L::Handle> {
        // SAFETY: the caller promises `node` is alive.
        let links = unsafe { L::pointers(node).as_ref() };
        let prev = links.prev();
        let next = links.next();

        match prev {
            // SAFETY: a linked node's neighbours are linked in the same list.
            Some(prev) => unsafe { L::pointers(prev).as_ref().set_next(next) },
            None => {
                if self.head != Some(node) {
                    // Not in this list (already removed): leave everything alone.
                    return None;
                }
                self.head = next;
            }
        }
        match next {
            // SAFETY: as above.
            Some(next) => unsafe { L::pointers(next).as_ref().set_prev(prev) },
            None => {
                debug_assert_eq!(self.tail, Some(node));
                self.tail = prev;
            }
        }
        links.set_prev(None);
        links.set_next(None);

        // SAFETY: `node` was linked in this list, so its handle was forgotten
        // by `push_front` and is reclaimed exactly once, here.
        Some(unsafe { L::from_raw(node) })
    }

    /// Unlinks every node for which `filter` returns true, lazily, from head
    /// to tail. Nodes the iterator does not reach stay linked.
    pub(crate) fn drain_filter<F>(&mut self, filter: F) -> DrainFilter<'_, L, F>
    where
        F: FnMut(&L::Target) -> bool,
    {
        let next = self.head;
        DrainFilter {
            list: self,
            filter,
            next,
        }
    }

    /// Iterates over the node addresses from head to tail.
    pub(crate) fn iter(&self) -> Iter<'_, L> {
        Iter {
            next: self.head,
            _list: PhantomData,
        }
    }
}

impl<L, T> Default for LinkedList<L, T> {
    fn default() -> LinkedList<L, T> {
        LinkedList::new()
    }
}

impl<L, T> fmt::Debug for LinkedList<L, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedList")
            .field("head", &self.head)
            .field("tail", &self.tail)
            .finish()
    }
}

/// Iterator over the nodes of a [`LinkedList`], head to tail.
pub(crate) struct Iter<'a, L: Link> {
    /// The node to yield next.
    next: Option<NonNull<L::Target>>,
    /// Borrows the list so it cannot change under the iterator.
    _list: PhantomData<&'a LinkedList<L, L::Target>>,
}

impl<L: Link> Iterator for Iter<'_, L> {
    type Item = NonNull<L::Target>;

    fn next(&mut self) -> Option<NonNull<L::Target>> {
        let node = self.next?;
        // SAFETY: `node` is linked in the borrowed list, hence alive, and the
        // borrow keeps anyone from unlinking it meanwhile.
        self.next = unsafe { L::pointers(node).as_ref().next() };
        Some(node)
    }
}

/// Lazy "remove where" over a [`LinkedList`]; see [`LinkedList::drain_filter`].
pub(crate) struct DrainFilter<'a, L: Link, F> {
    /// The list being drained.
    list: &'a mut LinkedList<L, L::Target>,
    /// Decides which nodes to unlink.
    filter: F,
    /// The next node to test; read before unlinking the current one, whose
    /// links `remove` resets.
    next: Option<NonNull<L::Target>>,
}

impl<L, F> Iterator for DrainFilter<'_, L, F>
where
    L: Link,
    F: FnMut(&L::Target) -> bool,
{
    type Item = L::Handle;

    fn next(&mut self) -> Option<L::Handle> {
        while let Some(node) = self.next {
            // SAFETY: `node` is linked in the mutably borrowed list.
            self.next = unsafe { L::pointers(node).as_ref().next() };
            // SAFETY: as above, `node` is alive.
            if (self.filter)(unsafe { node.as_ref() }) {
                // SAFETY: `node` is linked in this list.
                return unsafe { self.list.remove(node) };
            }
        }
        None
    }
}

impl<L: Link, F> fmt::Debug for DrainFilter<'_, L, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DrainFilter")
            .field("next", &self.next)
            .finish()
    }
}

impl<T> Pointers<T> {
    /// Unlinked links.
    pub(crate) fn new() -> Pointers<T> {
        Pointers {
            inner: UnsafeCell::new(PointersInner {
                prev: None,
                next: None,
                _pin: PhantomPinned,
            }),
        }
    }

    /// The neighbour towards the head.
    fn prev(&self) -> Option<NonNull<T>> {
        // SAFETY: only the list owner (holding `&mut LinkedList` or `&LinkedList`
        // with no writer) reaches this, so no write overlaps the read.
        self.inner.with(|inner| unsafe { (*inner).prev })
    }

    /// The neighbour towards the tail.
    fn next(&self) -> Option<NonNull<T>> {
        // SAFETY: as in `prev`.
        self.inner.with(|inner| unsafe { (*inner).next })
    }

    /// Sets the neighbour towards the head.
    fn set_prev(&self, value: Option<NonNull<T>>) {
        // SAFETY: only the owner of `&mut LinkedList` writes links, so nothing
        // else reads or writes them concurrently.
        self.inner
            .with_mut(|inner| unsafe { (*inner).prev = value });
    }

    /// Sets the neighbour towards the tail.
    fn set_next(&self, value: Option<NonNull<T>>) {
        // SAFETY: as in `set_prev`.
        self.inner
            .with_mut(|inner| unsafe { (*inner).next = value });
    }
}

impl<T> Default for Pointers<T> {
    fn default() -> Pointers<T> {
        Pointers::new()
    }
}

impl<T> fmt::Debug for Pointers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The links may only be read by the list owner, which `Debug` cannot
        // prove it is, so print nothing of them.
        f.debug_struct("Pointers").finish_non_exhaustive()
    }
}

// Loom's cells only work inside a model; the loom run filters these out.
#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;

    use super::*;

    /// A test node; handles are plain shared references into an arena, so
    /// the list owns nothing and the arena keeps every node pinned.
    struct Entry {
        /// Links in the list under test.
        pointers: Pointers<Entry>,
        /// Identifies the entry in the model.
        id: usize,
    }

    // SAFETY: entries live pinned in the test's arena for the whole test, and
    // `pointers` is the field of the one list under test.
    unsafe impl<'a> Link for &'a Entry {
        type Handle = &'a Entry;
        type Target = Entry;

        fn as_raw(handle: &&'a Entry) -> NonNull<Entry> {
            NonNull::from(*handle)
        }

        unsafe fn from_raw(ptr: NonNull<Entry>) -> &'a Entry {
            // SAFETY: the arena outlives every handle.
            unsafe { &*ptr.as_ptr() }
        }

        unsafe fn pointers(target: NonNull<Entry>) -> NonNull<Pointers<Entry>> {
            // SAFETY: `target` is a live arena entry.
            unsafe { NonNull::new_unchecked(&raw mut (*target.as_ptr()).pointers) }
        }
    }

    /// xorshift64: enough randomness for a model test, no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn ids(list: &LinkedList<&Entry, Entry>) -> Vec<usize> {
        // SAFETY: every yielded node is a live arena entry.
        list.iter().map(|n| unsafe { n.as_ref() }.id).collect()
    }

    #[test]
    fn linked_list_matches_a_vecdeque_model_under_random_operations() {
        const ENTRIES: usize = 24;
        let arena: Vec<Pin<Box<Entry>>> = (0..ENTRIES)
            .map(|id| {
                Box::pin(Entry {
                    pointers: Pointers::new(),
                    id,
                })
            })
            .collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        // Under Miri, which runs this about a thousand times slower, a few
        // rounds still cover every operation against the model.
        let rounds = if cfg!(miri) { 4 } else { 200 };

        for _round in 0..rounds {
            let mut list: LinkedList<&Entry, Entry> = LinkedList::new();
            let mut model: VecDeque<usize> = VecDeque::new();
            for _op in 0..200 {
                match rng.below(4) {
                    0 => {
                        let absent: Vec<usize> =
                            (0..ENTRIES).filter(|id| !model.contains(id)).collect();
                        if let Some(&id) = absent.get(rng.below(absent.len().max(1))) {
                            // SAFETY: `id` is absent from the model, which
                            // mirrors the list, and this is the only list.
                            unsafe { list.push_front(&arena[id]) };
                            model.push_front(id);
                        }
                    }
                    1 => {
                        let got = list.pop_back().map(|e| e.id);
                        assert_eq!(got, model.pop_back());
                    }
                    2 => {
                        let id = rng.below(ENTRIES);
                        let node = NonNull::from(&*arena[id]);
                        // SAFETY: every arena entry is in this list or in none.
                        let got = unsafe { list.remove(node) }.map(|e| e.id);
                        let expected = model
                            .iter()
                            .position(|&m| m == id)
                            .and_then(|pos| model.remove(pos));
                        assert_eq!(got, expected, "remove({id})");
                    }
                    _ => {
                        let odd: Vec<usize> =
                            list.drain_filter(|e| e.id % 2 == 1).map(|e| e.id).collect();
                        let expected: Vec<usize> =
                            model.iter().copied().filter(|id| id % 2 == 1).collect();
                        model.retain(|id| id % 2 == 0);
                        assert_eq!(odd, expected);
                    }
                }
                assert_eq!(list.is_empty(), model.is_empty());
                assert_eq!(ids(&list), model.iter().copied().collect::<Vec<_>>());
            }
            while list.pop_back().is_some() {}
        }
    }

    #[test]
    fn removing_an_unlinked_node_leaves_the_list_alone() {
        let a = Box::pin(Entry {
            pointers: Pointers::new(),
            id: 0,
        });
        let b = Box::pin(Entry {
            pointers: Pointers::new(),
            id: 1,
        });
        let mut list: LinkedList<&Entry, Entry> = LinkedList::new();
        // SAFETY: `a` is new, so in no list.
        unsafe { list.push_front(&a) };
        // SAFETY: `b` is in no list.
        assert!(unsafe { list.remove(NonNull::from(&*b)) }.is_none());
        // SAFETY: `a` is in this list.
        let removed = unsafe { list.remove(NonNull::from(&*a)) };
        assert_eq!(removed.map(|e| e.id), Some(0));
        // SAFETY: `a` is in no list any more.
        assert!(unsafe { list.remove(NonNull::from(&*a)) }.is_none());
        assert!(list.is_empty());
    }
}
