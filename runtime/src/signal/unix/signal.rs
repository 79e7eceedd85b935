//! [`Signal`]: one listener for one signal number, and [`signal`], which
//! creates it.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::SignalKind;
use crate::coop::{self, Refused};
use crate::runtime::context;
use crate::signal::hub::Hub;
use crate::signal::{install, pipe};

/// Starts listening for `kind` on the current runtime.
///
/// Deliveries from the moment this returns are kept for the returned
/// [`Signal`], even if it is not being polled yet. The first listener for a
/// signal number installs eddy's handler for it for the rest of the
/// process's life, replacing the default action (for SIGINT and SIGTERM:
/// terminating the process).
///
/// # Errors
///
/// * `InvalidInput` for SIGKILL, SIGSTOP, SIGILL, SIGFPE, SIGSEGV, SIGBUS
///   and numbers outside `1..=64` (`1..=128` on FreeBSD and DragonFly,
///   whose real-time signals go up to 126);
/// * an error when called outside an eddy runtime;
/// * the OS error when the signal does not exist here, or when out of
///   file descriptors: the first listener of a runtime takes one (its copy
///   of the process's signal pipe, which the first listener of the process
///   makes, taking two more); later listeners take none.
///
/// A call that fails leaves the signal's disposition as it was: the
/// handler is installed only once everything else has succeeded.
///
/// ```no_run
/// use eddy::signal::unix::{SignalKind, signal};
/// # eddy::run(async {
/// let mut hangups = signal(SignalKind::hangup()).expect("listen for SIGHUP");
/// while hangups.recv().await.is_some() {
///     println!("reloading the configuration");
/// }
/// # });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.as_raw_value();
    install::validate(signum)?;
    let hub = context::with_core(|core| core.signal_hub().get_or_make(core.shared().driver()))
        .ok_or_else(context::outside_runtime_error)??;
    // Last, for it cannot be undone: installed first, a call that then
    // failed (EMFILE) left SIGTERM swallowed with nobody listening
    // (module rule 12, RELIABILITY finding 7).
    install::install(signum)?;
    let key = hub.join();
    Ok(Signal {
        signum,
        seen: pipe::deliveries(signum),
        hub,
        key,
        ended: false,
        refused: Refused::new(),
    })
}

/// A stream of deliveries of one signal, created by [`signal`].
///
/// [`recv`](Signal::recv) completes once for every poll that finds at
/// least one delivery since the last: deliveries that arrive while nobody
/// polls coalesce into one, as the kernel's own pending signals do.
///
/// It is not a `futures` `Stream` (tokio's is not one either): for
/// `StreamExt`'s combinators, wrap it:
/// `futures_lite::stream::poll_fn(move |cx| hangups.poll_recv(cx))`.
///
/// Every listener of a signal sees each delivery, and there is no limit
/// on how many there are: a listener costs a slot in its runtime's list of
/// wakers, not a descriptor. Dropping it leaves eddy's handler installed
/// (so the process keeps ignoring the signal's default action).
#[derive(Debug)]
pub struct Signal {
    /// Which signal this listens for: names the counter to compare.
    signum: i32,
    /// The signal's delivery count when this listener was made or last
    /// reported a delivery: a different count means news.
    seen: usize,
    /// This runtime's copy of the signal pipe, which wakes the listeners.
    hub: Arc<Hub>,
    /// This listener's place among the hub's wakers.
    key: usize,
    /// Set once `recv` returned `None`: the stream has ended, and a
    /// delivery counted after that must not revive it.
    ended: bool,
    /// The poll that last found a delivery with the cooperative budget
    /// spent (see `coop::poll_proceed_once_refused`): the delivery is then
    /// reported at the task's next poll, budget or not.
    refused: Refused,
}

impl Signal {
    /// Waits for the next delivery. Returns `None` once the runtime that
    /// created this listener has shut down: no delivery can be waited for
    /// after that, and every later call returns `None` too. (A delivery
    /// counted since the last `Some`, before the shutdown or after it, is
    /// still reported once first: the counter is read before the hub.)
    ///
    /// Cancel safe: dropped before it completes, it has taken no delivery;
    /// one that arrived meanwhile is reported by the next `recv`.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for a delivery: `Ready(Some(()))` if at least one arrived since
    /// the last `Ready`, `Pending` (with `cx`'s waker stored) if none did,
    /// `Ready(None)` once the runtime that created this listener has shut
    /// down (after one last `Ready(Some(()))` if a delivery was counted
    /// since the last), and from then on.
    ///
    /// A delivery spends a unit of the task's cooperative budget, like a
    /// socket operation ([`Builder::budget`](crate::Builder::budget)): with
    /// the budget spent, the task yields and the delivery is reported at its
    /// next poll.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            // Parked before the counter is read, or a drain elsewhere
            // between the read and the park left the listener asleep
            // through its delivery (module rule 6, RELIABILITY finding 10).
            self.hub.park(self.key, cx.waker());
            let count = pipe::deliveries(self.signum);
            if count != self.seen {
                // Budgeted like a socket operation, or a loop whose every
                // `recv` finds a delivery never yields (RELIABILITY finding
                // 74). Refused, the delivery stays for the next poll.
                ready!(coop::poll_proceed_once_refused(cx, &mut self.refused));
                self.seen = count;
                return Poll::Ready(Some(()));
            }
            // A byte this runtime's driver reported is drained here, and
            // sends us round to the counter again; `Pending` leaves the
            // hub's waker in the reader slot (module rule 9).
            if ready!(self.hub.poll_drain()).is_err() {
                self.ended = true;
                return Poll::Ready(None);
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.hub.leave(self.key);
    }
}
