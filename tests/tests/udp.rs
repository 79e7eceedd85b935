//! `UdpSocket` end to end, over real sockets on 127.0.0.1.
//!
//! What is proved:
//! * an echo round trip returns the exact bytes, and connected sockets
//!   send and receive without naming the peer;
//! * `recv_from` names the right sender, `peek_from` and (connected)
//!   `peek` leave the datagram queued;
//! * the datagram boundary: a datagram longer than the buffer is truncated
//!   (Linux and the BSDs discard the rest of it) and the next receive gets
//!   the next datagram whole;
//! * readiness is not cleared after a datagram shorter than the buffer: a
//!   hundred queued datagrams are all received (with the stream rule, the
//!   second receive would wait forever for an edge that never comes);
//! * `try_recv` on an empty socket is `WouldBlock`; `poll_recv_ready` with
//!   `try_recv_from` drives a hand-written receive loop to every datagram;
//! * a zero-length datagram is received as a message of length 0 (not an
//!   end of stream), `send` with no peer fails with `EDESTADDRREQ`, and a
//!   connected socket whose peer port is closed reports `ConnectionRefused`
//!   from `recv`, then waits without spinning for the next datagram;
//! * a receive on a socket whose read side is shut down waits (Linux keeps
//!   reporting it read-closed while `recv` says `EAGAIN`) instead of
//!   spinning, and still gets a datagram sent later;
//! * a socket that outlived its runtime fails with the shutdown error, and
//!   creating one outside a runtime is an `io::Error`, not a panic;
//! * `TryFrom<std::net::UdpSocket>` converts as `from_std` does;
//! * receives (`recv_from`, `recv`, `peek_from`) and sends dropped at
//!   random points deliver every datagram once, in order.
//!
//! Every test is bounded by [`with_deadline`]; none asserts a duration.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::UdpSocket;
use eddy_tests::{assert_no_runtime_error, count_polls, poll_once, run_bounded, with_deadline};

/// A hang detector, never reached when things work.
const LIMIT: Duration = Duration::from_secs(30);

async fn bind_local() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

fn addr_of(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().expect("local_addr")
}

/// Datagram `i` of a numbered series: distinct contents and lengths.
fn numbered(i: u32) -> Vec<u8> {
    let mut datagram = i.to_be_bytes().to_vec();
    datagram.extend(std::iter::repeat_n(i as u8, (i % 17) as usize));
    datagram
}

#[test]
fn an_echo_round_trip_returns_the_exact_bytes() {
    run_bounded(LIMIT, || async {
        let server = bind_local().await;
        let server_addr = addr_of(&server);
        let echo = eddy::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let (len, peer) = server.recv_from(&mut buf).await.expect("recv_from");
                if len == 0 {
                    return;
                }
                server.send_to(&buf[..len], peer).await.expect("send_to");
            }
        });
        let client = bind_local().await;
        for len in [1usize, 7, 512, 1472, 8192, 60000] {
            let sent: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            client.send_to(&sent, server_addr).await.expect("send_to");
            let mut got = vec![0u8; 65536];
            let (n, from) = client.recv_from(&mut got).await.expect("recv_from");
            assert_eq!(from, server_addr, "the reply comes from the server");
            assert_eq!(&got[..n], &sent[..], "a {len}-byte datagram echoes exactly");
        }
        // An empty datagram is a real datagram: it tells the echo to stop.
        client.send_to(&[], server_addr).await.expect("send empty");
        echo.await.expect("echo task");
    });
}

#[test]
fn connected_sockets_send_and_recv_without_naming_the_peer() {
    run_bounded(LIMIT, || async {
        let a = bind_local().await;
        let b = bind_local().await;
        a.connect(addr_of(&b)).await.expect("a connects to b");
        b.connect(addr_of(&a)).await.expect("b connects to a");
        assert_eq!(a.peer_addr().expect("peer_addr"), addr_of(&b));

        assert_eq!(a.send(b"hello b").await.expect("send"), 7);
        let mut buf = [0u8; 64];
        let n = b.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"hello b");

        b.send(b"hello a").await.expect("send back");
        let n = a.recv(&mut buf).await.expect("recv back");
        assert_eq!(&buf[..n], b"hello a");
    });
}

