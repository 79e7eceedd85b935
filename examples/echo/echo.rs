//! A TCP echo server: every byte a client sends comes straight back.
//!
//! ```sh
//! cargo run --release --example echo                      # 127.0.0.1:7878
//! cargo run --release --example echo -- --addr 0.0.0.0:9000
//! ```
//!
//! Watch the event loop with
//! `RUST_LOG=eddy=trace cargo run --example echo --features trace`.
//!
//! Try it with `nc 127.0.0.1 7878`, or load it with
//! `cargo run --release --example echo_client`. Ctrl-C stops accepting,
//! gives live connections up to one second to finish, prints a summary
//! and exits with status 0.
//!
//! This example is a package of its own (`examples/echo/`) whose only
//! dependency is eddy, so it uses none of the other examples' helpers: the
//! benchmarks time its cold build and weigh its binary against other
//! runtimes' echo servers.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use eddy::net::{TcpListener, TcpStream};
use eddy::signal::unix::{SignalKind, signal};

/// How long live connections may keep going after Ctrl-C.
const GRACE: Duration = Duration::from_secs(1);

/// What the summary line reports. `Rc<Cell>`: every task runs on the one
/// runtime thread, so there is nothing to synchronise.
#[derive(Default)]
struct Stats {
    /// Connections accepted.
    accepted: Cell<u64>,
    /// Connections still open.
    live: Cell<u64>,
    /// Bytes echoed back.
    bytes: Cell<u64>,
    /// Connections that ended with an I/O error (reset peers and the like).
    errors: Cell<u64>,
}

fn main() -> io::Result<()> {
    #[cfg(feature = "trace")]
    eddy_examples::init_tracing();
    let (addr, report_sizes) = parse_args();
    eddy::run(serve(addr, report_sizes))
}

/// The command line: `--addr HOST:PORT` (default 127.0.0.1:7878) and
/// `--report-sizes true|false`, which prints the size of one connection's
/// future (for the benchmarks' memory figure). Anything else exits with a
/// usage message, so a mistyped flag never silently runs with a default.
fn parse_args() -> (String, bool) {
    let mut addr = "127.0.0.1:7878".to_string();
    let mut report_sizes = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next().as_deref()) {
            ("--addr", Some(value)) => addr = value.to_string(),
            ("--report-sizes", Some("true")) => report_sizes = true,
            ("--report-sizes", Some("false")) => report_sizes = false,
            _ => {
                eprintln!("usage: echo [--addr HOST:PORT] [--report-sizes true|false]");
                std::process::exit(2);
            }
        }
    }
    (addr, report_sizes)
}

async fn serve(addr: String, report_sizes: bool) -> io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    // Listen for Ctrl-C before announcing the address: a SIGINT sent as soon
    // as the line appears must stop the server cleanly, not kill it.
    // (`eddy::signal::ctrl_c()` would install its handler only when first
    // polled, which is too late for that.)
    let mut interrupts = signal(SignalKind::interrupt())?;
    let bound = listener.local_addr()?;
    println!("listening on {bound}");
    println!("try: cargo run --release --example echo_client -- --addr {bound}   (Ctrl-C to stop)");
    let stats = Rc::new(Stats::default());

    // Accept until Ctrl-C. A failed accept (out of descriptors, say) is
    // reported and the loop goes on: `accept` itself backs off.
    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    stats.accepted.set(stats.accepted.get() + 1);
                    let connection = echo(stream, stats.clone());
                    if report_sizes && stats.accepted.get() == 1 {
                        // For the benchmarks' memory figure: RSS per idle
                        // connection minus this is the runtime's own share.
                        println!("conn_future_bytes={}", std::mem::size_of_val(&connection));
                    }
                    eddy::spawn(connection);
                }
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    };
    until(interrupts.recv(), accepting).await;
    drop(listener);

    let deadline = Instant::now() + GRACE;
    while stats.live.get() > 0 && Instant::now() < deadline {
        eddy::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "echo: {} connections, {} bytes echoed, {} errors, {} still open at exit",
        stats.accepted.get(),
        stats.bytes.get(),
        stats.errors.get(),
        stats.live.get(),
    );
    Ok(())
}

/// Polls `stop` and `work` together until `stop` completes, then drops
/// `work`: a two-future `select` for a loop that never ends on its own.
/// (Spawning the loop and aborting its task would do too, at the price of a
/// second task type in the binary: 11 KB.)
async fn until<T>(stop: impl Future<Output = T>, work: impl Future<Output = Infallible>) -> T {
    let (mut stop, mut work) = (pin!(stop), pin!(work));
    poll_fn(|cx| {
        if let Poll::Ready(value) = stop.as_mut().poll(cx) {
            return Poll::Ready(value);
        }
        // `work` never completes: its output type has no values.
        let _ = work.as_mut().poll(cx);
        Poll::Pending
    })
    .await
}

/// Serves one connection; its errors end only this connection.
async fn echo(mut stream: TcpStream, stats: Rc<Stats>) {
    stats.live.set(stats.live.get() + 1);
    if echo_until_eof(&mut stream, &stats).await.is_err() {
        stats.errors.set(stats.errors.get() + 1);
    }
    stats.live.set(stats.live.get() - 1);
}

async fn echo_until_eof(stream: &mut TcpStream, stats: &Stats) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
        stats.bytes.set(stats.bytes.get() + n as u64);
    }
}
