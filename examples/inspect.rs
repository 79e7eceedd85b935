//! An echo server that prints the runtime's own counters once a second,
//! so you can watch the event loop work while you load it.
//!
//! ```sh
//! cargo run --release --example inspect                   # 127.0.0.1:7883
//! cargo run --release --example inspect -- --every-ms 250
//! ```
//!
//! Then connect and watch the numbers move: `nc 127.0.0.1 7883`, or load it
//! with `cargo run --release --example echo_client -- --addr 127.0.0.1:7883`.
//! Ctrl-C stops it.
//!
//! Each line is one `Handle::metrics()` snapshot:
//!
//! * `tasks` - tasks alive now: the accept loop is the `block_on` future,
//!   not a task; each connection is one, and so is this printer.
//! * `polls` - task polls so far (in the last period, in brackets).
//! * `turns` - I/O driver turns: each is one `epoll_wait`/`kevent` call.
//! * `events` - readiness events the driver delivered to sockets.
//! * `registrations` - sockets registered with the driver now: the
//!   listener, each connection, and the Ctrl-C listener's pipe.
//! * `timers` - pending sleeps, timeouts and intervals. The printer's own
//!   interval does not show: it is not pending while the printer runs.
//!
//! Under load, compare `polls` and `events` with `turns`: one turn can
//! deliver many events and lead to many polls; that batching is where an
//! event loop gets its throughput.

use std::io;
use std::num::NonZeroU64;
use std::time::Duration;

use eddy::Metrics;
use eddy::net::{TcpListener, TcpStream};
use eddy_examples::Flags;
use futures_lite::future;

fn main() -> io::Result<()> {
    let mut flags = Flags::from_args();
    let addr: String = flags.take("addr", "127.0.0.1:7883".to_string());
    // Non-zero: an interval of 0 ms would panic; `take` refuses 0 with a
    // usage message instead.
    let every_ms: NonZeroU64 = flags.take("every-ms", const { NonZeroU64::new(1000).unwrap() });
    flags.finish();
    let every = Duration::from_millis(every_ms.get());
    eddy::run(serve(addr, every))
}

async fn serve(addr: String, every: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let interrupted = eddy_examples::ctrl_c()?;
    println!("listening on {local}");
    println!(
        "try: nc {} {}   and watch the counters below",
        local.ip(),
        local.port()
    );
    eddy::spawn(print_metrics(every));

    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    eddy::spawn(echo(stream));
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    future::or(accepting, interrupted).await?;
    println!("inspect: shutting down");
    Ok(())
}

/// Prints one metrics line per period, forever (it ends with the runtime).
async fn print_metrics(every: Duration) {
    let handle = eddy::Handle::current();
    let mut ticks = eddy::time::interval(every);
    let mut last = Metrics::default();
    loop {
        ticks.tick().await;
        let now = handle.metrics();
        println!(
            "metrics: tasks {} | polls {} (+{}) | turns {} (+{}) | events {} (+{}) | registrations {} | timers {}",
            now.tasks_alive,
            now.polls,
            now.polls - last.polls,
            now.driver_turns,
            now.driver_turns - last.driver_turns,
            now.io_events,
            now.io_events - last.io_events,
            now.registrations_live,
            now.timers_live,
        );
        last = now;
    }
}

/// Echoes one connection until the client closes; errors end only it.
async fn echo(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
