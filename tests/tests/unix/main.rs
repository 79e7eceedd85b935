//! Unix-domain sockets end to end: `UnixListener`, `UnixStream` (and its
//! halves) and `UnixDatagram`, over real sockets in a fresh directory under
//! the system temp dir, removed afterwards.
//!
//! What is proved, a file per subject:
//! * streams (`streams.rs`): a stream echo through a listener returns the
//!   exact bytes, also through `eddy::io::copy` (the `futures-io` traits);
//!   `UnixStream::pair` carries bytes both ways; `shutdown(Write)` lets the
//!   peer read every byte, then end-of-stream; a read into an empty buffer
//!   and a write of nothing return 0 at once, also into a full stream, as
//!   std's do, and a loop of reads of nothing still yields;
//! * halves (`halves.rs`): owned halves work from two tasks at once (a
//!   payload larger than the socket buffers would deadlock otherwise),
//!   borrowed halves from one, and `reunite` gives the stream back without
//!   half-closing it; an owned write half dropped while its thread unwinds
//!   does not abort the process when the write it wakes has a panicking
//!   waker (checked in a child process);
//! * descriptor passing (`fd_passing.rs`): bytes queued behind a message
//!   that carries a descriptor (`SCM_RIGHTS`, where the kernel ends a read
//!   early) are read without the peer sending more: Unix streams do
//!   without TCP's short-read rule;
//! * broken pipes (`broken_pipe.rs`): writing to a stream whose peer is
//!   gone is an `EPIPE` error even with `SIGPIPE` at its default, deadly
//!   action (checked in a child process); so is writing after
//!   `shutdown(Write)` or `poll_close`, at once, even with the send buffer
//!   full (no event would ever end the wait), and a loop retrying such
//!   writes still yields to other tasks;
//! * datagrams (`datagrams.rs`): pairs and bound sockets, with `recv_from`
//!   naming the sender, and queued short datagrams are all received, a
//!   zero-length one as a message of length 0; a datagram socket whose
//!   read side is shut down waits in `recv` and `readable` instead of
//!   spinning (Linux keeps reporting it read-closed while `recv` says
//!   `EAGAIN`);
//! * paths (`paths.rs`): a dropped listener leaves its socket file, which
//!   refuses connects and new binds until it is removed (as with std and
//!   tokio); a path too long for a socket address is an `InvalidInput`
//!   error everywhere; addresses are paths for bound sockets, unnamed for
//!   the rest, and Linux's abstract names come through `from_std`;
//! * std's sockets (`std_sockets.rs`): every Unix socket type lends its own
//!   descriptor (`AsFd`); `from_std` makes std's blocking stream and
//!   listener non-blocking: a second read or accept waits for the runtime
//!   instead of blocking it; a listener it is given must be a listening
//!   stream socket, or it is refused (`accept` would spin on a datagram
//!   socket and wait forever on a connected stream), and a stream it is
//!   given must not be listening (reads and writes would wait for a
//!   client); `TryFrom` converts each std socket as `from_std` does;
//! * no runtime (`no_runtime.rs`): sockets that outlived their runtime fail
//!   with the shutdown error; creating one outside a runtime is an
//!   `io::Error`, not a panic, and leaves no socket file behind;
//! * cancellation (`cancel.rs`): stream reads, `accept`, `readable`, and
//!   datagram receives and sends dropped at random points lose no byte,
//!   connection or datagram, send none twice, and strand no wake.
//!
//! Every test is bounded by [`with_deadline`](eddy_tests::with_deadline);
//! none asserts a duration.
#![cfg(unix)]

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eddy::net::UnixStream;
use eddy::net::unix::OwnedReadHalf;

mod broken_pipe;
mod cancel;
mod datagrams;
mod fd_passing;
mod halves;
mod no_runtime;
mod paths;
mod std_sockets;
mod streams;

/// A hang detector, never reached when things work.
const LIMIT: Duration = Duration::from_secs(30);

/// A fresh directory for one test's socket files, removed on drop (also
/// when the test fails).
struct TempDir {
    /// The directory; unique per process and test.
    path: PathBuf,
}

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "eddy-unix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create the test's temp dir");
        TempDir { path }
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `len` bytes that differ from position to position and from seed to seed.
fn payload(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Reads until end-of-stream.
async fn read_to_eof(half: &mut OwnedReadHalf) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match half.read(&mut buf).await? {
            0 => return Ok(got),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Echoes everything `stream` sends until it half-closes, then closes.
async fn echo(mut stream: UnixStream) -> io::Result<usize> {
    let mut buf = [0u8; 8192];
    let mut total = 0;
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(total),
            n => {
                stream.write_all(&buf[..n]).await?;
                total += n;
            }
        }
    }
}

/// Sends `sent` through an echo on the other end of `stream` from one task
/// while reading the reply in another, then half-closes; returns the reply.
async fn echo_through(stream: UnixStream, sent: Vec<u8>) -> Vec<u8> {
    let (mut reader, mut writer) = stream.into_split();
    let writing = eddy::spawn(async move {
        writer.write_all(&sent).await.expect("write_all");
        // Dropping the owned write half shuts the write side down.
    });
    let got = read_to_eof(&mut reader).await.expect("read the echo");
    writing.await.expect("writer task");
    got
}

/// Writes to `stream` until the kernel takes no more: its send buffer is
/// full and the peer has not read anything.
async fn fill_send_buffer(stream: &UnixStream) {
    let chunk = [7u8; 64 * 1024];
    let mut written = 0;
    loop {
        stream.writable().await.expect("writable");
        match stream.try_write(&chunk) {
            Ok(n) => written += n,
            // Writable said yes, the write said no: the buffer is full.
            Err(error) if error.kind() == io::ErrorKind::WouldBlock && written > 0 => return,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => panic!("try_write: {error}"),
        }
    }
}
