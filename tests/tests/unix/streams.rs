//! Whole streams: echoes through a listener and through `io::copy`, a
//! pair both ways, `shutdown(Write)`, `try_read`, and reads and writes of
//! nothing.

use std::cell::Cell;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use eddy::net::{UnixListener, UnixStream};
use eddy_tests::{poll_once, run_bounded};

use crate::{LIMIT, TempDir, echo, echo_through, fill_send_buffer, payload};

/// Like std's, a read into an empty buffer reads nothing, at once. Without
/// the check for it, the read first waited for the stream to turn
/// readable: with a silent peer, forever.
#[test]
fn a_stream_read_into_an_empty_buffer_returns_zero_without_waiting_for_data() {
    run_bounded(LIMIT, || async {
        let (_peer, mut stream) = UnixStream::pair().expect("pair");
        // Nothing has been sent, so the stream is not readable: the first
        // poll must already answer.
        let first = poll_once(std::pin::pin!(stream.read(&mut []))).await;
        assert!(
            matches!(first, std::task::Poll::Ready(Ok(0))),
            "a read into an empty buffer gave {first:?}"
        );
    });
}

/// Like std's, a write of nothing writes nothing, at once, also when the
/// send buffer is full. Before, it waited for the stream to turn writable:
/// with a peer that never reads, forever.
#[test]
fn a_stream_write_of_nothing_returns_zero_without_waiting_for_room() {
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        fill_send_buffer(&stream).await;
        let write = poll_once(std::pin::pin!(stream.write(&[]))).await;
        assert!(
            matches!(write, std::task::Poll::Ready(Ok(0))),
            "a write of nothing into a full stream gave {write:?}"
        );
    });
}

#[test]
fn a_stream_echo_through_a_listener_returns_the_exact_bytes() {
    let dir = TempDir::new();
    let path = dir.join("echo.sock");
    run_bounded(LIMIT, move || async move {
        let listener = UnixListener::bind(&path).expect("bind");
        assert_eq!(
            listener.local_addr().expect("local_addr").as_pathname(),
            Some(path.as_path())
        );
        let server = eddy::spawn(async move {
            let (stream, _peer) = listener.accept().await.expect("accept");
            echo(stream).await.expect("echo")
        });
        let stream = UnixStream::connect(&path).await.expect("connect");
        assert_eq!(
            stream.peer_addr().expect("peer_addr").as_pathname(),
            Some(path.as_path())
        );
        let sent = payload(1, 300_000);
        let got = echo_through(stream, sent.clone()).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(server.await.expect("server task"), sent.len());
    });
}

#[test]
fn io_copy_echoes_through_the_futures_io_traits() {
    run_bounded(LIMIT, || async {
        let (client, server) = UnixStream::pair().expect("pair");
        let server = eddy::spawn(async move {
            let (mut reader, mut writer) = server.into_split();
            eddy::io::copy(&mut reader, &mut writer).await
        });
        let sent = payload(2, 100_000);
        let got = echo_through(client, sent.clone()).await;
        assert!(got == sent, "the echo differs from what was sent");
        assert_eq!(
            server.await.expect("task").expect("copy"),
            sent.len() as u64
        );
    });
}

#[test]
fn a_pair_carries_bytes_both_ways() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        a.write_all(b"from a").await.expect("write a");
        b.write_all(b"from b").await.expect("write b");
        let mut buf = [0u8; 6];
        b.read_exact(&mut buf).await.expect("read b");
        assert_eq!(&buf, b"from a");
        a.read_exact(&mut buf).await.expect("read a");
        assert_eq!(&buf, b"from b");
        assert!(a.take_error().expect("take_error").is_none());
    });
}

#[test]
fn after_shutdown_write_the_peer_reads_every_byte_then_eof() {
    run_bounded(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let sent = payload(3, 50_000);
        // Small enough to sit in the socket buffer: written before reading.
        a.write_all(&sent).await.expect("write");
        a.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = vec![0u8; sent.len()];
        b.read_exact(&mut got).await.expect("every byte first");
        assert!(got == sent, "the bytes before the shutdown differ");
        let mut buf = [0u8; 16];
        assert_eq!(b.read(&mut buf).await.expect("read at eof"), 0);
        // Only the write side is shut: `a` still reads.
        b.write_all(b"still open").await.expect("write back");
        let mut back = [0u8; 10];
        a.read_exact(&mut back).await.expect("read back");
        assert_eq!(&back, b"still open");
    });
}

#[test]
fn try_read_on_an_empty_stream_would_block_and_succeeds_once_readable() {
    run_bounded(LIMIT, || async {
        let (a, b) = UnixStream::pair().expect("pair");
        let mut buf = [0u8; 8];
        let error = b.try_read(&mut buf).expect_err("nothing sent yet");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        a.writable().await.expect("writable");
        assert_eq!(a.try_write(b"tried").expect("try_write"), 5);
        b.readable().await.expect("readable");
        let n = b.try_read(&mut buf).expect("try_read");
        assert_eq!(&buf[..n], b"tried");
    });
}

#[test]
fn a_loop_of_reads_of_nothing_still_yields_to_other_tasks() {
    // A Unix stream reads through its own path (to `WouldBlock`, see
    // `IoSource::poll_read_stream_to_would_block`), which answered an
    // empty buffer with 0 without spending the budget (RELIABILITY 59).
    run_bounded(LIMIT, || async {
        let (mut stream, _peer) = UnixStream::pair().expect("pair");
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        eddy::spawn(async move { flag.set(true) });
        for _ in 0..100_000 {
            if other_ran.get() {
                return;
            }
            assert_eq!(stream.read(&mut []).await.expect("read of nothing"), 0);
        }
        panic!("100,000 reads of nothing in a row never yielded to another task");
    });
}