#[test]
fn an_unconnected_socket_has_no_peer_addr() {
    run_bounded(LIMIT, || async {
        let socket = bind_local().await;
        let error = socket.peer_addr().expect_err("not connected");
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
    });
}

#[test]
fn recv_from_reports_each_senders_address() {
    run_bounded(LIMIT, || async {
        let receiver = bind_local().await;
        let first = bind_local().await;
        let second = bind_local().await;
        first
            .send_to(b"one", addr_of(&receiver))
            .await
            .expect("send");
        second
            .send_to(b"two", addr_of(&receiver))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (n, from) = receiver.recv_from(&mut buf).await.expect("recv_from");
            seen.push((buf[..n].to_vec(), from));
        }
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (b"one".to_vec(), addr_of(&first)),
                (b"two".to_vec(), addr_of(&second)),
            ]
        );
    });
}

#[test]
fn peek_from_leaves_the_datagram_for_the_next_receive() {
    run_bounded(LIMIT, || async {
        let receiver = bind_local().await;
        let sender = bind_local().await;
        sender
            .send_to(b"peekaboo", addr_of(&receiver))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        let (n, from) = receiver.peek_from(&mut buf).await.expect("peek_from");
        assert_eq!((&buf[..n], from), (&b"peekaboo"[..], addr_of(&sender)));
        let (n, from) = receiver.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!((&buf[..n], from), (&b"peekaboo"[..], addr_of(&sender)));
    });
}

/// `peek` on a connected socket waits for the peer's datagram and leaves
/// it queued: the `recv` after it gets the same datagram, and the next
/// `peek` the next one.
#[test]
fn peek_waits_for_the_connected_peer_and_leaves_the_datagram_for_recv() {
    run_bounded(LIMIT, || async {
        let socket = bind_local().await;
        let peer = bind_local().await;
        socket.connect(addr_of(&peer)).await.expect("connect");
        let mut buf = [0u8; 16];
        let (peeked, sent) = futures_util::future::join(socket.peek(&mut buf), async {
            eddy::task::yield_now().await;
            peer.send_to(b"first", addr_of(&socket)).await
        })
        .await;
        sent.expect("send_to");
        let n = peeked.expect("peek");
        assert_eq!(&buf[..n], b"first");
        peer.send_to(b"second", addr_of(&socket))
            .await
            .expect("send_to");
        let n = socket.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"first");
        let n = socket.peek(&mut buf).await.expect("peek");
        assert_eq!(&buf[..n], b"second");
        let n = socket.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"second");
    });
}

/// `poll_recv_ready` and `try_recv_from` drive a hand-written receive
/// loop (as tokio's and smol's users write one): it waits while nothing is
/// queued, is woken for each datagram, and gets every one in order;
/// `poll_send_ready` on an idle socket is ready, and spends the task's
/// budget each time.
#[test]
fn poll_recv_ready_and_try_recv_from_drive_a_hand_written_receive_loop() {
    use std::task::{Poll, ready};
    run_bounded(LIMIT, || async {
        let socket = Rc::new(bind_local().await);
        let sender = bind_local().await;
        let receiver = eddy::spawn({
            let socket = socket.clone();
            async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 16];
                std::future::poll_fn(|cx| {
                    while got.len() < 3 {
                        ready!(socket.poll_recv_ready(cx))?;
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, _)) => got.push(buf[..n].to_vec()),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => return Poll::Ready(Err(e)),
                        }
                    }
                    Poll::Ready(Ok::<_, io::Error>(()))
                })
                .await
                .expect("the receive loop");
                got
            }
        });
        for datagram in [&b"one"[..], b"two", b"three"] {
            eddy::task::yield_now().await;
            sender
                .send_to(datagram, addr_of(&socket))
                .await
                .expect("send_to");
        }
        let got = eddy::time::timeout(LIMIT / 2, receiver)
            .await
            .expect("the receiver hung");
        assert_eq!(got.unwrap(), [&b"one"[..], b"two", b"three"]);
        let ready = std::future::poll_fn(|cx| socket.poll_send_ready(cx)).await;
        ready.expect("poll_send_ready");
        // Ready again and again: each spends a unit of the budget, so a
        // loop that polls without sending still yields.
        let readies = eddy::spawn(async move {
            std::future::poll_fn(|cx| {
                let mut readies = 0u32;
                while socket.poll_send_ready(cx).is_ready() {
                    readies += 1;
                    assert!(readies < 100_000, "poll_send_ready never ran out of budget");
                }
                Poll::Ready(readies)
            })
            .await
        });
        let readies = eddy::time::timeout(LIMIT / 2, readies).await.expect("hung");
        assert!(readies.unwrap() > 0, "an idle socket was not ready to send");
    });
}

