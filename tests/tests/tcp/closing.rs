//! Closing: half-close, resets, vanished peers, and `close` after a reset.

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy_tests::child_process::{child_role, restore_default_sigpipe};
use eddy_tests::{run_bounded, tcp_echo, tcp_pair};
use futures_util::io::AsyncWriteExt;

use crate::{
    LIMIT, Server, assert_child_succeeded, assert_same_bytes, echo_through, payload, spawn_child,
    wait_bounded,
};

/// Reads to end-of-stream, then writes everything back and closes: the
/// server only answers after the client's half-close.
async fn echo_after_eof(mut stream: TcpStream) -> io::Result<u64> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await? {
            0 => break,
            n => all.extend_from_slice(&buf[..n]),
        }
    }
    stream.write_all(&all).await?;
    Ok(all.len() as u64)
}

#[test]
fn after_a_half_close_the_client_reads_every_byte_back_then_eof() {
    run_bounded(LIMIT, || async {
        let server = Server::start(echo_after_eof).await;
        let sent = payload(7, 256 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(&sent).await.expect("write");
        stream.shutdown(Shutdown::Write).expect("shutdown(Write)");

        let mut got = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await.expect("read") {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_same_bytes(&got, &sent, "half-closed client");
        assert_eq!(stream.read(&mut buf).await.expect("read"), 0, "EOF stays");

        server.assert_one_connection_served(sent.len() as u64).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_peer_reset_ends_only_its_own_connection_and_the_server_keeps_serving() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;

        let mut doomed = TcpStream::connect(server.addr).await.expect("connect");
        doomed.write_all(b"before the reset").await.expect("write");
        let mut back = [0u8; 16];
        doomed.read_exact(&mut back).await.expect("echo");
        // The server's task has echoed and is parked in `read` now. A zero
        // linger turns the close into a reset.
        doomed.set_linger(Some(Duration::ZERO)).expect("linger");
        drop(doomed);

        wait_bounded("the reset connection's task ended", || {
            server.finished() == 1
        })
        .await;
        match server.outcomes.borrow_mut().remove(0) {
            Err(panic) => panic!("the connection's task panicked: {panic}"),
            Ok(Ok(echoed)) => assert_eq!(echoed, 16, "EOF after the echoed bytes"),
            Ok(Err(error)) => assert_eq!(
                error.kind(),
                io::ErrorKind::ConnectionReset,
                "unexpected error: {error}"
            ),
        }

        let sent = payload(11, 10_000);
        let got = echo_through(server.addr, sent.clone())
            .await
            .expect("the server still serves");
        assert_same_bytes(&got, &sent, "client after the reset");
    });
}

/// Whether `stream`'s socket has seen its connection end (`POLLHUP`, which
/// a reset raises), asked without consuming the pending error as
/// `take_error` would.
#[cfg(target_os = "linux")]
fn hung_up(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one valid `pollfd`, and the count passed is 1; the
    // descriptor is borrowed from `stream` for the call. A zero timeout
    // makes it return at once.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    assert!(ready >= 0, "poll: {}", io::Error::last_os_error());
    poll.revents & libc::POLLHUP != 0
}

/// How many bytes are queued for reading on `stream` (`FIONREAD`).
#[cfg(target_os = "linux")]
fn bytes_queued(stream: &TcpStream) -> usize {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: `FIONREAD` writes one `c_int` through the pointer, which
    // points at `queued`; the descriptor is borrowed from `stream`.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut queued) };
    assert_eq!(rc, 0, "FIONREAD: {}", io::Error::last_os_error());
    usize::try_from(queued).expect("a count")
}

// Linux keeps what was queued readable after a reset; other kernels may
// throw it away with the connection.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "Miri: no FIONREAD")]
fn bytes_that_arrived_before_a_reset_are_all_read_before_the_reset_error() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut peer, mut stream) = tcp_pair(&listener).await;
        let sent = payload(12, 64 * 1024);
        peer.write_all(&sent).await.expect("write");
        wait_bounded("every byte was queued", || {
            bytes_queued(&stream) == sent.len()
        })
        .await;
        peer.set_linger(Some(Duration::ZERO)).expect("linger 0");
        drop(peer);
        wait_bounded("the reset arrived", || hung_up(&stream)).await;

        // Reads smaller than what is queued, and short ones at the end,
        // while the socket's readiness says read-closed and error.
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        while got.len() < sent.len() {
            let n = stream.read(&mut buf).await.expect("queued bytes first");
            assert!(n > 0, "end of stream after {} bytes", got.len());
            got.extend_from_slice(&buf[..n]);
        }
        assert_same_bytes(&got, &sent, "bytes before the reset");
        let error = stream.read(&mut buf).await.expect_err("then the reset");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
        assert_eq!(stream.read(&mut buf).await.expect("after it"), 0);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn writing_to_a_vanished_peer_fails_with_epipe_or_econnreset_instead_of_sigpipe() {
    if child_role().as_deref() == Some("vanished_peer") {
        return write_until_the_vanished_peer_fails();
    }
    let mut child = spawn_child("vanished_peer");
    child.expect_line("write failed as expected: ");
    assert_child_succeeded(child.wait());
}

/// The child's side: with `SIGPIPE` back at its default action (Rust's
/// start-up code ignores it, which would hide a missing `MSG_NOSIGNAL`), a
/// write to a closed connection must come back as an error.
fn write_until_the_vanished_peer_fails() {
    restore_default_sigpipe();
    let error = run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (peer, mut stream) = tcp_pair(&listener).await;
        drop(peer);
        // The first writes may still be accepted by the kernel; the peer
        // answers them with a reset, and a later write reports it.
        let chunk = vec![0x5Au8; 64 * 1024];
        for _ in 0..10_000 {
            if let Err(error) = stream.write(&chunk).await {
                return error;
            }
        }
        panic!("10,000 writes to a closed connection all succeeded");
    });
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "unexpected error: {error}"
    );
    println!("write failed as expected: {error}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn close_after_the_peer_reset_succeeds_while_shutdown_reports_not_connected() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut client, server) = tcp_pair(&listener).await;
        // A zero linger makes the close send a reset.
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        // Waiting for the reset to arrive: the read reports it.
        let mut buf = [0u8; 8];
        let error = client.read(&mut buf).await.expect_err("read after a reset");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        let error = client
            .shutdown(Shutdown::Write)
            .expect_err("shutdown of a reset connection");
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
        client
            .close()
            .await
            .expect("close of a reset connection is not an error");
    });
}
