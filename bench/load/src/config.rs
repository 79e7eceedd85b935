//! Command-line options of `echo-load`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// What the client does with its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Each connection sends a message, waits for the echo, repeats.
    PingPong,
    /// Connect, one echo, close with `SO_LINGER 0`, repeat.
    Churn,
    /// Open connections, echo once on each, then hold them open.
    Idle,
}

/// Everything `echo-load` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The echo server.
    pub(crate) addr: SocketAddr,
    /// Which load.
    pub(crate) mode: Mode,
    /// Concurrent connections.
    pub(crate) conns: usize,
    /// Message size in bytes.
    pub(crate) size: usize,
    /// Time before the measured window, not counted.
    pub(crate) warmup: Duration,
    /// Length of the measured window.
    pub(crate) duration: Duration,
    /// Ping-pong only: do exactly this many round trips per connection and
    /// exit, with no warm-up (for instruction counting).
    pub(crate) count: Option<u64>,
    /// The server's pid, whose CPU time is sampled at the window's edges.
    pub(crate) server_pid: Option<u32>,
    /// Idle only: how long to hold the connections.
    pub(crate) hold: Duration,
}

const USAGE: &str = "usage: echo-load [--addr HOST:PORT] [--mode pingpong|churn|idle] \
[-c CONNS] [-s SIZE] [--warmup SECS] [--duration SECS] [--count N] [--server-pid PID] [--hold SECS]";

impl Config {
    /// Parses the command line.
    pub(crate) fn from_args() -> io::Result<Config> {
        let mut cfg = Config {
            addr: "127.0.0.1:7878".parse().expect("literal address"),
            mode: Mode::PingPong,
            conns: 1,
            size: 64,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(3),
            count: None,
            server_pid: None,
            hold: Duration::from_secs(600),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = args
                .next()
                .ok_or_else(|| bad(format!("{flag} needs a value")))?;
            match flag.as_str() {
                "--addr" => {
                    cfg.addr = std::net::ToSocketAddrs::to_socket_addrs(&value)?
                        .next()
                        .ok_or_else(|| bad(format!("{value} resolves to nothing")))?
                }
                "--mode" => {
                    cfg.mode = match value.as_str() {
                        "pingpong" => Mode::PingPong,
                        "churn" => Mode::Churn,
                        "idle" => Mode::Idle,
                        _ => return Err(bad(format!("unknown mode {value:?}"))),
                    }
                }
                "-c" | "--conns" => cfg.conns = number(&flag, &value)?,
                "-s" | "--size" => cfg.size = number(&flag, &value)?,
                "--warmup" => cfg.warmup = secs(&flag, &value)?,
                "--duration" => cfg.duration = secs(&flag, &value)?,
                "--count" => cfg.count = Some(number(&flag, &value)?),
                "--server-pid" => cfg.server_pid = Some(number(&flag, &value)?),
                "--hold" => cfg.hold = secs(&flag, &value)?,
                _ => return Err(bad(format!("unknown flag {flag:?}"))),
            }
        }
        if cfg.conns == 0 || cfg.size == 0 {
            return Err(bad("connections and size must be at least 1".into()));
        }
        Ok(cfg)
    }
}

/// An `InvalidInput` error that also shows the usage.
fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n{USAGE}"))
}

/// Parses an integer flag value.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> io::Result<T> {
    value
        .parse()
        .map_err(|_| bad(format!("{flag} wants a number, got {value:?}")))
}

/// Parses a (fractional) number of seconds.
fn secs(flag: &str, value: &str) -> io::Result<Duration> {
    let s: f64 = number(flag, value)?;
    Duration::try_from_secs_f64(s).map_err(|_| bad(format!("{flag}: bad duration {value:?}")))
}