/// A task waiting on more receives at once than its poll's budget holds
/// (a `select_all` over `recv_from` futures), every socket silent but the
/// last, still receives the last one's datagram: a receive spends its unit
/// once, before its first wait, and a poll that finds it still waiting
/// spends nothing, so the budget only delays the later receives' first
/// wait by a poll each (the streams' `poll_read` spent a unit on every
/// `Pending`, and spun: see
/// `tcp::reads_and_options::polls_over_more_streams_than_the_budget_find_the_readable_one`).
#[test]
fn receives_awaited_together_over_more_sockets_than_the_budget_find_the_datagram() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;
    const BUDGET: u32 = 4;
    with_deadline(LIMIT, || {
        let rt = eddy::Builder::new().budget(BUDGET).build().unwrap();
        rt.block_on(async {
            let mut sockets = Vec::new();
            for _ in 0..2 * BUDGET {
                sockets.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            }
            let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let last = sockets.len() - 1;
            sender.send_to(b"!", addr_of(&sockets[last])).await.unwrap();
            let mut buffers = vec![[0u8; 8]; sockets.len()];
            type Receive<'a> = Pin<Box<dyn Future<Output = io::Result<(usize, SocketAddr)>> + 'a>>;
            let mut receives: Vec<Receive<'_>> = sockets
                .iter()
                .zip(buffers.iter_mut())
                .map(|(socket, buf)| Box::pin(socket.recv_from(buf)) as Pin<Box<_>>)
                .collect();
            let first = std::future::poll_fn(|cx| {
                for (index, receive) in receives.iter_mut().enumerate() {
                    if let Poll::Ready(received) = receive.as_mut().poll(cx) {
                        return Poll::Ready(received.map(|got| (index, got)));
                    }
                }
                Poll::Pending
            });
            let (index, (n, from)) = eddy::time::timeout(LIMIT / 2, first)
                .await
                .expect("no receive ever saw the datagram")
                .expect("recv_from");
            assert_eq!((index, n, from), (last, 1, addr_of(&sender)));
        });
    });
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated_and_the_next_arrives_whole() {
    run_bounded(LIMIT, || async {
        let receiver = bind_local().await;
        let sender = bind_local().await;
        let long: Vec<u8> = (0..100u8).collect();
        sender
            .send_to(&long, addr_of(&receiver))
            .await
            .expect("send long");
        sender
            .send_to(b"next", addr_of(&receiver))
            .await
            .expect("send next");

        let mut small = [0u8; 10];
        let n = receiver.recv(&mut small).await.expect("recv long");
        assert_eq!(
            &small[..n],
            &long[..10],
            "the first ten bytes, the rest dropped"
        );
        // The tail of the long datagram is gone; the next receive gets the
        // next datagram, whole, and does not wait.
        let n = receiver.recv(&mut small).await.expect("recv next");
        assert_eq!(&small[..n], b"next");
    });
}

#[test]
fn try_send_and_try_recv_move_a_datagram_once_ready() {
    run_bounded(LIMIT, || async {
        let a = bind_local().await;
        let b = bind_local().await;
        a.connect(addr_of(&b)).await.expect("connect");
        a.writable().await.expect("writable");
        assert_eq!(a.try_send(b"now").expect("try_send"), 3);
        b.readable().await.expect("readable");
        let mut buf = [0u8; 16];
        let (n, from) = b.try_recv_from(&mut buf).expect("try_recv_from");
        assert_eq!((&buf[..n], from), (&b"now"[..], addr_of(&a)));
        b.try_send_to(b"back", addr_of(&a)).expect("try_send_to");
        a.readable().await.expect("readable");
        let n = a.try_recv(&mut buf).expect("try_recv");
        assert_eq!(&buf[..n], b"back");
    });
}

