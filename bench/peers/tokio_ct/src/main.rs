//! `tokio_ct`: a TCP echo server the way a tokio user writes one.
//!
//! One `current_thread` runtime, one spawned task per accepted connection,
//! each task looping `read` into a 4 KiB array that lives in the task itself,
//! then `write_all` of what it read. Nothing is tuned: this is the baseline
//! every figure in `bench/README.md` is divided by.
//!
//! Usage: `tokio_ct [--addr HOST:PORT]` (default 127.0.0.1:7878). Prints
//! `listening on ADDR` once bound, and `conn_future_bytes=N` (the size of one
//! connection's future, which the idle-memory figure subtracts) on the first
//! connection.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Set once the first connection's future size has been printed.
static PRINTED_SIZE: AtomicBool = AtomicBool::new(false);

fn main() -> io::Result<()> {
    let addr = parse_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
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
            if !PRINTED_SIZE.swap(true, Ordering::Relaxed) {
                println!("conn_future_bytes={}", std::mem::size_of_val(&conn));
            }
            tokio::spawn(conn);
        }
    })
}

/// Echoes until the peer closes or errors.
async fn echo(mut stream: TcpStream) {
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
                    format!("unknown argument {other:?}; usage: tokio_ct [--addr HOST:PORT]"),
                ));
            }
        }
    }
    Ok(addr)
}
