//! `mio_raw`: a hand-written, edge-triggered mio echo loop.
//!
//! This is the ceiling for a readiness-based design: no tasks, no wakers, no
//! futures; one `Poll`, one slab of connections, each with its own 4 KiB
//! buffer. A runtime can at best match it, so every figure is also divided by
//! this peer's.
//!
//! It applies the short-read rule: a read that returns fewer bytes than the
//! buffer holds has drained the socket, so the connection stops reading until
//! the next readable edge instead of issuing a read that would return
//! `WouldBlock`. That saves one syscall per round trip, and it is safe because
//! epoll reports a new edge for every arrival after that read.
//!
//! Usage: `mio_raw [--addr HOST:PORT]` (default 127.0.0.1:7878). Prints
//! `listening on ADDR` once bound, and `conn_future_bytes=N` (its per
//! connection state, the equivalent of a task's future) on the first
//! connection.

use std::io::{self, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// The listener's token; connections use their slab index.
const LISTENER: Token = Token(usize::MAX);
/// Per-connection buffer size, the same 4 KiB the task-based peers use.
const BUF: usize = 4096;

/// One accepted connection.
struct Conn {
    /// The socket, registered for both directions once, edge-triggered.
    stream: TcpStream,
    /// Bytes read but not yet written back live in `buf[start..end]`.
    buf: Box<[u8; BUF]>,
    /// First byte still to be written.
    start: usize,
    /// One past the last byte still to be written.
    end: usize,
    /// True while the socket may hold unread bytes: set by a readable event,
    /// cleared by `WouldBlock` or by a short read (the short-read rule).
    readable: bool,
}

/// What `drive` decided about a connection.
enum Fate {
    /// Wait for the next event.
    Keep,
    /// The peer closed or errored: deregister and drop.
    Close,
}

fn main() -> io::Result<()> {
    let addr = parse_addr()?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&addr)?
        .next()
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "address resolved to nothing")
        })?;
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("listening on {}", listener.local_addr()?);
    let mut conns: Slab<Conn> = Slab::new();
    let mut printed = false;

    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&poll, &listener, &mut conns, &mut printed);
                continue;
            }
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                conn.readable = true;
            }
            if let Fate::Close = drive(conn) {
                let mut conn = conns.remove(key);
                // Deregistering before the fd closes keeps epoll's set exact;
                // a failure here only means the fd is already gone.
                let _ = poll.registry().deregister(&mut conn.stream);
            }
        }
    }
}

/// Accepts until `WouldBlock` (the listener is edge-triggered too).
fn accept_all(poll: &Poll, listener: &TcpListener, conns: &mut Slab<Conn>, printed: &mut bool) {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let entry = conns.vacant_entry();
                let token = Token(entry.key());
                if poll
                    .registry()
                    .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                    .is_err()
                {
                    continue;
                }
                let conn = Conn {
                    stream,
                    buf: Box::new([0; BUF]),
                    start: 0,
                    end: 0,
                    // epoll_ctl(ADD) reports data that arrived before the
                    // registration as an event, so waiting for it misses nothing.
                    readable: false,
                };
                if !*printed {
                    *printed = true;
                    println!(
                        "conn_future_bytes={}",
                        std::mem::size_of::<Conn>() + BUF + std::mem::size_of::<usize>()
                    );
                }
                entry.insert(conn);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ECONNABORTED and friends: the next connection is still welcome.
            Err(e) => {
                eprintln!("accept: {e}");
                return;
            }
        }
    }
}

/// Writes out what is pending, then reads and echoes while the socket has data.
fn drive(conn: &mut Conn) -> Fate {
    loop {
        if conn.start < conn.end {
            match conn.stream.write(&conn.buf[conn.start..conn.end]) {
                Ok(0) => return Fate::Close,
                Ok(n) => {
                    conn.start += n;
                    if conn.start < conn.end {
                        // The send buffer is full; the writable edge resumes us.
                        continue;
                    }
                    conn.start = 0;
                    conn.end = 0;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Fate::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Fate::Close,
            }
        }
        if !conn.readable {
            return Fate::Keep;
        }
        match conn.stream.read(&mut conn.buf[..]) {
            Ok(0) => return Fate::Close,
            Ok(n) => {
                if n < BUF {
                    // Short read: the socket is drained, wait for the next edge.
                    conn.readable = false;
                }
                conn.end = n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.readable = false;
                return Fate::Keep;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Fate::Close,
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
                    format!("unknown argument {other:?}; usage: mio_raw [--addr HOST:PORT]"),
                ));
            }
        }
    }
    Ok(addr)
}
