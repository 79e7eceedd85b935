//! Unix-domain sockets end to end: `UnixListener`, `UnixStream` (and its
//! halves) and `UnixDatagram`, over real sockets in a fresh directory under
//! the system temp dir, removed afterwards.
//!
//! What is proved:
//! * a stream echo through a listener returns the exact bytes, also
//!   through `eddy::io::copy` (the `futures-io` traits);
//! * `UnixStream::pair` carries bytes both ways; `shutdown(Write)` lets the
//!   peer read every byte, then end-of-stream;
//! * owned halves work from two tasks at once (a payload larger than the
//!   socket buffers would deadlock otherwise), borrowed halves from one,
//!   and `reunite` gives the stream back without half-closing it;
//! * a write of nothing returns 0 at once, also into a full stream, as
//!   std's does;
//! * bytes queued behind a message that carries a descriptor
//!   (`SCM_RIGHTS`, where the kernel ends a read early) are read without
//!   the peer sending more: Unix streams do without TCP's short-read rule;
//! * writing to a stream whose peer is gone is an `EPIPE` error even with
//!   `SIGPIPE` at its default, deadly action (checked in a child process);
//!   so is writing after `shutdown(Write)` or `poll_close`, at once, even
//!   with the send buffer full (no event would ever end the wait), and a
//!   loop retrying such writes still yields to other tasks;
//! * datagram pairs and bound sockets, with `recv_from` naming the sender,
//!   and queued short datagrams are all received, a zero-length one as a
//!   message of length 0; a datagram socket whose
//!   read side is shut down waits in `recv` and `readable` instead of
//!   spinning (Linux keeps reporting it read-closed while `recv` says
//!   `EAGAIN`);
//! * a dropped listener leaves its socket file, which refuses connects
//!   and new binds until it is removed (as with std and tokio); a path too
//!   long for a socket address is an `InvalidInput` error everywhere;
//!   addresses are paths for bound sockets, unnamed for the rest, and
//!   Linux's abstract names come through `from_std`;
//! * every Unix socket type lends its own descriptor (`AsFd`);
//! * `from_std` makes std's blocking stream and listener non-blocking: a
//!   second read or accept waits for the runtime instead of blocking it;
//!   a listener it is given must be a listening stream socket, or it is
//!   refused (`accept` would spin on a datagram socket and wait forever on
//!   a connected stream), and a stream it is given must not be listening
//!   (reads and writes would wait for a client); `TryFrom` converts each
//!   std socket as `from_std` does;
//! * sockets that outlived their runtime fail with the shutdown error;
//!   creating one outside a runtime is an `io::Error`, not a panic, and
//!   leaves no socket file behind;
//! * stream reads, `accept`, `readable`, and datagram receives and sends
//!   dropped at random points lose no byte, connection or datagram, send
//!   none twice, and strand no wake.
//!
//! Every test is bounded by [`with_deadline`]; none asserts a duration.
#![cfg(unix)]

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{self, IoSlice, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eddy::io::AsyncWrite;
use eddy::net::unix::{OwnedReadHalf, ReuniteError};
use eddy::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_tests::child_process::{
    assert_child_survived_sigpipe, child_role, restore_default_sigpipe, run_child,
};
use eddy_tests::{
    assert_no_runtime_error, count_polls, poll_once, run_bounded, socket_type, with_deadline,
    woken_within,
};

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

/// Like std's, a read into an empty buffer reads nothing, at once. Without
/// the check for it, the read first waited for the stream to turn
/// readable: with a silent peer, forever.
#[test]
fn a_stream_read_into_an_empty_buffer_returns_zero_without_waiting_for_data() {
    run_bounded(LIMIT, || async {
        let (_peer, mut stream) = UnixStream::pair().expect("pair");
        // Nothing has been sent, so the stream is not readable: the first
        // poll must already answer.
        let first = poll_once(std::pin::pin!(stream.read(&mut []))).await;
        assert!(
            matches!(first, std::task::Poll::Ready(Ok(0))),
            "a read into an empty buffer gave {first:?}"
        );
    });
}

/// Like std's, a write of nothing writes nothing, at once, also when the
/// send buffer is full. Before, it waited for the stream to turn writable:
/// with a peer that never reads, forever.
#[test]
fn a_stream_write_of_nothing_returns_zero_without_waiting_for_room() {
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        let write = poll_once(std::pin::pin!(stream.write(&[]))).await;
        assert!(
            matches!(write, std::task::Poll::Ready(Ok(0))),
            "a write of nothing into a full stream gave {write:?}"
        );
    });
}

/// `from_std` refuses a stream socket that is not listening: std's
/// `accept` on it fails at once with `EINVAL`, but eddy's waited for read
/// readiness first, which a connected stream whose peer is silent never
/// gets: the `accept` waited forever.
#[test]
fn a_listener_built_from_a_socket_that_is_not_listening_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let (connected, _peer) = std::os::unix::net::UnixStream::pair().expect("pair");
        let not_a_listener = std::os::unix::net::UnixListener::from(OwnedFd::from(connected));
        match UnixListener::from_std(not_a_listener) {
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}"),
            Ok(taken) => {
                let first = poll_once(std::pin::pin!(taken.accept())).await;
                panic!(
                    "a connected stream was taken for a listener; the first poll of its \
                     accept gave {:?}",
                    first.map(|accepted| accepted.map(drop))
                );
            }
        }
    });
}

/// `from_std` refuses a listening socket handed over as a stream: std's
/// read on it fails at once with `ENOTCONN`, but eddy's waited for
/// readiness first, which a listening socket reports only when a client
/// connects: with none, forever.
#[test]
fn a_stream_built_from_a_listening_socket_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    let dir = TempDir::new();
    let path = dir.join("listening.sock");
    run_bounded(LIMIT, move || async move {
        let listening = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let not_a_stream = std::os::unix::net::UnixStream::from(OwnedFd::from(listening));
        match UnixStream::from_std(not_a_stream) {
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}"),
            Ok(mut taken) => {
                let read = poll_once(std::pin::pin!(taken.read(&mut [0; 4]))).await;
                let write = poll_once(std::pin::pin!(taken.write(b"x"))).await;
                panic!(
                    "a listening socket was taken for a stream; the first poll of a read gave \
                     {read:?}, of a write {write:?}"
                );
            }
        }
    });
}

