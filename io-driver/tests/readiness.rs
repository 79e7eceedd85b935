//! Readiness from real loopback sockets reaches `Registration` polls.
// These need a real OS poller; loom builds (`--cfg loom`) only run the lib's loom models.
#![cfg(not(loom))]

mod support;

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};
use std::time::Duration;

use eddy_io_driver::Driver;
use eddy_registration::{Direction, Interest};
use support::drive::{drive, poll_once, turn_until_event};
use support::flag_waker::FlagWaker;
use support::net::{quiet_listener, tcp_pair};
use support::register::register;

fn driver() -> Driver {
    Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver")
}

#[test]
fn listener_becomes_readable_when_a_connection_arrives() {
    let mut driver = driver();
    let mut listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let reg = register(&mut listener, Interest::READABLE, driver.handle()).unwrap();
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_pending(),
        "readable before any connect"
    );

    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let event = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();
    assert!(event.ready.is_readable());
    listener
        .accept()
        .expect("the readiness promised a connection");
}

#[test]
fn connected_pair_is_writable_and_becomes_readable_when_the_peer_writes() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let interest = Interest::READABLE.add(Interest::WRITABLE);
    let creg = register(&mut client, interest, driver.handle()).unwrap();
    let sreg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();

    let event = drive(&mut driver, |cx| creg.poll_write_ready(cx)).unwrap();
    assert!(event.ready.is_writable());
    assert!(
        poll_once(|cx| sreg.poll_read_ready(cx)).is_pending(),
        "readable before any data"
    );

    client.write_all(b"ping").unwrap();
    let event = drive(&mut driver, |cx| sreg.poll_read_ready(cx)).unwrap();
    assert!(event.ready.is_readable());
    let mut buf = [0; 16];
    assert_eq!(server.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"ping");
}

#[test]
fn peer_close_sets_read_closed_and_the_read_returns_eof() {
    let mut driver = driver();
    let (client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    drop(client);

    let event = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();
    assert!(event.ready.is_read_closed(), "{:?}", event.ready);
    assert_eq!(server.read(&mut [0; 16]).unwrap(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn peer_reset_sets_error_or_read_closed_and_the_next_read_returns_the_os_error() {
    let mut driver = driver();
    let (client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    // Linger 0 makes close send RST instead of FIN.
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);

    let event = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();
    assert!(
        event.ready.is_error() || event.ready.is_read_closed(),
        "{:?}",
        event.ready
    );
    let err = server
        .read(&mut [0; 16])
        .expect_err("read after RST succeeded");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

#[test]
#[cfg_attr(miri, ignore = "Miri: epoll reports changes, not each arrival")]
fn readiness_from_an_event_between_poll_and_clear_survives_the_stale_clear() {
    let mut driver = driver();
    let (mut client, server) = tcp_pair();
    let mut server = server;
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();

    client.write_all(b"a").unwrap();
    let seen = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();

    // New data, and a turn that delivers its event, before the task gets
    // around to clearing what it saw.
    client.write_all(b"b").unwrap();
    turn_until_event(&mut driver);
    reg.clear_readiness(seen);
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_ready(),
        "the stale clear erased readiness from the newer event"
    );

    // Control: a clear with the current tick does clear.
    let current = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();
    let mut buf = [0; 16];
    assert_eq!(server.read(&mut buf).unwrap(), 2);
    reg.clear_readiness(current);
    assert!(poll_once(|cx| reg.poll_read_ready(cx)).is_pending());
}

#[test]
fn short_read_clears_read_readiness_without_a_second_read() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    client.write_all(b"hello").unwrap();

    let mut reads = 0;
    let mut buf = [0; 64];
    let n = drive(&mut driver, |cx| {
        reg.poll_read_into(cx, &mut buf, |b| {
            reads += 1;
            server.read(b)
        })
    })
    .unwrap();
    assert_eq!((n, reads), (5, 1));
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_pending(),
        "short read kept readiness"
    );
}

/// While urgent data is reported a short read proves nothing, so
/// `poll_read_into` keeps readiness then; the `WouldBlock` that drains the
/// stream clears `PRIORITY` with it. Kept instead, the bit stayed set for
/// good, and every later short read on the socket was followed by a second
/// `recv` that could only say `WouldBlock`.
#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
#[cfg_attr(miri, ignore = "Miri: no MSG_OOB")]
fn once_urgent_data_is_drained_a_short_read_clears_read_readiness_again() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let interest = Interest::READABLE.add(Interest::PRIORITY);
    let reg = register(&mut server, interest, driver.handle()).unwrap();
    client.write_all(b"ab").unwrap();
    let urgent = socket2::SockRef::from(&client)
        .send_out_of_band(b"!")
        .unwrap();
    assert_eq!(urgent, 1);
    let mut priority = Box::pin(reg.readiness(Interest::PRIORITY));
    let event = drive(&mut driver, |cx| priority.as_mut().poll(cx)).unwrap();
    assert!(event.ready.is_priority(), "{:?}", event.ready);
    drop(priority);
    // Taken out of band, so no urgent data is pending any more.
    let mut oob = [std::mem::MaybeUninit::<u8>::uninit(); 4];
    let taken = socket2::SockRef::from(&server)
        .recv_out_of_band(&mut oob)
        .unwrap();
    assert_eq!(taken, 1);

    // Read to WouldBlock: the first read ends short, at the urgent mark.
    let mut buf = [0; 64];
    let n = drive(&mut driver, |cx| {
        reg.poll_read_into(cx, &mut buf, |b| server.read(b))
    })
    .unwrap();
    assert_eq!(&buf[..n], b"ab");
    assert!(
        poll_once(|cx| reg.poll_read_into(cx, &mut buf, |b| server.read(b))).is_pending(),
        "the stream was drained"
    );

    // New data, no urgent data: a short read clears readiness again.
    client.write_all(b"cd").unwrap();
    let mut reads = 0;
    let n = drive(&mut driver, |cx| {
        reg.poll_read_into(cx, &mut buf, |b| {
            reads += 1;
            server.read(b)
        })
    })
    .unwrap();
    assert_eq!((&buf[..n], reads), (&b"cd"[..], 1));
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_pending(),
        "a short read kept readiness long after the urgent data was drained"
    );
}

