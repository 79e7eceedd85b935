//! Load for the echo server: C connections each doing N round trips of
//! S-byte messages; prints round trips per second and latency percentiles.
//!
//! ```sh
//! cargo run --release --example echo &
//! cargo run --release --example echo_client -- --connections 50 --messages 10000 --size 64
//! ```

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::net::TcpStream;
use eddy_examples::Flags;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:7878".to_string());
    let connections: usize = flags.take("connections", 50);
    let messages: usize = flags.take("messages", 10_000);
    let size: usize = flags.take("size", 64);
    flags.finish();

    // Room for every sample up front, so the vector never reallocates (and
    // copies) in the middle of the measurement. Asked for fallibly: a
    // mistyped count is an error message, not an overflow panic or an
    // allocation abort.
    let mut samples = Vec::new();
    connections
        .checked_mul(messages)
        .and_then(|total| samples.try_reserve_exact(total).ok())
        .ok_or_else(|| {
            io::Error::other(format!(
                "{connections} connections x {messages} messages: too many latencies to record"
            ))
        })?;
    // The buffers the connections send from and read into, asked for the
    // same way and for the same reason: a mistyped size used to panic
    // (capacity overflow) or abort (failed allocation) in the first
    // connection's task.
    let mut buffers = buffers(connections, size).ok_or_else(|| {
        io::Error::other(format!(
            "{connections} connections x {size} B messages: too large to allocate"
        ))
    })?;

    eddy::run(async move {
        let latencies = Rc::new(RefCell::new(samples));
        let started = Instant::now();
        let mut clients = Vec::with_capacity(connections);
        while let Some(buffers) = buffers.pop() {
            let stream = TcpStream::connect(&addr).await?;
            stream.set_nodelay(true)?;
            clients.push(eddy::spawn(ping_pong(
                stream,
                messages,
                buffers,
                latencies.clone(),
            )));
        }
        for client in clients {
            client.await.map_err(io::Error::from)??;
        }
        let elapsed = started.elapsed();
        let mut latencies = latencies.take();
        latencies.sort_unstable();
        let round_trips = latencies.len();
        println!(
            "{round_trips} round trips of {size} B over {connections} connections in {:.2?}: {:.0} round trips/s",
            elapsed,
            round_trips as f64 / elapsed.as_secs_f64()
        );
        println!(
            "latency p50 {:?}  p99 {:?}  p99.9 {:?}  max {:?}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            percentile(&latencies, 99.9),
            latencies.last().copied().unwrap_or_default(),
        );
        Ok(())
    })
}

/// What one connection sends and reads its echo into.
struct Buffers {
    /// The message, the same for every connection.
    message: Rc<Vec<u8>>,
    /// This connection's own buffer for the echo.
    reply: Vec<u8>,
}

/// The buffers of `connections` connections with `size`-byte messages, or
/// `None` if they cannot be allocated.
fn buffers(connections: usize, size: usize) -> Option<Vec<Buffers>> {
    let filled = |byte: u8| {
        let mut buf = Vec::new();
        buf.try_reserve_exact(size).ok()?;
        buf.resize(size, byte);
        Some(buf)
    };
    let message = Rc::new(filled(0xA5)?);
    let mut buffers = Vec::new();
    buffers.try_reserve_exact(connections).ok()?;
    for _ in 0..connections {
        buffers.push(Buffers {
            message: message.clone(),
            reply: filled(0)?,
        });
    }
    Some(buffers)
}

/// One connection's round trips, each timed: sends the message, reads its
/// echo into the reply buffer.
async fn ping_pong(
    mut stream: TcpStream,
    messages: usize,
    Buffers { message, mut reply }: Buffers,
    latencies: Rc<RefCell<Vec<Duration>>>,
) -> io::Result<()> {
    for _ in 0..messages {
        let sent = Instant::now();
        stream.write_all(&message).await?;
        stream.read_exact(&mut reply).await?;
        latencies.borrow_mut().push(sent.elapsed());
        if reply != *message {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the echo differs from what was sent",
            ));
        }
    }
    Ok(())
}

/// The `p`-th percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
