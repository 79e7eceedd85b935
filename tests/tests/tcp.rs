//! TCP end to end over real sockets on 127.0.0.1 (ephemeral ports only).
//!
//! What is proved here, one test each:
//!
//! * an echo server with a task per connection returns the exact bytes to
//!   500 concurrent clients sending payloads of 1 B to 64 KiB, also when
//!   all 500 connect in one burst before the first `accept` (the listen
//!   backlog must hold them, or the kernel resets the excess);
//! * half-close: the server reads to end-of-stream, then writes everything
//!   back and closes; the client reads exactly what it sent, then EOF;
//! * a peer that resets ends only its own connection (with an error or
//!   EOF), and the server keeps serving others; bytes that arrived before
//!   the reset are all read first, then `ConnectionReset`, then EOF
//!   (Linux);
//! * writing to a vanished peer returns `EPIPE`/`ECONNRESET` instead of
//!   killing the process with `SIGPIPE` (in a child with `SIGPIPE` at its
//!   default action, so the runtime cannot lean on Rust's start-up code);
//! * owned halves in two tasks, borrowed halves in one, `reunite`;
//!   dropping the owned write half ends the peer's stream while the read
//!   half still reads; dropping a borrowed write half shuts nothing down;
//! * `read_exact` on a stream that ends early is `UnexpectedEof`;
//! * `peek` leaves the bytes for the next read, returns 0 at once for an
//!   empty buffer and 0 at end of stream;
//! * `close` on a stream its peer reset succeeds (there is nothing left to
//!   close; tokio's `shutdown` says `NotConnected`), while `shutdown`
//!   reports `NotConnected`, as documented on `TcpStream`;
//! * `eddy::io::copy` flushes a buffering writer whenever its reader waits,
//!   so a request does not sit in the buffer while its sender waits, and
//!   into a peer that stops reading it waits instead of spinning;
//! * `futures-io` interoperability: `eddy::io::copy` and `futures-util`'s
//!   extension traits drive eddy's streams, and a vectored write of more
//!   slices than `IOV_MAX` writes a prefix instead of failing, and one
//!   through either write half sends every slice in one call, as the
//!   stream's does;
//! * bytes sent after an urgent (`MSG_OOB`) byte are read without the peer
//!   sending more, although the kernel ends a read short at the urgent mark
//!   (Linux, where streams register for priority events);
//! * connecting to a closed port is `ConnectionRefused`, also when the
//!   refusal comes while the connect waits (a SYN retransmitted to a port
//!   that closed meanwhile); connects dropped while they wait (their
//!   timeout won) leave no registration behind;
//! * `set_linger` takes whole seconds (on Apple systems too, whose plain
//!   `SO_LINGER` counts clock ticks) and `None` turns lingering off;
//! * a stream dropped while it lingers with bytes unsent closes without
//!   waiting for the peer: the drop returns before the peer reads, and
//!   the peer still gets every byte, then end-of-stream; this holds for
//!   linger set by `set_linger`, on a std stream given to `from_std`, and
//!   inherited from a lingering listener; `into_std` keeps the option;
//! * sockets that escaped a dropped runtime fail with the shutdown error
//!   (and close cleanly when dropped outside any runtime), and `into_std`
//!   hands them back open and usable, for std or another runtime;
//! * `from_std` makes std's blocking stream and listener non-blocking: a
//!   second read or accept waits for the runtime instead of blocking it;
//! * `accept` under a full descriptor table keeps the listener alive
//!   without spinning (in a child with a tiny `RLIMIT_NOFILE`), and an
//!   `accept` driven on a plain thread, off the runtime, gets `EMFILE`
//!   again instead of panicking on the backoff's timer;
//! * every TCP and UDP socket type lends its own descriptor (`AsFd`,
//!   `AsRawFd`), and an option set through it is the socket's own;
//! * 1,000 connections leave no registration behind.
//!
//! Every test is bounded: the body runs under [`with_deadline`], children
//! are killed by a guard, waits are `timeout`s. None asserts how fast
//! anything is; the only resource assertion (CPU time while the descriptor
//! table is full) compares CPU time against wall time, which holds however
//! slow the machine is.

#![cfg(unix)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use eddy::Handle;
use eddy::net::tcp::{OwnedReadHalf, ReuniteError};
use eddy::net::{TcpListener, TcpStream};
use eddy::task::JoinError;
use eddy::time::{sleep, timeout};
use eddy_tests::child_process::{child_command, child_role, restore_default_sigpipe};
use eddy_tests::{
    block_on_parked, descriptor_limit, poll_once, run_bounded, set_descriptor_soft_limit,
    socket_type, tcp_echo, tcp_pair, wait_until, with_deadline,
};
use futures_util::io::{AsyncReadExt, AsyncWriteExt, Cursor};

/// A hang detector, never reached when things work; tenfold under Miri,
/// which runs the waits below a hundred times slower (one timed out there
/// while making progress).
const LIMIT: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Waits until `done` holds; fails the test with `what` if it still does
/// not after half the test's [`LIMIT`].
async fn wait_bounded(what: &str, done: impl FnMut() -> bool) {
    let waited = timeout(LIMIT / 2, wait_until(done)).await;
    assert!(waited.is_ok(), "gave up waiting until {what}");
}

/// `len` pseudo-random bytes from `seed` (splitmix64): distinct payloads
/// for distinct seeds, so a byte delivered to the wrong client shows.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&next().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// Compares without dumping megabytes into the failure message.
fn assert_same_bytes(got: &[u8], sent: &[u8], who: &str) {
    if got != sent {
        let first_difference = got.iter().zip(sent).position(|(a, b)| a != b);
        panic!(
            "{who}: got {} bytes back for {} sent; first differing byte at {:?}",
            got.len(),
            sent.len(),
            first_difference
        );
    }
}

// ---------------------------------------------------------------------------
// The in-process server
// ---------------------------------------------------------------------------

/// How one connection's task ended: its serve function's result, or the
/// task's panic.
type Outcome = Result<io::Result<u64>, JoinError>;

/// A listener on an ephemeral port whose accept loop runs in its own task
/// and spawns one task per connection.
struct Server {
    /// Where clients connect.
    addr: SocketAddr,
    /// Each finished connection's outcome, in the order they finished.
    outcomes: Rc<RefCell<Vec<Outcome>>>,
}

impl Server {
    /// Binds and starts accepting; each connection is handed to `serve`.
    async fn start<F, Fut>(serve: F) -> Server
    where
        F: Fn(TcpStream) -> Fut + 'static,
        Fut: Future<Output = io::Result<u64>> + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let outcomes = Rc::new(RefCell::new(Vec::new()));
        let record = outcomes.clone();
        eddy::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => {
                        let connection = eddy::spawn(serve(stream));
                        let record = record.clone();
                        // A second task watches the first so a panic is
                        // recorded too, not just a returned result.
                        eddy::spawn(async move {
                            let outcome = connection.await;
                            record.borrow_mut().push(outcome);
                        });
                    }
                    // `accept` backs off by itself after resource errors.
                    Err(error) => eprintln!("test server: accept failed: {error}"),
                }
            }
        });
        Server { addr, outcomes }
    }

    fn finished(&self) -> usize {
        self.outcomes.borrow().len()
    }

    /// Waits until the one connection made so far has ended, and asserts it
    /// ended without a panic or an error after serving `bytes` bytes.
    async fn assert_one_connection_served(&self, bytes: u64) {
        wait_bounded("the server connection ended", || self.finished() == 1).await;
        let outcome = self.outcomes.borrow_mut().remove(0);
        assert_eq!(outcome.expect("no panic").expect("no error"), bytes);
    }
}

