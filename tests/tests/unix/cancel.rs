//! Cancellation: stream reads, `accept`, `readable`, and datagram receives
//! and sends dropped unfinished at points drawn from a seeded generator.
//!
//! A failing seed is in the failure message; setting it in the test
//! replays the same cancellation points (the peer's timing still varies).

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use eddy::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_tests::run_bounded;

use crate::{LIMIT, TempDir, payload};

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
            eddy_tests::spawn_trickle(sent.clone(), seed, async move |chunk| {
                writer.write_all(chunk).await
            });
            let who = format!("seed {seed:#x}");
            let (got, dropped) = eddy_tests::read_to_end_cancelling(&mut rng, &who, async |buf| {
                reader.read(buf).await
            })
            .await;
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
            let dropped = eddy_tests::accept_all_cancelling(
                &mut rng,
                seed,
                CONNECTIONS,
                LIMIT / 2,
                async || listener.accept().await.map(|(stream, _)| stream),
                async |mut stream: UnixStream| {
                    let mut number = [0u8; 4];
                    stream
                        .read_exact(&mut number)
                        .await
                        .expect("the client's number");
                    u32::from_be_bytes(number)
                },
            )
            .await;
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
            let mut send = async move |bytes: &[u8]| peer.write_all(bytes).await;
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
                let who = format!("seed {seed:#x}, round {round}");
                send = eddy_tests::assert_readable_woken_by(
                    &mut rng,
                    send,
                    round as u8,
                    stream.readable(),
                    LIMIT / 2,
                    &who,
                )
                .await;
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