#[test]
fn a_hundred_queued_short_datagrams_are_all_received() {
    run_bounded(LIMIT, || async {
        let receiver = bind_local().await;
        let sender = bind_local().await;
        // All hundred are in the receive queue before the first receive:
        // loopback delivers during `send_to`. Each is far shorter than the
        // buffer, which must not be taken as "the queue is empty".
        for i in 0..100 {
            sender
                .send_to(&numbered(i), addr_of(&receiver))
                .await
                .expect("send_to");
        }
        let mut buf = [0u8; 1500];
        for i in 0..100 {
            let n = receiver.recv(&mut buf).await.expect("recv");
            assert_eq!(&buf[..n], &numbered(i)[..], "datagram {i}");
        }
    });
}

#[test]
fn two_tasks_share_one_socket_to_send_and_receive() {
    run_bounded(LIMIT, || async {
        let socket = Rc::new(bind_local().await);
        let peer = bind_local().await;
        socket.connect(addr_of(&peer)).await.expect("connect");
        let receiver = {
            let socket = Rc::clone(&socket);
            eddy::spawn(async move {
                let mut buf = [0u8; 16];
                let n = socket.recv(&mut buf).await.expect("recv");
                buf[..n].to_vec()
            })
        };
        socket.send(b"ping").await.expect("send");
        let mut buf = [0u8; 16];
        let (n, from) = peer.recv_from(&mut buf).await.expect("peer recv");
        assert_eq!(&buf[..n], b"ping");
        peer.send_to(b"pong", from).await.expect("peer reply");
        assert_eq!(receiver.await.expect("receiver task"), b"pong");
    });
}

#[test]
fn socket_options_read_back_what_was_set() {
    run_bounded(LIMIT, || async {
        let socket = bind_local().await;
        socket.set_broadcast(true).expect("set_broadcast");
        assert!(socket.broadcast().expect("broadcast"));
        socket.set_ttl(42).expect("set_ttl");
        assert_eq!(socket.ttl().expect("ttl"), 42);
        assert!(socket.take_error().expect("take_error").is_none());
    });
}

#[test]
fn from_std_and_into_std_keep_the_same_socket() {
    run_bounded(LIMIT, || async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("std bind");
        let addr = std_socket.local_addr().expect("local_addr");
        let socket = UdpSocket::from_std(std_socket).expect("from_std");
        assert_eq!(addr_of(&socket), addr);
        let sender = bind_local().await;
        sender.send_to(b"via eddy", addr).await.expect("send");
        let mut buf = [0u8; 16];
        let n = socket.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"via eddy");
        let back = socket.into_std().expect("into_std");
        assert_eq!(back.local_addr().expect("local_addr"), addr);
    });
}

/// `TryFrom` is `from_std`, as tokio's and smol's conversions are: the
/// converted socket receives while its sender sends in the same task, and
/// outside a runtime the conversion fails with the same clear error.
#[test]
fn try_from_converts_a_std_socket_as_from_std_does() {
    run_bounded(LIMIT, || async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("std bind");
        let socket = UdpSocket::try_from(std_socket).expect("try_from");
        let sender = bind_local().await;
        let mut buf = [0u8; 16];
        let (received, sent) = futures_util::future::join(socket.recv_from(&mut buf), async {
            eddy::task::yield_now().await;
            sender.send_to(b"converted", addr_of(&socket)).await
        })
        .await;
        sent.expect("send_to");
        let (n, from) = received.expect("recv_from");
        assert_eq!((&buf[..n], from), (&b"converted"[..], addr_of(&sender)));
    });
    let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("std bind");
    assert_no_runtime_error(UdpSocket::try_from(std_socket), "UdpSocket::try_from");
}

