//! The `echo`, `echo_client` and `hello` examples, run as a user runs them:
//! as processes, talked to over loopback with plain std sockets.
//!
//! The binaries live in `target/<profile>/examples/`, next to this test
//! binary's `target/<profile>/deps/`. `echo` is a package of its own
//! (eddy-echo, so that its cold build compiles eddy and nothing else), which
//! `cargo test -p eddy-examples` does not build: the first test to need an
//! example runs `cargo build` for all three (a no-op when they are fresh).
//! Every child is killed by a guard however the test ends, and every wait is
//! bounded by [`PATIENCE`], a hang guard that passing tests never come near;
//! nothing here asserts how long anything took.

#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The longest any single wait may take before the test fails instead of
/// hanging.
const PATIENCE: Duration = Duration::from_secs(30);

/// The examples these tests run, with the package each belongs to.
const EXAMPLES: &[(&str, &str)] = &[
    ("eddy-echo", "echo"),
    ("eddy-examples", "echo_client"),
    ("eddy-examples", "hello"),
    ("eddy-examples", "child_pipe"),
];

/// The built example `name` (see [`support::example_path`]).
fn example(name: &str) -> PathBuf {
    support::example_path(EXAMPLES, name)
}

/// An example running as a child process. Its stdout arrives line by line
/// over a channel so that every read is bounded; dropping the guard kills
/// and reaps the process.
struct Running {
    /// The process; `None` once reaped.
    child: Option<Child>,
    /// Lines read from the child's stdout by a helper thread; disconnected
    /// once the child closed its stdout.
    lines: Receiver<String>,
}