/// `TryFrom` is `from_std`, as tokio's and smol's conversions are: the
/// converted listener accepts, the converted stream reads and the
/// converted datagram socket receives, each while its peer acts in the
/// same task, and a socket `from_std` refuses is refused with the same
/// error.
#[test]
fn try_from_converts_std_unix_sockets_as_from_std_does() {
    use std::os::fd::OwnedFd;
    let dir = TempDir::new();
    let path = dir.join("try_from.sock");
    run_bounded(LIMIT, move || async move {
        let std_listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let listener = UnixListener::try_from(std_listener).expect("try_from a listener");
        let (accepted, client) = futures_util::future::join(listener.accept(), async {
            eddy::task::yield_now().await;
            std::os::unix::net::UnixStream::connect(&path).expect("connect")
        })
        .await;
        let (mut accepted, _) = accepted.expect("accept");
        let mut client = UnixStream::try_from(client).expect("try_from a stream");
        let mut buf = [0u8; 4];
        let (read, written) = futures_util::future::join(client.read_exact(&mut buf), async {
            eddy::task::yield_now().await;
            accepted.write_all(b"ping").await
        })
        .await;
        read.expect("read");
        written.expect("write");
        assert_eq!(&buf, b"ping");

        let (a, b) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let a = UnixDatagram::try_from(a).expect("try_from a datagram socket");
        let (received, sent) = futures_util::future::join(a.recv(&mut buf), async {
            eddy::task::yield_now().await;
            b.send(b"pong")
        })
        .await;
        assert_eq!(sent.expect("send"), 4);
        assert_eq!(received.expect("recv"), 4);
        assert_eq!(&buf, b"pong");

        let listening =
            std::os::unix::net::UnixListener::bind(path.with_extension("2")).expect("bind");
        let not_a_stream = std::os::unix::net::UnixStream::from(OwnedFd::from(listening));
        let error = UnixStream::try_from(not_a_stream).expect_err("a listening socket");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn a_stream_echo_through_a_listener_returns_the_exact_bytes() {
    let dir = TempDir::new();
    let path = dir.join("echo.sock");
    run_bounded(LIMIT, move || async move {
        let listener = UnixListener::bind(&path).expect("bind");
        assert_eq!(
            listener.local_addr().expect("local_addr").as_pathname(),
            Some(path.as_path())
        );
        let server = eddy::spawn(async move {
            let (stream, _peer) = listener.accept().await.expect("accept");
            echo(stream).await.expect("echo")
        });
        let stream = UnixStream::connect(&path).await.expect("connect");
        assert_eq!(
            stream.peer_addr().expect("peer_addr").as_pathname(),
            Some(path.as_path())
        );
        let sent = payload(1, 300_000);
        let got = echo_through(stream, sent.clone()).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(server.await.expect("server task"), sent.len());
    });
}

#[test]
fn io_copy_echoes_through_the_futures_io_traits() {
    run_bounded(LIMIT, || async {
        let (client, server) = UnixStream::pair().expect("pair");
        let server = eddy::spawn(async move {
            let (mut reader, mut writer) = server.into_split();
            eddy::io::copy(&mut reader, &mut writer).await
        });
        let sent = payload(2, 100_000);
        let got = echo_through(client, sent.clone()).await;
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(
            server.await.expect("task").expect("copy"),
            sent.len() as u64
        );
    });
}

/// Sends `data` on `socket` with the descriptor `fd` attached
/// (`SCM_RIGHTS`), as fd-passing protocols (Wayland, D-Bus) do.
fn send_with_descriptor(socket: &std::os::unix::net::UnixStream, data: &[u8], fd: RawFd) {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // `u64`s, so the buffer is aligned for a `cmsghdr`; 64 bytes hold one
    // header and one descriptor (`CMSG_SPACE(4)` is 24 on Linux).
    let mut control = [0u64; 8];
    // SAFETY: all-zero bytes are a valid `msghdr` (null pointers, zero
    // lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: `CMSG_SPACE` only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<RawFd>() as u32) } as _;
    // SAFETY: `msg_control` points at `control`, large and aligned enough
    // for the one header `CMSG_FIRSTHDR` returns and its data.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), fd);
    }
    // SAFETY: every pointer in `msg` is to a live local for the whole call.
    let sent = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, 0) };
    assert_eq!(
        sent,
        data.len() as isize,
        "sendmsg: {}",
        io::Error::last_os_error()
    );
}

#[test]
fn bytes_queued_behind_a_message_carrying_a_descriptor_are_read_without_more_data() {
    run_bounded(LIMIT, || async {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("pair");
        let passed = std::fs::File::open("/dev/null").expect("open /dev/null");
        // Both messages are queued before eddy reads: the kernel ends the
        // first read after "fd:", and nothing new arrives afterwards.
        send_with_descriptor(&theirs, b"fd:", passed.as_raw_fd());
        (&theirs).write_all(b"data").expect("write");
        let mut stream = UnixStream::from_std(ours).expect("from_std");
        // A hang detector: the peer stays open and silent, so a read that
        // waits for another event would wait forever.
        let mut got = [0u8; 7];
        eddy::time::timeout(Duration::from_secs(10), stream.read_exact(&mut got))
            .await
            .expect("the bytes behind the descriptor were never read")
            .expect("read");
        assert_eq!(&got, b"fd:data");
        drop(theirs);
    });
}

