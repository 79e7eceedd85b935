//! Streams: reads and writes cancelled at random over real 127.0.0.1 TCP
//! connections lose, repeat and reorder no byte.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::panic::resume_unwind;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use eddy::net::{TcpListener, TcpStream};
use eddy::task::{JoinHandle, yield_now};
use eddy::time::{sleep, timeout};
use eddy_tests::{XorShift, panic_message, tcp_pair};
use futures_util::io::{AsyncRead, AsyncWrite};

use crate::{assert_exercised, mix, poll_up_to, run_seed, seeds, tiny_timeout};

/// The largest chunk a writer sends or a reader asks for at once.
const MAX_CHUNK: usize = 64 * 1024;

/// `SO_SNDBUF`/`SO_RCVBUF` asked for on the sockets (the kernel doubles it):
/// small, so a writer soon waits for its reader and a reader soon drains
/// the socket, and both sides' cancellations hit pending operations.
const SMALL_BUFFER: libc::c_int = 8 * 1024;

/// A length from 1 to [`MAX_CHUNK`], log-uniform: single bytes, a few
/// dozen, kilobytes and whole 64 KiB chunks are all common.
fn random_len(rng: &mut XorShift) -> usize {
    let bits = rng.below(17);
    1 + rng.below(1 << bits) as usize
}

/// What the stream tests did, summed over their seeds: the proof that the
/// cancellation paths ran, so that a pass is not vacuous.
#[derive(Clone, Copy, Debug, Default)]
struct StreamTally {
    /// Reads (eddy's or `futures-io`'s) dropped while pending.
    reads_dropped_pending: u64,
    /// Reads whose timeout elapsed first.
    reads_timed_out: u64,
    /// Peeks that returned bytes, checked against the stream.
    peeks: u64,
    /// `try_read`s after `readable` that said `WouldBlock`.
    try_reads_would_block: u64,
    /// `readable`, `writable` or `peek` futures dropped while pending.
    waits_dropped_pending: u64,
    /// Writes (eddy's or `futures-io`'s) dropped while pending.
    writes_dropped_pending: u64,
    /// Writes whose timeout elapsed first.
    writes_timed_out: u64,
    /// `try_write`s after `writable` that said `WouldBlock`.
    try_writes_would_block: u64,
}

impl StreamTally {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: StreamTally) {
        self.reads_dropped_pending += other.reads_dropped_pending;
        self.reads_timed_out += other.reads_timed_out;
        self.peeks += other.peeks;
        self.try_reads_would_block += other.try_reads_would_block;
        self.waits_dropped_pending += other.waits_dropped_pending;
        self.writes_dropped_pending += other.writes_dropped_pending;
        self.writes_timed_out += other.writes_timed_out;
        self.try_writes_would_block += other.try_writes_would_block;
    }
}

/// The read side of a connection, a whole `TcpStream` or an owned read
/// half: what the random reader needs, so one reader serves both. Each
/// method is the type's own.
trait ReadEnd: AsyncRead + Unpin {
    /// The type's `read`.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a;
    /// The type's `read_exact`.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8])
    -> impl Future<Output = io::Result<()>> + 'a;
    /// The type's `peek`.
    fn peek<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a;
    /// The type's `readable`.
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_;
    /// The type's `try_read`.
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
}

impl ReadEnd for TcpStream {
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        TcpStream::read(self, buf)
    }
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a {
        TcpStream::read_exact(self, buf)
    }
    fn peek<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        TcpStream::peek(self, buf)
    }
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        TcpStream::readable(self)
    }
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::try_read(self, buf)
    }
}

impl ReadEnd for OwnedReadHalf {
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        OwnedReadHalf::read(self, buf)
    }
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a {
        OwnedReadHalf::read_exact(self, buf)
    }
    fn peek<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        OwnedReadHalf::peek(self, buf)
    }
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        OwnedReadHalf::readable(self)
    }
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        OwnedReadHalf::try_read(self, buf)
    }
}

