//! Cancellation: reads, writes, `peek`, `accept`, `readable` and
//! `writable` dropped unfinished (the losing side of a race) at points
//! drawn from a seeded generator, and what the next call finds.
//!
//! A failing seed is in the failure message; setting it in the test
//! replays the same cancellation points (the peer's timing still varies).

use std::cell::Cell;
use std::rc::Rc;

use eddy::net::{TcpListener, TcpStream};
use eddy_tests::{
    XorShift, accept_all_cancelling, assert_readable_woken_by, cancel_at_random, poll_at_most,
    poll_once, read_to_end_cancelling, run_bounded, spawn_trickle, tcp_pair, woken_within,
};
use futures_util::AsyncWriteExt;

use crate::{LIMIT, assert_same_bytes, payload};

/// The seeds each test runs with.
const SEEDS: [u64; 3] = [0x9E37_79B9, 0xC0FF_EE11, 0x5EED_0003];

/// Bytes each stream test moves: enough for many cancellations, few
/// enough for Miri.
const STREAM_BYTES: usize = if cfg!(miri) { 4 << 10 } else { 256 << 10 };

/// Reads to the end through `read` with every read raced against a random
/// cancellation, and checks the bytes the completed reads returned are
/// exactly `sent`. Returns how many reads were dropped unfinished.
async fn read_exactly_cancelling(
    sent: &[u8],
    rng: &mut XorShift,
    who: &str,
    read: impl AsyncFnMut(&mut [u8]) -> std::io::Result<usize>,
) -> usize {
    let (got, dropped) = read_to_end_cancelling(rng, who, read).await;
    assert_same_bytes(&got, sent, who);
    dropped
}

#[test]
fn reads_dropped_at_random_points_lose_no_byte() {
    for seed in SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = XorShift(seed);
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut dropped = 0;

            let (mut writer, mut whole) = tcp_pair(&listener).await;
            let sent = payload(seed, STREAM_BYTES);
            spawn_trickle(sent.clone(), seed, async move |chunk| {
                writer.write_all(chunk).await
            });
            let who = format!("whole stream, seed {seed:#x}");
            dropped +=
                read_exactly_cancelling(&sent, &mut rng, &who, async |buf| whole.read(buf).await)
                    .await;

            let (mut writer, mut split) = tcp_pair(&listener).await;
            let sent = payload(seed + 1, STREAM_BYTES);
            spawn_trickle(sent.clone(), seed + 1, async move |chunk| {
                writer.write_all(chunk).await
            });
            let (mut half, _write) = TcpStream::split(&mut split);
            let who = format!("borrowed read half, seed {seed:#x}");
            dropped +=
                read_exactly_cancelling(&sent, &mut rng, &who, async |buf| half.read(buf).await)
                    .await;

            let (mut writer, owned) = tcp_pair(&listener).await;
            let sent = payload(seed + 2, STREAM_BYTES);
            spawn_trickle(sent.clone(), seed + 2, async move |chunk| {
                writer.write_all(chunk).await
            });
            let (mut half, _write) = owned.into_split();
            let who = format!("owned read half, seed {seed:#x}");
            dropped +=
                read_exactly_cancelling(&sent, &mut rng, &who, async |buf| half.read(buf).await)
                    .await;

            // Proof the test cancelled reads that were waiting, not only
            // ones that had completed before the race was decided.
            assert!(dropped > 0, "seed {seed:#x}: no read was ever dropped");
        });
    }
}

#[test]
fn peeks_dropped_at_random_points_leave_every_byte_for_the_next_read() {
    for seed in SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = XorShift(seed);
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (mut writer, mut reader) = tcp_pair(&listener).await;
            let sent = payload(seed, STREAM_BYTES / 4);
            spawn_trickle(sent.clone(), seed, async move |chunk| {
                writer.write_all(chunk).await
            });
            let mut got = Vec::with_capacity(sent.len());
            let mut buf = vec![0u8; 4096];
            let mut peeked = vec![0u8; 4096];
            loop {
                let len = 1 + rng.index(peeked.len());
                // A peek that completes shows the next bytes without taking
                // them; one dropped takes nothing either.
                if let Some(result) =
                    cancel_at_random(&mut rng, reader.peek(&mut peeked[..len])).await
                {
                    let n = result.expect("peek");
                    let at = got.len();
                    assert_eq!(
                        &peeked[..n],
                        &sent[at..at + n],
                        "seed {seed:#x}: a peek at byte {at} showed other bytes"
                    );
                }
                let len = 1 + rng.index(buf.len());
                match cancel_at_random(&mut rng, reader.read(&mut buf[..len])).await {
                    Some(Ok(0)) => break,
                    Some(Ok(n)) => got.extend_from_slice(&buf[..n]),
                    Some(Err(error)) => panic!("seed {seed:#x}: read failed: {error}"),
                    None => {}
                }
            }
            assert_same_bytes(&got, &sent, &format!("peek and read, seed {seed:#x}"));
        });
    }
}

