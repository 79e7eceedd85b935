//! `UnixDatagram`: pairs, bound and unbound sockets, empty and queued
//! datagrams, and the waits of a socket shut down on one side.

use std::cell::Cell;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::UnixDatagram;
use eddy_tests::{count_polls, run_bounded, woken_within};

use crate::{LIMIT, TempDir};

#[test]
fn a_datagram_send_waiting_on_a_full_queue_is_woken_by_the_sockets_own_shutdown() {
    run_bounded(LIMIT, || async {
        // The peer never receives: once its queue is full, sends wait, and
        // the kernel sends no event for the sender's own shutdown.
        let (sender, _peer) = UnixDatagram::pair().expect("pair");
        let datagram = [3u8; 1024];
        let mut sent = 0;
        loop {
            sender.writable().await.expect("writable");
            match sender.try_send(&datagram) {
                Ok(_) => sent += 1,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && sent > 0 => break,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("try_send: {error}"),
            }
        }
        let sender = Rc::new(sender);
        let waiting = eddy::spawn({
            let sender = sender.clone();
            async move { sender.send(b"late").await }
        });
        eddy::task::yield_now().await;
        assert!(!waiting.is_finished(), "a full queue took another datagram");

        sender.shutdown(Shutdown::Write).expect("shutdown");
        let error = woken_within(LIMIT / 4, waiting)
            .await
            .expect("the waiting send was never woken")
            .expect("sender task")
            .expect_err("a send after shutdown");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
    });
}

#[test]
fn a_datagram_pair_carries_datagrams_both_ways() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        assert_eq!(a.send(b"to b").await.expect("send"), 4);
        b.send(b"to a!").await.expect("send back");
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"to b");
        let n = a.recv(&mut buf).await.expect("recv back");
        assert_eq!(&buf[..n], b"to a!");
    });
}

#[test]
fn a_zero_length_datagram_is_a_message_of_length_zero_not_an_end_of_stream() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        assert_eq!(a.send(&[]).await.expect("send an empty datagram"), 0);
        a.send(b"after").await.expect("send");
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).await.expect("recv empty"), 0);
        let n = b.recv(&mut buf).await.expect("recv next");
        assert_eq!(&buf[..n], b"after");
    });
}

/// Spawns `future` and reports how often it was polled over 100 ms in
/// which nothing happened to it: once if it waits, after every spent
/// budget if it spins. The task is aborted afterwards.
async fn polls_while_idle<F: std::future::Future + 'static>(future: F) -> u64 {
    let polls = Rc::new(Cell::new(0));
    let task = eddy::spawn(count_polls(polls.clone(), future));
    eddy::time::sleep(Duration::from_millis(100)).await;
    assert!(!task.is_finished(), "nothing could have completed it");
    task.abort();
    polls.get()
}

#[test]
fn a_datagram_socket_with_its_read_side_shut_down_waits_instead_of_spinning() {
    run_bounded(LIMIT, || async {
        let (_peer, socket) = UnixDatagram::pair().expect("pair");
        socket.shutdown(Shutdown::Read).expect("shutdown");
        let socket = Rc::new(socket);

        let receiver = socket.clone();
        let polls = polls_while_idle(async move { receiver.recv(&mut [0u8; 16]).await }).await;
        assert!(
            polls <= 2,
            "recv was polled {polls} times with nothing to receive"
        );

        // The other way to wait: `readable`, then `try_recv` until
        // `WouldBlock`, then `readable` again, which must now wait.
        let error = socket.try_recv(&mut [0u8; 16]).expect_err("nothing queued");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        let waiter = socket.clone();
        let polls = polls_while_idle(async move { waiter.readable().await }).await;
        assert!(
            polls <= 2,
            "readable was polled {polls} times after WouldBlock"
        );
    });
}

#[test]
fn bound_datagram_sockets_send_to_and_recv_from_name_each_other() {
    let dir = TempDir::new();
    let (server_path, client_path) = (dir.join("server.sock"), dir.join("client.sock"));
    run_bounded(LIMIT, move || async move {
        let server = UnixDatagram::bind(&server_path).expect("bind server");
        let client = UnixDatagram::bind(&client_path).expect("bind client");
        client
            .send_to(b"question", &server_path)
            .await
            .expect("send_to");
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!(&buf[..n], b"question");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        let reply_to = from.as_pathname().expect("a named sender");
        server.send_to(b"answer", reply_to).await.expect("reply");
        let (n, from) = client.recv_from(&mut buf).await.expect("recv reply");
        assert_eq!(&buf[..n], b"answer");
        assert_eq!(from.as_pathname(), Some(server_path.as_path()));
    });
}

#[test]
fn an_unbound_datagram_socket_reaches_its_connected_peer_as_an_unnamed_sender() {
    let dir = TempDir::new();
    let server_path = dir.join("server.sock");
    run_bounded(LIMIT, move || async move {
        let server = UnixDatagram::bind(&server_path).expect("bind server");
        let client = UnixDatagram::unbound().expect("unbound");
        client.connect(&server_path).expect("connect");
        assert_eq!(
            client.peer_addr().expect("peer_addr").as_pathname(),
            Some(server_path.as_path())
        );
        client.send(b"hi").await.expect("send");
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!(&buf[..n], b"hi");
        assert!(from.is_unnamed(), "an unbound sender has no path");
        // Nobody can address an unnamed socket: the server cannot reply
        // unless the client binds a path.
        let error = server
            .send(b"x")
            .await
            .expect_err("server is not connected");
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
    });
}

#[test]
fn a_hundred_queued_short_datagrams_are_all_received() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        for i in 0..100u8 {
            a.send(&[i; 3]).await.expect("send");
        }
        let mut buf = [0u8; 64];
        for i in 0..100u8 {
            let n = b.recv(&mut buf).await.expect("recv");
            assert_eq!(&buf[..n], &[i; 3], "datagram {i}");
        }
        let error = b.try_recv(&mut buf).expect_err("queue drained");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}
