//! Networking: TCP, UDP and Unix-domain sockets driven by the runtime.
//!
//! Every socket type is a thin shell around `IoSource`: a non-blocking
//! `mio` socket plus its registration with the runtime's I/O driver. An
//! operation first reads the socket's readiness word (no syscall): only
//! when the driver has reported the direction ready does it make the
//! syscall, and on `WouldBlock` it clears that readiness and parks the
//! task's waker in the socket's `ScheduledIo` until the driver sees the
//! next event (a waker also parks at once when the word says not ready).
//! Sockets must be
//! created inside a runtime (they register with the one running on this
//! thread); once that runtime shuts down, every operation on them fails
//! with an error that [`crate::is_shutdown_error`] recognises. Readiness
//! comes only from the driver of the runtime a socket registered with,
//! which turns while that runtime runs (inside its `block_on`): a socket
//! handed to a task of another runtime waits, data or not, while its own
//! runtime sits idle. To move a socket to another runtime for good, pass
//! it through `into_std` and `from_std`.
//!
//! Addresses are anything `std::net::ToSocketAddrs` takes. Host names in
//! `connect`, `bind` and `send_to` are resolved on the runtime's thread, as
//! `std` resolves them: instant for IP literals and `/etc/hosts` names, but
//! a slow DNS server would stall every task; [`lookup_host`](fn@lookup_host) resolves a
//! name on the blocking pool instead.
//!
//! Every socket type converts from its std counterpart with `from_std` or
//! `TryFrom` (as tokio's and smol's do), and back with `into_std`.
//!
//! Every socket type implements `AsFd` and `AsRawFd`, for the socket
//! options eddy does not wrap (`socket2::SockRef::from(&stream)` takes any
//! `AsFd`). The byte streams (`TcpStream`, `UnixStream` and their owned and
//! borrowed halves) implement `futures-io`'s `AsyncRead` and `AsyncWrite`,
//! so `futures-lite`'s and `futures-util`'s extension traits and buffered
//! readers work on them; reading and writing take `&mut`, so two tasks
//! share a stream through `into_split`, not through `&TcpStream`.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full. The state: per socket, an `IoSource` (the
//! mio socket, its cached descriptor, its registration and two coop marks,
//! `coop.rs`); per registration, the driver's `ScheduledIo` (a readiness
//! word with a tick, a reader and a writer waker slot, a list of waiters),
//! which the driver's thread sets and any thread holding the socket
//! clears; per listener, its `AcceptBackoff` (any thread); per TCP stream,
//! its `lingers` flag (read only by `Drop`).
//!
//! 1. **One socket, one registration, with one driver.** A socket
//!    registers with the runtime running on this thread (an accepted one
//!    with its listener's), and only mio's own sources or `AsyncFd`'s
//!    owned duplicate register, under the token given (22). Its readiness
//!    comes from that driver alone. It deregisters before its descriptor
//!    closes (`Drop`, `into_std`), so a duplicated descriptor never names a
//!    released `ScheduledIo` (17, 22); after `IoSource::take` nothing
//!    borrows the cached descriptor.
//! 2. **The syscall runs only on reported readiness, and readiness is
//!    cleared only on proof.** `WouldBlock` clears its direction, closed
//!    bits included (6), and only under the tick of the event it ran
//!    under, so an event that came meanwhile survives. A short read
//!    clears it only on a TCP stream, and not while urgent data is
//!    reported (`PRIORITY`); Unix-stream reads, datagram receives, peeks
//!    and `try_*` calls clear only on `WouldBlock`, since the kernel ends
//!    them early with more queued and no event to come (6). A read of 0
//!    (end of stream) keeps the readiness.
//! 3. **`EINTR` never reaches the caller.** `Interrupted` did nothing: every
//!    loop (`poll_io`, `poll_read_into`, `try_io`, `async_io`, the connects,
//!    `io::copy`) runs the call again with the readiness standing (51, 52);
//!    a stream's connect starts over with a new socket, since mio closed
//!    the old one at the error.
//! 4. **Every waiter is woken.** A `poll_*` function keeps one waker per
//!    direction, the latest poller's; an operation tasks may share through
//!    `&self` (`accept`, `recv_from`, `send_to`, `peek`, `readable`,
//!    `writable`) waits in the waiters list, where each is woken (4).
//! 5. **A completed operation spends one unit of the budget, a waiting one
//!    nothing** (`coop.rs`'s rules; 56, 57, 58, 66), and an operation on an
//!    empty buffer is one: a read or peek into nothing, and a write of
//!    nothing, return `Ok(0)` at once, even into a full stream, inside the
//!    budgeted operation (37, 59, 67).
//! 6. **A connect is done when the socket is writable, `SO_ERROR` is clear
//!    and it has a peer.** Writable without a peer is a spurious event:
//!    the readiness is cleared and the connect waits again, failing only
//!    once the socket is write-closed (53). Dropped while it waits, it
//!    leaves no descriptor or registration (11).
//! 7. **`accept` skips what concerns one connection and pauses on
//!    exhaustion.** Per-connection errors (`accept(2)`'s list for TCP/IP,
//!    `ENONET` included) are skipped (11); a socket that would fail so
//!    for ever never becomes a listener (5, 36). `EMFILE`, `ENFILE`,
//!    `ENOBUFS` and `ENOMEM` are returned and start a 50 ms pause that the
//!    next `accept` waits out, on an eddy timer, so only inside a runtime
//!    (6); only the call that waited a pause out clears it, and only if no
//!    newer one began, so a dropped `accept` cancels nothing (5).
//!    `poll_accept` never pauses.
//! 8. **eddy's own shutdown of a write side is recorded after the
//!    syscall.** `shutdown(2)` first, then `WRITE_CLOSED` in the readiness
//!    word and a wake of the write waiters, since a Unix socket reports no
//!    event for its own shutdown (13); recorded first, a concurrent write's
//!    `WouldBlock` could clear the bit before the shutdown took effect.
//!    The wake is quiet while the thread unwinds, as every wake from a
//!    `Drop` (32, 73).
//! 9. **The halves share one socket and registration; read and write
//!    readiness and wakers stay apart.** The owned write half shuts the
//!    write side down when dropped, except inside `reunite`; a borrowed
//!    one shuts nothing down (11). A write half's vectored write is one
//!    `sendmsg`, as the whole stream's (13).
//! 10. **No write raises `SIGPIPE`**: stream writes are `send` and
//!     `sendmsg` with `MSG_NOSIGNAL` (`SO_NOSIGPIPE` on Apple systems, set
//!     on every socket registered) (1).
//! 11. **Dropping a socket never blocks the thread.** A TCP stream known to
//!     linger (`set_linger`, `from_std`, its listener) has `SO_LINGER`
//!     turned off in `Drop`, and the kernel still sends its bytes (11);
//!     `into_std` hands the option back as set.
//! 12. **`from_std` takes only a socket its operations can serve, and
//!     `into_std` always gives it back.** `from_std` makes the socket
//!     non-blocking and refuses a wrong type or state with `InvalidInput`
//!     (5, 36); `into_std` deregisters and hands the socket back, also
//!     once the runtime is gone (11), when every other operation fails with
//!     the shutdown error.

mod accept_backoff;
mod addr;
mod as_fd;
mod connect;
mod datagram_io;
mod from_std_checks;
mod io_source;
mod lookup_host;
pub mod split;
pub mod tcp;
mod try_from_std;
mod udp;
#[cfg(unix)]
pub mod unix;

pub(crate) use io_source::IoSource;
pub use lookup_host::lookup_host;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Runs `connect` again for as long as it fails with `Interrupted`, so
/// that `EINTR` never reaches the caller (rule 3; finding 52). A stream's `connect` makes its socket too, and mio closes the
/// socket at the error, so the retry starts over with a new one; a
/// datagram socket's `connect` just sets its peer again.
pub(crate) fn connect_retrying_interrupted<S>(
    mut connect: impl FnMut() -> std::io::Result<S>,
) -> std::io::Result<S> {
    loop {
        match connect() {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}