/// Reads an owned read half to end-of-stream.
async fn read_to_eof(half: &mut OwnedReadHalf) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match half.read(&mut buf).await? {
            0 => return Ok(got),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Connects to `addr` and runs [`echo_over`].
async fn echo_through(addr: SocketAddr, sent: Vec<u8>) -> io::Result<Vec<u8>> {
    echo_over(TcpStream::connect(addr).await?, sent).await
}

/// Sends `sent` from one task while this one reads the echo to EOF.
async fn echo_over(stream: TcpStream, sent: Vec<u8>) -> io::Result<Vec<u8>> {
    let (mut reader, mut writer) = stream.into_split();
    let writing = eddy::spawn(async move {
        writer.write_all(&sent).await
        // Dropping the owned write half shuts the write side down: the
        // server sees EOF after the last byte and closes.
    });
    let got = read_to_eof(&mut reader).await?;
    writing.await.map_err(io::Error::from)??;
    Ok(got)
}

// ---------------------------------------------------------------------------
// Descriptor limits and CPU time
// ---------------------------------------------------------------------------

/// Makes sure this process may open `needed` descriptors (the default soft
/// limit is often 1024), raising the soft limit up to the hard one.
fn ensure_fd_limit(needed: libc::rlim_t) {
    let limit = descriptor_limit();
    if limit.rlim_cur >= needed {
        return;
    }
    assert!(
        limit.rlim_max >= needed,
        "this test needs {needed} descriptors; the hard RLIMIT_NOFILE is {}",
        limit.rlim_max
    );
    set_descriptor_soft_limit(limit.rlim_max);
}

/// User plus system CPU time of the whole process.
///
/// `getrusage` rather than reading `/proc/self/stat`: opening that file
/// needs a descriptor, and the caller measures while the table is full.
fn process_cpu_time() -> Duration {
    // SAFETY: all-zero bytes are a valid `rusage` (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the `rusage` we lend it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", io::Error::last_os_error());
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

// ---------------------------------------------------------------------------
// Child processes: the test binary re-executed in a role
// ---------------------------------------------------------------------------

/// A child process that is killed (and reaped) however the test ends, with
/// its stdout delivered line by line over a channel so every read of it is
/// bounded.
struct ChildGuard {
    /// The process; `None` once reaped.
    child: Option<Child>,
    /// The child's stdin; dropping it sends EOF.
    stdin: Option<ChildStdin>,
    /// Lines the reader thread got from the child's stdout.
    lines: mpsc::Receiver<String>,
}

/// Re-executes this test binary running only `test` (which must check
/// [`child_role`] first thing) with the environment selecting `role`.
fn spawn_child(test: &str, role: &str) -> ChildGuard {
    let mut child = child_command(test, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not re-execute the test binary");
    // Threads spawned by a test inherit its output capture: the child's
    // output shows only when the test fails.
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("child (stderr): {line}");
        }
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            println!("child: {line}");
            if send.send(line).is_err() {
                break;
            }
        }
    });
    ChildGuard {
        stdin: child.stdin.take(),
        child: Some(child),
        lines,
    }
}

impl ChildGuard {
    /// What follows `prefix` on the first line that holds it, skipping the
    /// test harness's own output.
    fn expect_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    // Not `strip_prefix`: the harness's "test NAME ... "
                    // has no newline, so the child's first line follows it.
                    if let Some(at) = line.find(prefix) {
                        return line[at + prefix.len()..].to_string();
                    }
                }
                Err(error) => panic!("the child never printed {prefix:?}: {error:?}"),
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to the child's stdin");
        stdin.flush().expect("flush the child's stdin");
    }

    /// Waits for the child to exit (bounded by [`LIMIT`]).
    fn wait(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("not reaped yet");
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "the child did not exit");
            std::thread::sleep(ms(10));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn assert_child_succeeded(status: ExitStatus) {
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.success(),
        "the child failed: {status:?} (signal {:?}); its output is above",
        status.signal()
    );
}

// ---------------------------------------------------------------------------
// Echo under load
// ---------------------------------------------------------------------------

/// Clients for the load tests: a client socket and a server socket each.
const CLIENTS: usize = 500;

/// Client `i`'s payload size: the extremes first, then pseudo-random sizes
/// in between.
fn client_size(i: usize) -> usize {
    match i {
        0 => 1,
        1 => 64 * 1024,
        _ => {
            let random = u64::from_le_bytes(payload(!(i as u64), 8).try_into().unwrap());
            1 + (random % (64 * 1024)) as usize
        }
    }
}

/// Runs [`CLIENTS`] clients at once against an echo server and checks
/// every byte. With `burst`, every client connects in the same tick, before
/// the server's accept loop runs again; otherwise connects are awaited one
/// by one (letting the accept loop keep up) and only then do all clients
/// transfer at once.
async fn echo_to_many_clients(burst: bool) {
    let server = Server::start(tcp_echo).await;
    let clients: Vec<_> = if burst {
        (0..CLIENTS)
            .map(|i| {
                let sent = payload(i as u64, client_size(i));
                eddy::spawn(echo_through(server.addr, sent))
            })
            .collect()
    } else {
        let mut streams = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            let stream = TcpStream::connect(server.addr).await;
            streams.push(stream.unwrap_or_else(|e| panic!("client {i}: connect: {e}")));
        }
        (streams.into_iter().enumerate())
            .map(|(i, stream)| {
                let sent = payload(i as u64, client_size(i));
                eddy::spawn(echo_over(stream, sent))
            })
            .collect()
    };
    for (i, client) in clients.into_iter().enumerate() {
        let got = client
            .await
            .expect("client task")
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        let sent = payload(i as u64, client_size(i));
        assert_same_bytes(&got, &sent, &format!("client {i}"));
    }
    wait_bounded("every server connection ended", || {
        server.finished() == CLIENTS
    })
    .await;
    let echoed: u64 = (server.outcomes.borrow_mut().drain(..))
        .map(|outcome| outcome.expect("no panic").expect("no error"))
        .sum();
    assert_eq!(echoed, (0..CLIENTS).map(|i| client_size(i) as u64).sum());
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no getrlimit")]
fn echo_server_returns_the_exact_bytes_to_500_concurrent_clients() {
    ensure_fd_limit(2 * CLIENTS as libc::rlim_t + 100);
    run_bounded(LIMIT, || echo_to_many_clients(false));
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no getrlimit")]
fn a_burst_of_500_connects_before_the_first_accept_is_served_without_resets() {
    ensure_fd_limit(2 * CLIENTS as libc::rlim_t + 100);
    run_bounded(LIMIT, || echo_to_many_clients(true));
}

// ---------------------------------------------------------------------------
// Closing: half-close, reset, vanished peers, refused connects
// ---------------------------------------------------------------------------

/// Reads to end-of-stream, then writes everything back and closes: the
/// server only answers after the client's half-close.
async fn echo_after_eof(mut stream: TcpStream) -> io::Result<u64> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await? {
            0 => break,
            n => all.extend_from_slice(&buf[..n]),
        }
    }
    stream.write_all(&all).await?;
    Ok(all.len() as u64)
}

