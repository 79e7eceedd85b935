//! std's sockets in and out: `from_std`, `TryFrom`, `into_std`, the
//! sockets `from_std` refuses, and the descriptor each type lends.

use std::cell::Cell;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::rc::Rc;

use eddy::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_tests::{poll_once, run_bounded, socket_type};

use crate::{LIMIT, TempDir};

/// `from_std` refuses a stream socket that is not listening: std's
/// `accept` on it fails at once with `EINVAL`, but eddy's waited for read
/// readiness first, which a connected stream whose peer is silent never
/// gets: the `accept` waited forever.
#[test]
fn a_listener_built_from_a_socket_that_is_not_listening_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let (connected, _peer) = std::os::unix::net::UnixStream::pair().expect("pair");
        let not_a_listener = std::os::unix::net::UnixListener::from(OwnedFd::from(connected));
        match UnixListener::from_std(not_a_listener) {
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}"),
            Ok(taken) => {
                let first = poll_once(std::pin::pin!(taken.accept())).await;
                panic!(
                    "a connected stream was taken for a listener; the first poll of its \
                     accept gave {:?}",
                    first.map(|accepted| accepted.map(drop))
                );
            }
        }
    });
}

/// `from_std` refuses a listening socket handed over as a stream: std's
/// read on it fails at once with `ENOTCONN`, but eddy's waited for
/// readiness first, which a listening socket reports only when a client
/// connects: with none, forever.
#[test]
fn a_stream_built_from_a_listening_socket_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    let dir = TempDir::new();
    let path = dir.join("listening.sock");
    run_bounded(LIMIT, move || async move {
        let listening = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let not_a_stream = std::os::unix::net::UnixStream::from(OwnedFd::from(listening));
        match UnixStream::from_std(not_a_stream) {
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}"),
            Ok(mut taken) => {
                let read = poll_once(std::pin::pin!(taken.read(&mut [0; 4]))).await;
                let write = poll_once(std::pin::pin!(taken.write(b"x"))).await;
                panic!(
                    "a listening socket was taken for a stream; the first poll of a read gave \
                     {read:?}, of a write {write:?}"
                );
            }
        }
    });
}