#[test]
fn a_pair_carries_bytes_both_ways() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        a.write_all(b"from a").await.expect("write a");
        b.write_all(b"from b").await.expect("write b");
        let mut buf = [0u8; 6];
        b.read_exact(&mut buf).await.expect("read b");
        assert_eq!(&buf, b"from a");
        a.read_exact(&mut buf).await.expect("read a");
        assert_eq!(&buf, b"from b");
        assert!(a.take_error().expect("take_error").is_none());
    });
}

#[test]
fn after_shutdown_write_the_peer_reads_every_byte_then_eof() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let sent = payload(3, 50_000);
        // Small enough to sit in the socket buffer: written before reading.
        a.write_all(&sent).await.expect("write");
        a.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = vec![0u8; sent.len()];
        b.read_exact(&mut got).await.expect("every byte first");
        assert!(got == sent, "the bytes before the shutdown differ");
        let mut buf = [0u8; 16];
        assert_eq!(b.read(&mut buf).await.expect("read at eof"), 0);
        // Only the write side is shut: `a` still reads.
        b.write_all(b"still open").await.expect("write back");
        let mut back = [0u8; 10];
        a.read_exact(&mut back).await.expect("read back");
        assert_eq!(&back, b"still open");
    });
}

#[test]
fn owned_halves_read_and_write_from_two_tasks_at_once() {
    run_bounded(LIMIT, || async {
        let (client, server) = UnixStream::pair().expect("pair");
        let server = eddy::spawn(echo(server));
        // Several times the socket buffers: unless the reader task runs while
        // the writer task is blocked, the echo stalls and this deadlocks.
        let sent = payload(4, 4 * 1024 * 1024);
        let got = echo_through(client, sent.clone()).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(server.await.expect("task").expect("echo"), sent.len());
    });
}

#[test]
fn borrowed_halves_work_in_one_task() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        {
            let (mut reader, mut writer) = a.split();
            writer.write_all(b"ping").await.expect("write");
            let mut buf = [0u8; 4];
            b.read_exact(&mut buf).await.expect("peer read");
            b.write_all(b"pong").await.expect("peer write");
            reader.read_exact(&mut buf).await.expect("read");
            assert_eq!(&buf, b"pong");
        }
        // The borrowed halves did not shut anything down.
        a.write_all(b"after").await.expect("write after split");
    });
}

#[test]
fn reunite_gives_the_stream_back_without_half_closing_it() {
    run_bounded(LIMIT, || async {
        let (first, mut first_peer) = UnixStream::pair().expect("pair");
        let (second, _second_peer) = UnixStream::pair().expect("pair");
        let (first_read, first_write) = first.into_split();
        let (second_read, second_write) = second.into_split();

        let refused: ReuniteError = first_read
            .reunite(second_write)
            .expect_err("halves of different streams");
        assert!(refused.to_string().contains("not from the same stream"));
        let (first_read, second_write) = (refused.0, refused.1);
        let mut first = first_write.reunite(first_read).expect("same stream");
        drop(second_write.reunite(second_read).expect("same stream"));

        first
            .write_all(b"whole")
            .await
            .expect("write after reunite");
        let mut buf = [0u8; 5];
        first_peer.read_exact(&mut buf).await.expect("peer read");
        assert_eq!(&buf, b"whole");
        // No end-of-stream was sent: the peer's next read waits for data.
        let error = first_peer.try_read(&mut buf).expect_err("no EOF queued");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn try_read_on_an_empty_stream_would_block_and_succeeds_once_readable() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixStream::pair().expect("pair");
        let mut buf = [0u8; 8];
        let error = b.try_read(&mut buf).expect_err("nothing sent yet");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        a.writable().await.expect("writable");
        assert_eq!(a.try_write(b"tried").expect("try_write"), 5);
        b.readable().await.expect("readable");
        let n = b.try_read(&mut buf).expect("try_read");
        assert_eq!(&buf[..n], b"tried");
    });
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

/// Asserts that `result` is the `EPIPE` of a write after `shutdown(Write)`,
/// and that it came instead of a hang.
fn assert_broken_pipe<T: std::fmt::Debug>(
    result: Result<io::Result<T>, eddy::time::Elapsed>,
    what: &str,
) {
    let error = result
        .unwrap_or_else(|_| panic!("{what} waited for the peer to read"))
        .expect_err(what);
    assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{what}: {error}");
}

#[test]
fn writing_after_shutting_down_the_write_side_fails_at_once_even_with_a_full_buffer() {
    run_bounded(LIMIT, || async {
        let wait = LIMIT / 4;
        // The peers stay open and never read: the buffers stay full, and
        // the kernel reports no event for a Unix socket's own shutdown.
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        stream.shutdown(Shutdown::Write).expect("shutdown");
        assert_broken_pipe(
            eddy::time::timeout(wait, stream.write(b"late")).await,
            "write",
        );
        let tried = stream.try_write(b"late").expect_err("try_write");
        assert_eq!(tried.kind(), io::ErrorKind::BrokenPipe, "try_write");
        eddy::time::timeout(wait, stream.writable())
            .await
            .expect("writable waited for the peer to read")
            .expect("writable");

        // The same through `futures-io`: `poll_close`, then `poll_write`
        // and `poll_write_vectored`, on an owned write half.
        let (stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        let (_read, mut write) = stream.into_split();
        poll_fn(|cx| Pin::new(&mut write).poll_close(cx))
            .await
            .expect("close");
        assert_broken_pipe(
            eddy::time::timeout(wait, write.write_all(b"late")).await,
            "write_all",
        );
        let bufs = [IoSlice::new(b"la"), IoSlice::new(b"te")];
        assert_broken_pipe(
            eddy::time::timeout(
                wait,
                poll_fn(|cx| Pin::new(&mut write).poll_write_vectored(cx, &bufs)),
            )
            .await,
            "poll_write_vectored",
        );
    });
}

#[test]
fn a_write_waiting_on_a_full_buffer_is_woken_by_the_streams_own_shutdown() {
    run_bounded(LIMIT, || async {
        let wait = LIMIT / 4;
        // Two streams with full send buffers and peers that never read: one
        // with a write parked in its writer slot, one with `writable()`
        // parked in its waiter list. The kernel sends no event for a Unix
        // socket's own shutdown, so only eddy can wake them.
        let (writing, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&writing).await;
        let (waiting, _other_peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&waiting).await;
        let writing = Rc::new(RefCell::new(writing));
        let waiting = Rc::new(waiting);

        let writer = eddy::spawn({
            let writing = writing.clone();
            // Borrowed only for each poll, so the shutdown below can
            // borrow the stream while the write waits.
            async move {
                poll_fn(|cx| Pin::new(&mut *writing.borrow_mut()).poll_write(cx, b"late")).await
            }
        });
        let waiter = eddy::spawn({
            let waiting = waiting.clone();
            async move { waiting.writable().await }
        });
        // Let both park.
        eddy::task::yield_now().await;
        assert!(
            !writer.is_finished() && !waiter.is_finished(),
            "a full buffer is not writable"
        );

        writing
            .borrow()
            .shutdown(Shutdown::Write)
            .expect("shutdown");
        waiting.shutdown(Shutdown::Write).expect("shutdown");
        let written = woken_within(wait, writer)
            .await
            .expect("the waiting write was never woken")
            .expect("writer task");
        let error = written.expect_err("a write after shutdown");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
        woken_within(wait, waiter)
            .await
            .expect("the waiting writable() was never woken")
            .expect("waiter task")
            .expect("writable");
    });
}

#[test]
fn a_loop_retrying_writes_after_shutdown_still_yields_to_other_tasks() {
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        eddy::spawn(async move { flag.set(true) });
        // Many times the cooperative budget: every write fails at once,
        // so only the budget can make this task yield.
        for _ in 0..100_000 {
            if other_ran.get() {
                return;
            }
            let error = stream.write(b"x").await.expect_err("shut down");
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        }
        panic!("100,000 failed writes in a row never yielded to another task");
    });
}