#[test]
fn after_a_half_close_the_client_reads_every_byte_back_then_eof() {
    run_bounded(LIMIT, || async {
        let server = Server::start(echo_after_eof).await;
        let sent = payload(7, 256 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(&sent).await.expect("write");
        stream.shutdown(Shutdown::Write).expect("shutdown(Write)");

        let mut got = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await.expect("read") {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_same_bytes(&got, &sent, "half-closed client");
        assert_eq!(stream.read(&mut buf).await.expect("read"), 0, "EOF stays");

        server.assert_one_connection_served(sent.len() as u64).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_peer_reset_ends_only_its_own_connection_and_the_server_keeps_serving() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;

        let mut doomed = TcpStream::connect(server.addr).await.expect("connect");
        doomed.write_all(b"before the reset").await.expect("write");
        let mut back = [0u8; 16];
        doomed.read_exact(&mut back).await.expect("echo");
        // The server's task has echoed and is parked in `read` now. A zero
        // linger turns the close into a reset.
        doomed.set_linger(Some(Duration::ZERO)).expect("linger");
        drop(doomed);

        wait_bounded("the reset connection's task ended", || {
            server.finished() == 1
        })
        .await;
        match server.outcomes.borrow_mut().remove(0) {
            Err(panic) => panic!("the connection's task panicked: {panic}"),
            Ok(Ok(echoed)) => assert_eq!(echoed, 16, "EOF after the echoed bytes"),
            Ok(Err(error)) => assert_eq!(
                error.kind(),
                io::ErrorKind::ConnectionReset,
                "unexpected error: {error}"
            ),
        }

        let sent = payload(11, 10_000);
        let got = echo_through(server.addr, sent.clone())
            .await
            .expect("the server still serves");
        assert_same_bytes(&got, &sent, "client after the reset");
    });
}

/// Whether `stream`'s socket has seen its connection end (`POLLHUP`, which
/// a reset raises), asked without consuming the pending error as
/// `take_error` would.
fn hung_up(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one valid `pollfd`, and the count passed is 1; the
    // descriptor is borrowed from `stream` for the call. A zero timeout
    // makes it return at once.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    assert!(ready >= 0, "poll: {}", io::Error::last_os_error());
    poll.revents & libc::POLLHUP != 0
}

/// How many bytes are queued for reading on `stream` (`FIONREAD`).
fn bytes_queued(stream: &TcpStream) -> usize {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: `FIONREAD` writes one `c_int` through the pointer, which
    // points at `queued`; the descriptor is borrowed from `stream`.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut queued) };
    assert_eq!(rc, 0, "FIONREAD: {}", io::Error::last_os_error());
    usize::try_from(queued).expect("a count")
}

// Linux keeps what was queued readable after a reset; other kernels may
// throw it away with the connection.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "Miri: no FIONREAD")]
fn bytes_that_arrived_before_a_reset_are_all_read_before_the_reset_error() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut peer, mut stream) = tcp_pair(&listener).await;
        let sent = payload(12, 64 * 1024);
        peer.write_all(&sent).await.expect("write");
        wait_bounded("every byte was queued", || {
            bytes_queued(&stream) == sent.len()
        })
        .await;
        peer.set_linger(Some(Duration::ZERO)).expect("linger 0");
        drop(peer);
        wait_bounded("the reset arrived", || hung_up(&stream)).await;

        // Reads smaller than what is queued, and short ones at the end,
        // while the socket's readiness says read-closed and error.
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        while got.len() < sent.len() {
            let n = stream.read(&mut buf).await.expect("queued bytes first");
            assert!(n > 0, "end of stream after {} bytes", got.len());
            got.extend_from_slice(&buf[..n]);
        }
        assert_same_bytes(&got, &sent, "bytes before the reset");
        let error = stream.read(&mut buf).await.expect_err("then the reset");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
        assert_eq!(stream.read(&mut buf).await.expect("after it"), 0);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn writing_to_a_vanished_peer_fails_with_epipe_or_econnreset_instead_of_sigpipe() {
    const TEST: &str =
        "writing_to_a_vanished_peer_fails_with_epipe_or_econnreset_instead_of_sigpipe";
    if child_role().as_deref() == Some("vanished_peer") {
        return write_until_the_vanished_peer_fails();
    }
    let mut child = spawn_child(TEST, "vanished_peer");
    child.expect_line("write failed as expected: ");
    assert_child_succeeded(child.wait());
}

/// The child's side: with `SIGPIPE` back at its default action (Rust's
/// start-up code ignores it, which would hide a missing `MSG_NOSIGNAL`), a
/// write to a closed connection must come back as an error.
fn write_until_the_vanished_peer_fails() {
    restore_default_sigpipe();
    let error = run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (peer, mut stream) = tcp_pair(&listener).await;
        drop(peer);
        // The first writes may still be accepted by the kernel; the peer
        // answers them with a reset, and a later write reports it.
        let chunk = vec![0x5Au8; 64 * 1024];
        for _ in 0..10_000 {
            if let Err(error) = stream.write(&chunk).await {
                return error;
            }
        }
        panic!("10,000 writes to a closed connection all succeeded");
    });
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "unexpected error: {error}"
    );
    println!("write failed as expected: {error}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connecting_to_a_closed_port_is_refused_with_the_os_error() {
    run_bounded(LIMIT, || async {
        // A port that is bound but where nobody listens. (Bound and then
        // dropped, a port could be bound again, by a listener of a test
        // running in parallel, before the connect reached it.)
        let bound = std::net::TcpListener::from(reuse_port_socket(0));
        let closed = bound.local_addr().expect("local_addr");
        let error = TcpStream::connect(closed)
            .await
            .expect_err("nobody listens there");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
        // The kernel's own error, as `SO_ERROR` gives it (and std's blocking
        // connect): skipping `SO_ERROR` still failed the connect, with a
        // `ConnectionRefused` of eddy's making, which every other failure
        // (a timeout, an unreachable host) would have shared.
        assert_eq!(error.raw_os_error(), Some(libc::ECONNREFUSED), "{error}");
    });
}

/// A TCP socket on 127.0.0.1 bound to `port` (0: any) with `SO_REUSEPORT`,
/// not listening. Two such sockets share a port; one that never listens
/// keeps the port taken after a listener beside it closes, so nobody else
/// (another test binding port 0, another process) can start listening there
/// while a connect still sends SYNs to it: they all meet a closed port.
fn reuse_port_socket(port: u16) -> std::os::fd::OwnedFd {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: socket(2) takes no pointers; a descriptor it returns is new
    // and owned by nothing else, so `OwnedFd` may own it.
    let socket = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
        OwnedFd::from_raw_fd(fd)
    };
    let on: libc::c_int = 1;
    // SAFETY: `on` is the `c_int` this option takes, and the length passed
    // is its size; the descriptor is open for the call.
    let set = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_REUSEPORT: {}", io::Error::last_os_error());
    // SAFETY: all-zero bytes are a valid `sockaddr_in`; the fields that
    // matter are set below.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    // SAFETY: `addr` is a `sockaddr_in` and the length passed is its size;
    // the descriptor is open for the call.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(bound, 0, "bind: {}", io::Error::last_os_error());
    socket
}

