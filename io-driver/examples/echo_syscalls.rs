//! Echo connections driven by the I/O driver, for counting system calls.
//!
//! The main thread is the server: mio `TcpStream`s registered with one
//! [`Driver`], read with `Registration::poll_read_into` and written with
//! `Registration::poll_io`, turning the driver only when no connection made
//! progress. One plain blocking client thread per connection does `ROUNDS`
//! round trips of `MESSAGE` bytes. Run it under `strace -f` and count the
//! main thread's calls; `SYSCALLS.md` has the commands and the results.
//!
//! Usage: `echo_syscalls [connections]` (default 1).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::task::{Context, Poll, Waker};
use std::thread;

use eddy_io_driver::{Driver, Registration};
use eddy_registration::{Direction, Interest};

/// Round trips each client makes.
const ROUNDS: usize = 10_000;
/// Bytes per message: small enough to arrive in one segment.
const MESSAGE: usize = 64;

/// One server-side connection.
struct Conn {
    /// The accepted socket.
    stream: mio::net::TcpStream,
    /// Its registration with the driver.
    reg: Registration,
    /// Bytes echoed so far; the connection is done at `ROUNDS * MESSAGE`.
    echoed: usize,
}

fn main() -> io::Result<()> {
    let connections: usize = match std::env::args().nth(1) {
        None => 1,
        Some(arg) => arg.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a connection count: {arg}"),
            )
        })?,
    };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            thread::spawn(move || -> io::Result<()> {
                let mut stream = TcpStream::connect(addr)?;
                stream.set_nodelay(true)?;
                let out = [7u8; MESSAGE];
                let mut back = [0u8; MESSAGE];
                for _ in 0..ROUNDS {
                    stream.write_all(&out)?;
                    stream.read_exact(&mut back)?;
                }
                Ok(())
            })
        })
        .collect();

    let mut driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY)?;
    let interest = Interest::READABLE.add(Interest::WRITABLE);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (std_stream, _) = listener.accept()?;
        std_stream.set_nonblocking(true)?;
        std_stream.set_nodelay(true)?;
        let mut stream = mio::net::TcpStream::from_std(std_stream);
        // SAFETY: a mio socket registers only itself, under the token it is given.
        let reg = unsafe { Registration::new(&mut stream, interest, driver.handle()) }?;
        conns.push(Conn {
            stream,
            reg,
            echoed: 0,
        });
    }
    // The "executor" re-polls every connection after each turn, so the
    // waker itself has nothing to do.
    let mut cx = Context::from_waker(Waker::noop());
    let mut buf = [0u8; 4096];

    let total = ROUNDS * MESSAGE;
    while conns.iter().any(|c| c.echoed < total) {
        let mut progressed = false;
        for conn in conns.iter_mut().filter(|c| c.echoed < total) {
            let stream = &mut conn.stream;
            let n = match conn
                .reg
                .poll_read_into(&mut cx, &mut buf, |b| stream.read(b))
            {
                Poll::Ready(result) => result?,
                Poll::Pending => continue,
            };
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let mut sent = 0;
            while sent < n {
                match conn
                    .reg
                    .poll_io(&mut cx, Direction::Write, || stream.write(&buf[sent..n]))
                {
                    Poll::Ready(result) => sent += result?,
                    Poll::Pending => {
                        driver.turn(None)?;
                    }
                }
            }
            conn.echoed += n;
            progressed = true;
        }
        if !progressed {
            driver.turn(None)?;
        }
    }
    for client in clients {
        client.join().expect("client panicked")?;
    }
    println!(
        "echoed {ROUNDS} round trips of {MESSAGE} bytes on each of {connections} connection(s) in {} turns",
        driver.turns()
    );
    Ok(())
}
