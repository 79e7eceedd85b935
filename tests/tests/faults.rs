//! Misbehaving peers and resource pressure, over real sockets on 127.0.0.1.
//!
//! What each test proves:
//!
//! * bursts of peers that reset mid-stream (`SO_LINGER 0`) end only their
//!   own connections, with `ConnectionReset`/`BrokenPipe`, while the server
//!   keeps echoing to everyone else;
//! * a peer that vanishes while the server writes a large response turns
//!   into an error for that write, never a signal (a plain write is covered
//!   by `tcp/closing.rs`; here a *vectored* write runs in a child process whose
//!   `SIGPIPE` is back at its default, deadly action);
//! * half-closed peers get every pipelined byte they sent before their FIN
//!   echoed back, byte-exact, and then see the server close;
//! * a reader that stops reading parks the writer on writability: the
//!   process's memory stays bounded while 64 MiB wait to be sent, and every
//!   byte arrives in order once the reader resumes;
//! * 10,000 connect/echo/close cycles leave the open descriptor count and
//!   the runtime's live registrations exactly where they started.
//!
//! Every test is bounded by `with_deadline` and asserts no durations. The
//! tests take one lock (`serial`) so that process-wide measurements (open
//! descriptors, resident memory) are not disturbed by a sibling test.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use eddy::Handle;
use eddy::io::AsyncWrite;
use eddy::net::{TcpListener, TcpStream};
use eddy::task::JoinHandle;
use eddy_tests::child_process::{
    assert_child_survived_sigpipe, child_role, restore_default_sigpipe, run_child,
};
use eddy_tests::{XorShift, open_descriptors, run_bounded, tcp_echo, tcp_pair, wait_until};

/// Hang detector, not a performance bound: the machine is shared.
const LIMIT: Duration = Duration::from_secs(180);

/// One test at a time in this file: descriptor counts and resident memory
/// are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    // A test that failed while holding the lock poisons it; the next test
    // is still meaningful.
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The byte at `offset` of stream number `seed`: cheap to recompute on
/// both ends, and with period 251 a dropped, duplicated or reordered chunk
/// of any power-of-two size shows up as a mismatch.
fn pattern(seed: u64, offset: u64) -> u8 {
    ((offset + seed.wrapping_mul(31)) % 251) as u8
}

fn fill(buf: &mut [u8], seed: u64, start: u64) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = pattern(seed, start + i as u64);
    }
}

/// Panics naming the first byte that differs from the pattern.
fn check(buf: &[u8], seed: u64, start: u64, who: &str) {
    if let Some(i) = (0..buf.len()).find(|&i| buf[i] != pattern(seed, start + i as u64)) {
        panic!(
            "{who}: byte {} is {:#04x}, expected {:#04x}",
            start + i as u64,
            buf[i],
            pattern(seed, start + i as u64)
        );
    }
}

/// This process's resident *anonymous* memory in bytes: `/proc/self/statm`'s
/// resident pages minus its shared (file-backed) ones. Heap buffering shows
/// up here; pages of the executable faulted in by, say, a sibling test
/// symbolising a backtrace do not.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn resident_anonymous_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let fields: Vec<u64> = statm
        .split_whitespace()
        .map(|field| field.parse().expect("statm holds page counts"))
        .collect();
    let (resident, shared) = (fields[1], fields[2]);
    // SAFETY: sysconf has no preconditions; it only reads a constant.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    resident.saturating_sub(shared) * u64::try_from(page_size).expect("a positive page size")
}

/// What the echo server saw, per connection.
#[derive(Debug, Default)]
struct ServerLog {
    /// Connections accepted.
    accepted: Cell<usize>,
    /// Connection tasks still running.
    live: Cell<usize>,
    /// Connections that ended with the peer's FIN.
    clean: Cell<usize>,
    /// How the others ended.
    errors: RefCell<Vec<io::ErrorKind>>,
    /// Errors from `accept` itself (none are expected in these tests).
    accept_errors: RefCell<Vec<io::Error>>,
}