#[test]
fn a_loop_of_reads_of_nothing_still_yields_to_other_tasks() {
    // A Unix stream reads through its own path (to `WouldBlock`, see
    // `IoSource::poll_read_stream_to_would_block`), which answered an
    // empty buffer with 0 without spending the budget (RELIABILITY 59).
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        eddy::spawn(async move { flag.set(true) });
        for _ in 0..100_000 {
            if other_ran.get() {
                return;
            }
            assert_eq!(stream.read(&mut []).await.expect("read of nothing"), 0);
        }
        panic!("100,000 reads of nothing in a row never yielded to another task");
    });
}

#[test]
fn writing_to_a_vanished_peer_is_an_error_even_with_sigpipe_at_its_default() {
    if child_role().as_deref() == Some("vanished_peer") {
        return write_to_a_vanished_peer();
    }
    let output = run_child("vanished_peer");
    assert_child_survived_sigpipe(&output, "both writes failed with EPIPE");
}

/// The child's side: with `SIGPIPE` at its default action (Rust's start-up
/// code ignores it, which would hide the problem), a plain and a vectored
/// write to a stream whose peer is closed must come back as `EPIPE`.
fn write_to_a_vanished_peer() {
    restore_default_sigpipe();
    run_bounded(LIMIT, || async {
        let (mut stream, peer) = UnixStream::pair().expect("pair");
        drop(peer);
        let error = stream
            .write(b"anyone?")
            .await
            .expect_err("the peer is gone");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "write: {error}");
        let bufs = [IoSlice::new(b"any"), IoSlice::new(b"one?")];
        let error = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &bufs))
            .await
            .expect_err("the peer is gone");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "writev: {error}");
    });
    println!("both writes failed with EPIPE");
}

#[test]
fn binding_an_existing_path_fails_with_addr_in_use() {
    let dir = TempDir::new();
    let path = dir.join("taken.sock");
    run_bounded(LIMIT, move || async move {
        let _listener = UnixListener::bind(&path).expect("bind");
        let error = UnixListener::bind(&path).expect_err("path taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let error = UnixDatagram::bind(&path).expect_err("path taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    });
}

#[test]
fn a_dropped_listener_leaves_its_socket_file_which_refuses_connections_until_removed() {
    let dir = TempDir::new();
    let path = dir.join("left.sock");
    run_bounded(LIMIT, move || async move {
        drop(UnixListener::bind(&path).expect("bind"));
        // As with std and tokio: the file stays, nobody listens behind it.
        assert!(path.exists(), "the socket file is left behind");
        let error = UnixStream::connect(&path)
            .await
            .expect_err("nobody listens");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
        let error = UnixListener::bind(&path).expect_err("the file is there");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse, "{error}");
        std::fs::remove_file(&path).expect("remove the socket file");
        let listener = UnixListener::bind(&path).expect("bind after removing it");
        let _client = UnixStream::connect(&path).await.expect("connect");
        listener.accept().await.expect("accept");
    });
}

#[test]
fn paths_too_long_for_a_socket_address_are_invalid_input_errors() {
    let dir = TempDir::new();
    let long = dir.join(&"x".repeat(200));
    run_bounded(LIMIT, move || async move {
        let kind = |result: io::Result<()>| result.expect_err("too long").kind();
        let invalid = io::ErrorKind::InvalidInput;
        assert_eq!(kind(UnixListener::bind(&long).map(drop)), invalid);
        assert_eq!(kind(UnixStream::connect(&long).await.map(drop)), invalid);
        assert_eq!(kind(UnixDatagram::bind(&long).map(drop)), invalid);
        let socket = UnixDatagram::unbound().expect("unbound");
        assert_eq!(kind(socket.send_to(b"x", &long).await.map(drop)), invalid);
        assert_eq!(kind(socket.connect(&long)), invalid);
        assert!(!long.exists(), "no file was made");
    });
}

