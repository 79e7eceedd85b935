//! Reads (urgent data, an empty buffer, `peek`), writes of nothing,
//! `poll_read_ready` and `poll_write_ready`, and socket options.

use std::io;

use eddy::net::TcpListener;
use eddy::time::timeout;
use eddy_tests::{poll_once, run_bounded, socket_type, tcp_pair};

use crate::LIMIT;

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
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::sync::mpsc;
    use std::time::Duration;
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

/// Like std's, a write of nothing writes nothing, at once, also when the
/// send buffer is full: `send(2)` of zero bytes returns 0 without waiting
/// for room. Before, `write(&[])` and a vectored write of empty slices
/// waited for the stream to turn writable: with a peer that never reads,
/// forever.
#[test]
fn a_write_of_nothing_returns_zero_without_waiting_for_room() {
    use std::future::poll_fn;
    use std::pin::{Pin, pin};
    use std::task::Poll;

    use eddy::io::AsyncWrite;

    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, _server) = tcp_pair(&listener).await;
        // The server never reads: write until the kernel takes no more, so
        // that the stream is known not to be writable.
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0;
        loop {
            client.writable().await.expect("writable");
            match client.try_write(&chunk) {
                Ok(n) => written += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && written > 0 => break,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("try_write: {error}"),
            }
        }

        let write = poll_once(pin!(client.write(&[]))).await;
        assert!(
            matches!(write, Poll::Ready(Ok(0))),
            "a write of nothing into a full stream gave {write:?}"
        );
        let empty = [io::IoSlice::new(&[]), io::IoSlice::new(&[])];
        let vectored = poll_once(pin!(poll_fn(|cx| {
            Pin::new(&mut client).poll_write_vectored(cx, &empty)
        })))
        .await;
        assert!(
            matches!(vectored, Poll::Ready(Ok(0))),
            "a vectored write of empty slices into a full stream gave {vectored:?}"
        );
    });
}

/// An operation on an empty buffer completes at once, but it is still an
/// operation: like every read and write it spends the task's budget, and
/// with the budget used up it yields. Before, a read into nothing, a peek
/// into nothing and a write of nothing (plain or vectored, writable stream
/// or full) returned 0 without looking at the budget, so a loop of them
/// (a parser re-reading into a full buffer, a writer handed an empty
/// frame) never returned `Pending`, and no other task ran again.
#[test]
#[cfg_attr(miri, ignore = "Miri: no sendmsg (its vectored writes)")]
fn loops_of_reads_writes_and_peeks_of_nothing_still_yield_to_other_tasks() {
    use std::cell::Cell;
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::rc::Rc;

    use eddy::io::AsyncWrite;

    /// Many times the budget: only the budget can make these loops yield.
    const PASSES: u32 = 100_000;

    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, mut server) = tcp_pair(&listener).await;
        let empty = [io::IoSlice::new(&[]), io::IoSlice::new(&[])];
        for op in [
            "read",
            "peek",
            "write",
            "write_vectored",
            "write into a full stream",
        ] {
            if op == "write into a full stream" {
                // The server never reads: fill the stream until the kernel
                // takes no more, so that it is known not to be writable.
                let chunk = vec![7u8; 64 * 1024];
                let mut written = 0;
                loop {
                    client.writable().await.expect("writable");
                    match client.try_write(&chunk) {
                        Ok(n) => written += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock && written > 0 => break,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("try_write: {e}"),
                    }
                }
            }
            let other_ran = Rc::new(Cell::new(false));
            let flag = Rc::clone(&other_ran);
            let other = eddy::spawn(async move { flag.set(true) });
            let mut passes = 0;
            while !other_ran.get() && passes < PASSES {
                let n = match op {
                    "read" => server.read(&mut []).await,
                    "peek" => server.peek(&mut []).await,
                    "write_vectored" => {
                        poll_fn(|cx| Pin::new(&mut client).poll_write_vectored(cx, &empty)).await
                    }
                    _ => client.write(&[]).await,
                };
                assert_eq!(n.expect(op), 0, "{op} of nothing");
                passes += 1;
            }
            assert!(
                other_ran.get(),
                "{passes} passes of a {op} of nothing never let another task run"
            );
            other.await.expect("the other task");
        }
    });
}

/// `read_exact` into an empty buffer and `write_all` of nothing complete
/// at once, but each is still an operation that spends the task's budget:
/// before, both returned `Ok(())` without polling the stream at all, so a
/// loop of them (a framer handed empty frames, a parser reading a
/// zero-length field) never returned `Pending` and no other task ran
/// again. Checked on the whole stream and on an owned half.
#[test]
fn loops_of_read_exact_and_write_all_of_nothing_still_yield_to_other_tasks() {
    use std::cell::Cell;
    use std::rc::Rc;

    /// Many times the budget: only the budget can make these loops yield.
    const PASSES: u32 = 100_000;

    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, mut server) = tcp_pair(&listener).await;
        let (mut read_half, mut write_half) = client.into_split();
        for op in [
            "read_exact",
            "write_all",
            "a read half's read_exact",
            "a write half's write_all",
        ] {
            let other_ran = Rc::new(Cell::new(false));
            let flag = Rc::clone(&other_ran);
            let other = eddy::spawn(async move { flag.set(true) });
            let mut passes = 0;
            while !other_ran.get() && passes < PASSES {
                let done = match op {
                    "read_exact" => server.read_exact(&mut []).await,
                    "write_all" => server.write_all(&[]).await,
                    "a read half's read_exact" => read_half.read_exact(&mut []).await,
                    _ => write_half.write_all(&[]).await,
                };
                done.expect(op);
                passes += 1;
            }
            assert!(
                other_ran.get(),
                "{passes} passes of a {op} of nothing never let another task run"
            );
            other.await.expect("the other task");
        }
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

