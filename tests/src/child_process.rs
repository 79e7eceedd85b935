//! Re-executing the test binary as a child process that plays a role.
//!
//! Some behaviour can only be proved in a process of its own: with `SIGPIPE`
//! back at its default, deadly action (Rust's start-up code ignores it), or
//! with a tiny descriptor limit. The parent test re-runs its own binary for
//! just itself with [`CHILD_ROLE`] set; the test checks [`child_role`] first
//! thing and, in the child, plays the role instead of being the parent.

use std::process::{Command, Output};

/// The environment variable that tells a re-executed test binary which role
/// to play. One name serves every test binary: each child runs only the one
/// test that started it.
pub const CHILD_ROLE: &str = "EDDY_TEST_CHILD_ROLE";

/// The role this process was started in, if it is a child.
pub fn child_role() -> Option<String> {
    std::env::var(CHILD_ROLE).ok()
}

/// The full name (`module::test`) of the test running on this thread:
/// libtest names each test's thread after the test. So the functions below
/// must be called on the test's own thread, not from a thread it spawned.
///
/// # Panics
///
/// Panics on an unnamed thread (not a test's).
fn current_test() -> String {
    let thread = std::thread::current();
    let name = thread.name().expect("called off the test's own thread");
    name.to_owned()
}

/// A command that re-runs this test binary for the calling test alone
/// (also if it is `#[ignore]`d, so an ignored parent's child still runs),
/// single-threaded, with its output uncaptured and [`CHILD_ROLE`] set to
/// `role`. The test must check [`child_role`] first thing, and call this on
/// its own thread, which libtest names after the test.
///
/// # Panics
///
/// Panics if the path of the running binary is unknown.
pub fn child_command(role: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    command
        .args([
            &current_test(),
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, role);
    command
}

/// Runs [`child_command`] to the end and returns its exit status and output.
///
/// # Panics
///
/// Panics if the child cannot be started, or if it ran no test: a filter
/// that matches nothing makes the child exit successfully without playing
/// its role, which would pass the parent without proving anything.
pub fn run_child(role: &str) -> Output {
    let output = child_command(role)
        .output()
        .expect("could not start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("running 1 test"),
        "the child ran no test (was the test's name wrong?)\nstdout:\n{stdout}"
    );
    output
}

/// Asserts that a child run with [`run_child`] exited successfully; a
/// failure shows its status and output.
///
/// # Panics
///
/// Panics if the child failed.
pub fn assert_child_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "the child failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// Runs `body` in a process of its own, for a test that must not share
/// its process with the others (it fills a process-wide pipe, counts the
/// process's descriptors, ...): in the parent, re-runs `test` (the calling
/// test's own name) as a child in the role "alone" and asserts that it
/// succeeded; in that child, runs `body`.
///
/// # Panics
///
/// Panics if the child cannot be started or failed.
pub fn run_alone(body: impl FnOnce()) {
    if child_role().as_deref() == Some("alone") {
        return body();
    }
    assert_child_succeeded(&run_child("alone"));
}

/// Puts `SIGPIPE` back at its default action, which kills the process: a
/// write that raises it (instead of failing with `EPIPE`) then ends the
/// child, where Rust's start-up code would have hidden it by ignoring the
/// signal. For child processes only.
///
/// # Panics
///
/// Panics if `signal(2)` fails.
pub fn restore_default_sigpipe() {
    // SAFETY: restoring a signal's default disposition installs no handler;
    // nothing else in a child process depends on SIGPIPE.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR, "signal(SIGPIPE, SIG_DFL) failed");
}

/// Asserts that a child run with [`restore_default_sigpipe`] was not killed
/// by `SIGPIPE`, exited successfully and printed `expected`; a failure shows
/// the child's output.
///
/// # Panics
///
/// Panics if any of that does not hold.
pub fn assert_child_survived_sigpipe(output: &Output, expected: &str) {
    use std::os::unix::process::ExitStatusExt;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "the child was killed by SIGPIPE: a write to a vanished peer raised the signal \
         instead of returning EPIPE\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        output.status.success() && stdout.contains(expected),
        "child failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}