#[test]
fn addresses_are_paths_for_bound_sockets_and_unnamed_for_the_rest() {
    let dir = TempDir::new();
    let path = dir.join("named.sock");
    run_bounded(LIMIT, move || async move {
        let listener = UnixListener::bind(&path).expect("bind");
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
        let client = UnixStream::connect(&path).await.expect("connect");
        let (server, peer) = listener.accept().await.expect("accept");
        assert!(peer.is_unnamed(), "a connecting socket binds no path");
        assert!(client.local_addr().unwrap().is_unnamed());
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&*path));
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(&*path));
        assert!(server.peer_addr().unwrap().is_unnamed());
        let (a, b) = UnixStream::pair().expect("pair");
        assert!(a.local_addr().unwrap().is_unnamed() && b.peer_addr().unwrap().is_unnamed());
    });
}

/// Linux's abstract names (no file) reach eddy through `from_std`, and its
/// addresses report them.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn abstract_addresses_come_through_from_std() {
    run_bounded(LIMIT, || async {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        let name = format!("eddy-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .expect("abstract name");
        let std_listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind");
        let listener = UnixListener::from_std(std_listener).expect("from_std");
        let std_client = std::os::unix::net::UnixStream::connect_addr(&addr).expect("connect");
        let client = UnixStream::from_std(std_client).expect("from_std");
        let (server, _) = listener.accept().await.expect("accept");
        let abstract_name =
            |addr: std::os::unix::net::SocketAddr| addr.as_abstract_name().map(<[u8]>::to_vec);
        let expected = Some(name.into_bytes());
        assert_eq!(abstract_name(listener.local_addr().unwrap()), expected);
        assert_eq!(abstract_name(client.peer_addr().unwrap()), expected);
        assert_eq!(abstract_name(server.local_addr().unwrap()), expected);
    });
}

#[test]
fn connecting_to_a_missing_path_fails() {
    let dir = TempDir::new();
    let path = dir.join("nobody.sock");
    run_bounded(LIMIT, move || async move {
        let error = UnixStream::connect(&path).await.expect_err("no listener");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn a_datagram_send_waiting_on_a_full_queue_is_woken_by_the_sockets_own_shutdown() {
    run_bounded(LIMIT, || async {
        // The peer never receives: once its queue is full, sends wait, and
        // the kernel sends no event for the sender's own shutdown.
        let (sender, _peer) = UnixDatagram::pair().expect("pair");
        let datagram = [3u8; 1024];
        let mut sent = 0;
        loop {
            sender.writable().await.expect("writable");
            match sender.try_send(&datagram) {
                Ok(_) => sent += 1,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && sent > 0 => break,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("try_send: {error}"),
            }
        }
        let sender = Rc::new(sender);
        let waiting = eddy::spawn({
            let sender = sender.clone();
            async move { sender.send(b"late").await }
        });
        eddy::task::yield_now().await;
        assert!(!waiting.is_finished(), "a full queue took another datagram");

        sender.shutdown(Shutdown::Write).expect("shutdown");
        let error = woken_within(LIMIT / 4, waiting)
            .await
            .expect("the waiting send was never woken")
            .expect("sender task")
            .expect_err("a send after shutdown");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
    });
}

#[test]
fn a_datagram_pair_carries_datagrams_both_ways() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        assert_eq!(a.send(b"to b").await.expect("send"), 4);
        b.send(b"to a!").await.expect("send back");
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"to b");
        let n = a.recv(&mut buf).await.expect("recv back");
        assert_eq!(&buf[..n], b"to a!");
    });
}

#[test]
fn a_zero_length_datagram_is_a_message_of_length_zero_not_an_end_of_stream() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        assert_eq!(a.send(&[]).await.expect("send an empty datagram"), 0);
        a.send(b"after").await.expect("send");
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).await.expect("recv empty"), 0);
        let n = b.recv(&mut buf).await.expect("recv next");
        assert_eq!(&buf[..n], b"after");
    });
}

/// Spawns `future` and reports how often it was polled over 100 ms in
/// which nothing happened to it: once if it waits, after every spent
/// budget if it spins. The task is aborted afterwards.
async fn polls_while_idle<F: std::future::Future + 'static>(future: F) -> u64 {
    let polls = Rc::new(Cell::new(0));
    let task = eddy::spawn(count_polls(polls.clone(), future));
    eddy::time::sleep(Duration::from_millis(100)).await;
    assert!(!task.is_finished(), "nothing could have completed it");
    task.abort();
    polls.get()
}

#[test]
fn a_datagram_socket_with_its_read_side_shut_down_waits_instead_of_spinning() {
    run_bounded(LIMIT, || async {
        let (_peer, socket) = UnixDatagram::pair().expect("pair");
        socket.shutdown(Shutdown::Read).expect("shutdown");
        let socket = Rc::new(socket);

        let receiver = socket.clone();
        let polls = polls_while_idle(async move { receiver.recv(&mut [0u8; 16]).await }).await;
        assert!(
            polls <= 2,
            "recv was polled {polls} times with nothing to receive"
        );

        // The other way to wait: `readable`, then `try_recv` until
        // `WouldBlock`, then `readable` again, which must now wait.
        let error = socket.try_recv(&mut [0u8; 16]).expect_err("nothing queued");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        let waiter = socket.clone();
        let polls = polls_while_idle(async move { waiter.readable().await }).await;
        assert!(
            polls <= 2,
            "readable was polled {polls} times after WouldBlock"
        );
    });
}

#[test]
fn every_unix_socket_lends_its_own_descriptor() {
    run_bounded(LIMIT, || async {
        let dir = TempDir::new();
        let listener = UnixListener::bind(dir.join("sock")).expect("bind");
        let (stream, _peer) = UnixStream::pair().expect("pair");
        let (datagram, _other) = UnixDatagram::pair().expect("pair");
        assert_eq!(socket_type(&listener), libc::SOCK_STREAM);
        assert_eq!(socket_type(&stream), libc::SOCK_STREAM);
        assert_eq!(socket_type(&datagram), libc::SOCK_DGRAM);
        assert_eq!(
            stream.as_raw_fd(),
            std::os::fd::AsFd::as_fd(&stream).as_raw_fd()
        );
    });
}