#[test]
fn a_socket_that_outlived_its_runtime_fails_with_the_shutdown_error() {
    with_deadline(LIMIT, || {
        let runtime = eddy::Runtime::new().expect("runtime");
        let socket = runtime.block_on(bind_local());
        drop(runtime);

        let mut buf = [0u8; 16];
        let error = socket.try_recv(&mut buf).expect_err("the runtime is gone");
        assert!(eddy::is_shutdown_error(&error), "try_recv: {error}");
        // Waiting on it from another runtime ends at once instead of hanging.
        let error = eddy::run(socket.recv_from(&mut buf)).expect_err("the runtime is gone");
        assert!(eddy::is_shutdown_error(&error), "recv_from: {error}");
        let error = eddy::run(socket.send_to(b"x", "127.0.0.1:9")).expect_err("gone");
        assert!(eddy::is_shutdown_error(&error), "send_to: {error}");
    });
}

#[test]
fn creating_a_socket_outside_a_runtime_is_an_error_not_a_panic() {
    let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("std bind");
    assert_no_runtime_error(UdpSocket::from_std(std_socket), "UdpSocket::from_std");
}

#[test]
fn tasks_sharing_a_socket_are_each_woken_for_a_datagram() {
    run_bounded(LIMIT, || async {
        let server = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = server.local_addr().unwrap();
        // Two tasks wait in `recv_from` on one socket before anything is
        // sent: each must receive one datagram.
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let server = server.clone();
                eddy::spawn(async move {
                    let mut buf = [0u8; 16];
                    server.recv_from(&mut buf).await.map(|(n, _)| n)
                })
            })
            .collect();
        eddy::time::sleep(Duration::from_millis(20)).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"one", addr).await.unwrap();
        eddy::time::sleep(Duration::from_millis(20)).await;
        client.send_to(b"two", addr).await.unwrap();
        for receiver in receivers {
            let received = eddy::time::timeout(Duration::from_secs(10), receiver).await;
            let n = received
                .expect("a receiver slept through its datagram")
                .unwrap()
                .unwrap();
            assert_eq!(n, 3);
        }
    });
}

#[test]
fn a_receive_after_shutting_the_read_side_waits_without_spinning_and_gets_later_datagrams() {
    run_bounded(LIMIT, || async {
        let sender = bind_local().await;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        // Linux shuts down only a connected datagram socket.
        socket.connect(addr_of(&sender)).expect("connect");
        // SAFETY: shutdown(2) on a descriptor the socket owns; it changes
        // no memory.
        let rc = unsafe { libc::shutdown(socket.as_raw_fd(), libc::SHUT_RD) };
        assert_eq!(rc, 0, "shutdown: {}", io::Error::last_os_error());
        let receiver = UdpSocket::from_std(socket).expect("from_std");
        let receiver_addr = addr_of(&receiver);

        let polls = Rc::new(Cell::new(0));
        let receiving = eddy::spawn(count_polls(polls.clone(), async move {
            let mut buf = [0u8; 64];
            let len = receiver.recv(&mut buf).await?;
            io::Result::Ok(buf[..len].to_vec())
        }));
        // However long this takes, a receive that waits is polled once in
        // it; one that spins (the read-closed bit kept after `EAGAIN`) is
        // polled after every spent budget.
        eddy::time::sleep(Duration::from_millis(100)).await;
        assert!(
            polls.get() <= 2,
            "the receive was polled {} times with nothing to receive",
            polls.get()
        );

        // UDP still queues datagrams after SHUT_RD: the wait must end.
        sender
            .send_to(b"later", receiver_addr)
            .await
            .expect("send_to");
        let got = receiving.await.expect("task").expect("recv");
        assert_eq!(got, b"later");
    });
}

#[test]
fn a_zero_length_datagram_is_a_message_of_length_zero_not_an_end_of_stream() {
    run_bounded(LIMIT, || async {
        let receiver = bind_local().await;
        let sender = bind_local().await;
        let sent = sender
            .send_to(&[], addr_of(&receiver))
            .await
            .expect("send an empty datagram");
        assert_eq!(sent, 0);
        sender
            .send_to(b"after", addr_of(&receiver))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        // The empty datagram is one message, with its sender, and the next
        // receive gets the next datagram: nothing treats 0 as "closed".
        let (n, from) = receiver.recv_from(&mut buf).await.expect("recv empty");
        assert_eq!((n, from), (0, addr_of(&sender)));
        let (n, from) = receiver.recv_from(&mut buf).await.expect("recv next");
        assert_eq!((&buf[..n], from), (&b"after"[..], addr_of(&sender)));
    });
}

