//! Streams: reads and writes cancelled at random lose, repeat and reorder
//! no byte, over real 127.0.0.1 TCP connections and over Unix-domain stream
//! socket pairs alike.
//!
//! Each test runs every seed over both transports, and checks for each
//! transport apart that its cancellation paths ran. Both matter because
//! eddy reads them differently: a TCP read clears the socket's read
//! readiness after a short read, a Unix-stream read only after
//! `WouldBlock` (see `IoSource::poll_read_stream_to_would_block`), so a
//! read cancelled on one path proves nothing about the other. Unix streams
//! have no `peek`: their reader skips it (see [`ReadEnd::peek`]).

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::panic::resume_unwind;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream, UnixStream, tcp, unix};
use eddy::task::{JoinHandle, yield_now};
use eddy::time::{sleep, timeout};
use eddy_tests::{XorShift, panic_message, tcp_pair};
use futures_util::io::{AsyncRead, AsyncWrite};

use crate::{assert_exercised, mix, poll_up_to, run_seed_labelled, seeds, tiny_timeout};

/// How many seeds each test runs over each transport.
const SEEDS: u64 = 40;

/// The largest chunk a writer sends or a reader asks for at once.
const MAX_CHUNK: usize = 64 * 1024;

/// `SO_SNDBUF` (and for TCP `SO_RCVBUF`) asked for on the sockets (the
/// kernel doubles it): small, so a writer soon waits for its reader and a
/// reader soon drains the socket, and both sides' cancellations hit
/// pending operations.
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

/// The read side of a connection, a whole stream (TCP or Unix) or an owned
/// read half: what the random reader needs, so one reader serves them all.
/// Each method is the type's own.
trait ReadEnd: AsyncRead + Unpin {
    /// The type's `read`.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a;
    /// The type's `read_exact`.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8])
    -> impl Future<Output = io::Result<()>> + 'a;
    /// The type's `peek`, if it has one (TCP's ends do, Unix streams'
    /// do not); `None` by default.
    fn peek<'a>(
        &'a self,
        _buf: &'a mut [u8],
    ) -> Option<impl Future<Output = io::Result<usize>> + 'a> {
        None::<std::future::Ready<_>>
    }
    /// The type's `readable`.
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_;
    /// The type's `try_read`.
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
}

/// Implements [`ReadEnd`] for each type listed, through its own methods of
/// the same names; a type followed by `: peek` also has its `peek`. A
/// macro because the halves' methods need the stream type to implement
/// eddy's sealed `SplitStream`, which no bound outside eddy can name, so
/// no impl generic over the stream type can call them.
macro_rules! impl_read_end {
    ($($end:ty $(: $peek:ident)?),* $(,)?) => {$(
        impl ReadEnd for $end {
            fn read<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + 'a {
                <$end>::read(self, buf)
            }
            fn read_exact<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<()>> + 'a {
                <$end>::read_exact(self, buf)
            }
            $(
                fn $peek<'a>(
                    &'a self,
                    buf: &'a mut [u8],
                ) -> Option<impl Future<Output = io::Result<usize>> + 'a> {
                    Some(<$end>::$peek(self, buf))
                }
            )?
            fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
                <$end>::readable(self)
            }
            fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                <$end>::try_read(self, buf)
            }
        }
    )*};
}

impl_read_end!(
    TcpStream: peek,
    tcp::OwnedReadHalf: peek,
    UnixStream,
    unix::OwnedReadHalf,
);

/// The write side of a connection, a whole stream or an owned write half,
/// as [`ReadEnd`] is the read side.
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

/// Implements [`WriteEnd`] for each type listed, through its own methods of
/// the same names; `shut` calls its `shutdown` with the arguments after the
/// colon (a whole stream's `Shutdown::Write`; none for a write half). A
/// macro for the reason [`impl_read_end`] is one.
macro_rules! impl_write_end {
    ($($end:ty $(: $how:expr)?),* $(,)?) => {$(
        impl WriteEnd for $end {
            fn write<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<usize>> + 'a {
                <$end>::write(self, buf)
            }
            fn write_all<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + 'a {
                <$end>::write_all(self, buf)
            }
            fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
                <$end>::writable(self)
            }
            fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                <$end>::try_write(self, buf)
            }
            fn shut(&self) -> io::Result<()> {
                <$end>::shutdown(self $(, $how)?)
            }
        }
    )*};
}