/// Binds an ephemeral port on 127.0.0.1 and spawns a task that accepts
/// forever, serving each connection with [`tcp_echo`] in its own task and
/// recording how each one ended. Returns the address, the log and the
/// accept loop's task (which the test aborts at the end).
async fn start_echo_server() -> (SocketAddr, Rc<ServerLog>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let log = Rc::new(ServerLog::default());
    let record = log.clone();
    let server = eddy::spawn(async move {
        let log = record;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    log.accepted.set(log.accepted.get() + 1);
                    log.live.set(log.live.get() + 1);
                    let log = log.clone();
                    eddy::spawn(async move {
                        let outcome = tcp_echo(stream).await;
                        log.live.set(log.live.get() - 1);
                        match outcome {
                            Ok(_) => log.clean.set(log.clean.get() + 1),
                            Err(error) => log.errors.borrow_mut().push(error.kind()),
                        }
                    });
                }
                Err(error) => log.accept_errors.borrow_mut().push(error),
            }
        }
    });
    (addr, log, server)
}

/// Connects to the echo server at `addr`, sends `len` pattern bytes as a
/// pipeline of messages whose sizes `next_size` picks (each cut to what is
/// left), then half-closes; meanwhile reads everything back to end-of-stream
/// `read_size` bytes at a time, checking each byte against the pattern
/// (`who` names the client in a mismatch). The two directions run
/// concurrently, so neither side's buffers fill up and stall the other.
/// Returns how many bytes came back.
async fn send_half_close_and_read_back(
    addr: SocketAddr,
    seed: u64,
    len: u64,
    mut next_size: impl FnMut() -> u64 + 'static,
    read_size: usize,
    who: &str,
) -> io::Result<u64> {
    let stream = TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let sending = eddy::spawn(async move {
        let mut message = Vec::new();
        let mut sent = 0;
        while sent < len {
            let size = next_size().min(len - sent) as usize;
            message.resize(size, 0);
            fill(&mut message, seed, sent);
            writer.write_all(&message).await?;
            sent += size as u64;
        }
        // The FIN: everything above must come back before the server's.
        writer.shutdown()?;
        // Keep the half alive until the reader is done: dropping it is a
        // second shutdown, harmless but not what these tests are about.
        Ok::<_, io::Error>(writer)
    });
    let mut buf = vec![0u8; read_size];
    let mut received = 0;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        check(&buf[..n], seed, received, who);
        received += n as u64;
    }
    drop(sending.await.map_err(io::Error::from)??);
    Ok(received)
}

/// Sends `len` pattern bytes through the echo server at `addr` in 32 KiB
/// chunks while reading them back, then half-closes and reads to
/// end-of-stream. Returns how many bytes came back (all checked against the
/// pattern).
async fn echo_through(addr: SocketAddr, seed: u64, len: u64) -> io::Result<u64> {
    const CHUNK: u64 = 32 * 1024;
    send_half_close_and_read_back(addr, seed, len, || CHUNK, 32 * 1024, "echo_through").await
}

// ---------------------------------------------------------------------------
// Peers that reset
// ---------------------------------------------------------------------------

/// Connects, sends 32 KiB, reads a little of the echo (so the server is
/// mid-stream), then closes with `SO_LINGER 0`: the kernel sends a reset
/// instead of a FIN.
async fn reset_mid_stream(addr: SocketAddr, seed: u64) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut chunk = vec![0u8; 32 * 1024];
    fill(&mut chunk, seed, 0);
    stream.write_all(&chunk).await?;
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await?;
    check(&first, seed, 0, "resetting peer");
    stream.set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

/// Echoes 4 KiB round trips until `stop` is set (and at least once).
async fn steady_client(addr: SocketAddr, seed: u64, stop: Rc<Cell<bool>>) -> io::Result<u64> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut out = vec![0u8; 4096];
    let mut back = vec![0u8; 4096];
    let mut offset = 0;
    loop {
        fill(&mut out, seed, offset);
        stream.write_all(&out).await?;
        stream.read_exact(&mut back).await?;
        check(&back, seed, offset, "steady client");
        offset += out.len() as u64;
        if stop.get() {
            return Ok(offset);
        }
    }
}

