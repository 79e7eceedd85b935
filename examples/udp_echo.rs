//! A UDP echo server: every datagram is sent straight back to its sender.
//!
//! ```sh
//! cargo run --release --example udp_echo                  # 127.0.0.1:7882
//! cargo run --release --example udp_echo -- --addr 0.0.0.0:7882
//! ```
//!
//! Try it with `nc -u 127.0.0.1 7882` (each line you type is one datagram
//! and comes back). Ctrl-C stops it and prints how many datagrams it echoed.
//!
//! Unlike TCP there are no connections: one socket, one loop, and each
//! `recv_from` returns exactly one datagram with the address to answer.
//! A datagram that cannot be sent back (the sender vanished, say) is
//! reported and skipped; the loop goes on.

use std::cell::Cell;
use std::io;

use eddy::net::UdpSocket;
use eddy_examples::Flags;
use futures_lite::future;

/// Room for the largest possible UDP payload, so no datagram is truncated.
const MAX_DATAGRAM: usize = 65_536;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:7882".to_string());
    flags.finish();
    eddy::run(serve(addr))
}

async fn serve(addr: String) -> io::Result<()> {
    let socket = UdpSocket::bind(&addr).await?;
    let local = socket.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}");
    println!(
        "try: nc -u {} {}   (each line is one datagram)",
        local.ip(),
        local.port()
    );

    let echoed = Cell::new(0u64);
    let echoing = async {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((len, peer)) => match socket.send_to(&buf[..len], peer).await {
                    Ok(_) => echoed.set(echoed.get() + 1),
                    Err(error) => eprintln!("send to {peer} failed: {error}"),
                },
                Err(error) => eprintln!("receive failed: {error}"),
            }
        }
    };
    future::or(echoing, interrupted).await?;
    println!("udp_echo: {} datagrams echoed", echoed.get());
    Ok(())
}
