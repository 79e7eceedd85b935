//! A TCP proxy: every connection accepted on `--listen` is joined to a new
//! connection to `--to`, bytes copied both ways.
//!
//! ```sh
//! cargo run --release --example echo                     # 127.0.0.1:7878
//! cargo run --release --example proxy                    # 127.0.0.1:7881 -> 127.0.0.1:7878
//! cargo run --release --example proxy -- --listen 127.0.0.1:8000 --to 127.0.0.1:8080
//! ```
//!
//! Then `nc 127.0.0.1 7881`: what you type goes through the proxy to the
//! echo server and back. (`--addr` works as another name for `--listen`.)
//! Ctrl-C stops it.
//!
//! How it works: both streams are split into owned halves and two copy
//! loops run at once, client -> server and server -> client. When one side
//! finishes sending (end-of-stream), the copy in that direction ends and
//! shuts down the write side of the other connection, so the half-close
//! travels through the proxy: a client that sends a request and then
//! `shutdown(Write)` still gets the whole answer. An error in either
//! direction ends both, and so does a write that waits more than
//! `--send-timeout-secs` (default 60) for its receiver to read: with a
//! server that accepts but stops reading, both copies would otherwise wait
//! on the server for good, and a client that reset meanwhile would keep
//! its two descriptors until the server read or closed (nginx's
//! `proxy_send_timeout` is the same guard). `--to` is resolved once, at
//! start-up, off the runtime thread (`eddy::net::lookup_host`): a host name
//! handed to `connect` would be looked up on the runtime thread for every
//! client, and a slow DNS answer would stall every other connection.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use eddy::net::{TcpListener, TcpStream};
use eddy_examples::{Flags, usage_error};
use futures_lite::future;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    // `--listen`, or `--addr` as every other example calls it.
    let addr: String = flags.take("addr", "127.0.0.1:7881".to_string());
    let listen: String = flags.take("listen", addr);
    let to: String = flags.take("to", "127.0.0.1:7878".to_string());
    let send_timeout_secs: u64 = flags.take("send-timeout-secs", 60);
    flags.finish();
    if send_timeout_secs == 0 {
        // Every write that had to wait at all would end its connection.
        usage_error("--send-timeout-secs must be at least 1");
    }
    eddy::run(serve(listen, to, Duration::from_secs(send_timeout_secs)))
}

async fn serve(listen: String, to: String, send_timeout: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(&listen).await?;
    // An unusable `--to` (no port, no such host) is an error now, not a
    // failure for each client later.
    let upstream: Rc<[SocketAddr]> = eddy::net::lookup_host(to.clone()).await?.collect();
    let local = listener.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}, forwarding to {to}");
    println!(
        "try: nc {} {}   (with a server on {to})",
        local.ip(),
        local.port()
    );
    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((client, peer)) => {
                    let upstream = upstream.clone();
                    eddy::spawn(proxy(client, peer, to.clone(), upstream, send_timeout));
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    future::or(accepting, interrupted).await?;
    println!("proxy: shutting down");
    Ok(())
}

/// Proxies one connection to `upstream`, the addresses `to` resolved to;
/// its errors end only this connection.
async fn proxy(
    client: TcpStream,
    peer: SocketAddr,
    to: String,
    upstream: Rc<[SocketAddr]>,
    send_timeout: Duration,
) {
    let server = match TcpStream::connect(&upstream[..]).await {
        Ok(server) => server,
        Err(error) => {
            println!("{peer}: could not reach {to}: {error}");
            return;
        }
    };
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = server.into_split();
    // `try_zip` drops the other direction as soon as one fails: a reset
    // client must not leave the server side copying forever.
    let outcome = future::try_zip(
        forward(from_client, to_server, send_timeout),
        forward(from_server, to_client, send_timeout),
    )
    .await;
    match outcome {
        Ok((up, down)) => println!("{peer}: closed, {up} bytes up, {down} bytes down"),
        Err(error) => println!("{peer}: ended by error: {error}"),
    }
}

/// Copies one direction until end-of-stream, then passes the end on.
///
/// `eddy::io::copy` would do the copying, but has no limit on how long a
/// write may wait: here a receiver that reads nothing for `send_timeout`
/// is an error. Reads wait as long as they must: a quiet sender is normal.
async fn forward(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    send_timeout: Duration,
) -> io::Result<u64> {
    let mut buf = vec![0; 16 * 1024];
    let mut copied = 0;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        eddy::time::timeout(send_timeout, to.write_all(&buf[..n]))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("its receiver read nothing for {send_timeout:?}"),
                )
            })??;
        copied += n as u64;
    }
    match to.shutdown() {
        // `to` is already gone: its peer closed without reading what we
        // had just written, and its kernel answered those bytes with a
        // reset. There is no end left to pass on. A client doing
        // `echo hi | nc -q0 ...` does exactly that; talking to the server
        // directly it is a normal close, so it is one here too, not an
        // "ended by error: Transport endpoint is not connected".
        Err(error) if error.kind() == io::ErrorKind::NotConnected => Ok(copied),
        Err(error) => Err(error),
        Ok(()) => Ok(copied),
    }
}
