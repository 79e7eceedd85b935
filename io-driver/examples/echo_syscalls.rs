//! One echo connection driven by the I/O driver, for counting system calls.
//!
//! The main thread is the server: a mio `TcpStream` registered with a
//! [`Driver`], read with `Registration::poll_read_into` and written with
//! `Registration::poll_io`, turning the driver only when a poll is pending.
//! A second thread is a plain blocking client doing `ROUNDS` round trips of
//! `MESSAGE` bytes. Run it under `strace -f` and count the main thread's
//! calls; `SYSCALLS.md` has the command and the result.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::task::{Context, Poll, Waker};
use std::thread;

use eddy_io_driver::{Driver, Registration};
use eddy_registration::{Direction, Interest};

/// Round trips the client makes.
const ROUNDS: usize = 10_000;
/// Bytes per message: small enough to arrive in one segment.
const MESSAGE: usize = 64;

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let client = thread::spawn(move || -> io::Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let out = [7u8; MESSAGE];
        let mut back = [0u8; MESSAGE];
        for _ in 0..ROUNDS {
            stream.write_all(&out)?;
            stream.read_exact(&mut back)?;
        }
        Ok(())
    });

    let (std_stream, _) = listener.accept()?;
    std_stream.set_nonblocking(true)?;
    std_stream.set_nodelay(true)?;
    let mut server = mio::net::TcpStream::from_std(std_stream);
    let mut driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY)?;
    let interest = Interest::READABLE.add(Interest::WRITABLE);
    let reg = Registration::new(&mut server, interest, driver.handle())?;
    // A single task on a single thread: the "executor" re-polls after every
    // turn, so the waker itself has nothing to do.
    let mut cx = Context::from_waker(Waker::noop());
    let mut buf = [0u8; 4096];

    let mut echoed = 0;
    while echoed < ROUNDS * MESSAGE {
        let n = loop {
            match reg.poll_read_into(&mut cx, &mut buf, |b| server.read(b)) {
                Poll::Ready(result) => break result?,
                Poll::Pending => {
                    driver.turn(None)?;
                }
            }
        };
        if n == 0 {
            break;
        }
        let mut sent = 0;
        while sent < n {
            match reg.poll_io(&mut cx, Direction::Write, || server.write(&buf[sent..n])) {
                Poll::Ready(result) => sent += result?,
                Poll::Pending => {
                    driver.turn(None)?;
                }
            }
        }
        echoed += n;
    }
    client.join().expect("client panicked")?;
    println!("echoed {echoed} bytes in {ROUNDS} round trips of {MESSAGE} bytes");
    Ok(())
}