#[test]
fn bursts_of_peers_resetting_mid_stream_end_only_their_own_connections() {
    let _serial = serial();
    run_bounded(LIMIT, || async {
        let (addr, log, server) = start_echo_server().await;

        let stop = Rc::new(Cell::new(false));
        let steady: Vec<_> = (0..4)
            .map(|seed| eddy::spawn(steady_client(addr, seed, stop.clone())))
            .collect();
        // 200 resets, in four bursts of 50 simultaneous peers.
        for burst in 0..4u64 {
            let peers: Vec<_> = (0..50u64)
                .map(|i| eddy::spawn(reset_mid_stream(addr, 100 + burst * 50 + i)))
                .collect();
            for peer in peers {
                peer.await.expect("peer task").expect("resetting peer");
            }
        }
        stop.set(true);
        for client in steady {
            let echoed = client.await.expect("steady task").expect("steady client");
            assert!(echoed > 0);
        }

        // A last client after the storm gets a mebibyte back intact.
        let got = echo_through(addr, 999, 1 << 20)
            .await
            .expect("the server still serves");
        assert_eq!(got, 1 << 20);

        wait_until(|| log.live.get() == 0).await;
        let errors = log.errors.borrow();
        assert_eq!(
            errors.len(),
            200,
            "every reset connection ends in an error: {errors:?}"
        );
        assert!(
            errors.iter().all(|kind| matches!(
                kind,
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            )),
            "a reset surfaces as ConnectionReset or BrokenPipe: {errors:?}"
        );
        assert_eq!(log.clean.get(), 5, "4 steady clients and the last one");
        assert!(log.accept_errors.borrow().is_empty());
        server.abort();
    });
}

// ---------------------------------------------------------------------------
// Peers that vanish while the server writes
// ---------------------------------------------------------------------------

/// How a client disappears in the vanishing-peer test.
#[derive(Clone, Copy, Debug)]
enum Vanish {
    /// Reads part of the response, then closes with unread data (the
    /// kernel answers further data with a reset).
    CloseAfterReading,
    /// Reads part of the response, then resets (`SO_LINGER 0`).
    ResetAfterReading,
    /// Closes right after sending the request.
    CloseAtOnce,
}

/// The server's side: read a one-byte request, answer with `len` bytes.
async fn serve_large_response(stream: &mut TcpStream, seed: u64, len: u64) -> io::Result<()> {
    let mut request = [0u8; 1];
    stream.read_exact(&mut request).await?;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min((len - sent) as usize);
        fill(&mut chunk[..n], seed, sent);
        stream.write_all(&chunk[..n]).await?;
        sent += n as u64;
    }
    Ok(())
}

#[test]
fn peers_vanishing_while_the_server_writes_a_large_response_become_write_errors() {
    let _serial = serial();
    run_bounded(LIMIT, || async {
        const RESPONSE: u64 = 64 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let ways = [
            Vanish::CloseAfterReading,
            Vanish::ResetAfterReading,
            Vanish::CloseAtOnce,
        ];
        for (seed, way) in (0u64..).zip(ways) {
            let (mut client, mut served) = tcp_pair(&listener).await;
            let server =
                eddy::spawn(async move { serve_large_response(&mut served, seed, RESPONSE).await });
            client.write_all(b"?").await.expect("request");
            if !matches!(way, Vanish::CloseAtOnce) {
                let mut buf = vec![0u8; 256 * 1024];
                client.read_exact(&mut buf).await.expect("first part");
                check(&buf, seed, 0, "vanishing client");
            }
            if matches!(way, Vanish::ResetAfterReading) {
                client.set_linger(Some(Duration::ZERO)).expect("linger");
            }
            drop(client);
            let error = server
                .await
                .expect("server task")
                .expect_err("64 MiB cannot all be written to a vanished peer");
            assert!(
                matches!(
                    error.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ),
                "{way:?}: unexpected error {error}"
            );
        }
        // The listener still works for a well-behaved client.
        let (mut client, mut served) = tcp_pair(&listener).await;
        let server =
            eddy::spawn(async move { serve_large_response(&mut served, 7, 1 << 20).await });
        client.write_all(b"?").await.expect("request");
        let mut buf = vec![0u8; 1 << 20];
        client.read_exact(&mut buf).await.expect("whole response");
        check(&buf, 7, 0, "well-behaved client");
        server.await.expect("server task").expect("response sent");
        // Reaching this line is the other half of the proof: no SIGPIPE
        // killed the test process.
    });
}

