//! Ping-pong load: every connection keeps exactly one message in flight.
//!
//! One mio loop drives all connections, edge-triggered, with the same
//! short-read rule as `mio_raw` (a read that completes the echo, or returns
//! less than asked, is the last until the next edge), so the client spends no
//! more syscalls per round trip than the leanest server and is never the
//! bottleneck on its own core.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::config::Config;
use crate::window::Window;

/// One client connection.
struct Conn {
    /// The socket (TCP_NODELAY: the client never waits on Nagle).
    stream: TcpStream,
    /// When the message in flight was first written.
    sent_at: Instant,
    /// Bytes of the message in flight written so far.
    written: usize,
    /// Bytes of its echo received so far.
    received: usize,
    /// Round trips completed (for `--count`).
    done: u64,
}

/// Runs the ping-pong load and prints the results.
pub(crate) fn run(cfg: &Config) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let msg: Vec<u8> = (0..cfg.size).map(|i| (i % 251) as u8).collect();
    let mut rbuf = vec![0u8; cfg.size.max(64 * 1024)];
    let mut conns = Vec::with_capacity(cfg.conns);
    for i in 0..cfg.conns {
        let std_stream = std::net::TcpStream::connect(cfg.addr)?;
        std_stream.set_nodelay(true)?;
        std_stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream,
            sent_at: Instant::now(),
            written: 0,
            received: 0,
            done: 0,
        });
    }
    let limit = cfg.count.unwrap_or(u64::MAX);
    let mut running = 0;
    if limit > 0 {
        for conn in &mut conns {
            conn.sent_at = Instant::now();
            send(conn, &msg)?;
            running += 1;
        }
    }

    let mut window = Window::open(cfg.server_pid);
    let counted = cfg.count.is_some();
    // With --count there is no warm-up and no deadline: the work is fixed.
    let mut warm_until = (!counted).then(|| Instant::now() + cfg.warmup);
    let mut end = Instant::now() + cfg.warmup + cfg.duration;
    if warm_until.is_some_and(|w| w <= Instant::now()) {
        warm_until = None;
    }
    while running > 0 {
        let now = Instant::now();
        if let Some(w) = warm_until {
            if now >= w {
                warm_until = None;
                window.reopen();
                end = Instant::now() + cfg.duration;
            }
        } else if !counted && now >= end {
            break;
        }
        let next = warm_until.unwrap_or(end);
        let timeout =
            (!counted).then(|| next.saturating_duration_since(now) + Duration::from_micros(50));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            let conn = &mut conns[event.token().0];
            if conn.done >= limit {
                continue;
            }
            if conn.written < msg.len() {
                send(conn, &msg)?;
                if conn.written < msg.len() {
                    continue;
                }
            }
            loop {
                match conn.stream.read(&mut rbuf) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "server closed a connection mid-run",
                        ));
                    }
                    Ok(n) => {
                        conn.received += n;
                        if conn.received >= msg.len() {
                            let now = Instant::now();
                            window
                                .latency
                                .record((now - conn.sent_at).as_nanos() as u64);
                            window.ops += 1;
                            conn.done += 1;
                            conn.received -= msg.len();
                            if conn.done >= limit {
                                running -= 1;
                                break;
                            }
                            conn.sent_at = now;
                            conn.written = 0;
                            send(conn, &msg)?;
                            // The echo cannot be here yet: wait for its edge.
                            break;
                        }
                        if n < rbuf.len() {
                            // Short read: drained; the rest raises a new edge.
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    window.close("pingpong", cfg.conns, cfg.size);
    Ok(())
}

/// Writes as much of the message in flight as the socket takes.
fn send(conn: &mut Conn, msg: &[u8]) -> io::Result<()> {
    while conn.written < msg.len() {
        match conn.stream.write(&msg[conn.written..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "socket took nothing",
                ));
            }
            Ok(n) => conn.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
