//! Running one test again in a process of its own, for behaviour that ends
//! a process when it goes wrong (an abort takes every test of the binary
//! with it, and says nothing about which one).

use std::process::{Command, Output};

/// Set in the child's environment; a test checks [`is_child`] first thing.
const CHILD: &str = "EDDY_IO_DRIVER_TEST_CHILD";

/// Whether this process is the child started by [`run_in_child`].
pub(crate) fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the calling test alone in a new process of this test binary, with
/// [`is_child`] true there, and returns how it ended. Call it on the test's
/// own thread: libtest names that thread after the test, which is how the
/// child finds it.
///
/// # Panics
///
/// Panics off a test's thread, if the child cannot be started, or if it ran
/// no test (a name that matches nothing would pass without proving
/// anything).
pub(crate) fn run_in_child() -> Output {
    let thread = std::thread::current();
    let test = thread.name().expect("called off the test's own thread");
    let exe = std::env::current_exe().expect("current_exe");
    let output = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("could not start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("running 1 test"),
        "the child ran no test named {test}\nstdout:\n{stdout}"
    );
    output
}

/// Asserts that a child from [`run_in_child`] passed, showing how it ended
/// (an abort is a signal, not an exit code) and what it printed if not.
pub(crate) fn assert_child_passed(output: &Output) {
    assert!(
        output.status.success(),
        "the child failed: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