#[test]
fn full_buffer_read_keeps_read_readiness() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    client.write_all(b"12345678").unwrap();

    let mut buf = [0; 4];
    let n = drive(&mut driver, |cx| {
        reg.poll_read_into(cx, &mut buf, |b| server.read(b))
    })
    .unwrap();
    assert_eq!(n, 4);
    let n = match poll_once(|cx| reg.poll_read_into(cx, &mut buf, |b| server.read(b))) {
        Poll::Ready(n) => n.unwrap(),
        Poll::Pending => panic!("readiness lost after a full read: 4 bytes are still queued"),
    };
    assert_eq!(n, 4);
}

#[test]
fn end_of_stream_keeps_read_readiness_so_every_read_sees_it() {
    let mut driver = driver();
    let (client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    client.shutdown(Shutdown::Write).unwrap();

    let mut buf = [0; 16];
    let n = drive(&mut driver, |cx| {
        reg.poll_read_into(cx, &mut buf, |b| server.read(b))
    })
    .unwrap();
    assert_eq!(n, 0);
    let again = poll_once(|cx| reg.poll_read_into(cx, &mut buf, |b| server.read(b)));
    assert!(
        matches!(again, Poll::Ready(Ok(0))),
        "EOF readiness was cleared"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri: epoll reports changes, not each arrival")]
fn poll_io_clears_readiness_on_would_block_and_retries_after_the_next_event() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    client.write_all(b"x").unwrap();
    turn_until_event(&mut driver);

    // The closure claims WouldBlock although data is there (as after a
    // spurious wake-up): poll_io must clear readiness and wait, not spin.
    let mut calls = 0;
    let first = poll_once(|cx| {
        reg.poll_io(cx, Direction::Read, || {
            calls += 1;
            Err::<usize, _>(io::ErrorKind::WouldBlock.into())
        })
    });
    assert!(first.is_pending());
    assert_eq!(calls, 1);

    client.write_all(b"y").unwrap();
    let mut buf = [0; 16];
    let n = drive(&mut driver, |cx| {
        reg.poll_io(cx, Direction::Read, || server.read(&mut buf))
    })
    .unwrap();
    assert_eq!(&buf[..n], b"xy");
}

/// A UDP socket whose read side is shut down reports `READ_CLOSED` on every
/// event while `recv` says `WouldBlock`. `poll_io` must clear that bit too
/// on `WouldBlock` and wait; keeping it (as a read that drained a stream
/// does) made the loop inside `poll_io` find the socket ready again at
/// once, and it called `recv` forever without returning.
#[test]
#[cfg_attr(miri, ignore = "Miri: no UDP sockets")]
fn poll_io_waits_on_a_datagram_socket_whose_read_side_is_shut_down() {
    let mut driver = driver();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(peer.local_addr().unwrap()).unwrap();
    socket.set_nonblocking(true).unwrap();
    socket2::SockRef::from(&socket)
        .shutdown(Shutdown::Read)
        .unwrap();
    let mut socket = mio::net::UdpSocket::from_std(socket);
    let reg = register(&mut socket, Interest::READABLE, driver.handle()).unwrap();

    let event = drive(&mut driver, |cx| reg.poll_read_ready(cx)).unwrap();
    assert!(event.ready.is_read_closed(), "{:?}", event.ready);

    // Bounded, so that a poll_io that keeps retrying ends (with a value the
    // socket could never have given) instead of hanging the test.
    const MAX_CALLS: usize = 100;
    let mut calls = 0;
    let mut buf = [0; 16];
    let first = poll_once(|cx| {
        reg.poll_io(cx, Direction::Read, || {
            calls += 1;
            if calls > MAX_CALLS {
                return Ok(usize::MAX);
            }
            socket.recv(&mut buf)
        })
    });
    assert!(
        first.is_pending(),
        "poll_io kept retrying a WouldBlock recv: {first:?} after {calls} calls"
    );
    assert_eq!(calls, 1);

    // A datagram still queues after SHUT_RD, and its event ends the wait.
    peer.send_to(b"later", socket.local_addr().unwrap())
        .unwrap();
    let n = drive(&mut driver, |cx| {
        reg.poll_io(cx, Direction::Read, || socket.recv(&mut buf))
    })
    .unwrap();
    assert_eq!(&buf[..n], b"later");
}

#[test]
fn try_io_is_would_block_without_calling_f_until_ready_and_clears_on_would_block() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    let mut buf = [0; 16];

    let err = reg
        .try_io(Interest::READABLE, || -> io::Result<usize> {
            panic!("f called while not ready")
        })
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

    client.write_all(b"abc").unwrap();
    turn_until_event(&mut driver);
    assert_eq!(
        reg.try_io(Interest::READABLE, || server.read(&mut buf))
            .unwrap(),
        3
    );

    let err = reg
        .try_io(Interest::READABLE, || server.read(&mut buf))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_pending(),
        "WouldBlock left readiness set"
    );
}

