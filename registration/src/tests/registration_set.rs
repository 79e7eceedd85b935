//! `RegistrationSet` and `Synced`: allocation, deferred release, shutdown.

use std::sync::Arc;

use crate::{NOTIFY_AFTER, RegistrationSet, is_shutdown_error, ptr_expose};

#[test]
fn allocate_links_a_new_scheduled_io_that_the_list_keeps_alive() {
    let (set, mut synced) = RegistrationSet::new();
    let io = set.allocate(&mut synced).unwrap();
    assert_eq!(Arc::strong_count(&io), 2, "caller + list");
    assert_eq!(synced.num_registered(), 1);
    // SAFETY: the list keeps `io` alive.
    let back = unsafe { ptr_expose::from_exposed(io.token()) };
    assert!(std::ptr::eq(back, &*io));
}

#[test]
fn allocate_after_shutdown_fails_with_a_shutdown_error() {
    let (set, mut synced) = RegistrationSet::new();
    assert!(!set.is_shutdown(&synced));
    set.shutdown(&mut synced);
    assert!(set.is_shutdown(&synced));
    let err = set.allocate(&mut synced).unwrap_err();
    assert!(is_shutdown_error(&err), "{err}");
    assert!(err.to_string().contains("shutting down"), "{err}");
    assert_eq!(synced.num_registered(), 0);
}

#[test]
fn deregister_asks_for_a_driver_wakeup_exactly_at_the_sixteenth() {
    assert_eq!(NOTIFY_AFTER, 16);
    let (set, mut synced) = RegistrationSet::new();
    let ios: Vec<_> = (0..NOTIFY_AFTER + 1)
        .map(|_| set.allocate(&mut synced).unwrap())
        .collect();
    for (i, io) in ios.iter().enumerate() {
        let notify = set.deregister(&mut synced, io);
        assert_eq!(notify, i + 1 == NOTIFY_AFTER, "deregister #{}", i + 1);
        assert_eq!(set.num_pending_release(), i + 1);
        assert!(set.needs_release());
    }
}

#[test]
fn release_unlinks_every_pending_entry_and_resets_the_counter() {
    let (set, mut synced) = RegistrationSet::new();
    let ios: Vec<_> = (0..20)
        .map(|_| set.allocate(&mut synced).unwrap())
        .collect();
    for io in &ios[..NOTIFY_AFTER] {
        set.deregister(&mut synced, io);
    }
    assert_eq!(synced.num_registered(), 20, "pending entries stay linked");

    assert_eq!(set.release(&mut synced), NOTIFY_AFTER);
    assert_eq!(set.num_pending_release(), 0);
    assert!(!set.needs_release());
    assert_eq!(synced.num_registered(), 4);
    assert_eq!(set.release(&mut synced), 0, "nothing left to release");

    // A new round starts counting from zero again.
    for (i, io) in ios[NOTIFY_AFTER..].iter().enumerate() {
        assert!(!set.deregister(&mut synced, io));
        assert_eq!(set.num_pending_release(), i + 1);
    }
}

#[test]
fn strong_counts_return_to_one_after_release() {
    let (set, mut synced) = RegistrationSet::new();
    let ios: Vec<_> = (0..3).map(|_| set.allocate(&mut synced).unwrap()).collect();
    for io in &ios {
        set.deregister(&mut synced, io);
        assert_eq!(Arc::strong_count(io), 3, "caller + list + queue");
    }
    set.release(&mut synced);
    for io in &ios {
        assert_eq!(
            Arc::strong_count(io),
            1,
            "only the caller's reference is left"
        );
    }
}

#[test]
fn deregistering_twice_releases_the_entry_once() {
    let (set, mut synced) = RegistrationSet::new();
    let io = set.allocate(&mut synced).unwrap();
    let other = set.allocate(&mut synced).unwrap();
    set.deregister(&mut synced, &io);
    set.deregister(&mut synced, &io);
    assert_eq!(set.release(&mut synced), 1);
    assert_eq!(Arc::strong_count(&io), 1);
    assert_eq!(Arc::strong_count(&other), 2, "the neighbour stays linked");
    assert_eq!(synced.num_registered(), 1);
}

#[test]
fn remove_unlinks_at_once() {
    let (set, mut synced) = RegistrationSet::new();
    let io = set.allocate(&mut synced).unwrap();
    // SAFETY: `io` was allocated by `set` and is linked.
    unsafe { set.remove(&mut synced, &io) };
    assert_eq!(Arc::strong_count(&io), 1);
    assert_eq!(synced.num_registered(), 0);
}

#[test]
fn shutdown_drains_everything_once_and_a_second_call_returns_nothing() {
    let (set, mut synced) = RegistrationSet::new();
    let ios: Vec<_> = (0..5).map(|_| set.allocate(&mut synced).unwrap()).collect();
    set.deregister(&mut synced, &ios[0]);
    set.deregister(&mut synced, &ios[1]);

    let drained = set.shutdown(&mut synced);
    assert_eq!(drained.len(), 5, "pending entries are still listed");
    for io in &ios {
        assert!(drained.iter().any(|d| Arc::ptr_eq(d, io)));
    }
    assert_eq!(set.num_pending_release(), 0);
    assert!(!set.needs_release());
    assert_eq!(synced.num_registered(), 0);
    drop(drained);
    for io in &ios {
        assert_eq!(Arc::strong_count(io), 1);
    }

    assert!(set.shutdown(&mut synced).is_empty());
    assert!(set.is_shutdown(&synced));
}

#[test]
fn deregister_after_shutdown_does_nothing_and_returns_false() {
    let (set, mut synced) = RegistrationSet::new();
    let ios: Vec<_> = (0..NOTIFY_AFTER)
        .map(|_| set.allocate(&mut synced).unwrap())
        .collect();
    drop(set.shutdown(&mut synced));
    for io in &ios {
        assert!(!set.deregister(&mut synced, io));
    }
    assert_eq!(set.num_pending_release(), 0);
    assert_eq!(set.release(&mut synced), 0);
    for io in &ios {
        assert_eq!(Arc::strong_count(io), 1);
    }
}

#[test]
fn dropping_synced_gives_back_the_list_references() {
    let (set, mut synced) = RegistrationSet::new();
    let a = set.allocate(&mut synced).unwrap();
    let b = set.allocate(&mut synced).unwrap();
    set.deregister(&mut synced, &a);
    drop(synced);
    assert_eq!(Arc::strong_count(&a), 1);
    assert_eq!(Arc::strong_count(&b), 1);
}

#[test]
fn deregistering_a_resource_of_another_set_is_refused_and_releases_nothing() {
    let (a, mut synced_a) = RegistrationSet::new();
    let (b, mut synced_b) = RegistrationSet::new();
    let foreign = b.allocate(&mut synced_b).unwrap();
    assert!(!a.allocated(&foreign) && b.allocated(&foreign));
    assert!(!a.deregister(&mut synced_a, &foreign));
    assert_eq!(a.num_pending_release(), 0);
    assert_eq!(a.release(&mut synced_a), 0);
    // Still linked in its own set, which can release it normally.
    b.deregister(&mut synced_b, &foreign);
    assert_eq!(b.release(&mut synced_b), 1);
    assert_eq!(Arc::strong_count(&foreign), 1);
}

#[test]
#[should_panic(expected = "Synced of another set")]
fn a_set_refuses_the_synced_of_another_set() {
    let (a, _synced_a) = RegistrationSet::new();
    let (_b, mut synced_b) = RegistrationSet::new();
    let _ = a.allocate(&mut synced_b);
}