/// The write side of a connection, a whole `TcpStream` or an owned write
/// half, as [`ReadEnd`] is the read side.
trait WriteEnd: AsyncWrite + Unpin {
    /// The type's `write`.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a;
    /// The type's `write_all`.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a;
    /// The type's `writable`.
    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_;
    /// The type's `try_write`.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    /// Shuts the write side down: the peer reads end of stream.
    fn shut(&self) -> io::Result<()>;
}

impl WriteEnd for TcpStream {
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        TcpStream::write(self, buf)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        TcpStream::write_all(self, buf)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        TcpStream::writable(self)
    }
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::try_write(self, buf)
    }
    fn shut(&self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Write)
    }
}

impl WriteEnd for OwnedWriteHalf {
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        OwnedWriteHalf::write(self, buf)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        OwnedWriteHalf::write_all(self, buf)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        OwnedWriteHalf::writable(self)
    }
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        OwnedWriteHalf::try_write(self, buf)
    }
    fn shut(&self) -> io::Result<()> {
        OwnedWriteHalf::shutdown(self)
    }
}

/// `len` pseudo-random bytes drawn from `seed`: the payload a writer sends,
/// which its reader regenerates to compare against.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = XorShift(seed);
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A payload length for one direction of one seed: 64 KiB to 448 KiB.
fn payload_len(rng: &mut XorShift) -> usize {
    64 * 1024 + rng.index(384 * 1024)
}

/// Sets the `SOL_SOCKET` option `option` (`SO_SNDBUF` or `SO_RCVBUF`) of
/// `socket` to `bytes`.
///
/// # Panics
///
/// Panics if the kernel refuses.
fn set_buffer_size(socket: &impl AsRawFd, option: libc::c_int, bytes: libc::c_int) {
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `bytes`,
    // which lives across the call; `socket` keeps the descriptor open.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw const bytes).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt: {}", io::Error::last_os_error());
}

/// A connected (client, server) pair over 127.0.0.1 with small buffers:
/// [`SMALL_BUFFER`] for both send buffers and for the server's receive
/// buffer (set on the listener, so the accepted socket inherits it before
/// its handshake fixes the window), and `TCP_NODELAY`, so that small
/// windows do not wait on Nagle's algorithm.
async fn small_buffered_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    set_buffer_size(&listener, libc::SO_RCVBUF, SMALL_BUFFER);
    let (client, server) = tcp_pair(&listener).await;
    for stream in [&client, &server] {
        set_buffer_size(stream, libc::SO_SNDBUF, SMALL_BUFFER);
        stream.set_nodelay(true).expect("set_nodelay");
    }
    (client, server)
}

/// Asserts that `got` is what the stream holds at `offset` of `expected`,
/// naming the first byte that differs: a cancelled read that consumed
/// bytes shows up here as a gap, a write that wrote more than it reported
/// as a repeat.
fn assert_stream_matches(got: &[u8], expected: &[u8], offset: usize, seed: u64, what: &str) {
    let end = offset + got.len();
    assert!(
        end <= expected.len(),
        "seed {seed:#x}: {what} returned bytes {offset}..{end}, but only {} were sent",
        expected.len()
    );
    if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[offset + i]) {
        panic!(
            "seed {seed:#x}: {what} returned bytes {offset}..{end}, which differ from the \
             stream sent from byte {} on: bytes were lost, repeated or reordered",
            offset + i
        );
    }
}

