//! What both test files of the examples share: building the example
//! binaries they run as child processes, and running one to its exit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The path of example `name`, after building every example in `examples`
/// (`(package, example)` pairs) once per test binary.
///
/// `cargo test` builds a package's examples before its tests, but
/// `cargo test --test NAME` does not, neither rebuilds an example that
/// changed since, and the echo example is a package of its own that
/// `cargo test -p eddy-examples` never builds. So the first call runs
/// `cargo build` for the whole list (a no-op when everything is fresh),
/// with the profile and target directory this test binary was built with:
/// a `cargo test --release` runs release examples. Only the listed
/// examples are built, so that a half-edited one elsewhere cannot fail
/// the tests.
pub(crate) fn example_path(examples: &[(&str, &str)], name: &str) -> PathBuf {
    static PROFILE_DIR: OnceLock<PathBuf> = OnceLock::new();
    let profile_dir = PROFILE_DIR.get_or_init(|| build(examples));
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing after the build",
        path.display()
    );
    path
}

/// Builds `examples` and returns `target/<profile>`.
fn build(examples: &[(&str, &str)]) -> PathBuf {
    // target/<profile>/deps/TEST-HASH -> target/<profile>
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet"]);
    for (package, example) in examples {
        build.args(["-p", package, "--example", example]);
    }
    if profile_dir.file_name().is_some_and(|dir| dir == "release") {
        build.arg("--release");
    }
    let Some(mut target_dir) = profile_dir.parent() else {
        panic!("{} has no parent", profile_dir.display());
    };
    if let Some(triple) = explicit_target(target_dir) {
        // Built with `--target` (the sanitizer scripts do): build the
        // examples the same way, or they would be built for the host with
        // the sanitizer's RUSTFLAGS applied to build scripts too, which
        // ThreadSanitizer refuses to link.
        build.args(["--target", triple]);
        target_dir = target_dir.parent().expect("checked by explicit_target");
    }
    build.env("CARGO_TARGET_DIR", target_dir);
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the examples failed: {status}");
    profile_dir
}

/// The target triple when `dir` is cargo's `<target dir>/<triple>` (a test
/// built with `--target`), or `None` when `dir` is the target directory
/// itself. Cargo marks both with a `CACHEDIR.TAG`, and nothing else in a
/// target directory has a triple's dashes (a nested target directory such
/// as `target/msrv` has a tag and a tagged parent, but no dashes).
fn explicit_target(dir: &Path) -> Option<&str> {
    let name = dir.file_name()?.to_str()?;
    let parent = dir.parent()?;
    let looks_like_triple = name.matches('-').count() >= 2;
    (looks_like_triple && parent.join("CACHEDIR.TAG").exists()).then_some(name)
}

/// Runs the program at `path` with `args` until it exits, and returns its
/// exit code and what it wrote to stderr. One that is still running after
/// `patience` (it ignored what should have stopped it) is killed and the
/// test fails, rather than hang.
pub(crate) fn exit_code_and_stderr(
    path: &Path,
    args: &[&str],
    patience: Duration,
) -> (Option<i32>, String) {
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", path.display()));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (done, read) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = done.send(text);
    });
    // Stderr closes when the process exits: wait for that, not forever.
    let Ok(stderr) = read.recv_timeout(patience) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{} {args:?} still running after {patience:?}",
            path.display()
        );
    };
    let status = child.wait().expect("wait");
    (status.code(), stderr)
}
