//! How a listener accepts, shared by TCP and Unix listeners: one
//! `accept(2)` behind readiness, and what to do with its errors.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use eddy_registration::Direction;

use crate::net::IoSource;
use crate::runtime::context;

/// How long `accept` pauses after the process ran out of descriptors or
/// memory. Long enough not to spin a core on a listener that stays readable
/// while the table is full, short enough to resume promptly once
/// descriptors free up.
const RESOURCE_BACKOFF: Duration = Duration::from_millis(50);

/// A listener's accept loop and its error policy: skip errors about one
/// connection, return resource exhaustion and pause the next `accept` a
/// moment.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    /// Whether `until` holds a deadline: a load on every accept, the mutex
    /// only on the rare error path.
    backing_off: AtomicBool,
    /// When `accept` may try again after running out of resources.
    until: Mutex<Option<Instant>>,
}

impl AcceptBackoff {
    /// A listener's `accept`: sleeps out a pause started by an earlier
    /// exhaustion error, then runs `accept_one` (one `accept(2)`) on
    /// `listener` behind read readiness until it yields a connection or an
    /// error worth returning.
    ///
    /// It waits through `async_io`, so any number of tasks may wait in
    /// `accept` on one listener and each is woken.
    pub(crate) async fn accept<L, T>(
        &self,
        listener: &IoSource<L>,
        accept_one: impl Fn(&L) -> io::Result<T>,
    ) -> io::Result<T>
    where
        L: mio::event::Source,
    {
        self.wait_out().await;
        loop {
            let result = listener.async_io(Direction::Read, &accept_one).await;
            if let Some(result) = self.judge(result) {
                return result;
            }
        }
    }

    /// A listener's `poll_accept`: [`accept`](AcceptBackoff::accept)
    /// through `poll_io`, so only the latest caller's waker is kept, and
    /// without waiting out a pause (the listeners document the backoff as
    /// applying to `accept` only).
    pub(crate) fn poll_accept<L, T>(
        &self,
        cx: &mut Context<'_>,
        listener: &IoSource<L>,
        accept_one: impl Fn(&L) -> io::Result<T>,
    ) -> Poll<io::Result<T>>
    where
        L: mio::event::Source,
    {
        loop {
            let result = ready!(listener.poll_io(cx, Direction::Read, || accept_one(listener)));
            if let Some(result) = self.judge(result) {
                return Poll::Ready(result);
            }
        }
    }

    /// Sleeps out a pause started by an earlier exhaustion error, if any.
    ///
    /// Only inside an eddy runtime: the pause is a timer, and a timer
    /// polled on a thread without one panics (finding 6). A listener is `Send`, so its
    /// `accept` may run on a plain thread or under another executor; there
    /// it skips the pause and, like tokio's, returns the exhaustion error
    /// again at once, leaving the waiting to the caller's loop.
    async fn wait_out(&self) {
        if !self.backing_off.load(Ordering::Acquire) || !context::is_inside_runtime() {
            return;
        }
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        let Some(until) = until else {
            return;
        };
        crate::time::sleep_until(until).await;
        // Clear the pause only once it has been waited out, and only if no
        // newer one started meanwhile: an `accept` dropped mid-pause (the
        // losing side of a select) cancelled it for every later call
        // (finding 5).
        let mut pending = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if *pending == Some(until) {
            *pending = None;
            self.backing_off.store(false, Ordering::Release);
        }
    }

    /// Applies the policy to one `accept(2)` result: `None` (try again) for
    /// an error about that one connection; otherwise the result to return,
    /// starting a pause first if the error was resource exhaustion.
    fn judge<T>(&self, result: io::Result<T>) -> Option<io::Result<T>> {
        match result {
            Err(error) if is_connection_error(&error) => None,
            Err(error) => {
                if is_resource_exhaustion(&error) {
                    self.start();
                }
                Some(Err(error))
            }
            accepted => Some(accepted),
        }
    }

    fn start(&self) {
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + RESOURCE_BACKOFF);
        self.backing_off.store(true, Ordering::Release);
    }
}

/// Errors that concern only the connection being accepted: the next one
/// may be fine, so `accept` moves on. Linux reports pending network errors
/// of the new socket through `accept` itself; the list is the one its
/// `accept(2)` page gives for TCP/IP (`ENONET` was missing, finding 11).
fn is_connection_error(error: &io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if error.raw_os_error() == Some(libc::ENONET) {
        return true;
    }
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        error.raw_os_error(),
        Some(
            libc::EPROTO
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EOPNOTSUPP
        )
    )
}

/// The process or system ran out of something accepting needs.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_moves_past_every_network_error_linux_reports_for_one_connection() {
        // The list accept(2) gives for TCP/IP: errors of the connection
        // being accepted, which a server should treat like EAGAIN.
        let per_connection = [
            libc::ENETDOWN,
            libc::EPROTO,
            libc::ENOPROTOOPT,
            libc::EHOSTDOWN,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            libc::ENONET,
            libc::EHOSTUNREACH,
            libc::EOPNOTSUPP,
            libc::ENETUNREACH,
            libc::ECONNABORTED,
        ];
        for errno in per_connection {
            let error = io::Error::from_raw_os_error(errno);
            assert!(is_connection_error(&error), "{error} ends accept");
        }
    }

    #[test]
    fn exhaustion_is_returned_not_skipped() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            let error = io::Error::from_raw_os_error(errno);
            assert!(!is_connection_error(&error), "{error} skipped");
            assert!(is_resource_exhaustion(&error), "{error} not exhaustion");
        }
        let invalid = io::Error::from_raw_os_error(libc::EINVAL);
        assert!(!is_connection_error(&invalid) && !is_resource_exhaustion(&invalid));
    }
}