/// Reads `end` with a random mix of every way to read (see the file's
/// summary), cancelling reads, peeks and readiness waits at random points,
/// for at most `steps` steps or to end of stream; returns whether it got
/// there. `received` counts the bytes read so far, by this call and
/// earlier ones (another task's, for a read half that moved). Checks every
/// byte against `expected` as it arrives, and at end of stream that all of
/// `expected` came, and that the end stays.
async fn read_randomly<R: ReadEnd>(
    end: &mut R,
    expected: &[u8],
    received: &mut usize,
    steps: u64,
    rng: &mut XorShift,
    tally: &mut StreamTally,
    seed: u64,
) -> bool {
    let mut buffer = vec![0u8; MAX_CHUNK];
    for _ in 0..steps {
        let len = random_len(rng);
        let buf = &mut buffer[..len];
        // `Some(0)`: end of stream; `None`: nothing consumed this step.
        let got: Option<usize> = match rng.below(11) {
            0 | 1 => Some(end.read(buf).await.expect("read")),
            2 | 3 => {
                let polls = 1 + rng.below(3);
                match poll_up_to(pin!(end.read(buf)), polls).await {
                    Some(result) => Some(result.expect("read")),
                    None => {
                        tally.reads_dropped_pending += 1;
                        None
                    }
                }
            }
            4 => {
                let n = end.peek(buf).await.expect("peek");
                assert_stream_matches(&buf[..n], expected, *received, seed, "peek");
                if n == 0 {
                    assert_eq!(
                        *received,
                        expected.len(),
                        "seed {seed:#x}: peek saw end of stream before every byte was read"
                    );
                }
                tally.peeks += 1;
                None
            }
            5 => {
                end.readable().await.expect("readable");
                match end.try_read(buf) {
                    Ok(n) => Some(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        tally.try_reads_would_block += 1;
                        None
                    }
                    Err(e) => panic!("seed {seed:#x}: try_read: {e}"),
                }
            }
            6 | 7 => match timeout(tiny_timeout(rng), end.read(buf)).await {
                Ok(result) => Some(result.expect("read")),
                Err(_elapsed) => {
                    tally.reads_timed_out += 1;
                    None
                }
            },
            8 => {
                // Not cancel safe, so only ever awaited to the end, and
                // only for bytes the writer is sure to send.
                let n = len.min(expected.len() - *received);
                if n == 0 {
                    Some(end.read(buf).await.expect("read"))
                } else {
                    end.read_exact(&mut buf[..n]).await.expect("read_exact");
                    Some(n)
                }
            }
            9 => {
                // The `futures-io` path, cancelled the same way.
                let polls = 1 + rng.below(3);
                let read = futures_util::io::AsyncReadExt::read(&mut *end, buf);
                match poll_up_to(pin!(read), polls).await {
                    Some(result) => Some(result.expect("AsyncRead::read")),
                    None => {
                        tally.reads_dropped_pending += 1;
                        None
                    }
                }
            }
            _ => {
                // A wait in the socket's waiter list, dropped while there.
                let dropped_pending = if rng.below(2) == 0 {
                    poll_up_to(pin!(end.readable()), 1).await.is_none()
                } else {
                    let peeked = poll_up_to(pin!(end.peek(buf)), 1).await;
                    match peeked {
                        Some(result) => {
                            let n = result.expect("peek");
                            assert_stream_matches(&buf[..n], expected, *received, seed, "peek");
                            false
                        }
                        None => true,
                    }
                };
                tally.waits_dropped_pending += u64::from(dropped_pending);
                None
            }
        };
        match got {
            Some(0) => {
                assert_eq!(
                    *received,
                    expected.len(),
                    "seed {seed:#x}: end of stream after {received} of {} bytes: bytes were lost",
                    expected.len()
                );
                // End of stream stays: every later read returns 0 at once.
                assert_eq!(end.read(&mut buffer[..1]).await.expect("read"), 0);
                return true;
            }
            Some(n) => {
                assert_stream_matches(&buffer[..n], expected, *received, seed, "a read");
                *received += n;
            }
            None => {}
        }
        if rng.below(4) == 0 {
            yield_now().await;
        }
    }
    false
}

/// Sends all of `payload` with awaited `write_all`s of random sizes and
/// random yields and pauses, then shuts the write side down.
async fn write_plainly<W: WriteEnd>(end: &mut W, payload: &[u8], rng: &mut XorShift) {
    let mut sent = 0;
    while sent < payload.len() {
        let n = random_len(rng).min(payload.len() - sent);
        end.write_all(&payload[sent..sent + n])
            .await
            .expect("write_all");
        sent += n;
        match rng.below(16) {
            0..=4 => yield_now().await,
            // A pause long enough for the reader to drain the socket, so
            // that its next reads go pending.
            5 => sleep(Duration::from_millis(1)).await,
            _ => {}
        }
    }
    end.shut().expect("shutdown");
}