#[test]
fn a_vectored_write_to_a_vanished_peer_is_an_error_even_with_sigpipe_at_its_default() {
    if child_role().as_deref() == Some("vectored_sigpipe") {
        return vectored_write_until_the_vanished_peer_fails();
    }
    let _serial = serial();
    let output = run_child("vectored_sigpipe");
    assert_child_survived_sigpipe(&output, "vectored write failed as expected");
}

/// The child's side: with `SIGPIPE` at its default action (Rust's start-up
/// code ignores it, which would hide the problem), a vectored write on a
/// connection the peer closed must come back as an error. (It once went
/// through `writev(2)`, which has no `MSG_NOSIGNAL` and killed the process.)
fn vectored_write_until_the_vanished_peer_fails() {
    restore_default_sigpipe();
    let errors = run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (peer, mut stream) = tcp_pair(&listener).await;
        drop(peer);
        let head = vec![0x11u8; 16 * 1024];
        let tail = vec![0x22u8; 48 * 1024];
        let mut errors = Vec::new();
        // The first write is accepted by the kernel and answered with a
        // reset; a later one reports it (ECONNRESET), and the ones after
        // that hit the dead socket (EPIPE, where the signal would come from).
        for _ in 0..10_000 {
            let bufs = [IoSlice::new(&head), IoSlice::new(&tail)];
            let written = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &bufs)).await;
            if let Err(error) = written {
                errors.push(error.kind());
                if errors.len() == 3 {
                    return errors;
                }
            }
        }
        panic!("10,000 vectored writes to a closed connection: only {errors:?} failed");
    });
    assert!(
        errors.iter().all(|kind| matches!(
            kind,
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        )),
        "unexpected errors: {errors:?}"
    );
    println!("vectored write failed as expected: {errors:?}");
}

// ---------------------------------------------------------------------------
// Half-closed peers
// ---------------------------------------------------------------------------

/// Sends `len` bytes as a pipeline of odd-sized messages (1 B to 64 KiB),
/// half-closes, and reads everything back to end-of-stream.
async fn pipelined_then_half_closed(addr: SocketAddr, seed: u64, len: u64) -> io::Result<u64> {
    // A reproducible stream of message sizes.
    let mut sizes = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let next_size = move || sizes.below(65_536) + 1;
    send_half_close_and_read_back(addr, seed, len, next_size, 24 * 1024, "half-closed peer").await
}

#[test]
fn half_closed_peers_get_every_pipelined_byte_back_then_the_server_closes() {
    let _serial = serial();
    run_bounded(LIMIT, || async {
        let (addr, log, server) = start_echo_server().await;
        let clients: Vec<_> = (0..8u64)
            .map(|seed| {
                let len = (2 << 20) + seed * 12_345;
                (
                    len,
                    eddy::spawn(pipelined_then_half_closed(addr, seed, len)),
                )
            })
            .collect();
        for (len, client) in clients {
            let received = client.await.expect("client task").expect("client I/O");
            // Reading end-of-stream at exactly `len` bytes: every byte sent
            // before the FIN was echoed, and then the server closed.
            assert_eq!(received, len);
        }
        wait_until(|| log.live.get() == 0).await;
        assert_eq!(log.clean.get(), 8, "errors: {:?}", log.errors.borrow());
        assert!(log.errors.borrow().is_empty());
        server.abort();
    });
}

// ---------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------

