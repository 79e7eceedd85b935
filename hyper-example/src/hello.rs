//! The "Hello, world!" server: hyper's HTTP/1.1 connection driver on eddy
//! sockets, one eddy task per connection.

use std::convert::Infallible;
use std::io;

use eddy::net::TcpListener;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use crate::{EddyIo, EddyTimer};

/// The body of every response.
pub const HELLO: &str = "Hello, world!";

/// Answers every request with `200 OK`, `text/plain` and [`HELLO`]. hyper
/// adds `content-length` (the body's size is known) and `date`.
pub async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(HELLO.as_bytes())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

/// An HTTP/1 connection builder with eddy's timer and half-closes allowed:
/// hyper's defaults (keep-alive on, 30-second header read timeout)
/// otherwise.
pub fn http1_builder() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(EddyTimer);
    // hyper's default treats end-of-stream after a request as the client
    // giving up and drops the response it is about to write, so
    // `printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc -N ...` (or any
    // client that shuts down its write side, then reads) got nothing.
    builder.half_close(true);
    builder
}

/// Accepts connections forever and serves [`hello`] on each with
/// `builder`, one eddy task per connection.
///
/// A failed accept is reported on stderr and the loop goes on (eddy's
/// `accept` already backs off when out of descriptors). A connection's
/// error (a malformed request, a reset, a header read timeout) ends only
/// that connection and is reported on stderr with its peer address.
pub async fn serve(listener: TcpListener, builder: http1::Builder) -> io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        // Responses are written whole; Nagle's algorithm would only hold a
        // pipelined client's second response back waiting for an ACK.
        // Best effort: some systems refuse it on a socket the peer already
        // reset, and one such connection must not stop the server.
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(EddyIo::new(stream), service_fn(hello));
        eddy::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("connection from {peer}: {error}");
            }
        });
    }
}