/// Sends `payload` with a random mix of awaited `write`s, `write`s polled
/// one to three times and dropped while pending, `write`s under a tiny
/// `timeout`, `writable` + `try_write`, `futures-io` writes and dropped
/// `writable` waits; each step resumes from `sent`, the bytes reported
/// written so far (by this call and earlier ones: another task's, for a
/// write half that moved). After at most `steps` steps, or once all of
/// `payload` is reported written and the write side shut down, returns
/// whether it got that far.
async fn write_randomly<W: WriteEnd>(
    end: &mut W,
    payload: &[u8],
    sent: &mut usize,
    steps: u64,
    rng: &mut XorShift,
    tally: &mut StreamTally,
    seed: u64,
) -> bool {
    for _ in 0..steps {
        if *sent == payload.len() {
            end.shut().expect("shutdown");
            return true;
        }
        let n = random_len(rng).min(payload.len() - *sent);
        let chunk = &payload[*sent..*sent + n];
        // How many bytes this step's operation reported written.
        let wrote: Option<usize> = match rng.below(9) {
            0 | 1 => Some(end.write(chunk).await.expect("write")),
            2 | 3 => match poll_up_to(pin!(end.write(chunk)), 1 + rng.below(3)).await {
                Some(result) => Some(result.expect("write")),
                None => {
                    tally.writes_dropped_pending += 1;
                    None
                }
            },
            4 => match timeout(tiny_timeout(rng), end.write(chunk)).await {
                Ok(result) => Some(result.expect("write")),
                Err(_elapsed) => {
                    tally.writes_timed_out += 1;
                    None
                }
            },
            5 => {
                end.writable().await.expect("writable");
                match end.try_write(chunk) {
                    Ok(k) => Some(k),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        tally.try_writes_would_block += 1;
                        None
                    }
                    Err(e) => panic!("seed {seed:#x}: try_write: {e}"),
                }
            }
            6 => {
                let write = futures_util::io::AsyncWriteExt::write(&mut *end, chunk);
                match poll_up_to(pin!(write), 1 + rng.below(3)).await {
                    Some(result) => Some(result.expect("AsyncWrite::write")),
                    None => {
                        tally.writes_dropped_pending += 1;
                        None
                    }
                }
            }
            7 => {
                let dropped_pending = poll_up_to(pin!(end.writable()), 1).await.is_none();
                tally.waits_dropped_pending += u64::from(dropped_pending);
                None
            }
            _ => {
                // Not cancel safe, so awaited to the end.
                end.write_all(chunk).await.expect("write_all");
                Some(n)
            }
        };
        if let Some(k) = wrote {
            assert!(
                (1..=n).contains(&k),
                "seed {seed:#x}: a write of {n} bytes reported {k}"
            );
            *sent += k;
        }
        if rng.below(4) == 0 {
            yield_now().await;
        }
    }
    false
}

/// Reads `end` to end of stream with awaited `read`s of random sizes,
/// pausing at random (yields, and now and then a millisecond) so that the
/// writer fills the socket and its writes go pending; checks the bytes
/// against `expected` as they come, and that all of it came.
async fn read_slowly<R: ReadEnd>(end: &mut R, expected: &[u8], rng: &mut XorShift, seed: u64) {
    let mut received = 0;
    let mut buffer = vec![0u8; MAX_CHUNK];
    loop {
        let len = random_len(rng);
        let n = end.read(&mut buffer[..len]).await.expect("read");
        if n == 0 {
            break;
        }
        assert_stream_matches(&buffer[..n], expected, received, seed, "a read");
        received += n;
        match rng.below(16) {
            0..=5 => yield_now().await,
            6 => sleep(Duration::from_millis(1)).await,
            _ => {}
        }
    }
    assert_eq!(
        received,
        expected.len(),
        "seed {seed:#x}: end of stream after {received} of {} bytes: the writer reported \
         bytes written that never came",
        expected.len()
    );
}