#[test]
fn send_on_an_unconnected_socket_fails_with_no_destination() {
    run_bounded(LIMIT, || async {
        let socket = bind_local().await;
        let error = socket.send(b"to nobody").await.expect_err("no peer");
        assert_eq!(error.raw_os_error(), Some(libc::EDESTADDRREQ), "{error}");
    });
}

#[test]
fn a_receive_from_a_connected_port_nobody_listens_on_is_refused_then_waits_for_a_datagram() {
    run_bounded(LIMIT, || async {
        // A port that is free now: nobody listens there until we bind it.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let closed_addr = closed.local_addr().expect("local_addr");
        drop(closed);
        let socket = bind_local().await;
        socket.connect(closed_addr).await.expect("connect");
        socket.send(b"anyone?").await.expect("send");
        // The ICMP port-unreachable becomes the socket's error, which the
        // pending receive must report rather than wait or spin.
        let mut buf = [0u8; 16];
        let error = socket.recv(&mut buf).await.expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");

        // The error is consumed: the next receive waits, without spinning,
        // and gets the datagram a listener that appears later sends.
        let socket = Rc::new(socket);
        let polls = Rc::new(Cell::new(0));
        let receiving = eddy::spawn(count_polls(polls.clone(), {
            let socket = socket.clone();
            async move {
                let mut buf = [0u8; 16];
                let n = socket.recv(&mut buf).await?;
                io::Result::Ok(buf[..n].to_vec())
            }
        }));
        eddy::time::sleep(Duration::from_millis(50)).await;
        assert!(
            polls.get() <= 2,
            "the receive was polled {} times with nothing to receive",
            polls.get()
        );
        let listener = UdpSocket::bind(closed_addr).await.expect("rebind the port");
        listener
            .send_to(b"here", addr_of(&socket))
            .await
            .expect("send back");
        assert_eq!(receiving.await.expect("task").expect("recv"), b"here");
    });
}

#[test]
fn try_recv_on_an_empty_socket_would_block_and_leaves_it_writable() {
    run_bounded(LIMIT, || async {
        let socket = bind_local().await;
        socket.writable().await.expect("writable");
        let mut buf = [0u8; 16];
        let error = socket.try_recv(&mut buf).expect_err("nothing was sent");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        let error = socket
            .try_recv_from(&mut buf)
            .expect_err("nothing was sent");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        // An empty receive queue says nothing about sending: clearing the
        // write readiness for it would leave `writable` waiting for an
        // edge that never comes, the socket being writable all along.
        let writable = std::pin::pin!(socket.writable());
        assert!(
            poll_once(writable).await.is_ready(),
            "a receive that would block cleared the socket's write readiness"
        );
    });
}

