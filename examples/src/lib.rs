//! Helpers shared by the examples: command-line flags and a polite close,
//! nothing more.

use std::str::FromStr;
use std::time::Duration;

use eddy::net::TcpStream;

/// An example's command line: `--name value` pairs, each taken by
/// [`Flags::take`]. [`Flags::finish`] then stops the example if any are
/// left, so a mistyped flag (`--conections 500`) is an error instead of a
/// run with the default.
#[derive(Debug)]
pub struct Flags {
    /// The `(name, value)` pairs not taken yet, in command-line order.
    pairs: Vec<(String, String)>,
}

impl Flags {
    /// Reads the command line. Exits with a usage message if it is not a
    /// list of `--name value` pairs.
    pub fn from_args() -> Flags {
        let mut pairs = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                usage_error(&format!("unexpected argument {arg:?}"));
            };
            let Some(value) = args.next() else {
                usage_error(&format!("{arg} needs a value"));
            };
            pairs.push((name.to_string(), value));
        }
        Flags { pairs }
    }

    /// The value of `--name`, parsed, or `default` when it is absent.
    /// Exits with a usage message when the value does not parse, so a typo
    /// never silently runs with a default.
    pub fn take<T: FromStr>(&mut self, name: &str, default: T) -> T {
        let Some(index) = self.pairs.iter().position(|(flag, _)| flag == name) else {
            return default;
        };
        let (_, value) = self.pairs.remove(index);
        value.parse().unwrap_or_else(|_| {
            usage_error(&format!("--{name} needs a valid value, not {value:?}"))
        })
    }

    /// Exits with a usage message if a flag was given that no `take` asked
    /// for: one the example does not know, or one given twice.
    pub fn finish(self) {
        if let Some((name, _)) = self.pairs.first() {
            usage_error(&format!("unexpected flag --{name}"));
        }
    }
}

/// Prints `message` and exits with status 2, the usual code for a usage
/// error. Public for the checks a value's type cannot make itself, such as
/// an upper limit, so that they fail the same way as a value that does not
/// parse.
pub fn usage_error(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

/// How long [`close_after_reply`] waits for the peer to stop sending.
const LINGER: Duration = Duration::from_secs(1);

/// The most [`close_after_reply`] reads and throws away before giving up.
const LINGER_BYTES: usize = 64 * 1024;

/// Closes a connection after its last reply (an error reply, say) so the
/// peer gets to read that reply.
///
/// Closing a socket whose receive buffer still holds unread bytes makes
/// the kernel send a reset instead of a FIN, and a reset can destroy the
/// reply still in flight: the client would see "connection reset" instead
/// of the error message. So: shut down our write side (the peer reads
/// end-of-stream after the reply), then read and discard what the peer
/// still sends, for at most `LINGER` and `LINGER_BYTES`.
pub async fn close_after_reply(mut stream: TcpStream) {
    if stream.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    };
    let _ = eddy::time::timeout(LINGER, drain).await;
}

/// Prints eddy's event-loop journal when `RUST_LOG` is set, for example
/// `RUST_LOG=eddy=trace` (every turn, event, wake and poll) or
/// `RUST_LOG=eddy::registration=trace,eddy::runtime=debug`. Without
/// `RUST_LOG` no subscriber is installed and each trace point costs one
/// branch. The filter syntax is `tracing-subscriber`'s `Targets`.
#[cfg(feature = "trace")]
pub fn init_tracing() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    let Ok(filter) = std::env::var("RUST_LOG") else {
        return;
    };
    let targets: Targets = filter.parse().unwrap_or_else(|error| {
        eprintln!("RUST_LOG={filter:?} is not a valid filter ({error}); tracing stays off");
        Targets::new()
    });
    let journal = tracing_subscriber::fmt::layer()
        .compact()
        .with_target(true)
        .with_writer(std::io::stderr);
    tracing_subscriber::registry()
        .with(journal)
        .with(targets)
        .init();
}

/// Without the `trace` feature there is no journal to print; say how to
/// get one if `RUST_LOG` asks for it.
#[cfg(not(feature = "trace"))]
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        eprintln!(
            "RUST_LOG is set, but this build has no event-loop journal: \
             add `--features trace` to the cargo command"
        );
    }
}

/// Starts listening for Ctrl-C (SIGINT) now and returns a future that
/// completes at the next one.
///
/// Call it before printing `listening on ...`: `eddy::signal::ctrl_c()`
/// installs its handler only when first polled, so a SIGINT sent as soon as
/// the address appears could otherwise still kill the process instead of
/// stopping it cleanly.
pub fn ctrl_c() -> std::io::Result<impl std::future::Future<Output = std::io::Result<()>>> {
    use eddy::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        interrupt.recv().await;
        Ok(())
    })
}
