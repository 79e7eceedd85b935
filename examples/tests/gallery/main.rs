//! Drives each gallery example as a subprocess over loopback, the way a
//! user would: start it with `--addr 127.0.0.1:0`, read the address it
//! prints (`listening on ADDR`), and talk to it with plain std sockets.
//!
//! `cargo test` builds the package's examples before its tests, so the
//! binaries sit next to this test's own: `target/<profile>/examples/NAME`.
//! Every wait is bounded by a generous hang guard ([`PATIENCE`]); no test
//! asserts anything about how long something took.
//!
//! One module per example; this file holds what they share: starting an
//! example and reading its output, connecting, and the process's own
//! counters (CPU time, peak memory) that the resource tests read.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

mod chat;
mod http_hello;
mod inspect;
mod mini_redis;
mod proxy;
#[path = "../support/mod.rs"]
mod support;
mod timers_and_embed;
mod udp_echo;

/// The longest any single wait may take before the test fails instead of
/// hanging. Only a hang guard: passing tests finish far sooner.
const PATIENCE: Duration = Duration::from_secs(30);

/// The examples these tests drive (and build: only these, so that a
/// half-edited example elsewhere in the package cannot fail them).
const GALLERY: &[&str] = &[
    "chat",
    "mini_redis",
    "http_hello",
    "proxy",
    "timers",
    "embed",
    "inspect",
    "udp_echo",
];

/// The path of example `name` (see [`support::example_path`]).
fn example_path(name: &str) -> PathBuf {
    let gallery: Vec<(&str, &str)> = GALLERY
        .iter()
        .map(|example| (env!("CARGO_PKG_NAME"), *example))
        .collect();
    support::example_path(&gallery, name)
}

/// A running example. Dropping it kills the process, so a failing test
/// never leaves a server behind.
struct Example {
    /// The child process.
    child: Child,
    /// Lines of the child's stdout, read by a helper thread so that waiting
    /// for one can be bounded.
    stdout: Receiver<String>,
    /// Every stdout line seen so far, for failure messages.
    seen: Vec<String>,
}

impl Example {
    /// Starts example `name` with `args`.
    fn start(name: &str, args: &[&str]) -> Example {
        let path = example_path(name);
        let mut child = Command::new(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", path.display()));
        let out = child.stdout.take().expect("stdout is piped");
        let (lines_tx, stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        Example {
            child,
            stdout,
            seen: Vec::new(),
        }
    }

    /// Starts a server example on a free loopback port and returns it with
    /// the address it printed.
    fn serve(name: &str, extra: &[&str]) -> (Example, SocketAddr) {
        let mut args = vec!["--addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut example = Example::start(name, &args);
        let line = example.line_starting("listening on ");
        let addr = line["listening on ".len()..]
            .split_whitespace()
            .next()
            .and_then(|addr| addr.trim_end_matches(',').parse().ok())
            .unwrap_or_else(|| panic!("{name}: no address in {line:?}"));
        (example, addr)
    }

    /// Waits for the next stdout line that starts with `prefix`, skipping
    /// others. Panics if the process closes stdout first.
    fn line_starting(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no stdout line starting with {prefix:?} ({e}); saw {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits for the process to exit on its own and returns everything it
    /// printed; panics unless it exits with status 0.
    fn finish(mut self) -> Vec<String> {
        let status = self.wait_for_exit();
        assert!(
            status.success(),
            "exit status {status}; saw {:#?}",
            self.seen
        );
        std::mem::take(&mut self.seen)
    }

    /// Reads the rest of its output until it closes stdout (within the
    /// patience, or panics), then reaps it.
    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("example did not exit ({e}); saw {:#?}", self.seen),
            }
        }
        self.child.wait().expect("wait")
    }
}

impl Example {
    /// Waits for the process to exit on its own (it must close its stdout
    /// within the patience) and returns its exit code.
    fn exit_code(mut self) -> Option<i32> {
        self.wait_for_exit().code()
    }

    /// The process id, for reading its `/proc` entries.
    #[cfg(target_os = "linux")]
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A memory figure from `/proc/PID/status` in KiB, e.g. `VmHWM` (the peak
/// resident set size) or `VmRSS`.
#[cfg(target_os = "linux")]
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let prefix = format!("{field}:");
    let line = status
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    let kib = line[prefix.len()..].trim().trim_end_matches(" kB");
    kib.parse()
        .unwrap_or_else(|e| panic!("{field} in {line:?}: {e}"))
}

/// The CPU time process `pid` has used so far: the sum of its threads'
/// `/proc/PID/task/TID/schedstat`, in nanoseconds (`/proc/PID/stat` counts
/// 10 ms ticks, too coarse for a 50 ms measurement). Unlike wall-clock
/// time it does not grow while the process waits for a core on a busy
/// machine.
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("read the task list");
    let nanos: u64 = tasks
        .filter_map(|task| {
            // A thread that exited since the listing has no file left.
            let schedstat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            schedstat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Duration::from_nanos(nanos)
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client connection with hang-guard timeouts.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads exactly `n` bytes.
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("read_exact");
    buf
}