/// Shrinks `stream`'s send or receive buffer (`option`) to 16 KiB, which
/// also stops the kernel from growing it.
fn set_buffer_size(stream: &TcpStream, option: libc::c_int) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 16 << 10;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `size`,
    // which lives across the call.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw const size).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

#[test]
fn writes_dropped_at_random_points_send_exactly_the_bytes_they_reported() {
    for seed in SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = XorShift(seed);
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (mut writer, mut reader) = tcp_pair(&listener).await;
            // Small buffers and more bytes than they hold, so writes wait
            // for room and are dropped while they wait. (Left alone, a
            // loopback connection's buffers grow to megabytes, and a
            // reader that keeps up may never let them fill.)
            if !cfg!(miri) {
                set_buffer_size(&writer, libc::SO_SNDBUF);
                set_buffer_size(&reader, libc::SO_RCVBUF);
            }
            let sent = payload(seed, if cfg!(miri) { 64 << 10 } else { 2 << 20 });
            let expected = sent.clone();
            let received = eddy::spawn(async move {
                // A reader that falls behind now and then: the writer finds
                // the stream full, then room again.
                let mut rng = XorShift(seed ^ 0x5A5A);
                let mut got = Vec::with_capacity(expected.len());
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    let len = 1 + rng.index(buf.len());
                    match reader.read(&mut buf[..len]).await.expect("read") {
                        0 => return got,
                        n => got.extend_from_slice(&buf[..n]),
                    }
                    for _ in 0..rng.below(4) {
                        eddy::task::yield_now().await;
                    }
                }
            });
            let mut written = 0;
            let mut dropped = 0;
            while written < sent.len() {
                let len = (1 + rng.index(64 << 10)).min(sent.len() - written);
                let chunk = &sent[written..written + len];
                match cancel_at_random(&mut rng, writer.write(chunk)).await {
                    Some(Ok(n)) => written += n,
                    Some(Err(error)) => panic!("seed {seed:#x}: write failed: {error}"),
                    // Dropped: it wrote nothing, so the same bytes go next.
                    None => dropped += 1,
                }
            }
            writer.close().await.expect("close");
            let got = received.await.expect("the reading task");
            assert_same_bytes(&got, &sent, &format!("writes, seed {seed:#x}"));
            assert!(
                dropped > 0 || cfg!(miri),
                "seed {seed:#x}: no write was ever dropped"
            );
        });
    }
}

#[test]
fn accepts_dropped_at_random_points_lose_no_connection() {
    const CONNECTIONS: u32 = if cfg!(miri) { 10 } else { 200 };
    for seed in SEEDS {
        run_bounded(LIMIT, move || async move {
            let live = || {
                let metrics = eddy::Handle::current().metrics();
                metrics.registrations_live - metrics.registrations_pending_release
            };
            let mut rng = XorShift(seed);
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let baseline = live();
            // Each client connects, sends its number, and waits for the
            // server to close. A task starts them a few at a time, so the
            // server's accept now finds the queue empty and waits, now
            // finds several connections queued.
            let done = Rc::new(Cell::new(0u32));
            let connector_done = done.clone();
            eddy::spawn(async move {
                let mut rng = XorShift(seed ^ 0x3C3C);
                for i in 0..CONNECTIONS {
                    let done = connector_done.clone();
                    eddy::spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.expect("connect");
                        // Closed by the server, or reset if it dropped the
                        // connection unread: the server's count tells.
                        let _ = stream.write_all(&i.to_be_bytes()).await;
                        let mut rest = [0u8; 1];
                        let _ = stream.read(&mut rest).await;
                        done.set(done.get() + 1);
                    });
                    for _ in 0..rng.below(6) {
                        eddy::task::yield_now().await;
                    }
                }
            });
            let dropped = accept_all_cancelling(
                &mut rng,
                seed,
                CONNECTIONS,
                LIMIT / 2,
                async || listener.accept().await.map(|(stream, _)| stream),
                async |mut stream: TcpStream| {
                    let mut number = [0u8; 4];
                    stream
                        .read_exact(&mut number)
                        .await
                        .expect("the client's number");
                    u32::from_be_bytes(number)
                },
            )
            .await;
            // Every client was answered (its stream closed by the server),
            // and no dropped accept left a socket registered.
            let all = woken_within(
                LIMIT / 2,
                eddy_tests::wait_until(|| done.get() == CONNECTIONS),
            );
            assert!(
                all.await.is_some(),
                "seed {seed:#x}: a client never heard back"
            );
            assert_eq!(
                live(),
                baseline,
                "seed {seed:#x}: registrations left behind"
            );
            assert!(dropped > 0, "seed {seed:#x}: no accept was ever dropped");
        });
    }
}