// Linux only: measures memory in `/proc/self/statm`.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn a_reader_that_stops_reading_parks_the_writer_with_bounded_memory_and_loses_nothing() {
    let _serial = serial();
    run_bounded(LIMIT, || async {
        const TOTAL: u64 = 64 << 20;
        const BOUND: u64 = 16 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut served) = tcp_pair(&listener).await;
        let before = resident_anonymous_bytes();

        // The writer records how many bytes it had written the last time a
        // write came back `Pending`: the task parking until the socket is
        // writable again. (A park at 0 bytes only means the first
        // writability event had not arrived yet.)
        let parked_at = Rc::new(Cell::new(None::<u64>));
        let written = Rc::new(Cell::new(0u64));
        let writer = {
            let (parked_at, written) = (parked_at.clone(), written.clone());
            eddy::spawn(async move {
                let mut chunk = vec![0u8; 64 * 1024];
                while written.get() < TOTAL {
                    let start = written.get();
                    fill(&mut chunk, 0, start);
                    let mut offset = 0;
                    while offset < chunk.len() {
                        let n = poll_fn(|cx| {
                            let attempt = Pin::new(&mut served).poll_write(cx, &chunk[offset..]);
                            if attempt.is_pending() {
                                parked_at.set(Some(start + offset as u64));
                            }
                            attempt
                        })
                        .await?;
                        offset += n;
                        written.set(start + offset as u64);
                    }
                }
                drop(served);
                Ok::<_, io::Error>(())
            })
        };

        // The client reads nothing until the writer has parked.
        wait_until(|| parked_at.get().is_some_and(|at| at > 0)).await;
        assert!(written.get() < TOTAL, "the kernel cannot buffer 64 MiB");
        let while_parked = resident_anonymous_bytes();
        assert!(
            while_parked.saturating_sub(before) < BOUND,
            "resident memory grew by {} bytes while the writer was parked",
            while_parked.saturating_sub(before)
        );

        // Resume: every byte, in order, then end-of-stream.
        let mut buf = vec![0u8; 64 * 1024];
        let mut received = 0;
        loop {
            let n = client.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            check(&buf[..n], 0, received, "slow reader");
            received += n as u64;
        }
        assert_eq!(received, TOTAL);
        writer.await.expect("writer task").expect("writer I/O");
        let after = resident_anonymous_bytes();
        assert!(
            after.saturating_sub(before) < BOUND,
            "resident memory grew by {} bytes over the transfer",
            after.saturating_sub(before)
        );
    });
}

// ---------------------------------------------------------------------------
// Descriptor and registration hygiene
// ---------------------------------------------------------------------------

/// One connect/echo/close cycle.
async fn one_cycle(addr: SocketAddr, seed: u64) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut out = [0u8; 32];
    fill(&mut out, seed, 0);
    stream.write_all(&out).await?;
    let mut back = [0u8; 32];
    stream.read_exact(&mut back).await?;
    check(&back, seed, 0, "cycle");
    Ok(())
}

#[test]
fn ten_thousand_connect_echo_close_cycles_return_fds_and_registrations_to_baseline() {
    const WORKERS: u64 = 8;
    const CYCLES: u64 = 10_000;
    let _serial = serial();
    let fds_without_runtime = open_descriptors();
    run_bounded(LIMIT, || async {
        let (addr, log, server) = start_echo_server().await;
        // Let the server task register its listener and the driver settle.
        for _ in 0..3 {
            eddy::time::sleep(Duration::from_millis(1)).await;
        }
        let baseline_fds = open_descriptors();
        let baseline = Handle::current().metrics();

        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                eddy::spawn(async move {
                    for cycle in 0..CYCLES / WORKERS {
                        one_cycle(addr, worker * CYCLES + cycle).await?;
                    }
                    Ok::<_, io::Error>(())
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("worker task").expect("cycle I/O");
        }
        wait_until(|| log.live.get() == 0 && log.accepted.get() == CYCLES as usize).await;
        // Closed sockets are released by the next driver turns: waited for,
        // not given a fixed number of 1 ms sleeps, which a slow enough run
        // (Miri) finishes before their first poll, with no turn between.
        wait_until(|| Handle::current().metrics().registrations_pending_release == 0).await;
        let after = Handle::current().metrics();
        assert_eq!(
            log.clean.get(),
            CYCLES as usize,
            "{:?}",
            log.errors.borrow()
        );
        assert_eq!(after.registrations_pending_release, 0);
        assert_eq!(
            after.registrations_live, baseline.registrations_live,
            "registrations before {baseline:?}, after {after:?}"
        );
        assert_eq!(open_descriptors(), baseline_fds, "open descriptors");
        server.abort();
    });
    // The runtime's own descriptors (epoll, eventfd) and the listener's are
    // gone with it.
    assert_eq!(open_descriptors(), fds_without_runtime);
}