#[test]
fn send_to_an_address_list_sends_to_the_first_address_only() {
    run_bounded(LIMIT, || async {
        let sender = bind_local().await;
        let first = bind_local().await;
        let second = bind_local().await;
        let targets = [addr_of(&first), addr_of(&second)];
        assert_eq!(
            sender.send_to(b"one", &targets[..]).await.expect("send_to"),
            3
        );
        let mut buf = [0u8; 16];
        let (n, from) = first.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!((&buf[..n], from), (&b"one"[..], addr_of(&sender)));
        // Loopback delivers at once: had it gone there, it would be queued.
        let error = second
            .try_recv(&mut buf)
            .expect_err("the second address got a datagram too");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_TYPE")]
fn a_udp_socket_built_from_a_stream_socket_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        // A listening TCP socket turns readable only when a client
        // connects: taken for a datagram socket, a `recv_from` waited for
        // that, with no client for ever.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let not_datagrams = std::net::UdpSocket::from(OwnedFd::from(listener));
        let error = UdpSocket::from_std(not_datagrams)
            .expect_err("a stream socket was taken for a datagram socket");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

/// Sends `count` numbered datagrams (see [`numbered`]) from `sender` to
/// `to` (with `send` if `sender` is connected there, else `send_to`), at
/// random moments, never more than 32 ahead of `received`, so the
/// receiver's queue cannot overflow (which would drop datagrams and fail
/// the test for the wrong reason). Each send is raced against a random
/// cancellation too, and one dropped is sent again.
fn spawn_paced_sender(
    sender: UdpSocket,
    to: SocketAddr,
    count: u32,
    received: Rc<Cell<u32>>,
    seed: u64,
) {
    eddy::spawn(async move {
        let mut rng = eddy_tests::XorShift(seed ^ 0xA5A5);
        let connected = sender.peer_addr().is_ok();
        let mut i = 0;
        while i < count {
            while i >= received.get() + 32 {
                eddy::task::yield_now().await;
            }
            let datagram = numbered(i);
            let sent = if connected {
                eddy_tests::cancel_at_random(&mut rng, sender.send(&datagram)).await
            } else {
                eddy_tests::cancel_at_random(&mut rng, sender.send_to(&datagram, to)).await
            };
            if let Some(result) = sent {
                assert_eq!(result.expect("send"), datagram.len());
                i += 1;
            }
            for _ in 0..rng.below(3) {
                eddy::task::yield_now().await;
            }
        }
    });
}

/// Checks that `got` is the datagram numbered `received` (none lost,
/// repeated or out of order), then counts it.
fn expect_next_in_order(got: &[u8], received: &Cell<u32>, seed: u64) {
    assert_eq!(
        got,
        &numbered(received.get())[..],
        "seed {seed:#x}: datagram {} lost, repeated or out of order",
        received.get()
    );
    received.set(received.get() + 1);
}

/// The cancellation seeds of the tests below; a failing one is in the
/// failure message.
const CANCEL_SEEDS: [u64; 3] = [0x9E37_79B9, 0xC0FF_EE11, 0x5EED_0003];

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn receives_dropped_at_random_points_get_every_datagram_once_in_order() {
    const COUNT: u32 = 2_000;
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let receiver = bind_local().await;
            let received = Rc::new(Cell::new(0u32));
            spawn_paced_sender(
                bind_local().await,
                addr_of(&receiver),
                COUNT,
                received.clone(),
                seed,
            );
            let mut buf = [0u8; 64];
            let mut dropped = 0;
            while received.get() < COUNT {
                // Now and then a `peek_from` raced and dropped too: it must
                // leave the datagram for the receive.
                if rng.below(3) == 0 {
                    let peeked =
                        eddy_tests::cancel_at_random(&mut rng, receiver.peek_from(&mut buf)).await;
                    if let Some(result) = peeked {
                        let (n, _) = result.expect("peek_from");
                        let expected = numbered(received.get());
                        assert_eq!(&buf[..n], &expected[..], "seed {seed:#x}: peek_from");
                    }
                }
                let Some(result) =
                    eddy_tests::cancel_at_random(&mut rng, receiver.recv_from(&mut buf)).await
                else {
                    dropped += 1;
                    continue;
                };
                let (n, _) = result.expect("recv_from");
                expect_next_in_order(&buf[..n], &received, seed);
            }
            assert!(dropped > 0, "seed {seed:#x}: no receive was ever dropped");
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn connected_receives_dropped_at_random_points_get_every_datagram_once_in_order() {
    const COUNT: u32 = 2_000;
    for seed in CANCEL_SEEDS {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            let receiver = bind_local().await;
            let sender = bind_local().await;
            receiver.connect(addr_of(&sender)).await.expect("connect");
            sender.connect(addr_of(&receiver)).await.expect("connect");
            let received = Rc::new(Cell::new(0u32));
            spawn_paced_sender(sender, addr_of(&receiver), COUNT, received.clone(), seed);
            let mut buf = [0u8; 64];
            let mut dropped = 0;
            while received.get() < COUNT {
                let Some(result) =
                    eddy_tests::cancel_at_random(&mut rng, receiver.recv(&mut buf)).await
                else {
                    dropped += 1;
                    continue;
                };
                let n = result.expect("recv");
                expect_next_in_order(&buf[..n], &received, seed);
            }
            assert!(dropped > 0, "seed {seed:#x}: no receive was ever dropped");
        });
    }
}
