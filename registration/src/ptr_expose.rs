//! The pointer-exposure domain: `ScheduledIo` addresses as event tokens.
//!
//! The driver registers each resource with mio under a `usize` token and gets
//! that token back with every event. eddy uses the `ScheduledIo`'s address as
//! the token, so an event finds its resource with no table lookup.
//!
//! Turning an address into an integer and back must go through the
//! strict-provenance APIs: [`expose`] uses `expose_provenance`, which marks the
//! allocation as reachable from integers, and [`from_exposed`] uses
//! `with_exposed_provenance` to pick that provenance up again. A plain
//! `as usize` / `as *const _` round trip is what tools like Miri reject.
//!
//! # Why the address is a safe token
//!
//! A token is only dereferenced by the driver while it handles an event, and
//! the `ScheduledIo` behind it is alive at that moment:
//!
//! 1. `RegistrationSet::allocate` links an `Arc<ScheduledIo>` into the
//!    registration list, a strong reference the list keeps.
//! 2. To drop a resource, its owner first deregisters the fd from mio, then
//!    calls `RegistrationSet::deregister`, which only *queues* it.
//! 3. Events already fetched by the current `mio::Poll::poll` may still carry
//!    the token; the list's reference keeps the memory alive while they are
//!    dispatched.
//! 4. The driver calls `RegistrationSet::release` at the start of a *later*
//!    turn, before polling again. The fd left mio in step 2, so no event of
//!    that later poll can name the address; only then is the reference
//!    dropped and the address free for reuse.
//!
//! After runtime shutdown the driver stops dispatching, so the drained
//! references returned by `shutdown` may be dropped at once.

use crate::ScheduledIo;

/// Exposes `io`'s provenance and returns its address as a token.
pub fn expose(io: *const ScheduledIo) -> usize {
    io.expose_provenance()
}

/// Turns a token made by [`expose`] back into a reference.
///
/// # Safety
///
/// `token` must come from [`expose`] on a `ScheduledIo` that stays alive for
/// `'a`: in practice one still owned by the registration list (see the module
/// docs for why every token in a driver event satisfies this).
pub unsafe fn from_exposed<'a>(token: usize) -> &'a ScheduledIo {
    let ptr: *const ScheduledIo = std::ptr::with_exposed_provenance(token);
    // SAFETY: the caller promises the token names a live `ScheduledIo` for 'a,
    // and `expose` exposed its provenance, which `with_exposed_provenance`
    // recovers.
    unsafe { &*ptr }
}

/// Called when `io` leaves the registration list for good.
///
/// It does nothing today: Rust has no API to withdraw an exposed provenance.
/// It exists so that the exposure domain is symmetric and has one place to
/// hook into: a checker (for example a debug set of live tokens that
/// `from_exposed` could assert against) or a future "unexpose" API would plug
/// in here without touching `RegistrationSet`.
pub(crate) fn unexpose(io: *const ScheduledIo) {
    let _ = io;
}

// Loom's cells only work inside a model; the loom run filters these out.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_to_the_same_scheduled_io() {
        let io = ScheduledIo::new();
        let token = expose(&io);
        assert_eq!(token, io.token());
        // SAFETY: `io` outlives the reference.
        let back = unsafe { from_exposed(token) };
        assert!(std::ptr::eq(back, &io));
        unexpose(&io);
    }
}