/// `poll_read_ready` and `try_read` drive a hand-written read loop (the
/// shape of an `AsyncRead` built on them, as tokio's and smol's users
/// write): it waits while the peer is silent, is woken for each part the
/// peer writes, and reads every byte, then end-of-stream.
#[test]
fn poll_read_ready_and_try_read_drive_a_hand_written_read_loop() {
    use std::task::{Poll, ready};
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, mut server) = tcp_pair(&listener).await;
        let reader = eddy::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 3];
            std::future::poll_fn(|cx| {
                loop {
                    ready!(client.poll_read_ready(cx))?;
                    match client.try_read(&mut buf) {
                        Ok(0) => return Poll::Ready(Ok::<_, io::Error>(())),
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
            })
            .await
            .expect("the read loop");
            got
        });
        for part in [&b"hello "[..], b"from ", b"the peer"] {
            eddy::task::yield_now().await;
            server.write_all(part).await.unwrap();
        }
        server.shutdown(std::net::Shutdown::Write).unwrap();
        let got = timeout(LIMIT / 2, reader).await.expect("the reader hung");
        assert_eq!(got.unwrap(), b"hello from the peer");
    });
}

/// A hand-written future (or a `select_all`) that polls more streams than
/// one poll's budget, every one silent but the last, still reaches the last
/// one: through `poll_read_ready` (which spends the budget only when it is
/// `Ready`, as its docs say) and through `AsyncRead::poll_read`, the path
/// of every `read`. Spending on `Pending` too, every poll ran out of budget
/// before it reached the last stream, returned `Pending` after waking
/// itself, and the task spun until something else ended it (RELIABILITY
/// findings 56 and 57).
#[test]
fn polls_over_more_streams_than_the_budget_find_the_readable_one() {
    use std::pin::Pin;
    use std::task::Poll;

    use eddy::io::AsyncRead;
    const BUDGET: u32 = 4;
    eddy_tests::with_deadline(LIMIT, || {
        let rt = eddy::Builder::new().budget(BUDGET).build().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut pairs = Vec::new();
            for _ in 0..2 * BUDGET {
                pairs.push(tcp_pair(&listener).await);
            }
            let last = pairs.len() - 1;
            pairs[last].1.write_all(b"!").await.unwrap();
            let watcher = std::future::poll_fn(|cx| {
                for (index, (client, _server)) in pairs.iter().enumerate() {
                    if let Poll::Ready(ready) = client.poll_read_ready(cx) {
                        return Poll::Ready(ready.map(|()| index));
                    }
                }
                Poll::Pending
            });
            let found = timeout(LIMIT / 2, watcher)
                .await
                .expect("the watcher never saw the readable stream");
            assert_eq!(found.expect("poll_read_ready"), last);

            let mut byte = [0u8; 1];
            let reader = std::future::poll_fn(|cx| {
                for (index, (client, _server)) in pairs.iter_mut().enumerate() {
                    if let Poll::Ready(read) = Pin::new(client).poll_read(cx, &mut byte) {
                        return Poll::Ready(read.map(|n| (index, n)));
                    }
                }
                Poll::Pending
            });
            let found = timeout(LIMIT / 2, reader)
                .await
                .expect("the reader never saw the readable stream");
            assert_eq!(found.expect("poll_read"), (last, 1));
            assert_eq!(&byte, b"!");
        });
    });
}

/// `poll_write_ready` is `Pending` while the peer leaves the stream full
/// and wakes the task once the peer reads; `Ready` spends the task's
/// budget, so a loop that polls a ready stream without writing still
/// yields instead of holding the thread.
#[test]
fn poll_write_ready_waits_for_room_and_spends_the_budget() {
    use std::task::Poll;
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, mut server) = tcp_pair(&listener).await;
        // Fill the stream: the peer reads nothing yet.
        let chunk = [7u8; 64 * 1024];
        let mut sent = 0;
        loop {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
        }
        let mut wait = std::pin::pin!(std::future::poll_fn(|cx| client.poll_write_ready(cx)));
        assert!(
            poll_once(wait.as_mut()).await.is_pending(),
            "a full stream is writable"
        );
        let drain = async {
            let mut buf = vec![0u8; 64 * 1024];
            let mut read = 0;
            while read < sent {
                read += server.read(&mut buf).await.unwrap();
            }
        };
        let (ready, ()) = futures_util::future::join(wait, drain).await;
        ready.expect("poll_write_ready");

        // Ready again and again: each spends a unit, so the loop ends.
        let readies = eddy::spawn(async move {
            std::future::poll_fn(|cx| {
                let mut readies = 0u32;
                while client.poll_write_ready(cx).is_ready() {
                    readies += 1;
                    assert!(
                        readies < 100_000,
                        "poll_write_ready never ran out of budget"
                    );
                }
                Poll::Ready(readies)
            })
            .await
        });
        let readies = timeout(LIMIT / 2, readies).await.expect("hung").unwrap();
        assert!(readies > 0, "a drained stream was not writable");
    });
}