#[test]
fn bound_datagram_sockets_send_to_and_recv_from_name_each_other() {
    let dir = TempDir::new();
    let (server_path, client_path) = (dir.join("server.sock"), dir.join("client.sock"));
    run_bounded(LIMIT, move || async move {
        let server = UnixDatagram::bind(&server_path).expect("bind server");
        let client = UnixDatagram::bind(&client_path).expect("bind client");
        client
            .send_to(b"question", &server_path)
            .await
            .expect("send_to");
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!(&buf[..n], b"question");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        let reply_to = from.as_pathname().expect("a named sender");
        server.send_to(b"answer", reply_to).await.expect("reply");
        let (n, from) = client.recv_from(&mut buf).await.expect("recv reply");
        assert_eq!(&buf[..n], b"answer");
        assert_eq!(from.as_pathname(), Some(server_path.as_path()));
    });
}

#[test]
fn an_unbound_datagram_socket_reaches_its_connected_peer_as_an_unnamed_sender() {
    let dir = TempDir::new();
    let server_path = dir.join("server.sock");
    run_bounded(LIMIT, move || async move {
        let server = UnixDatagram::bind(&server_path).expect("bind server");
        let client = UnixDatagram::unbound().expect("unbound");
        client.connect(&server_path).expect("connect");
        assert_eq!(
            client.peer_addr().expect("peer_addr").as_pathname(),
            Some(server_path.as_path())
        );
        client.send(b"hi").await.expect("send");
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!(&buf[..n], b"hi");
        assert!(from.is_unnamed(), "an unbound sender has no path");
        // Nobody can address an unnamed socket: the server cannot reply
        // unless the client binds a path.
        let error = server
            .send(b"x")
            .await
            .expect_err("server is not connected");
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
    });
}

#[test]
fn a_hundred_queued_short_datagrams_are_all_received() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        for i in 0..100u8 {
            a.send(&[i; 3]).await.expect("send");
        }
        let mut buf = [0u8; 64];
        for i in 0..100u8 {
            let n = b.recv(&mut buf).await.expect("recv");
            assert_eq!(&buf[..n], &[i; 3], "datagram {i}");
        }
        let error = b.try_recv(&mut buf).expect_err("queue drained");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn from_std_makes_blocking_sockets_wait_without_blocking_the_runtime() {
    let dir = TempDir::new();
    let path = dir.join("blocking.sock");
    run_bounded(LIMIT, move || async move {
        // std's sockets are blocking. Left so, the reader's second `recv`
        // (a Unix stream stays marked readable until `WouldBlock`) and the
        // acceptor's second `accept` would block the runtime's thread, and
        // this future, which sends what they wait for, would never run.
        let (std_a, mut peer) = std::os::unix::net::UnixStream::pair().expect("pair");
        let mut stream = UnixStream::from_std(std_a).expect("from_std");
        let std_listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let listener = UnixListener::from_std(std_listener).expect("from_std");
        let progress = Rc::new(Cell::new(0));
        let reader = eddy::spawn({
            let progress = progress.clone();
            async move {
                let mut buf = [0u8; 16];
                let first = stream.read(&mut buf).await.expect("first read");
                progress.set(progress.get() + 1);
                let second = stream.read(&mut buf[first..]).await.expect("second read");
                buf[..first + second].to_vec()
            }
        });
        let acceptor = eddy::spawn({
            let progress = progress.clone();
            async move {
                let _first = listener.accept().await.expect("first accept");
                progress.set(progress.get() + 1);
                listener.accept().await.map(drop).expect("second accept");
            }
        });
        peer.write_all(b"hello").expect("peer write");
        let _first_client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        while progress.get() < 2 {
            eddy::task::yield_now().await;
        }
        // Both tasks now wait on sockets with nothing to take.
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        peer.write_all(b"world").expect("peer write");
        let _second_client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        assert_eq!(reader.await.expect("reader"), b"helloworld");
        acceptor.await.expect("acceptor");
    });
}

#[test]
fn from_std_and_into_std_keep_the_same_sockets() {
    run_bounded(LIMIT, || async {
        let (std_a, std_b) = std::os::unix::net::UnixStream::pair().expect("std pair");
        let mut a = UnixStream::from_std(std_a).expect("from_std");
        a.write_all(b"std").await.expect("write");
        let mut b = UnixStream::from_std(std_b).expect("from_std");
        let mut buf = [0u8; 3];
        b.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"std");
        drop(b.into_std().expect("into_std"));
        let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().expect("std pair");
        let a = UnixDatagram::from_std(std_a).expect("from_std");
        drop(UnixDatagram::from_std(std_b).expect("from_std"));
        drop(a.into_std().expect("into_std"));
    });
}

#[test]
fn sockets_that_outlived_their_runtime_fail_with_the_shutdown_error() {
    let dir = TempDir::new();
    let path = dir.join("orphan.sock");
    with_deadline(LIMIT, move || {
        let runtime = eddy::Runtime::new().expect("runtime");
        let (listener, (mut stream, _peer), (datagram, _other)) = runtime.block_on(async {
            let listener = UnixListener::bind(&path).expect("bind");
            let pair = UnixStream::pair().expect("pair");
            let datagrams = UnixDatagram::pair().expect("datagram pair");
            (listener, pair, datagrams)
        });
        drop(runtime);

        let mut buf = [0u8; 8];
        let error = eddy::run(listener.accept()).expect_err("the runtime is gone");
        assert!(eddy::is_shutdown_error(&error), "accept: {error}");
        let error = eddy::run(stream.read(&mut buf)).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "read: {error}");
        let error = eddy::run(stream.write_all(b"x")).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "write_all: {error}");
        let error = stream.try_read(&mut buf).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "try_read: {error}");
        let error = eddy::run(datagram.recv(&mut buf)).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "recv: {error}");
    });
}