/// `try_io` clears the readiness it ran under when `f` says `WouldBlock`.
/// Under an interest of both directions that was both: a read that would
/// block cleared `WRITABLE` too, and the socket's writer then waited for
/// an event that edge-triggered polling never sends again (its send buffer
/// was empty all along). Such an interest is refused instead: nothing tells
/// which direction `f` found blocked.
#[test]
fn try_io_refuses_an_interest_of_both_directions_so_a_read_cannot_strand_the_writer() {
    let mut driver = driver();
    let (_client, mut server) = tcp_pair();
    let both = Interest::READABLE.add(Interest::WRITABLE);
    let reg = register(&mut server, both, driver.handle()).unwrap();
    drive(&mut driver, |cx| reg.poll_write_ready(cx)).expect("writable");

    let mut called = false;
    let result = reg.try_io(both, || {
        called = true;
        (&server).read(&mut [0; 16])
    });
    assert!(
        poll_once(|cx| reg.poll_write_ready(cx)).is_ready(),
        "a read's WouldBlock cleared the write readiness ({result:?}): a writer would wait forever"
    );
    let err = result.expect_err("an interest of both directions was run");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(!called, "f ran under a refused interest");
}

/// Asserts that a wait was refused with `InvalidInput` rather than parked.
fn refused<T: std::fmt::Debug>(polled: Poll<io::Result<T>>, what: &str) {
    match polled {
        Poll::Ready(Err(err)) => assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}"),
        other => panic!("{what} for a direction not registered: {other:?} (it waits forever)"),
    }
}

