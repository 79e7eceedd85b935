//! Drives each gallery example as a subprocess over loopback, the way a
//! user would: start it with `--addr 127.0.0.1:0`, read the address it
//! prints (`listening on ADDR`), and talk to it with plain std sockets.
//!
//! `cargo test` builds the package's examples before its tests, so the
//! binaries sit next to this test's own: `target/<profile>/examples/NAME`.
//! Every wait is bounded by a generous hang guard ([`PATIENCE`]); no test
//! asserts anything about how long something took.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single wait may take before the test fails instead of
/// hanging. Only a hang guard: passing tests finish far sooner.
const PATIENCE: Duration = Duration::from_secs(30);

/// The path of example `name`, built if it is missing or stale.
///
/// `cargo test` alone builds the package's examples first, but
/// `cargo test --test gallery` does not, and neither rebuilds an example
/// that changed since: so the first call runs `cargo build --examples` for
/// this package (a no-op when everything is fresh), with the profile and
/// target directory this test binary was built with.
fn example_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let profile_dir = BUILT.get_or_init(|| {
        // target/<profile>/deps/gallery-HASH -> target/<profile>
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the test binary lives in target/<profile>/deps")
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "--examples",
            "-p",
            env!("CARGO_PKG_NAME"),
        ]);
        if profile_dir.file_name().is_some_and(|dir| dir == "release") {
            build.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            build.env("CARGO_TARGET_DIR", target);
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed: {status}");
        profile_dir
    });
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
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

// ---------------------------------------------------------------- chat

/// A chat client: a line reader over the socket.
struct ChatClient {
    /// Lines from the server.
    reader: BufReader<TcpStream>,
    /// The same socket, for writing.
    writer: TcpStream,
    /// The address the server sees for us (the prefix of our lines).
    name: String,
}

impl ChatClient {
    fn join(addr: SocketAddr) -> ChatClient {
        let stream = connect(addr);
        let name = stream.local_addr().unwrap().to_string();
        let mut client = ChatClient {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            name,
        };
        let welcome = client.line();
        assert!(welcome.starts_with("* welcome"), "{welcome:?}");
        client
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a chat line");
        line
    }

    /// The next line that is not a join/leave notice.
    fn message(&mut self) -> String {
        loop {
            let line = self.line();
            assert!(!line.is_empty(), "server closed the connection");
            if !line.starts_with("* ") {
                return line;
            }
        }
    }

    fn say(&mut self, text: &str) {
        self.writer
            .write_all(format!("{text}\n").as_bytes())
            .unwrap();
    }
}

#[test]
fn chat_broadcasts_a_line_to_the_other_client_but_not_back_to_the_sender() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let mut bob = ChatClient::join(addr);

    bob.say("hello from bob");
    assert_eq!(alice.message(), format!("{}: hello from bob\n", bob.name));

    // Bob's queue holds, in order, whatever was broadcast after he joined.
    // If his own line had been echoed to him, it would come before this.
    alice.say("hi bob");
    assert_eq!(bob.message(), format!("{}: hi bob\n", alice.name));
}

#[test]
fn chat_tells_the_room_when_a_client_leaves() {
    let (_server, addr) = Example::serve("chat", &[]);
    let mut alice = ChatClient::join(addr);
    let bob = ChatClient::join(addr);
    let bob_name = bob.name.clone();
    assert_eq!(alice.line(), format!("* {bob_name} joined\n"));
    drop(bob);
    assert_eq!(alice.line(), format!("* {bob_name} left\n"));
}