#[test]
fn creating_sockets_outside_a_runtime_is_an_error_not_a_panic() {
    let dir = TempDir::new();
    let listener_path = dir.join("listener.sock");
    let datagram_path = dir.join("datagram.sock");
    assert_no_runtime_error(UnixStream::pair(), "UnixStream::pair");
    assert_no_runtime_error(UnixDatagram::pair(), "UnixDatagram::pair");
    assert_no_runtime_error(UnixDatagram::unbound(), "UnixDatagram::unbound");
    assert_no_runtime_error(UnixListener::bind(&listener_path), "UnixListener::bind");
    assert_no_runtime_error(UnixDatagram::bind(&datagram_path), "UnixDatagram::bind");
    // The failed binds removed the socket files they had created.
    assert!(
        !Path::new(&listener_path).exists(),
        "listener file left behind"
    );
    assert!(
        !Path::new(&datagram_path).exists(),
        "datagram file left behind"
    );
}

#[test]
fn from_std_makes_a_blocking_datagram_socket_wait_without_blocking_the_runtime() {
    run_bounded(LIMIT, || async {
        // std's sockets are blocking. Left so, the second `recv` (the
        // socket stays marked readable until `WouldBlock`) would block the
        // runtime's thread, and this future, which sends what it waits
        // for, would never run again.
        let (std_socket, peer) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let socket = UnixDatagram::from_std(std_socket).expect("from_std");
        let first_in = Rc::new(Cell::new(false));
        let reader = eddy::spawn({
            let first_in = first_in.clone();
            async move {
                let mut buf = [0u8; 16];
                let first = socket.recv(&mut buf).await.expect("first recv");
                first_in.set(true);
                let second = socket.recv(&mut buf[first..]).await.expect("second recv");
                buf[..first + second].to_vec()
            }
        });
        peer.send(b"hello").expect("peer send");
        while !first_in.get() {
            eddy::task::yield_now().await;
        }
        // The reader now waits on a socket with nothing queued.
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        peer.send(b"world").expect("peer send");
        assert_eq!(reader.await.expect("reader"), b"helloworld");
    });
}

#[test]
fn a_unix_listener_built_from_a_datagram_socket_is_refused_instead_of_spinning() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let (datagram, _peer) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let not_a_listener = std::os::unix::net::UnixListener::from(OwnedFd::from(datagram));
        let error = UnixListener::from_std(not_a_listener)
            .expect_err("a datagram socket was taken for a listener");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn a_unix_datagram_socket_built_from_a_stream_socket_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let dir = TempDir::new();
        let listener = std::os::unix::net::UnixListener::bind(dir.join("s")).expect("bind");
        let not_datagrams = std::os::unix::net::UnixDatagram::from(OwnedFd::from(listener));
        let error = UnixDatagram::from_std(not_datagrams)
            .expect_err("a stream socket was taken for a datagram socket");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

/// The cancellation seeds of the tests below; a failing one is in the
/// failure message.
const CANCEL_SEEDS: [u64; 3] = [0x9E37_79B9, 0xC0FF_EE11, 0x5EED_0003];

#[test]
fn unix_stream_reads_dropped_at_random_points_lose_no_byte() {
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let (mut writer, mut reader) = UnixStream::pair().expect("pair");
            let sent = payload(seed as u8, 256 << 10);
            let to_send = sent.clone();
            eddy::spawn(async move {
                let mut rng = eddy_tests::XorShift(seed ^ 0xA5A5);
                let mut at = 0;
                while at < to_send.len() {
                    let chunk = (1 + rng.index(8192)).min(to_send.len() - at);
                    writer
                        .write_all(&to_send[at..at + chunk])
                        .await
                        .expect("write_all");
                    at += chunk;
                    for _ in 0..rng.below(3) {
                        eddy::task::yield_now().await;
                    }
                }
            });
            let mut got = Vec::with_capacity(sent.len());
            let mut buf = vec![0u8; 16 << 10];
            let mut dropped = 0;
            loop {
                let len = 1 + rng.index(buf.len());
                match eddy_tests::cancel_at_random(&mut rng, reader.read(&mut buf[..len])).await {
                    Some(Ok(0)) => break,
                    Some(Ok(n)) => got.extend_from_slice(&buf[..n]),
                    Some(Err(error)) => panic!("seed {seed:#x}: read failed: {error}"),
                    None => dropped += 1,
                }
            }
            assert!(
                got == sent,
                "seed {seed:#x}: {} bytes read of {} sent, or other bytes",
                got.len(),
                sent.len()
            );
            assert!(dropped > 0, "seed {seed:#x}: no read was ever dropped");
        });
    }
}

#[test]
fn unix_accepts_dropped_at_random_points_lose_no_connection() {
    const CONNECTIONS: u32 = 200;
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let dir = TempDir::new();
            let path = dir.join("listener");
            let listener = UnixListener::bind(&path).expect("bind");
            // A task connects a few clients at a time, so the server's
            // accept now waits, now finds several queued. Each client sends
            // its number and holds its end until the server closes.
            eddy::spawn(async move {
                let mut rng = eddy_tests::XorShift(seed ^ 0x3C3C);
                for i in 0..CONNECTIONS {
                    let mut stream = UnixStream::connect(&path).await.expect("connect");
                    eddy::spawn(async move {
                        // Closed by the server, or reset if it dropped the
                        // connection unread: the server's count tells.
                        let _ = stream.write_all(&i.to_be_bytes()).await;
                        let mut rest = [0u8; 1];
                        let _ = stream.read(&mut rest).await;
                    });
                    for _ in 0..rng.below(6) {
                        eddy::task::yield_now().await;
                    }
                }
            });
            let mut seen = vec![false; CONNECTIONS as usize];
            let mut accepted = 0;
            let mut dropped = 0;
            let accept_all = async {
                while accepted < CONNECTIONS {
                    let Some(result) =
                        eddy_tests::cancel_at_random(&mut rng, listener.accept()).await
                    else {
                        dropped += 1;
                        continue;
                    };
                    let (mut stream, _) = result.expect("accept");
                    let mut number = [0u8; 4];
                    stream
                        .read_exact(&mut number)
                        .await
                        .expect("the client's number");
                    let i = u32::from_be_bytes(number) as usize;
                    assert!(!seen[i], "seed {seed:#x}: connection {i} accepted twice");
                    seen[i] = true;
                    accepted += 1;
                }
            };
            // Bounded: a connection lost with a dropped accept never comes.
            let finished = eddy::time::timeout(LIMIT / 2, accept_all).await.is_ok();
            assert!(
                finished,
                "seed {seed:#x}: {accepted} of {CONNECTIONS} connections accepted, then none"
            );
            assert!(dropped > 0, "seed {seed:#x}: no accept was ever dropped");
        });
    }
}