/// A source registered for one direction never gets the other's events
/// (epoll and kqueue report only what was asked for, errors and a full
/// hang-up aside). A wait for that other direction used to park for good,
/// here with the bytes it waited for already in the socket; it now fails
/// at once with `InvalidInput`. Waits the registration can serve are
/// unchanged.
#[test]
fn waiting_for_a_direction_the_source_is_not_registered_for_fails_instead_of_hanging() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::WRITABLE, driver.handle()).unwrap();
    client.write_all(b"never reported").unwrap();
    turn_until_event(&mut driver);

    refused(poll_once(|cx| reg.poll_read_ready(cx)), "poll_read_ready");
    // (`poll_io` and `poll_read_into`, the sockets' I/O path, do not check:
    // see `Registration::poll_io`.)
    let mut wait = std::pin::pin!(reg.readiness(Interest::READABLE));
    refused(
        poll_once(|cx| wait.as_mut().poll(cx)),
        "readiness(READABLE)",
    );
    // What it is registered for still works.
    assert!(matches!(
        poll_once(|cx| reg.poll_write_ready(cx)),
        Poll::Ready(Ok(_))
    ));
    let mut either = std::pin::pin!(reg.readiness(Interest::READABLE.add(Interest::WRITABLE)));
    assert!(matches!(
        poll_once(|cx| either.as_mut().poll(cx)),
        Poll::Ready(Ok(_))
    ));

    // And the other way round: a listener registered for readable only.
    let mut listener = quiet_listener();
    let reg = register(&mut listener, Interest::READABLE, driver.handle()).unwrap();
    refused(poll_once(|cx| reg.poll_write_ready(cx)), "poll_write_ready");
    // An error-only wait is one every source can end: it waits.
    let mut error = std::pin::pin!(reg.readiness(Interest::ERROR));
    assert!(poll_once(|cx| error.as_mut().poll(cx)).is_pending());
    assert!(poll_once(|cx| reg.poll_read_ready(cx)).is_pending());
}

#[test]
fn readiness_future_resolves_when_the_peer_writes() {
    let mut driver = driver();
    let (mut client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    let mut fut = Box::pin(reg.readiness(Interest::READABLE));
    assert!(poll_once(|cx| fut.as_mut().poll(cx)).is_pending());

    client.write_all(b"z").unwrap();
    let event = drive(&mut driver, |cx| fut.as_mut().poll(cx)).unwrap();
    assert!(event.ready.is_readable());
}

#[test]
fn close_write_wakes_a_waiting_writer_with_write_closed_and_no_driver_turn() {
    let driver = driver();
    let (mut stream, _peer) = mio::net::UnixStream::pair().unwrap();
    // Both directions, so that the read wait at the end is one that could
    // end (a write-only registration refuses it outright).
    let both = Interest::READABLE.add(Interest::WRITABLE);
    let reg = register(&mut stream, both, driver.handle()).unwrap();
    // No turn yet, so no event: the writer parks.
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(reg.poll_write_ready(&mut cx).is_pending());

    reg.close_write();
    assert!(flag.take_woken(), "the waiting writer was not woken");
    let Poll::Ready(event) = reg.poll_write_ready(&mut cx) else {
        panic!("still waiting after close_write");
    };
    let event = event.unwrap();
    assert!(event.ready.is_write_closed(), "{:?}", event.ready);
    assert!(
        poll_once(|cx| reg.poll_read_ready(cx)).is_pending(),
        "closing the write side made the read side ready"
    );
}