impl Running {
    /// Starts example `name` with `args`. Its stderr is forwarded to the
    /// test's (captured) output, so it shows only when the test fails.
    fn start(name: &str, args: &[&str]) -> Running {
        let mut child = Command::new(example(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start the {name} example: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let who = name.to_string();
        // Threads spawned by a test inherit its output capture.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{who} (stderr): {line}");
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child: Some(child),
            lines,
        }
    }

    /// The next line of output; fails the test if none comes.
    fn next_line(&self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no output within {PATIENCE:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the example closed its stdout"),
        }
    }

    /// Every line still to come, up to the child closing its stdout.
    fn remaining_lines(&self) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => return lines,
                Err(RecvTimeoutError::Timeout) => panic!("stdout still open; so far: {lines:?}"),
            }
        }
    }

    /// Sends SIGINT, as Ctrl-C in a terminal would.
    fn interrupt(&self) {
        let child = self.child.as_ref().expect("still running");
        let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) only sends a signal; `pid` is our own child, not
        // yet reaped (we hold its `Child`), so the pid cannot be reused.
        let rc = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for the process to exit.
    fn wait(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("not reaped yet");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not exit within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the echo example on an ephemeral port and returns it with the
/// address it printed.
fn start_echo() -> (Running, SocketAddr) {
    let echo = Running::start("echo", &["--addr", "127.0.0.1:0"]);
    let line = echo.next_line();
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on ADDR`, got {line:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("not an address in {line:?}: {e}"));
    (echo, addr)
}

/// A std client with bounded reads and writes.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// `len` bytes that differ from one position to the next (and from a
/// stale buffer of zeros).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8 ^ 0x5A).collect()
}

/// One echo round trip of `sent`, checked byte for byte.
fn round_trip(stream: &mut TcpStream, sent: &[u8]) {
    stream.write_all(sent).expect("write");
    let mut back = vec![0u8; sent.len()];
    stream.read_exact(&mut back).expect("read the echo");
    assert!(back == sent, "the echo differs from what was sent");
}

/// Interrupts the echo example, checks it exits with status 0, and returns
/// its summary line (everything after `echo: `).
fn interrupt_and_summarise(mut echo: Running) -> String {
    echo.interrupt();
    let status = echo.wait();
    assert!(status.success(), "echo exited with {status} after SIGINT");
    let lines = echo.remaining_lines();
    let summaries: Vec<&String> = lines.iter().filter(|l| l.starts_with("echo: ")).collect();
    assert_eq!(summaries.len(), 1, "one summary line expected in {lines:?}");
    summaries[0]["echo: ".len()..].to_string()
}

#[test]
fn echo_prints_its_address_echoes_exact_bytes_and_exits_0_on_sigint() {
    let (echo, addr) = start_echo();
    let mut client = connect(addr);
    let sent = pattern(100_000);
    round_trip(&mut client, &sent);
    // The server closes once it has read our end-of-stream.
    client.shutdown(Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).expect("read to EOF");
    assert!(rest.is_empty(), "{} bytes after the echo", rest.len());

    // Having answered, the server is past installing its Ctrl-C handler
    // (it does so on its first poll of the accept loop), so SIGINT is safe.
    let summary = interrupt_and_summarise(echo);
    assert_eq!(
        summary,
        "1 connections, 100000 bytes echoed, 0 errors, 0 still open at exit"
    );
}

#[test]
fn echo_on_sigint_exits_0_even_with_a_connection_still_open() {
    let (echo, addr) = start_echo();
    let mut client = connect(addr);
    round_trip(&mut client, b"still here");

    // The connection stays open: the grace period runs out and the server
    // exits anyway, reporting it.
    let summary = interrupt_and_summarise(echo);
    assert_eq!(
        summary,
        "1 connections, 10 bytes echoed, 0 errors, 1 still open at exit"
    );
    // The process is gone, and so is our connection's other end.
    let mut buf = [0u8; 1];
    match client.read(&mut buf) {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("read {n} bytes from a server that exited"),
    }
}

#[test]
fn echo_with_an_unusable_address_exits_with_an_error_instead_of_panicking() {
    let output = Command::new(example("echo"))
        .args(["--addr", "not an address"])
        .stdin(Stdio::null())
        .output()
        .expect("run the echo example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "echo accepted a bad address");
    assert!(!stderr.contains("panicked"), "echo panicked: {stderr}");
    assert!(!stderr.trim().is_empty(), "echo failed without saying why");
}

#[test]
fn echo_given_a_flag_it_does_not_take_exits_with_a_usage_error() {
    // `--port 9000` used to be ignored: the server listened on the default
    // address and the user wondered why nothing answered on 9000.
    for args in [
        &["--port", "9000"][..],
        &["--addr"][..],
        &["--report-sizes", "yes"][..],
    ] {
        // Not `output()`: an echo that ignored the flag would serve until
        // killed, and the test must fail, not hang.
        let (code, stderr) = support::exit_code_and_stderr(&example("echo"), args, PATIENCE);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: echo"), "{args:?}: {stderr}");
    }
}

#[test]
fn echo_client_with_more_round_trips_than_it_can_record_exits_with_an_error_instead_of_panicking() {
    // A quarter of the address space in latencies, twice (more than any
    // allocation may be, whatever the machine's overcommit policy), used
    // to abort the allocation, and three times half of it to overflow the
    // multiplication, both before any connection was made: no server
    // needed. Derived from `usize::MAX`, since on a 32-bit target a 64-bit
    // count does not even parse (a usage error, status 2).
    let (quarter, half) = ((usize::MAX / 4).to_string(), (usize::MAX / 2).to_string());
    for (connections, messages) in [("2", quarter.as_str()), ("3", half.as_str())] {
        let output = Command::new(example("echo_client"))
            .args(["--addr", "127.0.0.1:1", "--connections", connections])
            .args(["--messages", messages])
            .stdin(Stdio::null())
            .output()
            .expect("run the echo_client example");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("too many latencies to record"), "{stderr}");
    }
}

#[test]
fn echo_client_with_messages_too_large_to_allocate_exits_with_an_error_instead_of_panicking() {
    // `usize::MAX` bytes overflowed the buffer's capacity (a panic in the
    // first connection's task), and half the address space, three times
    // (the shared message and two connections' replies: more than any
    // address space holds, so on a 32-bit target too), failed to allocate
    // (an abort). Both must be refused before any connection is made: no
    // server needed.
    let (max, half) = (usize::MAX.to_string(), (usize::MAX / 2).to_string());
    for size in [max.as_str(), half.as_str()] {
        let output = Command::new(example("echo_client"))
            .args(["--addr", "127.0.0.1:1", "--connections", "2"])
            .args(["--messages", "1", "--size", size])
            .stdin(Stdio::null())
            .output()
            .expect("run the echo_client example");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "--size {size}: {stderr}");
        assert!(stderr.contains("too large to allocate"), "{stderr}");
    }
}

#[test]
fn an_example_given_a_flag_it_does_not_take_exits_with_a_usage_error() {
    // A typo must stop the example, not run it with the default (a client
    // told `--conections 500` used to open 50 connections and say nothing).
    for (args, says) in [
        (&["--conections", "500"][..], "unexpected flag --conections"),
        (&["--connections"][..], "--connections needs a value"),
        (
            &["connections", "500"][..],
            "unexpected argument \"connections\"",
        ),
        (
            &["--size", "1", "--size", "2"][..],
            "unexpected flag --size",
        ),
        (&["--size", "big"][..], "--size needs a valid value"),
    ] {
        let output = Command::new(example("echo_client"))
            .args(["--addr", "127.0.0.1:1"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the echo_client example");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn echo_client_against_the_echo_example_reports_round_trips_per_second() {
    let (echo, addr) = start_echo();
    let mut client = Running::start(
        "echo_client",
        &[
            "--addr",
            &addr.to_string(),
            "--connections",
            "4",
            "--messages",
            "50",
            "--size",
            "32",
        ],
    );
    let status = client.wait();
    assert!(status.success(), "echo_client exited with {status}");
    let lines = client.remaining_lines();
    assert!(
        lines.iter().any(|l| {
            l.starts_with("200 round trips of 32 B over 4 connections in ")
                && l.ends_with(" round trips/s")
        }),
        "no round trip summary in {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("latency p50 ")),
        "no latency line in {lines:?}"
    );

    // The server saw exactly that traffic. (Whether the client's closes
    // reached it before the interrupt depends on scheduling, so the last
    // field is left alone.)
    let summary = interrupt_and_summarise(echo);
    assert!(
        summary.starts_with("4 connections, 6400 bytes echoed, 0 errors, "),
        "unexpected summary: {summary}"
    );
}

#[test]
fn hello_prints_what_it_did_and_exits_0() {
    let mut hello = Running::start("hello", &[]);
    let status = hello.wait();
    assert!(status.success(), "hello exited with {status}");
    let lines = hello.remaining_lines();
    let expected_prefixes = [
        "gave up on the slow sleep: ",
        "hello from a task",
        "a task failed and the runtime carried on: ",
        "next: `cargo run --release --example echo`",
    ];
    assert_eq!(lines.len(), expected_prefixes.len(), "{lines:?}");
    for (line, prefix) in lines.iter().zip(expected_prefixes) {
        assert!(
            line.starts_with(prefix),
            "{line:?} should start with {prefix:?}"
        );
    }
}

#[test]
fn child_pipe_prints_the_childs_lines_in_order_then_its_exit() {
    let mut example = Running::start("child_pipe", &[]);
    let status = example.wait();
    assert!(status.success(), "child_pipe exited with {status}");
    let lines = example.remaining_lines();
    // The ticks interleave as timing has it; the child's lines may not.
    let ours: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|line| !line.starts_with("(the runtime is free"))
        .collect();
    assert_eq!(
        ours,
        [
            "child: line 1",
            "child: line 2",
            "child: line 3",
            "child exited: exit status: 0"
        ],
        "{lines:?}"
    );
}