#[test]
fn unix_datagram_receives_dropped_at_random_points_get_every_datagram_once_in_order() {
    const COUNT: u32 = 2_000;
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let (sender, receiver) = UnixDatagram::pair().expect("pair");
            let received = Rc::new(Cell::new(0u32));
            eddy::spawn(async move {
                let mut rng = eddy_tests::XorShift(seed ^ 0xA5A5);
                for i in 0..COUNT {
                    // A Unix datagram send waits while the queue is full,
                    // so no pacing is needed: nothing is ever dropped.
                    sender.send(&i.to_be_bytes()).await.expect("send");
                    for _ in 0..rng.below(3) {
                        eddy::task::yield_now().await;
                    }
                }
            });
            let mut buf = [0u8; 16];
            let mut dropped = 0;
            while received.get() < COUNT {
                let Some(result) =
                    eddy_tests::cancel_at_random(&mut rng, receiver.recv_from(&mut buf)).await
                else {
                    dropped += 1;
                    continue;
                };
                let (n, _) = result.expect("recv_from");
                assert_eq!(
                    &buf[..n],
                    &received.get().to_be_bytes(),
                    "seed {seed:#x}: datagram {} lost, repeated or out of order",
                    received.get()
                );
                received.set(received.get() + 1);
            }
            assert!(dropped > 0, "seed {seed:#x}: no receive was ever dropped");
        });
    }
}

#[test]
fn unix_datagram_sends_dropped_at_random_points_send_each_datagram_once() {
    const COUNT: u32 = 5_000;
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let dir = TempDir::new();
            let path = dir.join("receiver");
            let receiver = UnixDatagram::bind(&path).expect("bind");
            let sender = UnixDatagram::unbound().expect("unbound");
            sender.connect(&path).expect("connect");
            // A receiver that falls behind now and then, so the queue fills
            // and sends wait, and are dropped while they wait.
            let received = eddy::spawn(async move {
                let mut rng = eddy_tests::XorShift(seed ^ 0x5A5A);
                let mut buf = [0u8; 16];
                for i in 0..COUNT {
                    let n = receiver.recv(&mut buf).await.expect("recv");
                    assert_eq!(
                        &buf[..n],
                        &i.to_be_bytes(),
                        "seed {seed:#x}: datagram {i} lost, repeated or out of order"
                    );
                    for _ in 0..rng.below(4) {
                        eddy::task::yield_now().await;
                    }
                }
                receiver
            });
            let mut next = 0u32;
            let mut dropped = 0;
            while next < COUNT {
                let datagram = next.to_be_bytes();
                // The plain `send` and `send_to` by turns.
                let sent = if rng.below(2) == 0 {
                    eddy_tests::cancel_at_random(&mut rng, sender.send(&datagram)).await
                } else {
                    eddy_tests::cancel_at_random(&mut rng, sender.send_to(&datagram, &path)).await
                };
                match sent {
                    Some(result) => {
                        assert_eq!(result.expect("send"), datagram.len());
                        next += 1;
                    }
                    // Dropped: it sent nothing, so the same datagram goes next.
                    None => dropped += 1,
                }
            }
            let receiver = received.await.expect("the receiving task");
            // Nothing more than the COUNT datagrams: a dropped send that
            // went out anyway would have shown as a repeat above, or here.
            assert!(
                matches!(receiver.try_recv(&mut [0u8; 16]), Err(ref e) if e.kind() == io::ErrorKind::WouldBlock),
                "seed {seed:#x}: a datagram more than was sent"
            );
            assert!(dropped > 0, "seed {seed:#x}: no send was ever dropped");
        });
    }
}

#[test]
fn a_dropped_unix_readable_wait_strands_no_wake() {
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let (mut peer, mut stream) = UnixStream::pair().expect("pair");
            for round in 0..100u32 {
                // A wait polled and dropped at a random point, with nothing
                // sent yet.
                let polls = 1 + rng.below(4);
                let dropped = eddy_tests::poll_at_most(polls, stream.readable()).await;
                assert!(
                    dropped.is_none(),
                    "seed {seed:#x}, round {round}: readable with nothing sent"
                );
                // The byte comes now or a little later; the next wait must
                // be woken by it.
                let send_later = rng.below(2) == 0;
                if !send_later {
                    peer.write_all(&[round as u8]).await.unwrap();
                }
                let sender = eddy::spawn(async move {
                    if send_later {
                        eddy::task::yield_now().await;
                        peer.write_all(&[round as u8]).await.unwrap();
                    }
                    peer
                });
                let woken = woken_within(LIMIT / 2, stream.readable()).await;
                assert!(
                    matches!(woken, Some(Ok(()))),
                    "seed {seed:#x}, round {round}: the next readable was not woken: {woken:?}"
                );
                peer = sender.await.unwrap();
                // A read with room to spare empties the socket (a Unix
                // stream clears readiness only on `WouldBlock`: the second
                // read sees it).
                let mut byte = [0u8; 2];
                assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
                assert_eq!(byte[0], round as u8);
                assert_eq!(
                    stream.try_read(&mut byte).map_err(|e| e.kind()),
                    Err(io::ErrorKind::WouldBlock)
                );
            }
        });
    }
}