impl_write_end!(
    TcpStream: Shutdown::Write,
    tcp::OwnedWriteHalf,
    UnixStream: Shutdown::Write,
    unix::OwnedWriteHalf,
);

/// A stream type the properties run over, with what a test needs beyond
/// reading and writing: a connected pair and the owned halves.
trait Transport: ReadEnd + WriteEnd + Sized + 'static {
    /// The transport's name in failure messages.
    const NAME: &'static str;
    /// The type's owned read half.
    type ReadHalf: ReadEnd + 'static;
    /// The type's owned write half.
    type WriteHalf: WriteEnd + 'static;
    /// A connected pair whose buffers are small (see [`SMALL_BUFFER`]).
    async fn small_buffered_pair() -> (Self, Self);
    /// The type's `into_split`.
    fn into_split(self) -> (Self::ReadHalf, Self::WriteHalf);
}

impl Transport for TcpStream {
    const NAME: &'static str = "TCP";
    type ReadHalf = tcp::OwnedReadHalf;
    type WriteHalf = tcp::OwnedWriteHalf;

    /// A (client, server) pair over 127.0.0.1: [`SMALL_BUFFER`] for both
    /// send buffers and for the server's receive buffer (set on the
    /// listener, so the accepted socket inherits it before its handshake
    /// fixes the window), and `TCP_NODELAY`, so that small windows do not
    /// wait on Nagle's algorithm.
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

    fn into_split(self) -> (tcp::OwnedReadHalf, tcp::OwnedWriteHalf) {
        TcpStream::into_split(self)
    }
}

impl Transport for UnixStream {
    const NAME: &'static str = "Unix";
    type ReadHalf = unix::OwnedReadHalf;
    type WriteHalf = unix::OwnedWriteHalf;

