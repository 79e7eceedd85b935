//! Lingering: `set_linger`, and lingering streams that close without
//! blocking the runtime or losing bytes.

use std::io::{self, Read};
use std::sync::mpsc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy_tests::{run_bounded, tcp_pair};

use crate::LIMIT;

/// The linger interval the kernel holds for `stream`, in seconds, read
/// with the option that counts seconds on this system (Apple's plain
/// `SO_LINGER` counts clock ticks; `SO_LINGER_SEC` counts seconds).
fn linger_seconds(stream: &std::net::TcpStream) -> Option<i32> {
    use std::os::fd::AsRawFd;
    #[cfg(target_vendor = "apple")]
    let option = libc::SO_LINGER_SEC;
    #[cfg(not(target_vendor = "apple"))]
    let option = libc::SO_LINGER;
    let mut value = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let mut len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes and `len` holds the
    // size of `value`, the type this option returns; the fd is open for
    // the call (borrowed from `stream`).
    let result = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    assert_eq!(result, 0, "getsockopt: {}", io::Error::last_os_error());
    (value.l_onoff != 0).then_some(value.l_linger)
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn set_linger_takes_whole_seconds_and_none_turns_it_off() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, _server) = tcp_pair(&listener).await;
        client
            .set_linger(Some(Duration::from_secs(5)))
            .expect("linger");
        // Read back through the std stream (eddy's exposes no fd). Seconds,
        // not clock ticks: a plain `SO_LINGER` on Apple systems would store
        // 5 ticks, which reads back here as 0.
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(5));
        let client = TcpStream::from_std(client).expect("from_std");
        client.set_linger(None).expect("linger off");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), None);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_sub_second_linger_rounds_up_instead_of_becoming_a_reset() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, _server) = tcp_pair(&listener).await;
        // Truncated to whole seconds this would be 0: close would reset the
        // connection and drop unsent data instead of waiting for it.
        client
            .set_linger(Some(Duration::from_millis(500)))
            .expect("linger");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(1));
        // Zero stays zero: that is how a caller asks for the reset.
        let client = TcpStream::from_std(client).expect("from_std");
        client.set_linger(Some(Duration::ZERO)).expect("linger 0");
        let client = client.into_std().expect("into_std");
        assert_eq!(linger_seconds(&client), Some(0));
    });
}

/// Writes to `stream` until the kernel takes no more: the peer's receive
/// window and this side's send buffer are both full. Returns how many
/// bytes the kernel took.
async fn fill_send_buffer(stream: &TcpStream) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0;
    loop {
        stream.writable().await.expect("writable");
        match stream.try_write(&chunk) {
            Ok(n) => written += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                // Writable said yes, the write said no: the buffers are full.
                if written > 0 {
                    return written;
                }
            }
            Err(error) => panic!("try_write: {error}"),
        }
    }
}

/// Sets `SO_LINGER` on `socket` to `seconds`, behind eddy's back (as
/// `socket2` would), in the unit `linger_seconds` reads.
fn linger_behind_eddys_back(socket: &impl std::os::fd::AsRawFd, seconds: i32) {
    #[cfg(target_vendor = "apple")]
    let option = libc::SO_LINGER_SEC;
    #[cfg(not(target_vendor = "apple"))]
    let option = libc::SO_LINGER;
    let value = libc::linger {
        l_onoff: 1,
        l_linger: seconds,
    };
    // SAFETY: `value` is a `linger`, the type this option takes, and the
    // length passed is its size; the fd is open for the call (borrowed
    // from `socket`).
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&raw const value).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "setsockopt: {}", io::Error::last_os_error());
}

/// A linger interval longer than the hang detector: Linux's `close(2)`
/// waits it out for the peer to acknowledge everything, also on a
/// non-blocking socket.
const LONG_LINGER: Duration = Duration::from_secs(2 * LIMIT.as_secs());

/// Fills `stream`'s send buffer, drops it, and only then lets `peer` read.
/// Closed with lingering on, the drop of a stream would hold up every task
/// until the peer reads, and the peer reads only once the drop has
/// returned: the test would hang. Asserts nothing was lost: the peer got
/// every byte, then end-of-stream, not a reset.
async fn assert_lingering_drop_neither_blocks_nor_loses_data(
    stream: TcpStream,
    mut peer: std::net::TcpStream,
) {
    let written = fill_send_buffer(&stream).await;
    let (dropped, wait_for_drop) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        wait_for_drop.recv().expect("the drop was reported");
        let mut received = Vec::new();
        peer.read_to_end(&mut received).expect("read to EOF");
        received.len()
    });
    drop(stream);
    dropped.send(()).expect("the reader waits");
    let received = eddy::task::spawn_blocking(move || reader.join().expect("reader"))
        .await
        .expect("join");
    assert_eq!(received, written, "bytes the peer received");
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn into_std_keeps_the_linger_a_stream_was_given() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let stream = TcpStream::connect(std_listener.local_addr().unwrap())
            .await
            .expect("connect");
        stream
            .set_linger(Some(Duration::from_secs(5)))
            .expect("set_linger");
        // The stream's `Drop` turns lingering off; leaving through
        // `into_std`, the socket must keep what its owner set.
        let std_stream = stream.into_std().expect("into_std");
        assert_eq!(linger_seconds(&std_stream), Some(5));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn dropping_a_lingering_stream_with_unsent_data_neither_blocks_the_runtime_nor_loses_the_data() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let stream = TcpStream::connect(std_listener.local_addr().unwrap())
            .await
            .expect("connect");
        let (peer, _) = std_listener.accept().expect("accept");
        stream.set_linger(Some(LONG_LINGER)).expect("set_linger");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_stream_accepted_from_a_lingering_listener_closes_without_waiting_for_the_peer() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        // Accepted sockets inherit the listener's SO_LINGER.
        linger_behind_eddys_back(&std_listener, LONG_LINGER.as_secs() as i32);
        let listener = TcpListener::from_std(std_listener).expect("from_std");
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = listener.accept().await.expect("accept");
        assert_eq!(
            linger_seconds(&stream.into_std().expect("into_std")),
            Some(LONG_LINGER.as_secs() as i32),
            "the accepted socket inherited the listener's linger"
        );
        // `into_std` took that stream out of the runtime: accept another.
        drop(peer);
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = listener.accept().await.expect("accept");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_std_stream_that_lingers_closes_without_waiting_for_the_peer_once_converted() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let std_stream =
            std::net::TcpStream::connect(std_listener.local_addr().unwrap()).expect("connect");
        let (peer, _) = std_listener.accept().expect("accept");
        linger_behind_eddys_back(&std_stream, LONG_LINGER.as_secs() as i32);
        let stream = TcpStream::from_std(std_stream).expect("from_std");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no SO_LINGER")]
fn a_stream_from_poll_accept_on_a_lingering_listener_closes_without_waiting_for_the_peer() {
    run_bounded(LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        // Accepted sockets inherit the listener's SO_LINGER, whichever of
        // `accept` and `poll_accept` takes them.
        linger_behind_eddys_back(&std_listener, LONG_LINGER.as_secs() as i32);
        let listener = TcpListener::from_std(std_listener).expect("from_std");
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (stream, _) = std::future::poll_fn(|cx| listener.poll_accept(cx))
            .await
            .expect("poll_accept");
        assert_lingering_drop_neither_blocks_nor_loses_data(stream, peer).await;
    });
}
