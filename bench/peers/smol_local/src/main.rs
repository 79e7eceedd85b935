//! `smol_local`: a TCP echo server the way a smol user writes one on one thread.
//!
//! A `LocalExecutor` run inside `smol::block_on` (so the calling thread also
//! drives async-io's reactor), an `Async<TcpListener>`, one task per
//! connection looping `read` into a 4 KiB array inside the task and
//! `write_all` back.
//!
//! Usage: `smol_local [--addr HOST:PORT]` (default 127.0.0.1:7878). Prints
//! `listening on ADDR` once bound, and `conn_future_bytes=N` on the first
//! connection.

use std::cell::Cell;
use std::io;
use std::net::{TcpListener, TcpStream};

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, LocalExecutor};

fn main() -> io::Result<()> {
    let addr = parse_addr()?;
    let ex = LocalExecutor::new();
    let printed = Cell::new(false);
    smol::block_on(ex.run(async {
        let listener = Async::<TcpListener>::bind(resolve(&addr)?)?;
        println!("listening on {}", listener.get_ref().local_addr()?);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(pair) => pair,
                // A peer that resets before we accept it is its problem, not ours.
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            let conn = echo(stream);
            if !printed.replace(true) {
                println!("conn_future_bytes={}", std::mem::size_of_val(&conn));
            }
            ex.spawn(conn).detach();
        }
    }))
}

/// Echoes until the peer closes or errors.
async fn echo(mut stream: Async<TcpStream>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `Async::bind` wants one `SocketAddr`; take the first the name resolves to.
fn resolve(addr: &str) -> io::Result<std::net::SocketAddr> {
    std::net::ToSocketAddrs::to_socket_addrs(addr)?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "address resolved to nothing"))
}

/// Reads `--addr HOST:PORT` from the command line.
fn parse_addr() -> io::Result<String> {
    let mut addr = String::from("127.0.0.1:7878");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = args.next().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "--addr needs HOST:PORT")
                })?
            }
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unknown argument {other:?}; usage: smol_local [--addr HOST:PORT]"),
                ));
            }
        }
    }
    Ok(addr)
}