/// A listener whose accept queue is full, and the connection that fills
/// it: with a backlog of 0 the queue holds one connection, and Linux drops
/// the SYNs of later connects, which wait and retransmit. The listener has
/// `SO_REUSEPORT`, so that [`reuse_port_socket`] can keep its port.
async fn listener_with_a_full_queue() -> (std::net::TcpListener, TcpStream) {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::from(reuse_port_socket(0));
    // SAFETY: the descriptor is the listener's, open for the call.
    let listened = unsafe { libc::listen(listener.as_raw_fd(), 0) };
    assert_eq!(listened, 0, "listen: {}", io::Error::last_os_error());
    let addr = listener.local_addr().unwrap();
    let queued = TcpStream::connect(addr).await.expect("the queued connect");
    // Wait until the kernel has queued it (the listener turns readable),
    // so that the queue is full before the next SYN comes.
    let mut poll_fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll_fd` is one valid `pollfd`, the count passed is 1, and
    // its descriptor is the listener's, open for the call.
    let polled = unsafe { libc::poll(&mut poll_fd, 1, -1) };
    assert_eq!(polled, 1, "poll: {}", io::Error::last_os_error());
    (listener, queued)
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn a_connect_refused_while_it_waits_for_an_answer_fails_with_connection_refused() {
    run_bounded(LIMIT, || async {
        let (listener, _queued) = listener_with_a_full_queue().await;
        let addr = listener.local_addr().unwrap();
        let pending = eddy::spawn(TcpStream::connect(addr));
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        assert!(!pending.is_finished(), "the second connect waits");
        // Its next SYN, a second or more from now, meets a closed port: the
        // refusal arrives while the connect waits (as SO_ERROR), not from
        // the connect(2) call. The port stays taken meanwhile: freed, it
        // was now and then bound by a listener elsewhere (tests running in
        // parallel bind port 0 all the time), which accepted the connect.
        let _port_kept = reuse_port_socket(addr.port());
        drop(listener);
        let error = pending
            .await
            .expect("the connect task")
            .expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connects_dropped_while_they_wait_leave_no_registration_behind() {
    run_bounded(LIMIT, || async {
        // Live and not deregistered: a deregistered source is released on
        // the driver's next turn, and counted until then.
        let live = || {
            let metrics = eddy::Handle::current().metrics();
            metrics.registrations_live - metrics.registrations_pending_release
        };
        let (listener, _queued) = listener_with_a_full_queue().await;
        let baseline = live();
        for _ in 0..50 {
            // The way a connect usually ends early: its timeout wins.
            let connect = TcpStream::connect(listener.local_addr().unwrap());
            let result = timeout(ms(1), connect).await;
            assert!(result.is_err(), "a connect to a full queue got an answer");
        }
        // Each dropped connect deregistered (and closed) its socket.
        assert_eq!(live(), baseline, "registrations of dropped connects");
    });
}

/// The linger interval the kernel holds for `stream`, in seconds, read
/// with the option that counts seconds on this system (Apple's plain
/// `SO_LINGER` counts clock ticks; `SO_LINGER_SEC` counts seconds).
fn linger_seconds(stream: &std::net::TcpStream) -> Option<i32> {
    use std::os::fd::AsRawFd;
    #[cfg(target_vendor = "apple")]
    let option = libc::SO_LINGER_SEC;
    #[cfg(not(target_vendor = "apple"))]
    let option = libc::SO_LINGER;
    let mut value = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let mut len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes and `len` holds the
    // size of `value`, the type this option returns; the fd is open for
    // the call (borrowed from `stream`).
    let result = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    assert_eq!(result, 0, "getsockopt: {}", io::Error::last_os_error());
    (value.l_onoff != 0).then_some(value.l_linger)
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn set_linger_takes_whole_seconds_and_none_turns_it_off() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, _server) = tcp_pair(&listener).await;
        client
            .set_linger(Some(Duration::from_secs(5)))
            .expect("linger");
        // Read back through the std stream (eddy's exposes no fd). Seconds,
        // not clock ticks: a plain `SO_LINGER` on Apple systems would store
        // 5 ticks, which reads back here as 0.
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(5));
        let client = TcpStream::from_std(client).expect("from_std");
        client.set_linger(None).expect("linger off");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), None);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_sub_second_linger_rounds_up_instead_of_becoming_a_reset() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, _server) = tcp_pair(&listener).await;
        // Truncated to whole seconds this would be 0: close would reset the
        // connection and drop unsent data instead of waiting for it.
        client
            .set_linger(Some(Duration::from_millis(500)))
            .expect("linger");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(1));
        // Zero stays zero: that is how a caller asks for the reset.
        let client = TcpStream::from_std(client).expect("from_std");
        client.set_linger(Some(Duration::ZERO)).expect("linger 0");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(0));
    });
}

/// Writes to `stream` until the kernel takes no more: the peer's receive
/// window and this side's send buffer are both full. Returns how many
/// bytes the kernel took.
async fn fill_send_buffer(stream: &TcpStream) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0;
    loop {
        stream.writable().await.expect("writable");
        match stream.try_write(&chunk) {
            Ok(n) => written += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                // Writable said yes, the write said no: the buffers are full.
                if written > 0 {
                    return written;
                }
            }
            Err(error) => panic!("try_write: {error}"),
        }
    }
}

/// Sets `SO_LINGER` on `socket` to `seconds`, behind eddy's back (as
/// `socket2` would), in the unit `linger_seconds` reads.
fn linger_behind_eddys_back(socket: &impl std::os::fd::AsRawFd, seconds: i32) {
    #[cfg(target_vendor = "apple")]
    let option = libc::SO_LINGER_SEC;
    #[cfg(not(target_vendor = "apple"))]
    let option = libc::SO_LINGER;
    let value = libc::linger {
        l_onoff: 1,
        l_linger: seconds,
    };
    // SAFETY: `value` is a `linger`, the type this option takes, and the
    // length passed is its size; the fd is open for the call (borrowed
    // from `socket`).
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw const value).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "setsockopt: {}", io::Error::last_os_error());
}

/// A linger interval longer than the hang detector: Linux's `close(2)`
/// waits it out for the peer to acknowledge everything, also on a
/// non-blocking socket.
const LONG_LINGER: Duration = Duration::from_secs(2 * LIMIT.as_secs());

/// Fills `stream`'s send buffer, drops it, and only then lets `peer` read.
/// Closed with lingering on, the drop of a stream would hold up every task
/// until the peer reads, and the peer reads only once the drop has
/// returned: the test would hang. Asserts nothing was lost: the peer got
/// every byte, then end-of-stream, not a reset.
async fn assert_lingering_drop_neither_blocks_nor_loses_data(
    stream: TcpStream,
    mut peer: std::net::TcpStream,
) {
    let written = fill_send_buffer(&stream).await;
    let (dropped, wait_for_drop) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        wait_for_drop.recv().expect("the drop was reported");
        let mut received = Vec::new();
        peer.read_to_end(&mut received).expect("read to EOF");
        received.len()
    });
    drop(stream);
    dropped.send(()).expect("the reader waits");
    let received = eddy::task::spawn_blocking(move || reader.join().expect("reader"))
        .await
        .expect("join");
    assert_eq!(received, written, "bytes the peer received");
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn into_std_keeps_the_linger_a_stream_was_given() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let stream = TcpStream::connect(std_listener.local_addr().unwrap())
            .await
            .expect("connect");
        stream
            .set_linger(Some(Duration::from_secs(5)))
            .expect("set_linger");
        // The stream's `Drop` turns lingering off; leaving through
        // `into_std`, the socket must keep what its owner set.
        let std_stream = stream.into_std().expect("into_std");
        assert_eq!(linger_seconds(&std_stream), Some(5));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn dropping_a_lingering_stream_with_unsent_data_neither_blocks_the_runtime_nor_loses_the_data() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let stream = TcpStream::connect(std_listener.local_addr().unwrap())
            .await
            .expect("connect");
        let (peer, _) = std_listener.accept().expect("accept");
        stream.set_linger(Some(LONG_LINGER)).expect("set_linger");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_stream_accepted_from_a_lingering_listener_closes_without_waiting_for_the_peer() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        // Accepted sockets inherit the listener's SO_LINGER.
        linger_behind_eddys_back(&std_listener, LONG_LINGER.as_secs() as i32);
        let listener = TcpListener::from_std(std_listener).expect("from_std");
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = listener.accept().await.expect("accept");
        assert_eq!(
            linger_seconds(&stream.into_std().expect("into_std")),
            Some(LONG_LINGER.as_secs() as i32),
            "the accepted socket inherited the listener's linger"
        );
        // `into_std` took that stream out of the runtime: accept another.
        drop(peer);
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = listener.accept().await.expect("accept");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_std_stream_that_lingers_closes_without_waiting_for_the_peer_once_converted() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let std_stream =
            std::net::TcpStream::connect(std_listener.local_addr().unwrap()).expect("connect");
        let (peer, _) = std_listener.accept().expect("accept");
        linger_behind_eddys_back(&std_stream, LONG_LINGER.as_secs() as i32);
        let stream = TcpStream::from_std(std_stream).expect("from_std");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

// ---------------------------------------------------------------------------
// Halves
// ---------------------------------------------------------------------------

#[test]
fn owned_halves_in_two_tasks_carry_a_mebibyte_through_an_echo_server() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let sent = payload(21, 1024 * 1024);
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();

        let to_send = sent.clone();
        let writing = eddy::spawn(async move {
            // Many small writes, so reads and writes interleave.
            for chunk in to_send.chunks(4096) {
                writer.write_all(chunk).await?;
            }
            writer.shutdown()
        });
        let reading = eddy::spawn(async move { read_to_eof(&mut reader).await });

        writing.await.expect("writer task").expect("write");
        let got = reading.await.expect("reader task").expect("read");
        assert_same_bytes(&got, &sent, "owned halves");
    });
}

#[test]
fn borrowed_halves_read_and_write_at_once_in_one_task() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let sent = payload(22, 1024 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let mut got = vec![0u8; sent.len()];
        {
            // Spelled out: with futures-util's `AsyncReadExt` in scope,
            // `stream.split()` would pick its by-value `split` instead.
            let (mut reader, mut writer) = TcpStream::split(&mut stream);
            // A mebibyte does not fit in the socket buffers: unless the read
            // runs while the write is blocked, this deadlocks.
            let (written, read) =
                futures_util::future::join(writer.write_all(&sent), reader.read_exact(&mut got))
                    .await;
            written.expect("write");
            read.expect("read");
        }
        assert_same_bytes(&got, &sent, "borrowed halves");
        // The stream is whole again after the borrow and still works.
        stream.write_all(b"whole").await.expect("write");
        let mut back = [0u8; 5];
        stream.read_exact(&mut back).await.expect("read");
        assert_eq!(&back, b"whole");
    });
}

#[test]
fn read_exact_fails_with_unexpected_eof_when_the_peer_closes_early() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        client.write_all(b"ten bytes!").await.expect("write");
        drop(client);
        let mut buf = [0u8; 16];
        let err = server
            .read_exact(&mut buf)
            .await
            .expect_err("the stream ended after 10 of the 16 bytes");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // What did arrive was delivered, in order, before the error.
        assert_eq!(&buf[..10], b"ten bytes!");
    });
}

#[test]
fn dropping_the_owned_write_half_ends_the_peers_stream_but_not_the_read_half() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, mut server) = tcp_pair(&listener).await;
        let (mut reader, mut writer) = client.into_split();
        writer.write_all(b"ping").await.expect("write");
        drop(writer);
        let mut received = Vec::new();
        server
            .read_to_end(&mut received)
            .await
            .expect("read to EOF");
        assert_eq!(received, b"ping", "the peer's stream ends after the bytes");
        server
            .write_all(b"pong")
            .await
            .expect("the other way is open");
        let mut reply = [0u8; 4];
        reader
            .read_exact(&mut reply)
            .await
            .expect("read half still reads");
        assert_eq!(&reply, b"pong");
    });
}

#[test]
fn dropping_a_borrowed_write_half_shuts_nothing_down() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        {
            let (_reader, mut writer) = TcpStream::split(&mut client);
            writer.write_all(b"ping").await.expect("write");
        }
        // Shut down, the write side would now fail with EPIPE.
        client.write_all(b" more").await.expect("still writable");
        client.shutdown(Shutdown::Write).expect("shutdown");
        let mut received = Vec::new();
        server
            .read_to_end(&mut received)
            .await
            .expect("read to EOF");
        assert_eq!(received, b"ping more");
    });
}

#[test]
fn reunited_halves_make_a_stream_that_is_not_half_closed() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let first = TcpStream::connect(server.addr).await.expect("connect");
        let second = TcpStream::connect(server.addr).await.expect("connect");
        let (first_read, first_write) = first.into_split();
        let (second_read, second_write) = second.into_split();

        // Halves of different streams are handed back, not merged.
        let refused: ReuniteError = first_read
            .reunite(second_write)
            .expect_err("halves of different streams");
        let (first_read, second_write) = (refused.0, refused.1);
        let mut first = first_read.reunite(first_write).expect("same stream");
        let mut second = second_write.reunite(second_read).expect("same stream");

        // Reuniting dropped the write half without shutting the socket's
        // write side down, so both streams still echo.
        for (stream, text) in [(&mut first, b"first!"), (&mut second, b"second")] {
            stream.write_all(text).await.expect("write after reunite");
            let mut back = [0u8; 6];
            stream.read_exact(&mut back).await.expect("read");
            assert_eq!(&back, text);
        }
    });
}

// ---------------------------------------------------------------------------
// futures-io interoperability
// ---------------------------------------------------------------------------

/// Echoes with `eddy::io::copy` from the stream's read half into its write
/// half, then closes through `AsyncWrite::poll_close`.
async fn copy_echo(stream: TcpStream) -> io::Result<u64> {
    let (mut reader, mut writer) = stream.into_split();
    let copied = eddy::io::copy(&mut reader, &mut writer).await?;
    writer.close().await?;
    Ok(copied)
}

#[test]
fn io_copy_and_futures_util_drive_eddy_streams_through_futures_io() {
    run_bounded(LIMIT, || async {
        let server = Server::start(copy_echo).await;
        let sent = payload(31, 300 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut reader, mut writer) = TcpStream::split(&mut stream);
        // The client side uses only futures-util's extension traits, and
        // copies the echo into a writer that is not eddy's.
        let mut received = Cursor::new(Vec::new());
        let (sending, receiving) = futures_util::future::join(
            async {
                writer.write_all(&sent).await?;
                writer.flush().await?;
                writer.close().await
            },
            eddy::io::copy(&mut reader, &mut received),
        )
        .await;
        sending.expect("send");
        assert_eq!(receiving.expect("copy"), sent.len() as u64);
        assert_same_bytes(received.get_ref(), &sent, "copy echo");

        let mut rest = Vec::new();
        let n = AsyncReadExt::read_to_end(&mut stream, &mut rest)
            .await
            .expect("read_to_end");
        assert_eq!(n, 0, "nothing after EOF");

        server.assert_one_connection_served(sent.len() as u64).await;
    });
}

#[test]
fn io_copy_flushes_a_buffering_writer_while_the_reader_waits() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, proxy_in) = tcp_pair(&listener).await;
        let (proxy_out, mut upstream) = tcp_pair(&listener).await;
        // A proxy hop through a buffering writer, as a TLS or framing layer
        // would be: 8 KiB of buffer, far more than the request.
        let hop = eddy::spawn(async move {
            let (mut reader, _keep_writing_side) = proxy_in.into_split();
            let mut writer = futures_util::io::BufWriter::with_capacity(8192, proxy_out);
            eddy::io::copy(&mut reader, &mut writer).await
        });
        // The client sends a request and then waits for the reply: the
        // stream stays open, so the copy never reaches end-of-stream.
        client.write_all(b"PING\r\n").await.unwrap();
        let mut buf = [0u8; 16];
        let n = timeout(Duration::from_secs(10), upstream.read(&mut buf))
            .await
            .expect("the request stayed in the copy's writer buffer")
            .expect("read");
        assert_eq!(&buf[..n], b"PING\r\n");
        hop.abort();
    });
}

/// At end-of-stream `copy` flushes its writer before it returns. A copy
/// whose reader is never pending (its bytes and its end come at once) has
/// no other flush: without this one, what it copied stayed in a buffering
/// writer, and `copy` said it was done.
#[test]
fn io_copy_flushes_a_buffering_writer_at_end_of_stream() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (proxy_out, mut upstream) = tcp_pair(&listener).await;
        let mut writer = futures_util::io::BufWriter::with_capacity(8192, proxy_out);
        let mut reader = Cursor::new(b"PING\r\n".to_vec());
        let copied = eddy::io::copy(&mut reader, &mut writer)
            .await
            .expect("copy");
        assert_eq!(copied, 6);
        assert!(
            writer.buffer().is_empty(),
            "copy returned with {} bytes still in the writer's buffer",
            writer.buffer().len()
        );
        let mut buf = [0u8; 6];
        upstream.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"PING\r\n");
    });
}

/// A writer that accepts nothing: every write is `Ok(0)`. After
/// `ACCEPTS_NOTHING_GIVE_UP` of them it fails with another error, so that a
/// copy that keeps retrying fails its test instead of hanging it.
struct AcceptsNothing {
    /// Writes made to it.
    writes: u32,
}

/// See [`AcceptsNothing`].
const ACCEPTS_NOTHING_GIVE_UP: u32 = 100;

impl futures_util::io::AsyncWrite for AcceptsNothing {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.writes += 1;
        if self.writes > ACCEPTS_NOTHING_GIVE_UP {
            return std::task::Poll::Ready(Err(io::Error::other(
                "the copy kept writing after a write of 0 bytes",
            )));
        }
        std::task::Poll::Ready(Ok(0))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A write of 0 bytes means the writer will take no more: `copy` fails
/// with `WriteZero` at the first one. Retried, it never ends.
#[test]
fn io_copy_into_a_writer_that_accepts_nothing_fails_with_write_zero() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, mut source) = tcp_pair(&listener).await;
        client.write_all(b"data").await.unwrap();
        let mut writer = AcceptsNothing { writes: 0 };
        let error = eddy::io::copy(&mut source, &mut writer)
            .await
            .expect_err("nothing could be written");
        assert_eq!(error.kind(), io::ErrorKind::WriteZero, "{error}");
        assert_eq!(writer.writes, 1);
    });
}

/// A writer that counts the `Pending`s its inner writer returned since it
/// last wrote: a copy that spins re-polls it without being woken.
struct CountsPendings<W> {
    /// The writer written to.
    inner: W,
    /// `Pending`s in a row; reset by every completed write.
    in_a_row: Rc<Cell<u64>>,
}

impl<W: futures_util::io::AsyncWrite + Unpin> futures_util::io::AsyncWrite for CountsPendings<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        match polled {
            std::task::Poll::Pending => self.in_a_row.set(self.in_a_row.get() + 1),
            std::task::Poll::Ready(_) => self.in_a_row.set(0),
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[test]
fn io_copy_into_a_peer_that_stops_reading_waits_instead_of_spinning() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut feeder, source) = tcp_pair(&listener).await;
        // `_sink` never reads: once its buffers and the copy's are full,
        // nothing can move until it does.
        let (destination, _sink) = tcp_pair(&listener).await;
        let in_a_row = Rc::new(Cell::new(0));
        let mut writer = CountsPendings {
            inner: destination,
            in_a_row: in_a_row.clone(),
        };
        let copy = eddy::spawn(async move {
            let (mut reader, _write_side) = source.into_split();
            eddy::io::copy(&mut reader, &mut writer).await
        });
        let feed = eddy::spawn(async move {
            let chunk = vec![3u8; 64 * 1024];
            // Ends only with an error: it writes until the copy stops
            // taking bytes, then waits.
            loop {
                if let Err(error) = feeder.write_all(&chunk).await {
                    return error;
                }
            }
        });
        wait_bounded("the copy's writer is full", || in_a_row.get() > 0).await;
        // Space the kernel frees as the last segments are acknowledged may
        // still wake the copy, and each such wake writes (and resets the
        // count). A spin would return `Pending` thousands of times here.
        sleep(ms(100)).await;
        let pendings = in_a_row.get();
        assert!(
            pendings <= 3,
            "the stalled copy's writer said Pending {pendings} times in a row"
        );
        assert!(!copy.is_finished() && !feed.is_finished(), "nothing ended");
        copy.abort();
        feed.abort();
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no sendmsg")]
fn a_vectored_write_of_more_slices_than_iov_max_writes_a_prefix_instead_of_failing() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        // 4096 one-byte slices: four times `IOV_MAX` (1024 on Linux and the
        // BSDs), few enough bytes for an empty loopback socket buffer.
        let sent = payload(41, 4096);
        let slices: Vec<io::IoSlice<'_>> = sent.chunks(1).map(io::IoSlice::new).collect();
        let n = AsyncWriteExt::write_vectored(&mut client, &slices)
            .await
            .expect("a vectored write of many slices writes what it can, like std's");
        assert!(
            n > 0 && n <= sent.len(),
            "wrote {n} of {} bytes",
            sent.len()
        );
        let mut got = vec![0u8; n];
        server.read_exact(&mut got).await.expect("read");
        assert_same_bytes(&got, &sent[..n], "the written prefix");
    });
}

#[test]
fn owned_halves_try_read_and_try_write_after_readiness_and_would_block_when_drained() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (stream, mut peer) = tcp_pair(&listener).await;
        let (reader, writer) = stream.into_split();

        writer.writable().await.expect("writable");
        assert_eq!(writer.try_write(b"ping").expect("try_write"), 4);
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).await.expect("peer reads");
        assert_eq!(&got, b"ping");

        peer.write_all(b"pong").await.expect("peer writes");
        let mut buf = [0u8; 16];
        let n = loop {
            reader.readable().await.expect("readable");
            match reader.try_read(&mut buf) {
                Ok(n) => break n,
                // Readiness can be stale; the loop waits again.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => panic!("try_read: {error}"),
            }
        };
        assert_eq!(&buf[..n], b"pong");
        let drained = reader.try_read(&mut buf).expect_err("nothing left to read");
        assert_eq!(drained.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no sendmsg")]
fn a_vectored_write_through_either_write_half_sends_every_slice_in_one_call() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        // A header and a body, as a protocol writes a frame: written one
        // slice per call, the body may wait behind Nagle for the header's
        // ACK, which the peer delays (write-write-read).
        let frame = [io::IoSlice::new(b"header:"), io::IoSlice::new(b"body")];
        let (mut stream, _peer) = tcp_pair(&listener).await;
        let whole = AsyncWriteExt::write_vectored(&mut stream, &frame)
            .await
            .expect("stream");
        let (mut borrowed, mut peer) = tcp_pair(&listener).await;
        let (_, mut borrowed_half) = TcpStream::split(&mut borrowed);
        let borrowed_wrote = AsyncWriteExt::write_vectored(&mut borrowed_half, &frame)
            .await
            .expect("borrowed half");
        let (owned, mut owned_peer) = tcp_pair(&listener).await;
        let (_read, mut owned_half) = owned.into_split();
        let owned_wrote = AsyncWriteExt::write_vectored(&mut owned_half, &frame)
            .await
            .expect("owned half");
        // An empty loopback socket takes all 11 bytes in one `sendmsg`.
        assert_eq!(whole, 11);
        assert_eq!(
            (borrowed_wrote, owned_wrote),
            (11, 11),
            "a write half wrote one slice where the stream wrote both"
        );
        for peer in [&mut peer, &mut owned_peer] {
            let mut got = [0u8; 11];
            peer.read_exact(&mut got).await.expect("read");
            assert_eq!(&got, b"header:body");
        }
    });
}

// ---------------------------------------------------------------------------
// Runtime shutdown and registrations
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_RCVTIMEO")]
fn sockets_that_escaped_a_dropped_runtime_fail_with_the_shutdown_error() {
    with_deadline(LIMIT, || {
        // The peer is std, so it lives on whichever runtime comes and goes.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = std_listener.local_addr().unwrap();

        let first = eddy::Runtime::new().expect("runtime");
        let (stream, orphan, listener) = first.block_on(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let orphan = TcpStream::connect(addr).await.expect("connect");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            (stream, orphan, listener)
        });
        // Kept open and silent: without the shutdown error, a read on
        // `stream` would wait forever.
        let (_peer, _) = std_listener.accept().expect("accept");
        let (mut orphan_peer, _) = std_listener.accept().expect("accept");
        drop(first);

        // Dropping an escaped socket outside any runtime neither panics
        // nor leaves it open: its peer reads end-of-stream.
        drop(orphan);
        orphan_peer.set_read_timeout(Some(LIMIT)).unwrap();
        let n = orphan_peer.read(&mut [0u8; 1]).expect("read");
        assert_eq!(n, 0, "the dropped socket's peer sees EOF");

        let second = eddy::Runtime::new().expect("runtime");
        second.block_on(async move {
            let mut stream = stream;
            let mut buf = [0u8; 16];
            let error = stream.read(&mut buf).await.expect_err("read");
            assert!(eddy::is_shutdown_error(&error), "read: {error}");
            let error = stream.readable().await.expect_err("readable");
            assert!(eddy::is_shutdown_error(&error), "readable: {error}");
            let error = stream.write_all(b"hello").await.expect_err("write");
            assert!(eddy::is_shutdown_error(&error), "write: {error}");
            let error = listener.accept().await.expect_err("accept");
            assert!(eddy::is_shutdown_error(&error), "accept: {error}");
            // Dropping them here, under a runtime they never knew, is fine.
        });
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_TYPE")]
fn from_std_makes_blocking_sockets_wait_without_blocking_the_runtime() {
    run_bounded(LIMIT, || async {
        // std's sockets are blocking. Left so, the reader's second `recv`
        // (a full first read keeps the socket marked readable) and the
        // acceptor's second `accept` would block the runtime's thread, and
        // this future, which sends what they wait for, would never run.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = std_listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(addr).expect("connect");
        let (mut peer, _) = std_listener.accept().expect("accept");
        let mut stream = TcpStream::from_std(client).expect("from_std");
        let listener = TcpListener::from_std(std_listener).expect("from_std");
        let progress = Rc::new(Cell::new(0));
        let reader = eddy::spawn({
            let progress = progress.clone();
            async move {
                let mut first = [0u8; 5];
                stream.read_exact(&mut first).await.expect("first read");
                progress.set(progress.get() + 1);
                let mut second = [0u8; 5];
                stream.read_exact(&mut second).await.expect("second read");
                [first, second]
            }
        });
        let acceptor = eddy::spawn({
            let progress = progress.clone();
            async move {
                let (_first, _) = listener.accept().await.expect("first accept");
                progress.set(progress.get() + 1);
                listener.accept().await.expect("second accept").1
            }
        });
        peer.write_all(b"hello").expect("peer write");
        let _first_client = std::net::TcpStream::connect(addr).expect("connect");
        while progress.get() < 2 {
            eddy::task::yield_now().await;
        }
        // Both tasks now wait on sockets with nothing to take.
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        peer.write_all(b"world").expect("peer write");
        let second_client = std::net::TcpStream::connect(addr).expect("connect");
        assert_eq!(reader.await.expect("reader"), [*b"hello", *b"world"]);
        let accepted = acceptor.await.expect("acceptor");
        assert_eq!(accepted, second_client.local_addr().unwrap());
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_TYPE")]
fn into_std_after_the_runtime_is_gone_hands_back_working_sockets() {
    with_deadline(LIMIT, || {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = std_listener.local_addr().unwrap();
        let first = eddy::Runtime::new().expect("runtime");
        let (stream, listener) = first.block_on(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            (stream, listener)
        });
        let (mut peer, _) = std_listener.accept().expect("accept");
        drop(first);

        // The way out of a dead runtime: each socket comes back open and
        // usable, for std or for another runtime.
        let stream = stream.into_std().expect("stream into_std");
        let listener = listener.into_std().expect("listener into_std");
        peer.write_all(b"still here").expect("peer write");
        let second = eddy::Runtime::new().expect("runtime");
        second.block_on(async move {
            let mut stream = TcpStream::from_std(stream).expect("from_std");
            let mut buf = [0u8; 10];
            stream.read_exact(&mut buf).await.expect("read");
            assert_eq!(&buf, b"still here");
            let listener = TcpListener::from_std(listener).expect("from_std");
            let (_client, _server) = tcp_pair(&listener).await;
        });
    });
}

#[test]
fn registrations_return_to_their_baseline_after_1000_connections() {
    run_bounded(LIMIT, || async {
        let live = || eddy::Handle::current().metrics().registrations_live;
        let server = Server::start(tcp_echo).await;
        let baseline = live();
        for i in 0..1000u64 {
            let mut stream = TcpStream::connect(server.addr).await.expect("connect");
            let sent = payload(i, 32);
            stream.write_all(&sent).await.expect("write");
            let mut back = [0u8; 32];
            stream.read_exact(&mut back).await.expect("read");
            assert_eq!(back[..], sent[..], "connection {i}");
        }
        wait_bounded("every server connection ended", || {
            server.finished() == 1000
        })
        .await;
        let settled = timeout(LIMIT / 2, wait_until(|| live() == baseline)).await;
        assert!(
            settled.is_ok(),
            "registrations_live stayed at {} (baseline {baseline})",
            live()
        );
    });
}

// ---------------------------------------------------------------------------
// accept with a full descriptor table
// ---------------------------------------------------------------------------

/// The child's descriptor limit: a few for stdio and the runtime, the rest
/// filled by accepted connections long before the parent's 100 are in.
const CHILD_NOFILE: libc::rlim_t = 64;
/// Connections the parent opens to fill the child's table.
const FILLERS: usize = 100;
/// Connections the parent opens after freeing the table.
const LATECOMERS: usize = 5;

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn accept_under_a_full_descriptor_table_keeps_the_listener_alive() {
    const TEST: &str = "accept_under_a_full_descriptor_table_keeps_the_listener_alive";
    if child_role().as_deref() == Some("full_table") {
        return accept_with_a_tiny_descriptor_table();
    }
    let mut child = spawn_child(TEST, "full_table");
    let addr: SocketAddr = child
        .expect_line("listening on ")
        .parse()
        .expect("an address");

    // The kernel completes these handshakes whether or not the child can
    // accept them: the excess waits in the listen backlog.
    let fillers: Vec<std::net::TcpStream> = (0..FILLERS)
        .map(|_| std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect"))
        .collect();
    child.expect_line("table full and the accept loop idles: ");

    drop(fillers);
    for i in 0..LATECOMERS {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let sent = payload(100 + i as u64, 1000);
        stream.write_all(&sent).expect("write");
        let mut back = vec![0u8; sent.len()];
        stream
            .read_exact(&mut back)
            .expect("the child serves new connections");
        assert_same_bytes(&back, &sent, "latecomer");
    }
    child.say("done");
    assert_child_succeeded(child.wait());
}

/// What the child's accept loop has seen.
#[derive(Default)]
struct AcceptStats {
    /// Connections accepted.
    accepted: Cell<usize>,
    /// `accept` calls that failed with `EMFILE`.
    emfile: Cell<u64>,
    /// Any other accept error (none is expected).
    other_errors: RefCell<Vec<String>>,
}

/// The child's side: accept with at most [`CHILD_NOFILE`] descriptors.
fn accept_with_a_tiny_descriptor_table() {
    set_descriptor_soft_limit(CHILD_NOFILE);
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("listening on {}", listener.local_addr().unwrap());
        let stats = Rc::new(AcceptStats::default());
        let seen = stats.clone();
        let accepting = eddy::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        seen.accepted.set(seen.accepted.get() + 1);
                        eddy::spawn(tcp_echo(stream));
                    }
                    Err(error) if error.raw_os_error() == Some(libc::EMFILE) => {
                        seen.emfile.set(seen.emfile.get() + 1);
                    }
                    Err(error) => seen.other_errors.borrow_mut().push(error.to_string()),
                }
            }
        });

        wait_bounded("accept hit EMFILE", || stats.emfile.get() > 0).await;
        let (cpu_before, wall_before, emfile_before) =
            (process_cpu_time(), Instant::now(), stats.emfile.get());
        sleep(Duration::from_secs(1)).await;
        let cpu = process_cpu_time() - cpu_before;
        let wall = wall_before.elapsed();
        let emfile = stats.emfile.get() - emfile_before;
        assert!(
            cpu < wall / 2,
            "the accept loop spins: {cpu:?} of CPU in {wall:?} with the table full"
        );
        assert!(emfile > 0, "the accept loop stopped retrying");
        assert!(!accepting.is_finished(), "the accept loop ended");
        println!(
            "table full and the accept loop idles: {} accepted, {emfile} EMFILE in {wall:?}, {cpu:?} of CPU",
            stats.accepted.get()
        );

        // The parent closes its connections (freeing the table as the echo
        // tasks see EOF), has new ones served, then says "done".
        let line = eddy::task::spawn_blocking(|| {
            let mut line = String::new();
            io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .expect("stdin task")
        .expect("read stdin");
        assert_eq!(line.trim(), "done");
        assert!(
            stats.accepted.get() >= FILLERS + LATECOMERS,
            "accepted only {} connections",
            stats.accepted.get()
        );
        assert!(!accepting.is_finished(), "the accept loop ended");
        assert_eq!(*stats.other_errors.borrow(), Vec::<String>::new());
    });
}

/// Connections the parent opens for the off-runtime accept test.
const OFF_RUNTIME_CLIENTS: usize = 3;

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn accept_off_the_runtime_thread_returns_exhaustion_errors_instead_of_panicking() {
    const TEST: &str =
        "accept_off_the_runtime_thread_returns_exhaustion_errors_instead_of_panicking";
    if child_role().as_deref() == Some("off_runtime_accept") {
        return accept_off_the_runtime_with_a_full_table();
    }
    let mut child = spawn_child(TEST, "off_runtime_accept");
    let addr: SocketAddr = child
        .expect_line("listening on ")
        .parse()
        .expect("an address");
    // Completed by the kernel, waiting in the backlog for the child.
    let _clients: Vec<std::net::TcpStream> = (0..OFF_RUNTIME_CLIENTS)
        .map(|_| std::net::TcpStream::connect_timeout(&addr, LIMIT).expect("connect"))
        .collect();
    child.say("connected");
    child.expect_line("accept off the runtime survived a full table");
    assert_child_succeeded(child.wait());
}

/// The child's side: the listener's runtime turns on a thread of its own
/// while this thread drives `accept` with no runtime, fills its descriptor
/// table, and accepts again. The second `accept` after `EMFILE` used to
/// sleep out the backoff pause on an eddy timer, which panics off a
/// runtime thread.
fn accept_off_the_runtime_with_a_full_table() {
    set_descriptor_soft_limit(CHILD_NOFILE);
    let (send_listener, listener) = mpsc::channel();
    let stop = eddy_tests::Signal::new();
    let stop_runtime = stop.clone();
    let runtime = std::thread::spawn(move || {
        run_bounded(LIMIT, move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            send_listener.send(listener).expect("send the listener");
            // Keeps the driver turning until the test is done.
            stop_runtime.wait().await;
        })
    });
    let listener = listener.recv().expect("the listener");
    println!("listening on {}", listener.local_addr().unwrap());
    let mut line = String::new();
    io::stdin().read_line(&mut line).expect("read stdin");
    assert_eq!(line.trim(), "connected");

    let (first, _) = block_on_parked(listener.accept()).expect("accept before the table fills");
    let mut hogs = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hogs.push(file);
    }
    for attempt in ["first", "second"] {
        let error = block_on_parked(listener.accept()).expect_err("the table is full");
        assert_eq!(
            error.raw_os_error(),
            Some(libc::EMFILE),
            "{attempt} accept with a full table: {error}"
        );
    }
    drop(hogs);
    let (second, _) = block_on_parked(listener.accept()).expect("accept after the table drained");
    println!("accept off the runtime survived a full table");
    drop((first, second, listener));
    stop.set();
    runtime.join().expect("the runtime thread");
}

/// Plain threads that accept, echo and drop streams for the runtime-owned
/// listener in the test below.
const OFF_RUNTIME_ACCEPTORS: usize = 4;
/// Connections each of those threads accepts.
const ACCEPTS_PER_THREAD: usize = 50;

#[test]
fn streams_accepted_echoed_and_dropped_on_other_threads_are_all_served_and_released() {
    // Every stream here is registered, parked on, woken and deregistered on
    // a plain thread while the driver turns on the runtime's thread: the
    // driver reads `ScheduledIo`s that other threads allocated and releases
    // ones that other threads queued. Under ThreadSanitizer
    // (`SANITIZER=thread scripts/sanitize`) this is where an allocation
    // unordered with its first event delivery shows (RELIABILITY,
    // finding 18); in every run it proves that none of those streams is
    // left unserved or unreleased.
    with_deadline(LIMIT, || {
        let (send_listener, listener) = mpsc::channel();
        let stop = eddy_tests::Signal::new();
        let stop_runtime = stop.clone();
        let runtime = std::thread::spawn(move || {
            eddy::run(async move {
                let baseline = Handle::current().metrics();
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                send_listener
                    .send(Arc::new(listener))
                    .expect("send the listener");
                stop_runtime.wait().await;
                // Streams dropped since the last turn are released by the
                // next ones. Waited for, not given a fixed three 1 ms
                // sleeps: under Miri each sleep was over before its first
                // poll, so no turn ran and two releases were still pending.
                wait_bounded("every dropped stream is released", || {
                    Handle::current().metrics().registrations_pending_release == 0
                })
                .await;
                let after = Handle::current().metrics();
                assert_eq!(
                    after.registrations_live, baseline.registrations_live,
                    "registrations before {baseline:?}, after {after:?}"
                );
            })
        });
        let listener = listener.recv().expect("the listener");
        let addr = listener.local_addr().unwrap();
        let acceptors: Vec<_> = (0..OFF_RUNTIME_ACCEPTORS)
            .map(|_| {
                let listener = listener.clone();
                std::thread::spawn(move || {
                    for _ in 0..ACCEPTS_PER_THREAD {
                        let (mut stream, _) = block_on_parked(listener.accept()).expect("accept");
                        block_on_parked(async {
                            let mut id = [0u8; 8];
                            stream.read_exact(&mut id).await?;
                            stream.write_all(&id).await
                        })
                        .expect("echo the id");
                    }
                })
            })
            .collect();
        // Each connection gets whichever acceptor takes it, so each carries
        // its own id and must get exactly that id back.
        for id in 0..(OFF_RUNTIME_ACCEPTORS * ACCEPTS_PER_THREAD) as u64 {
            let mut client = std::net::TcpStream::connect(addr).expect("connect");
            client.write_all(&id.to_le_bytes()).expect("send the id");
            let mut echoed = [0u8; 8];
            client.read_exact(&mut echoed).expect("read the echo");
            assert_eq!(u64::from_le_bytes(echoed), id);
        }
        for acceptor in acceptors {
            acceptor.join().expect("an acceptor thread");
        }
        drop(listener);
        stop.set();
        runtime.join().expect("the runtime thread");
    });
}

#[test]
fn tasks_sharing_a_listener_are_each_woken_for_a_connection() {
    run_bounded(LIMIT, || async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        // Two tasks wait in `accept` on the same listener before any client
        // connects: each must get a connection, none may sleep through it.
        let acceptors: Vec<_> = (0..2)
            .map(|_| {
                let listener = listener.clone();
                eddy::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        let _a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        for acceptor in acceptors {
            let accepted = timeout(Duration::from_secs(10), acceptor).await;
            accepted
                .expect("an acceptor slept through its connection")
                .unwrap()
                .unwrap();
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_listener_built_from_a_datagram_socket_is_refused_instead_of_spinning() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let not_a_listener = std::net::TcpListener::from(OwnedFd::from(udp));
        let err = TcpListener::from_std(not_a_listener).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn every_tcp_and_udp_socket_lends_its_own_descriptor() {
    use std::os::fd::{AsFd, AsRawFd};
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, _server) = tcp_pair(&listener).await;
        let udp = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(socket_type(&listener), libc::SOCK_STREAM);
        assert_eq!(socket_type(&client), libc::SOCK_STREAM);
        assert_eq!(socket_type(&udp), libc::SOCK_DGRAM);
        assert_eq!(client.as_fd().as_raw_fd(), client.as_raw_fd());

        // An option set through the lent descriptor is the stream's own.
        for on in [true, false] {
            let value = libc::c_int::from(on);
            // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from
            // `value`, which lives across the call.
            let rc = unsafe {
                libc::setsockopt(
                    client.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (&raw const value).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0, "setsockopt: {}", io::Error::last_os_error());
            assert_eq!(client.nodelay().unwrap(), on);
        }
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: no MSG_OOB")]
fn bytes_sent_after_an_urgent_byte_are_read_without_more_data() {
    use std::os::fd::AsRawFd;
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (sent, all_sent) = mpsc::channel();
        let (done, peer_may_close) = mpsc::channel::<()>();
        let peer = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).unwrap();
            stream.write_all(b"hello").unwrap();
            // SAFETY: send(2) reads one byte from a live static slice.
            let rc =
                unsafe { libc::send(stream.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) };
            assert_eq!(rc, 1, "send(MSG_OOB): {}", io::Error::last_os_error());
            stream.write_all(b"world").unwrap();
            sent.send(()).unwrap();
            // Open and silent until the reader is done: its EOF would be a
            // new event and hide a stalled read.
            let _ = peer_may_close.recv_timeout(LIMIT);
        });
        eddy::task::spawn_blocking(move || all_sent.recv())
            .await
            .expect("waiting task")
            .expect("the peer sent everything");
        // Accepted after everything was queued: the kernel ends the first
        // read at the urgent mark, and nothing new arrives after it.
        let (mut stream, _) = listener.accept().await.expect("accept");
        // The urgent byte itself is out of band: not in the stream. The
        // timeout is a hang detector: the peer stays open and silent.
        let mut got = [0u8; 10];
        timeout(Duration::from_secs(10), stream.read_exact(&mut got))
            .await
            .expect("the bytes after the urgent mark were never read")
            .expect("read");
        assert_eq!(&got, b"helloworld");
        done.send(()).unwrap();
        peer.join().unwrap();
    });
}

/// Like std's, a read into an empty buffer reads nothing, at once. Without
/// the check for it, the read first waited for the stream to turn
/// readable: with a silent peer, forever.
#[test]
fn a_read_into_an_empty_buffer_returns_zero_without_waiting_for_data() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_client, mut server) = tcp_pair(&listener).await;
        // Nothing has been sent, so the stream is not readable: the first
        // poll must already answer.
        let first = poll_once(std::pin::pin!(server.read(&mut []))).await;
        assert!(
            matches!(first, std::task::Poll::Ready(Ok(0))),
            "a read into an empty buffer gave {first:?}"
        );
    });
}

#[test]
fn peek_leaves_the_bytes_for_the_next_read() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, mut server) = tcp_pair(&listener).await;
        // Nothing has been sent: an empty buffer still gets its answer now.
        let n = timeout(LIMIT, server.peek(&mut []))
            .await
            .expect("peek into an empty buffer waited for data")
            .expect("peek");
        assert_eq!(n, 0);

        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..2 {
            let n = server.peek(&mut buf).await.expect("peek");
            assert_eq!(&buf[..n], b"ping", "a peek takes nothing away");
        }
        let n = server.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"ping");

        drop(client);
        assert_eq!(server.peek(&mut buf).await.expect("peek at EOF"), 0);
    });
}

#[test]
fn close_after_the_peer_reset_succeeds_while_shutdown_reports_not_connected() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, server) = tcp_pair(&listener).await;
        // A zero linger makes the close send a reset.
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        // Waiting for the reset to arrive: the read reports it.
        let mut buf = [0u8; 8];
        let error = client.read(&mut buf).await.expect_err("read after a reset");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        let error = client
            .shutdown(Shutdown::Write)
            .expect_err("shutdown of a reset connection");
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
        client
            .close()
            .await
            .expect("close of a reset connection is not an error");
    });
}

#[test]
fn lookup_host_resolves_a_name_on_the_blocking_pool_and_the_addresses_connect() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(eddy::Handle::current().metrics().blocking_threads, 0);
        let addrs: Vec<SocketAddr> = eddy::net::lookup_host(format!("localhost:{port}"))
            .await
            .expect("localhost did not resolve")
            .collect();
        assert!(
            eddy::Handle::current().metrics().blocking_threads >= 1,
            "the lookup ran on the runtime's thread, not the blocking pool"
        );
        let loopback = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(addrs.contains(&loopback), "localhost gave {addrs:?}");
        let (stream, accepted) =
            futures_util::future::join(TcpStream::connect(loopback), listener.accept()).await;
        assert_eq!(
            stream.unwrap().local_addr().unwrap(),
            accepted.unwrap().1,
            "the connection and the accepted peer disagree"
        );
    });
}

#[test]
fn lookup_host_of_a_name_without_a_port_is_an_error() {
    run_bounded(LIMIT, || async {
        let error = eddy::net::lookup_host("localhost")
            .await
            .expect_err("a host with no port resolved");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn lookup_host_outside_a_runtime_is_an_error_not_a_panic() {
    let error = block_on_parked(eddy::net::lookup_host("localhost:80"))
        .expect_err("a lookup with no runtime to run it");
    assert!(
        error.to_string().contains("runtime"),
        "unhelpful error: {error}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_stream_from_poll_accept_on_a_lingering_listener_closes_without_waiting_for_the_peer() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        // Accepted sockets inherit the listener's SO_LINGER, whichever of
        // `accept` and `poll_accept` takes them.
        linger_behind_eddys_back(&std_listener, LONG_LINGER.as_secs() as i32);
        let listener = TcpListener::from_std(std_listener).expect("from_std");
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = std::future::poll_fn(|cx| listener.poll_accept(cx))
            .await
            .expect("poll_accept");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_REUSEPORT")]
fn connect_goes_on_to_the_next_address_when_one_refuses() {
    run_bounded(LIMIT, || async {
        // Bound with nobody listening: refused, and not reusable meanwhile.
        let bound = std::net::TcpListener::from(reuse_port_socket(0));
        let closed = bound.local_addr().expect("local_addr");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("local_addr");
        let stream = TcpStream::connect(&[closed, open][..])
            .await
            .expect("the second address listens");
        assert_eq!(stream.peer_addr().expect("peer_addr"), open);
    });
}

#[test]
fn set_nodelay_turns_nagle_off_and_back_on() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, _server) = tcp_pair(&listener).await;
        for on in [true, false, true] {
            client.set_nodelay(on).expect("set_nodelay");
            assert_eq!(client.nodelay().expect("nodelay"), on);
        }
    });
}
