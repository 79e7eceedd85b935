//! Halves: owned and borrowed, in one task or two, dropped, and reunited.

use std::io;
use std::net::Shutdown;

use eddy::net::tcp::ReuniteError;
use eddy::net::{TcpListener, TcpStream};
use eddy_tests::{run_bounded, tcp_echo, tcp_pair};
use futures_util::io::AsyncReadExt;

use crate::{LIMIT, Server, assert_same_bytes, payload, read_to_eof};

#[test]
fn owned_halves_in_two_tasks_carry_a_mebibyte_through_an_echo_server() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let sent = payload(21, 1024 * 1024);
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();

        let to_send = sent.clone();
        let writing = eddy::spawn(async move {
            // Many small writes, so reads and writes interleave.
            for chunk in to_send.chunks(4096) {
                writer.write_all(chunk).await?;
            }
            writer.shutdown()
        });
        let reading = eddy::spawn(async move { read_to_eof(&mut reader).await });

        writing.await.expect("writer task").expect("write");
        let got = reading.await.expect("reader task").expect("read");
        assert_same_bytes(&got, &sent, "owned halves");
    });
}

#[test]
fn borrowed_halves_read_and_write_at_once_in_one_task() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let sent = payload(22, 1024 * 1024);
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let mut got = vec![0u8; sent.len()];
        {
            // Spelled out: with futures-util's `AsyncReadExt` in scope,
            // `stream.split()` would pick its by-value `split` instead.
            let (mut reader, mut writer) = TcpStream::split(&mut stream);
            // A mebibyte does not fit in the socket buffers: unless the read
            // runs while the write is blocked, this deadlocks.
            let (written, read) =
                futures_util::future::join(writer.write_all(&sent), reader.read_exact(&mut got))
                    .await;
            written.expect("write");
            read.expect("read");
        }
        assert_same_bytes(&got, &sent, "borrowed halves");
        // The stream is whole again after the borrow and still works.
        stream.write_all(b"whole").await.expect("write");
        let mut back = [0u8; 5];
        stream.read_exact(&mut back).await.expect("read");
        assert_eq!(&back, b"whole");
    });
}

#[test]
fn read_exact_fails_with_unexpected_eof_when_the_peer_closes_early() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        client.write_all(b"ten bytes!").await.expect("write");
        drop(client);
        let mut buf = [0u8; 16];
        let err = server
            .read_exact(&mut buf)
            .await
            .expect_err("the stream ended after 10 of the 16 bytes");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // What did arrive was delivered, in order, before the error.
        assert_eq!(&buf[..10], b"ten bytes!");
    });
}

#[test]
fn dropping_the_owned_write_half_ends_the_peers_stream_but_not_the_read_half() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (client, mut server) = tcp_pair(&listener).await;
        let (mut reader, mut writer) = client.into_split();
        writer.write_all(b"ping").await.expect("write");
        drop(writer);
        let mut received = Vec::new();
        server
            .read_to_end(&mut received)
            .await
            .expect("read to EOF");
        assert_eq!(received, b"ping", "the peer's stream ends after the bytes");
        server
            .write_all(b"pong")
            .await
            .expect("the other way is open");
        let mut reply = [0u8; 4];
        reader
            .read_exact(&mut reply)
            .await
            .expect("read half still reads");
        assert_eq!(&reply, b"pong");
    });
}

#[test]
fn dropping_a_borrowed_write_half_shuts_nothing_down() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (mut client, mut server) = tcp_pair(&listener).await;
        {
            let (_reader, mut writer) = TcpStream::split(&mut client);
            writer.write_all(b"ping").await.expect("write");
        }
        // Shut down, the write side would now fail with EPIPE.
        client.write_all(b" more").await.expect("still writable");
        client.shutdown(Shutdown::Write).expect("shutdown");
        let mut received = Vec::new();
        server
            .read_to_end(&mut received)
            .await
            .expect("read to EOF");
        assert_eq!(received, b"ping more");
    });
}

#[test]
fn reunited_halves_make_a_stream_that_is_not_half_closed() {
    run_bounded(LIMIT, || async {
        let server = Server::start(tcp_echo).await;
        let first = TcpStream::connect(server.addr).await.expect("connect");
        let second = TcpStream::connect(server.addr).await.expect("connect");
        let (first_read, first_write) = first.into_split();
        let (second_read, second_write) = second.into_split();

        // Halves of different streams are handed back, not merged.
        let refused: ReuniteError = first_read
            .reunite(second_write)
            .expect_err("halves of different streams");
        let (first_read, second_write) = (refused.0, refused.1);
        let mut first = first_read.reunite(first_write).expect("same stream");
        let mut second = second_write.reunite(second_read).expect("same stream");

        // Reuniting dropped the write half without shutting the socket's
        // write side down, so both streams still echo.
        for (stream, text) in [(&mut first, b"first!"), (&mut second, b"second")] {
            stream.write_all(text).await.expect("write after reunite");
            let mut back = [0u8; 6];
            stream.read_exact(&mut back).await.expect("read");
            assert_eq!(&back, text);
        }
    });
}

#[test]
fn owned_halves_try_read_and_try_write_after_readiness_and_would_block_when_drained() {
    run_bounded(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (stream, mut peer) = tcp_pair(&listener).await;
        let (reader, writer) = stream.into_split();

        writer.writable().await.expect("writable");
        assert_eq!(writer.try_write(b"ping").expect("try_write"), 4);
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).await.expect("peer reads");
        assert_eq!(&got, b"ping");

        peer.write_all(b"pong").await.expect("peer writes");
        let mut buf = [0u8; 16];
        let n = loop {
            reader.readable().await.expect("readable");
            match reader.try_read(&mut buf) {
                Ok(n) => break n,
                // Readiness can be stale; the loop waits again.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => panic!("try_read: {error}"),
            }
        };
        assert_eq!(&buf[..n], b"pong");
        let drained = reader.try_read(&mut buf).expect_err("nothing left to read");
        assert_eq!(drained.kind(), io::ErrorKind::WouldBlock);
    });
}