/// Where a relay of tasks that writes or reads one direction stands: what
/// one task hands the next, along with the half.
#[derive(Debug)]
struct Relay {
    /// The payload of the direction.
    bytes: Rc<Vec<u8>>,
    /// Bytes reported written, or read, so far.
    done: usize,
    /// The relay's random choices, continued by each task.
    rng: XorShift,
    /// What the relay's tasks did so far.
    tally: StreamTally,
    /// The test seed, for messages.
    seed: u64,
    /// Hand the half on to a new task after this many steps (10 to 109,
    /// drawn again at each hand-over), so that its operations wait with one
    /// task's waker, are dropped, and then wait with another's.
    steps: u64,
}

impl Relay {
    /// The start of a relay for `bytes`, its choices drawn from `stream` of
    /// `seed`, or, with `relay` false, one task that does it all.
    fn new(bytes: Rc<Vec<u8>>, seed: u64, stream: u64, relay: bool) -> Relay {
        let mut rng = XorShift(mix(seed, stream));
        let steps = if relay { 10 + rng.below(100) } else { u64::MAX };
        Relay {
            bytes,
            done: 0,
            rng,
            tally: StreamTally::default(),
            seed,
            steps,
        }
    }
}

/// Spawns a task that sends the relay's payload through `end` with
/// [`write_randomly`]; after the relay's number of steps it moves `end` to
/// a new task that goes on, and waits for it. The task returns what the
/// relay did.
fn spawn_random_writer<W: WriteEnd + 'static>(
    mut end: W,
    mut relay: Relay,
) -> JoinHandle<StreamTally> {
    eddy::spawn(async move {
        let payload = Rc::clone(&relay.bytes);
        let done = write_randomly(
            &mut end,
            &payload,
            &mut relay.done,
            relay.steps,
            &mut relay.rng,
            &mut relay.tally,
            relay.seed,
        )
        .await;
        if done {
            return relay.tally;
        }
        let seed = relay.seed;
        relay.steps = 10 + relay.rng.below(100);
        join_stream_task(spawn_random_writer(end, relay), seed).await
    })
}

/// Spawns a task that reads `end` to end of stream with
/// [`read_randomly`], expecting the relay's payload; after the relay's
/// number of steps it moves `end` to a new task that goes on, and waits
/// for it. The task returns what the relay did.
fn spawn_random_reader<R: ReadEnd + 'static>(
    mut end: R,
    mut relay: Relay,
) -> JoinHandle<StreamTally> {
    eddy::spawn(async move {
        let expected = Rc::clone(&relay.bytes);
        let done = read_randomly(
            &mut end,
            &expected,
            &mut relay.done,
            relay.steps,
            &mut relay.rng,
            &mut relay.tally,
            relay.seed,
        )
        .await;
        if done {
            return relay.tally;
        }
        let seed = relay.seed;
        relay.steps = 10 + relay.rng.below(100);
        join_stream_task(spawn_random_reader(end, relay), seed).await
    })
}

/// Awaits a stream task, re-raising its panic (a failed check inside it).
async fn join_stream_task(task: JoinHandle<StreamTally>, seed: u64) -> StreamTally {
    match task.await {
        Ok(tally) => tally,
        Err(error) if error.is_panic() => resume_unwind(error.into_panic()),
        Err(error) => panic!("seed {seed:#x}: a stream task ended: {error}"),
    }
}