    /// A `socketpair` with [`SMALL_BUFFER`] for both send buffers: a Unix
    /// stream charges the bytes queued for the reader to the writer's send
    /// buffer, and has no receive buffer of its own to shrink.
    async fn small_buffered_pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().expect("UnixStream::pair");
        for stream in [&a, &b] {
            set_buffer_size(stream, libc::SO_SNDBUF, SMALL_BUFFER);
        }
        (a, b)
    }

    fn into_split(self) -> (unix::OwnedReadHalf, unix::OwnedWriteHalf) {
        UnixStream::into_split(self)
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
/// for at most the relay's `steps` or to end of stream; returns whether it
/// got there. The relay's `done` counts the bytes read so far, by this call
/// and earlier ones (another task's, for a read half that moved). Checks
/// every byte against the relay's payload as it arrives, and at end of
/// stream that all of it came, and that the end stays.
async fn read_randomly<R: ReadEnd>(end: &mut R, relay: &mut Relay) -> bool {
    let Relay {
        bytes,
        done: received,
        rng,
        tally,
        seed,
        steps,
    } = relay;
    let (expected, seed, steps): (&[u8], u64, u64) = (bytes, *seed, *steps);
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
                // A step that does nothing for an end that cannot peek.
                let peeked = match end.peek(buf) {
                    Some(peek) => Some(peek.await.expect("peek")),
                    None => None,
                };
                if let Some(n) = peeked {
                    assert_stream_matches(&buf[..n], expected, *received, seed, "peek");
                    if n == 0 {
                        assert_eq!(
                            *received,
                            expected.len(),
                            "seed {seed:#x}: peek saw end of stream before every byte was read"
                        );
                    }
                    tally.peeks += 1;
                }
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
                // A wait in the socket's waiter list, dropped while there:
                // a `readable`, or half the time a `peek` where the end has
                // one. `peeked`: what a peek that was ready returned.
                let mut peeked = None;
                let dropped_pending = match end.peek(buf).filter(|_| rng.below(2) != 0) {
                    None => poll_up_to(pin!(end.readable()), 1).await.is_none(),
                    Some(peek) => {
                        peeked = poll_up_to(pin!(peek), 1).await;
                        peeked.is_none()
                    }
                };
                if let Some(result) = peeked {
                    let n = result.expect("peek");
                    assert_stream_matches(&buf[..n], expected, *received, seed, "peek");
                }
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
/// write half that moved), the relay's `done`. After at most the relay's
/// `steps`, or once all of its payload is reported written and the write
/// side shut down, returns whether it got that far.
async fn write_randomly<W: WriteEnd>(end: &mut W, relay: &mut Relay) -> bool {
    let Relay {
        bytes,
        done: sent,
        rng,
        tally,
        seed,
        steps,
    } = relay;
    let (payload, seed, steps): (&[u8], u64, u64) = (bytes, *seed, *steps);
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

    /// Draws the number of steps the next task of the relay takes, and
    /// returns the seed, for that task's join.
    fn hand_on(&mut self) -> u64 {
        self.steps = 10 + self.rng.below(100);
        self.seed
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
        if write_randomly(&mut end, &mut relay).await {
            return relay.tally;
        }
        let seed = relay.hand_on();
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
        if read_randomly(&mut end, &mut relay).await {
            return relay.tally;
        }
        let seed = relay.hand_on();
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

/// Runs `body` for each of [`SEEDS`] seeds (see [`seeds`]) over transport
/// `S`, and returns what it did, summed. A failure names the transport and
/// the seed.
fn run_seeds_over<S, F, Fut>(body: F) -> StreamTally
where
    S: Transport,
    F: FnOnce(u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = StreamTally>,
{
    let label = format!(" over {}", S::NAME);
    let mut total = StreamTally::default();
    for seed in seeds(SEEDS) {
        total.add(run_seed_labelled(seed, &label, body));
    }
    total
}

/// Asserts, for each of `paths` (a count summed over every seed of a test
/// over transport `S`, and what it counts), that the path ran over `S`.
fn assert_exercised_over<S: Transport>(paths: &[(u64, &str)]) {
    for &(count, what) in paths {
        assert_exercised(count, &format!("{what} over {}", S::NAME));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no Unix sockets; megabytes over TCP")]
fn reads_cancelled_at_random_points_lose_no_bytes() {
    let tcp = reads_cancelled_over::<TcpStream>();
    assert_exercised_over::<TcpStream>(&[(tcp.peeks, "a peek")]);
    reads_cancelled_over::<UnixStream>();
}

/// [`reads_cancelled_at_random_points_lose_no_bytes`] over transport `S`:
/// a plain writer on one end, the random reader on the other. Returns
/// what the seeds did.
fn reads_cancelled_over<S: Transport>() -> StreamTally {
    let total = run_seeds_over::<S, _, _>(|seed| async move {
        let (mut client, server) = S::small_buffered_pair().await;
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
    });
    assert_exercised_over::<S>(&[
        (total.reads_dropped_pending, "a read dropped while pending"),
        (total.reads_timed_out, "a read whose timeout elapsed"),
        (total.waits_dropped_pending, "a readable/peek wait dropped"),
    ]);
    total
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no Unix sockets; megabytes over TCP")]
fn reads_and_writes_cancelled_at_random_points_on_owned_halves_lose_no_bytes() {
    reads_and_writes_cancelled_over::<TcpStream>();
    reads_and_writes_cancelled_over::<UnixStream>();
}

/// [`reads_and_writes_cancelled_at_random_points_on_owned_halves_lose_no_bytes`]
/// over transport `S`.
fn reads_and_writes_cancelled_over<S: Transport>() {
    let total = run_seeds_over::<S, _, _>(|seed| async move {
        let (client, server) = S::small_buffered_pair().await;
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
    });
    assert_exercised_over::<S>(&[
        (total.reads_dropped_pending, "a read dropped while pending"),
        (
            total.writes_dropped_pending,
            "a write dropped while pending",
        ),
        (total.reads_timed_out, "a read whose timeout elapsed"),
        (total.waits_dropped_pending, "a readiness wait dropped"),
    ]);
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no Unix sockets; megabytes over TCP")]
fn a_dropped_pending_write_writes_nothing_and_reported_bytes_arrive_once() {
    dropped_pending_writes_over::<TcpStream>();
    dropped_pending_writes_over::<UnixStream>();
}

/// [`a_dropped_pending_write_writes_nothing_and_reported_bytes_arrive_once`]
/// over transport `S`: the random writer on one end, a slow reader on the
/// other.
fn dropped_pending_writes_over<S: Transport>() {
    let total = run_seeds_over::<S, _, _>(|seed| async move {
        let (client, mut server) = S::small_buffered_pair().await;
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
    });
    assert_exercised_over::<S>(&[
        (
            total.writes_dropped_pending,
            "a write dropped while pending",
        ),
        (total.writes_timed_out, "a write whose timeout elapsed"),
        (total.try_writes_would_block, "a try_write that would block"),
        (total.waits_dropped_pending, "a writable wait dropped"),
    ]);
}
