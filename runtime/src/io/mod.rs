//! Byte-stream helpers: the ecosystem's I/O traits and [`copy`](fn@copy);
//! on Unix, [`unix::AsyncFd`] for any non-blocking file descriptor.
//!
//! eddy's streams implement `futures-io`'s [`AsyncRead`] and
//! [`AsyncWrite`], the runtime-agnostic traits that `futures-util`,
//! `futures-lite` and many protocol crates build on. eddy has no buffered
//! reader or extension traits of its own: those crates' work on eddy's
//! streams unchanged. Reading lines with `futures-lite`'s `BufReader`:
//!
//! ```
//! use futures_lite::io::{AsyncBufReadExt, BufReader};
//! use futures_lite::StreamExt;
//! # eddy::run(async {
//! # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let mut peer = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
//! # peer.write_all(b"hello\nworld\n").await?;
//! # drop(peer);
//! let (stream, _) = listener.accept().await?;
//! let mut lines = BufReader::new(stream).lines();
//! let mut received = Vec::new();
//! while let Some(line) = lines.next().await {
//!     received.push(line?);
//! }
//! assert_eq!(received, ["hello", "world"]);
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! # The rules
//!
//! What this module and the streams' `futures-io` impls keep. The finding
//! numbers are those of `docs/RELIABILITY.md`, which tells the bug behind
//! each rule in full.
//!
//! 1. **Readiness is cleared only by `WouldBlock`, under the tick it was
//!    seen with.** A read, a write or an [`AsyncFd`](unix::AsyncFd)
//!    closure runs while its direction is ready; only its `WouldBlock`
//!    clears that direction (and a short TCP read, net rule 2), and the
//!    clear is dropped if an event came in since. An `AsyncFd` closure
//!    must therefore do its I/O until the OS says `WouldBlock`, or return
//!    without having seen it; `try_*_with` clears one direction only (33).
//! 2. **`Interrupted` is retried, never returned.** `EINTR` means nothing
//!    was done: every stream call, every `AsyncFd` closure (`*_with`,
//!    `try_*_with`, `poll_*_with`) and [`copy`](fn@copy)'s reads, writes
//!    and flushes run again under the same readiness (51, 52).
//! 3. **0 is end of stream, or nothing asked.** A read of 0 into a
//!    non-empty buffer is the end of the stream: `read_exact` fails with
//!    `UnexpectedEof`, `copy` flushes and returns. A write of 0 bytes of
//!    a non-empty buffer fails `write_all` and `copy` with `WriteZero`. A
//!    read or write of nothing answers `Ok(0)` at once without waiting for
//!    readiness, and `read_exact` and `write_all` of nothing make that
//!    read or write, so each spends a unit (coop rule 7; 37, 59, 76).
//! 4. **One unit per completed operation, none for a `Pending`.**
//!    Reads, writes, `readable`, `writable`, `poll_*_ready` and the
//!    `AsyncFd` forms spend one unit of the task's budget when they
//!    complete, and nothing when they wait: a wait and the I/O after it
//!    are one budgeted operation (coop rule 1; 56, 57, 58, 77).
//! 5. **Waiters: a list for futures, one slot per direction for `poll_*`.**
//!    `readable`, `writable`, `read_with` and `write_with` wait in the
//!    source's list, so any number of tasks are each woken; `poll_read`,
//!    `poll_write`, `poll_*_ready` and `poll_*_with` keep one waker per
//!    direction, the last poller's (4).
//! 6. **Flush is nothing; close shuts the write side down.** Stream
//!    writes go straight to the kernel, so `poll_flush` is `Ok(())`.
//!    `poll_close` is `shutdown(SHUT_WR)`, with `NotConnected` (a peer that
//!    reset) counted as done, then marks the write side closed so that
//!    every write, waiting or later, fails at once (net rule 8; 13).
//!    `copy` flushes whenever its reader waits and at end of stream, and
//!    never closes (7).
//! 7. **Cancel safety.** `read`, `write`, `readable`, `writable` and the
//!    `AsyncFd` waits are cancel safe: dropped, they consumed nothing and
//!    leave no wake behind (`read_with` and `write_with` as far as their
//!    closure is). `read_exact`, `write_all` and `copy` are not: what they
//!    moved before the drop is lost with them.
//! 8. **An `AsyncFd` watches a duplicate it alone can close.** The
//!    driver watches a close-on-exec duplicate of `inner`'s descriptor,
//!    deregistered through that duplicate and closed before `inner` is
//!    dropped (field order, `into_inner`), whatever became of `inner`'s
//!    own: a registration that outlived every number able to remove it
//!    made the driver read freed memory (RELIABILITY, "Memory safety of
//!    the registration API"; 22). Every operation first checks that
//!    `inner` still has the number it was wrapped with (`InvalidInput`).
//! 9. **An `AsyncFd` refuses what it cannot drive, with an error.** A
//!    blocking descriptor, a regular file or directory, one epoll refuses,
//!    one made outside a runtime: `new` fails, and never sets flags of its
//!    own. A wait for a direction it was not registered for fails with
//!    `InvalidInput` instead of waiting for ever (34).
//! 10. **One runtime, any thread.** An `AsyncFd` or stream takes its
//!     readiness from the runtime it was made in; once that runtime shuts
//!     down every operation fails with the shutdown error, and it may be
//!     dropped anywhere, on another thread or after its runtime.
//! 11. **`copy` holds little while idle.** Its buffer starts at 8 KiB and
//!     grows to 16 KiB only after a read fills it (45).

mod copy;
#[cfg(unix)]
pub mod unix;
pub(crate) mod util;

pub use copy::copy;
pub use futures_io::{AsyncRead, AsyncWrite};