/// Awaits every stream task of a seed (each is named), and returns what
/// they did. If any failed, panics naming every failure: when a reader
/// finds a wrong byte and stops, its peer then fails too (reset, early end
/// of stream), and the report must show the cause, not only whichever
/// consequence was joined first.
async fn join_stream_tasks(
    tasks: Vec<(&'static str, JoinHandle<StreamTally>)>,
    seed: u64,
) -> StreamTally {
    let mut tally = StreamTally::default();
    let mut failures = Vec::new();
    for (name, task) in tasks {
        match task.await {
            Ok(counts) => tally.add(counts),
            Err(error) if error.is_panic() => {
                failures.push(format!("{name}: {}", panic_message(&*error.into_panic())));
            }
            Err(error) => failures.push(format!("{name}: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed:#x}: {}",
        failures.join(" | ")
    );
    tally
}

#[test]
fn reads_cancelled_at_random_points_lose_no_bytes() {
    let mut total = StreamTally::default();
    for seed in seeds(40) {
        total.add(run_seed(seed, |seed| async move {
            let (mut client, server) = small_buffered_pair().await;
            let mut rng = XorShift(mix(seed, 1));
            let sent = Rc::new(payload(mix(seed, 2), payload_len(&mut rng)));
            let writer = {
                let sent = Rc::clone(&sent);
                eddy::spawn(async move {
                    let mut rng = XorShift(mix(seed, 3));
                    write_plainly(&mut client, &sent, &mut rng).await;
                    StreamTally::default()
                })
            };
            let reader = spawn_random_reader(server, Relay::new(sent, seed, 4, false));
            join_stream_tasks(vec![("reader", reader), ("writer", writer)], seed).await
        }));
    }
    assert_exercised(total.reads_dropped_pending, "a read dropped while pending");
    assert_exercised(total.reads_timed_out, "a read whose timeout elapsed");
    assert_exercised(total.peeks, "a peek");
    assert_exercised(total.waits_dropped_pending, "a readable/peek wait dropped");
}

#[test]
fn reads_and_writes_cancelled_at_random_points_on_owned_halves_lose_no_bytes() {
    let mut total = StreamTally::default();
    for seed in seeds(40) {
        total.add(run_seed(seed, |seed| async move {
            let (client, server) = small_buffered_pair().await;
            let mut rng = XorShift(mix(seed, 1));
            let upstream = Rc::new(payload(mix(seed, 2), payload_len(&mut rng)));
            let downstream = Rc::new(payload(mix(seed, 3), payload_len(&mut rng)));
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            // A relay of tasks per half: each direction has its own writer
            // and reader, both directions run at once, and each half moves
            // from task to task as it goes.
            let up = Relay::new(Rc::clone(&upstream), seed, 10, true);
            let down = Relay::new(Rc::clone(&downstream), seed, 20, true);
            let tasks = vec![
                ("upstream writer", spawn_random_writer(client_write, up)),
                (
                    "upstream reader",
                    spawn_random_reader(server_read, Relay::new(upstream, seed, 11, true)),
                ),
                ("downstream writer", spawn_random_writer(server_write, down)),
                (
                    "downstream reader",
                    spawn_random_reader(client_read, Relay::new(downstream, seed, 21, true)),
                ),
            ];
            join_stream_tasks(tasks, seed).await
        }));
    }
    assert_exercised(total.reads_dropped_pending, "a read dropped while pending");
    assert_exercised(
        total.writes_dropped_pending,
        "a write dropped while pending",
    );
    assert_exercised(total.reads_timed_out, "a read whose timeout elapsed");
    assert_exercised(total.waits_dropped_pending, "a readiness wait dropped");
}

#[test]
fn a_dropped_pending_write_writes_nothing_and_reported_bytes_arrive_once() {
    let mut total = StreamTally::default();
    for seed in seeds(40) {
        total.add(run_seed(seed, |seed| async move {
            let (client, mut server) = small_buffered_pair().await;
            let mut rng = XorShift(mix(seed, 1));
            let sent = Rc::new(payload(mix(seed, 2), payload_len(&mut rng)));
            // Half the seeds move the stream from task to task as it goes.
            let relay = Relay::new(Rc::clone(&sent), seed, 3, rng.below(2) == 0);
            let writer = spawn_random_writer(client, relay);
            let reader = eddy::spawn(async move {
                read_slowly(&mut server, &sent, &mut rng, seed).await;
                StreamTally::default()
            });
            join_stream_tasks(vec![("reader", reader), ("writer", writer)], seed).await
        }));
    }
    assert_exercised(
        total.writes_dropped_pending,
        "a write dropped while pending",
    );
    assert_exercised(total.writes_timed_out, "a write whose timeout elapsed");
    assert_exercised(total.try_writes_would_block, "a try_write that would block");
    assert_exercised(total.waits_dropped_pending, "a writable wait dropped");
}
