//! Churn load: each of C slots connects, echoes one message, closes with
//! `SO_LINGER 0` (an RST, so no TIME_WAIT eats the client's ports), and
//! starts over. Measures connections per second and, on the server, CPU per
//! connection: the accept / register / deregister / release path.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::SockRef;

use crate::config::Config;
use crate::window::Window;

/// Give up after this many failed connection attempts in a row: the server
/// is gone or the machine is out of ports.
const MAX_FAILURES_IN_A_ROW: u64 = 1000;

/// One connection slot.
struct Slot {
    /// The connection of this cycle.
    stream: TcpStream,
    /// When this cycle's connect started.
    started: Instant,
    /// Whether the connect has completed.
    connected: bool,
    /// Bytes of the message written.
    written: usize,
    /// Bytes of the echo received.
    received: usize,
}

/// Runs the churn load and prints the results.
pub(crate) fn run(cfg: &Config) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let msg: Vec<u8> = (0..cfg.size).map(|i| (i % 251) as u8).collect();
    let mut rbuf = vec![0u8; cfg.size.max(64 * 1024)];
    let mut failures_in_a_row = 0;
    let mut slots = Vec::with_capacity(cfg.conns);
    for i in 0..cfg.conns {
        slots.push(connect(&poll, cfg, i)?);
    }
    let mut window = Window::open(cfg.server_pid);
    let mut warm_until = Some(Instant::now() + cfg.warmup);
    let mut end = Instant::now() + cfg.warmup + cfg.duration;
    loop {
        let now = Instant::now();
        if let Some(w) = warm_until {
            if now >= w {
                warm_until = None;
                window.reopen();
                end = Instant::now() + cfg.duration;
            }
        } else if now >= end {
            break;
        }
        let next = warm_until.unwrap_or(end);
        let timeout = next.saturating_duration_since(now) + Duration::from_micros(50);
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            let i = event.token().0;
            let slot = &mut slots[i];
            match step(slot, &msg, &mut rbuf) {
                Ok(false) => continue,
                Ok(true) => {
                    window.ops += 1;
                    failures_in_a_row = 0;
                    let now = Instant::now();
                    window
                        .latency
                        .record((now - slot.started).as_nanos() as u64);
                    // RST on close: the server sees a reset instead of a FIN
                    // and no TIME_WAIT is left behind on the client.
                    SockRef::from(&slot.stream).set_linger(Some(Duration::ZERO))?;
                }
                Err(_) => {
                    window.errors += 1;
                    failures_in_a_row += 1;
                    if failures_in_a_row > MAX_FAILURES_IN_A_ROW {
                        return Err(io::Error::other(
                            "churn: too many failed connections in a row",
                        ));
                    }
                }
            }
            let _ = poll.registry().deregister(&mut slot.stream);
            *slot = connect(&poll, cfg, i)?;
        }
    }
    window.close("churn", cfg.conns, cfg.size);
    Ok(())
}

/// Starts a non-blocking connect for slot `i`.
fn connect(poll: &Poll, cfg: &Config, i: usize) -> io::Result<Slot> {
    let mut stream = TcpStream::connect(cfg.addr)?;
    stream.set_nodelay(true)?;
    poll.registry().register(
        &mut stream,
        Token(i),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    Ok(Slot {
        stream,
        started: Instant::now(),
        connected: false,
        written: 0,
        received: 0,
    })
}

/// Advances a slot on an event; `Ok(true)` once its echo is complete.
fn step(slot: &mut Slot, msg: &[u8], rbuf: &mut [u8]) -> io::Result<bool> {
    if !slot.connected {
        if let Some(e) = slot.stream.take_error()? {
            return Err(e);
        }
        match slot.stream.peer_addr() {
            Ok(_) => slot.connected = true,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    while slot.written < msg.len() {
        match slot.stream.write(&msg[slot.written..]) {
            Ok(n) => slot.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    loop {
        match slot.stream.read(rbuf) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => {
                slot.received += n;
                if slot.received >= msg.len() {
                    return Ok(true);
                }
                if n < rbuf.len() {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