/// `TryFrom` is `from_std`, as tokio's and smol's conversions are: the
/// converted listener accepts, the converted stream reads and the
/// converted datagram socket receives, each while its peer acts in the
/// same task, and a socket `from_std` refuses is refused with the same
/// error.
#[test]
fn try_from_converts_std_unix_sockets_as_from_std_does() {
    use std::os::fd::OwnedFd;
    let dir = TempDir::new();
    let path = dir.join("try_from.sock");
    run_bounded(LIMIT, move || async move {
        let std_listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let listener = UnixListener::try_from(std_listener).expect("try_from a listener");
        let (accepted, client) = futures_util::future::join(listener.accept(), async {
            eddy::task::yield_now().await;
            std::os::unix::net::UnixStream::connect(&path).expect("connect")
        })
        .await;
        let (mut accepted, _) = accepted.expect("accept");
        let mut client = UnixStream::try_from(client).expect("try_from a stream");
        let mut buf = [0u8; 4];
        let (read, written) = futures_util::future::join(client.read_exact(&mut buf), async {
            eddy::task::yield_now().await;
            accepted.write_all(b"ping").await
        })
        .await;
        read.expect("read");
        written.expect("write");
        assert_eq!(&buf, b"ping");

        let (a, b) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let a = UnixDatagram::try_from(a).expect("try_from a datagram socket");
        let (received, sent) = futures_util::future::join(a.recv(&mut buf), async {
            eddy::task::yield_now().await;
            b.send(b"pong")
        })
        .await;
        assert_eq!(sent.expect("send"), 4);
        assert_eq!(received.expect("recv"), 4);
        assert_eq!(&buf, b"pong");

        let listening =
            std::os::unix::net::UnixListener::bind(path.with_extension("2")).expect("bind");
        let not_a_stream = std::os::unix::net::UnixStream::from(OwnedFd::from(listening));
        let error = UnixStream::try_from(not_a_stream).expect_err("a listening socket");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn every_unix_socket_lends_its_own_descriptor() {
    run_bounded(LIMIT, || async {
        let dir = TempDir::new();
        let listener = UnixListener::bind(dir.join("sock")).expect("bind");
        let (stream, _peer) = UnixStream::pair().expect("pair");
        let (datagram, _other) = UnixDatagram::pair().expect("pair");
        assert_eq!(socket_type(&listener), libc::SOCK_STREAM);
        assert_eq!(socket_type(&stream), libc::SOCK_STREAM);
        assert_eq!(socket_type(&datagram), libc::SOCK_DGRAM);
        assert_eq!(
            stream.as_raw_fd(),
            std::os::fd::AsFd::as_fd(&stream).as_raw_fd()
        );
    });
}

#[test]
fn from_std_makes_blocking_sockets_wait_without_blocking_the_runtime() {
    let dir = TempDir::new();
    let path = dir.join("blocking.sock");
    run_bounded(LIMIT, move || async move {
        // std's sockets are blocking. Left so, the reader's second `recv`
        // (a Unix stream stays marked readable until `WouldBlock`) and the
        // acceptor's second `accept` would block the runtime's thread, and
        // this future, which sends what they wait for, would never run.
        let (std_a, mut peer) = std::os::unix::net::UnixStream::pair().expect("pair");
        let mut stream = UnixStream::from_std(std_a).expect("from_std");
        let std_listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let listener = UnixListener::from_std(std_listener).expect("from_std");
        let progress = Rc::new(Cell::new(0));
        let reader = eddy::spawn({
            let progress = progress.clone();
            async move {
                let mut buf = [0u8; 16];
                let first = stream.read(&mut buf).await.expect("first read");
                progress.set(progress.get() + 1);
                let second = stream.read(&mut buf[first..]).await.expect("second read");
                buf[..first + second].to_vec()
            }
        });
        let acceptor = eddy::spawn({
            let progress = progress.clone();
            async move {
                let _first = listener.accept().await.expect("first accept");
                progress.set(progress.get() + 1);
                listener.accept().await.map(drop).expect("second accept");
            }
        });
        peer.write_all(b"hello").expect("peer write");
        let _first_client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        while progress.get() < 2 {
            eddy::task::yield_now().await;
        }
        // Both tasks now wait on sockets with nothing to take.
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        peer.write_all(b"world").expect("peer write");
        let _second_client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        assert_eq!(reader.await.expect("reader"), b"helloworld");
        acceptor.await.expect("acceptor");
    });
}

#[test]
fn from_std_and_into_std_keep_the_same_sockets() {
    run_bounded(LIMIT, || async {
        let (std_a, std_b) = std::os::unix::net::UnixStream::pair().expect("std pair");
        let mut a = UnixStream::from_std(std_a).expect("from_std");
        a.write_all(b"std").await.expect("write");
        let mut b = UnixStream::from_std(std_b).expect("from_std");
        let mut buf = [0u8; 3];
        b.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"std");
        drop(b.into_std().expect("into_std"));
        let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().expect("std pair");
        let a = UnixDatagram::from_std(std_a).expect("from_std");
        drop(UnixDatagram::from_std(std_b).expect("from_std"));
        drop(a.into_std().expect("into_std"));
    });
}

#[test]
fn from_std_makes_a_blocking_datagram_socket_wait_without_blocking_the_runtime() {
    run_bounded(LIMIT, || async {
        // std's sockets are blocking. Left so, the second `recv` (the
        // socket stays marked readable until `WouldBlock`) would block the
        // runtime's thread, and this future, which sends what it waits
        // for, would never run again.
        let (std_socket, peer) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let socket = UnixDatagram::from_std(std_socket).expect("from_std");
        let first_in = Rc::new(Cell::new(false));
        let reader = eddy::spawn({
            let first_in = first_in.clone();
            async move {
                let mut buf = [0u8; 16];
                let first = socket.recv(&mut buf).await.expect("first recv");
                first_in.set(true);
                let second = socket.recv(&mut buf[first..]).await.expect("second recv");
                buf[..first + second].to_vec()
            }
        });
        peer.send(b"hello").expect("peer send");
        while !first_in.get() {
            eddy::task::yield_now().await;
        }
        // The reader now waits on a socket with nothing queued.
        for _ in 0..10 {
            eddy::task::yield_now().await;
        }
        peer.send(b"world").expect("peer send");
        assert_eq!(reader.await.expect("reader"), b"helloworld");
    });
}

#[test]
fn a_unix_listener_built_from_a_datagram_socket_is_refused_instead_of_spinning() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let (datagram, _peer) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        let not_a_listener = std::os::unix::net::UnixListener::from(OwnedFd::from(datagram));
        let error = UnixListener::from_std(not_a_listener)
            .expect_err("a datagram socket was taken for a listener");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}

#[test]
fn a_unix_datagram_socket_built_from_a_stream_socket_is_refused_instead_of_waiting() {
    use std::os::fd::OwnedFd;
    run_bounded(LIMIT, || async {
        let dir = TempDir::new();
        let listener = std::os::unix::net::UnixListener::bind(dir.join("s")).expect("bind");
        let not_datagrams = std::os::unix::net::UnixDatagram::from(OwnedFd::from(listener));
        let error = UnixDatagram::from_std(not_datagrams)
            .expect_err("a stream socket was taken for a datagram socket");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
    });
}
