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

/// A command that re-runs this test binary for `test` alone (also if it is
/// `#[ignore]`d, so an ignored parent's child still runs), single-threaded,
/// with its output uncaptured and [`CHILD_ROLE`] set to `role`. `test` must
/// check [`child_role`] first thing.
///
/// # Panics
///
/// Panics if the path of the running binary is unknown.
pub fn child_command(test: &str, role: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    command
        .args([
            test,
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
/// Panics if the child cannot be started.
pub fn run_child(test: &str, role: &str) -> Output {
    child_command(test, role)
        .output()
        .expect("could not start the child test process")
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
pub fn run_alone(test: &str, body: impl FnOnce()) {
    if child_role().as_deref() == Some("alone") {
        return body();
    }
    assert_child_succeeded(&run_child(test, "alone"));
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
