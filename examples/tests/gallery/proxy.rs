//! `proxy`: bytes both ways, half-closes, unreachable upstreams, and a
//! server that stops reading.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

use crate::{Example, connect, example_path};

/// A std echo server on a free port: echoes each connection until the
/// client half-closes, then half-closes back. Runs until the test ends.
fn std_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let _ = io::copy(&mut reader, &mut stream);
                let _ = stream.shutdown(Shutdown::Write);
            });
        }
    });
    addr
}

#[test]
fn proxy_copies_bytes_exactly_both_ways_and_passes_the_half_close_on() {
    let upstream = std_echo_server().to_string();
    let (_proxy, addr) = Example::serve("proxy", &["--to", &upstream]);
    // Every byte value, and more than one copy buffer's worth.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 256) as u8).collect();

    let mut client = connect(addr);
    let mut writer = client.try_clone().unwrap();
    let sent = payload.clone();
    // Write from another thread: the echo comes back while we still send.
    let sending = thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        // Our half-close must reach the echo server through the proxy, or
        // it never half-closes back and the read below never ends.
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    client
        .read_to_end(&mut echoed)
        .expect("read to end-of-stream");
    sending.join().unwrap();
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "the echoed bytes differ");
}

#[test]
fn proxy_keeps_serving_when_the_upstream_is_unreachable() {
    // A port nobody listens on: bind one, note it, close it.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (mut proxy, addr) = Example::serve("proxy", &["--to", &closed.to_string()]);
    // Twice: the first failure must not stop the proxy from serving.
    for _ in 0..2 {
        let mut client = connect(addr);
        let mut rest = Vec::new();
        // The proxy drops the client: end-of-stream (or a reset), no hang.
        let _ = client.read_to_end(&mut rest);
        assert!(rest.is_empty());
        let line = proxy.line_starting("127.0.0.1:");
        assert!(line.contains("could not reach"), "{line:?}");
    }
}

#[test]
fn proxy_reports_a_client_that_closes_without_reading_the_reply_as_closed() {
    // An upstream that answers only once the request has ended, so the
    // reply always reaches a client that has already closed: its kernel
    // answers with a reset, and passing the end-of-stream on to it then
    // fails with ENOTCONN, which used to be reported as the proxy's error.
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for stream in upstream.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let _ = stream.read_to_end(&mut request);
            let _ = stream.write_all(&request);
        }
    });
    let (mut proxy, addr) = Example::serve("proxy", &["--to", &upstream_addr]);

    let mut client = connect(addr);
    client.write_all(b"hello").unwrap();
    drop(client);

    let line = proxy.line_starting("127.0.0.1:");
    assert!(
        line.ends_with("closed, 5 bytes up, 5 bytes down"),
        "{line:?}"
    );
}

#[test]
fn proxy_ends_a_connection_whose_server_stops_reading_after_its_send_timeout() {
    // An upstream that accepts and then reads nothing, holding every
    // connection open until the test ends.
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let held: Vec<TcpStream> = upstream.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    let args = ["--to", &upstream_addr, "--send-timeout-secs", "1"];
    let (mut proxy, addr) = Example::serve("proxy", &args);

    // More than every buffer between here and the upstream holds: the
    // proxy's write to the upstream waits, and the client's with it. Before
    // the limit both waited until the upstream read or closed, and a client
    // that gave up meanwhile kept its descriptors in the proxy.
    let mut client = connect(addr);
    let sending = thread::spawn(move || client.write_all(&vec![7u8; 64 << 20]));
    let line = proxy.line_starting("127.0.0.1:");
    assert!(
        line.contains("ended by error: its receiver read nothing for 1s"),
        "{line:?}"
    );
    // Its connection closed, the client's own blocked write fails (a
    // write timeout would be `WouldBlock`).
    let error = sending
        .join()
        .unwrap()
        .expect_err("the write outlived its connection");
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{error:?}"
    );
}

#[test]
fn proxy_with_an_unusable_upstream_address_exits_with_an_error_at_start() {
    // No port: it cannot resolve. Found at start-up, not once per client.
    let output = Command::new(example_path("proxy"))
        .args(["--addr", "127.0.0.1:0", "--to", "127.0.0.1"])
        .stdin(Stdio::null())
        .output()
        .expect("run the proxy example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
