//! TCP end to end over real sockets on 127.0.0.1 (ephemeral ports only).
//!
//! What is proved here, one test each:
//!
//! * an echo server with a task per connection returns the exact bytes to
//!   500 concurrent clients sending payloads of 1 B to 64 KiB, also when
//!   all 500 connect in one burst before the first `accept` (the listen
//!   backlog must hold them, or the kernel resets the excess);
//! * beside a client that floods it and 100 idle ones, the same server
//!   still serves an interactive client's 100 round trips while the flood
//!   goes on, an interval keeps ticking and a task spawned from another
//!   thread runs;
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
//!   empty buffer and 0 at end of stream; a write of nothing (also a
//!   vectored one of empty slices) returns 0 at once, also into a full
//!   stream, as std's does; loops of those, and of `read_exact` and
//!   `write_all` of nothing, still yield to other tasks;
//! * `poll_read_ready` with `try_read` drives a hand-written read loop to
//!   every byte and end-of-stream; `poll_write_ready` waits while the peer
//!   leaves the stream full, and spends the task's budget when ready;
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
//!   a listener it is given must be a listening stream socket, or it is
//!   refused (`accept` would spin on a datagram socket and wait forever on
//!   a connected stream), and a stream it is given must not be listening
//!   (reads and writes would wait for a client); `TryFrom` converts std's
//!   stream and listener as `from_std` does;
//! * `accept` under a full descriptor table keeps the listener alive
//!   without spinning (in a child with a tiny `RLIMIT_NOFILE`), and an
//!   `accept` driven on a plain thread, off the runtime, gets `EMFILE`
//!   again instead of panicking on the backoff's timer;
//! * every TCP and UDP socket type lends its own descriptor (`AsFd`,
//!   `AsRawFd`), and an option set through it is the socket's own;
//! * 1,000 connections leave no registration behind;
//! * cancellation (`cancel.rs`): reads, `peek`, writes, `accept`,
//!   `readable` and `writable` dropped at random points lose no byte, write
//!   nothing they did not report, lose no connection (also with four
//!   tasks sharing the listener), leave no registration and strand no
//!   wake; `io::copy` dropped midway loses what it had read, as its docs
//!   say; connects dropped at random points leave the process's
//!   descriptors and the runtime's registrations at their baseline.
//!
//! Every test is bounded: the body runs under [`with_deadline`], children
//! are killed by a guard, waits are `timeout`s. None asserts how fast
//! anything is; the only resource assertion (CPU time while the descriptor
//! table is full) compares CPU time against wall time, which holds however
//! slow the machine is.

#![cfg(unix)]

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eddy::net::tcp::OwnedReadHalf;
use eddy::net::{TcpListener, TcpStream};
use eddy::task::JoinError;
use eddy::time::timeout;
use eddy_tests::child_process::child_command;
use eddy_tests::{descriptor_limit, set_descriptor_soft_limit, wait_until};

mod accept;
mod cancel;
mod closing;
mod connect;
mod echo_under_load;
mod futures_io;
mod halves;
mod linger;
mod reads_and_options;
mod runtime_shutdown;

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

/// Re-executes this test binary running only the calling test (which must
/// check [`child_role`] first thing, and call this on its own thread) with
/// the environment selecting `role`.
fn spawn_child(role: &str) -> ChildGuard {
    let mut child = child_command(role)
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