/// Polls `future` once to four times, or until a timer of up to 2 ms
/// fires, then drops it if it is still pending: [`cancel_at_random`]
/// without the draw that runs it to its end (a wait for bytes nobody has
/// sent yet would wait forever).
async fn drop_at_random<F: std::future::Future>(
    rng: &mut XorShift,
    future: F,
) -> Option<F::Output> {
    if rng.below(2) == 0 {
        let limit = std::time::Duration::from_micros(rng.below(2_000));
        eddy::time::timeout(limit, future).await.ok()
    } else {
        poll_at_most(1 + rng.below(4), future).await
    }
}

#[test]
fn a_dropped_readable_or_writable_wait_strands_no_wake() {
    for seed in SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = XorShift(seed);
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (mut peer, mut stream) = tcp_pair(&listener).await;
            let mut send = async move |bytes: &[u8]| peer.write_all(bytes).await;
            for round in 0..if cfg!(miri) { 5 } else { 100 } {
                // A wait that is pending, then dropped...
                {
                    let mut wait = std::pin::pin!(stream.readable());
                    assert!(
                        poll_once(wait.as_mut()).await.is_pending(),
                        "seed {seed:#x}, round {round}: readable with nothing sent"
                    );
                }
                // ...(or more of them, at random points)...
                assert!(
                    drop_at_random(&mut rng, stream.readable()).await.is_none(),
                    "seed {seed:#x}, round {round}: readable with nothing sent"
                );
                // ...then the byte arrives, now or a little later, and the
                // next wait must be woken by it.
                let who = format!("seed {seed:#x}, round {round}");
                send = assert_readable_woken_by(
                    &mut rng,
                    send,
                    round as u8,
                    stream.readable(),
                    LIMIT / 2,
                    &who,
                )
                .await;
                // Read with room to spare: the short read clears the
                // readiness, so the next round's wait is really pending.
                let mut byte = [0u8; 2];
                assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
                assert_eq!(byte[0], round as u8);

                // A writable wait dropped at a random point, then one that
                // must complete (the stream has room).
                let _ = drop_at_random(&mut rng, stream.writable()).await;
                let woken = woken_within(LIMIT / 2, stream.writable()).await;
                assert!(
                    matches!(woken, Some(Ok(()))),
                    "seed {seed:#x}, round {round}: writable not woken: {woken:?}"
                );
            }
        });
    }
}

/// A writer that never has room: every write waits, forever.
struct NoRoom;

impl eddy::io::AsyncWrite for NoRoom {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Pending
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn a_copy_dropped_midway_loses_the_bytes_it_had_read() {
    // What `io::copy`'s "not cancel safe" means: it reads into a buffer of
    // its own, and bytes it has read but not yet written go with it.
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut peer, mut stream) = tcp_pair(&listener).await;
        peer.write_all(b"hello").await.unwrap();
        peer.close().await.unwrap();
        stream.readable().await.unwrap();
        {
            let mut no_room = NoRoom;
            let mut copy = std::pin::pin!(eddy::io::copy(&mut stream, &mut no_room));
            assert!(
                poll_once(copy.as_mut()).await.is_pending(),
                "the copy finished into a writer with no room"
            );
        }
        // The stream goes on past the bytes the dropped copy took.
        let mut rest = [0u8; 16];
        assert_eq!(stream.read(&mut rest).await.unwrap(), 0, "{:?}", &rest[..5]);
    });
}

#[test]
fn tasks_sharing_a_listener_whose_accepts_are_dropped_at_random_lose_no_connection() {
    // Several tasks wait in `accept` on one listener, each in the list of
    // waiters a connection wakes; one dropping its accept (woken or not)
    // must cost the others nothing. Forty is more than one batch of the
    // wake (32), which lets go of the waiters' lock between batches.
    const CONNECTIONS: u32 = if cfg!(miri) { 10 } else { 300 };
    for (seed, tasks) in SEEDS.into_iter().zip([4u64, 40, 40]) {
        run_bounded(LIMIT, move || async move {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let accepted = Rc::new(Cell::new(0u32));
            for task in 0..tasks {
                let listener = listener.clone();
                let accepted = accepted.clone();
                eddy::spawn(async move {
                    let mut rng = XorShift(seed ^ (task + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    loop {
                        if let Some(result) = cancel_at_random(&mut rng, listener.accept()).await {
                            drop(result.expect("accept"));
                            accepted.set(accepted.get() + 1);
                        }
                    }
                });
            }
            let mut rng = XorShift(seed);
            let mut clients = Vec::new();
            for _ in 0..CONNECTIONS {
                clients.push(TcpStream::connect(addr).await.expect("connect"));
                for _ in 0..rng.below(4) {
                    eddy::task::yield_now().await;
                }
            }
            let all = eddy::time::timeout(
                LIMIT / 2,
                eddy_tests::wait_until(|| accepted.get() == CONNECTIONS),
            )
            .await;
            assert!(
                all.is_ok(),
                "seed {seed:#x}, {tasks} tasks: {} of {CONNECTIONS} connections accepted, then none",
                accepted.get()
            );
        });
    }
}
