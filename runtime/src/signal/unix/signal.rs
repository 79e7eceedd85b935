//! [`Signal`]: one listener for one signal number, and [`signal`], which
//! creates it.

use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll, ready};

use eddy_io_driver::Registration;
use eddy_registration::Interest;
use mio::unix::pipe::{Receiver, Sender};

use super::SignalKind;
use crate::runtime::context;
use crate::signal::{install, slots};

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
///   and numbers outside `1..=64`;
/// * an error when called outside an eddy runtime;
/// * the OS error when the signal does not exist here or no pipe can be
///   made (out of file descriptors);
/// * an error when 64 listeners for this signal already exist.
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
    // Every step that can fail and be undone comes before the one that
    // cannot be undone: installing the process-wide handler (it stays for
    // the life of the process). Installing first made a call that then
    // failed for want of a pipe (EMFILE) leave the handler in place with
    // nobody listening, so SIGTERM or SIGINT were silently swallowed.
    install::validate(signum)?;
    let handle = context::io_handle()?;
    let (sender, mut receiver) = mio::unix::pipe::new()?;
    let mut registration = Registration::new(&mut receiver, Interest::READABLE, &handle)?;
    let undo = |registration: &mut Registration, receiver: &mut Receiver| {
        // Best effort: the pipe closes right after, which removes it from
        // the poller anyway.
        // SAFETY: `receiver` is the pipe `registration` was created with.
        let _ = unsafe { registration.deregister(receiver) };
    };
    let slot = match slots::claim(signum, sender.as_raw_fd()) {
        Ok(slot) => slot,
        Err(err) => {
            undo(&mut registration, &mut receiver);
            return Err(err);
        }
    };
    // A delivery between the claim and the install still runs the old
    // disposition: the slot only matters once our handler is in place.
    if let Err(err) = install::install(signum) {
        // The pipe must leave the slot before it closes (see `Drop`).
        slots::release(signum, slot);
        undo(&mut registration, &mut receiver);
        return Err(err);
    }
    Ok(Signal {
        signum,
        slot,
        registration,
        receiver,
        _sender: sender,
    })
}

/// A stream of deliveries of one signal, created by [`signal`].
///
/// [`recv`](Signal::recv) completes once for every poll that finds at
/// least one delivery since the last: deliveries that arrive while nobody
/// polls coalesce into one, as the kernel's own pending signals do.
///
/// Each `Signal` has its own pipe, so every listener of a signal sees each
/// delivery. Dropping it frees its place among the 64 listeners a signal
/// may have; the process keeps eddy's handler (and so keeps ignoring the
/// signal's default action).
#[derive(Debug)]
pub struct Signal {
    /// Which signal this listens for: names the slot row to release.
    signum: i32,
    /// Where in that row our write end is published, freed on drop.
    slot: usize,
    /// The read end's registration with the driver of the runtime that
    /// created this listener: how a task waiting in `recv` gets woken.
    registration: Registration,
    /// The read end, drained by `poll_recv`; one byte per delivery.
    receiver: Receiver,
    /// The write end the signal handler writes to. Owned here (not just
    /// its fd number) so it is closed only in `Drop`, after the slot is
    /// released. Never read, only held: hence the underscore.
    _sender: Sender,
}

impl Signal {
    /// Waits for the next delivery. Returns `None` once the runtime that
    /// created this listener has shut down: no delivery can be waited for
    /// after that.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for a delivery: `Ready(Some(()))` if at least one arrived since
    /// the last `Ready`, `Pending` (with `cx`'s waker stored) if none did,
    /// `Ready(None)` once the runtime that created this listener has shut
    /// down.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            let Ok(event) = ready!(self.registration.poll_read_ready(cx)) else {
                return Poll::Ready(None);
            };
            match self.drain() {
                Ok(delivered) => {
                    // The pipe read WouldBlock, so it is empty: clearing is
                    // right. A byte written after that is a new edge the
                    // driver reports on its next turn (and a newer tick
                    // makes this clear a no-op), so it is not lost.
                    self.registration.clear_would_block(event);
                    if delivered {
                        return Poll::Ready(Some(()));
                    }
                }
                // End of file or a read error: neither can happen while we
                // own the write end; ending the stream beats spinning.
                Err(_) => return Poll::Ready(None),
            }
        }
    }

    /// Reads the pipe until it is empty. `Ok(true)` if it held any byte.
    fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 64];
        let mut delivered = false;
        loop {
            match (&self.receiver).read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => delivered = true,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(delivered),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Order matters: release waits until no signal handler can still
        // be writing to `_sender`'s fd; only then may the fields drop and
        // close it (a closed fd number can be reused by any other file).
        slots::release(self.signum, self.slot);
        // The only error is "the driver is gone", which needs no clean-up.
        // SAFETY: `receiver` is the pipe `registration` was created with.
        let _ = unsafe { self.registration.deregister(&mut self.receiver) };
    }
}
