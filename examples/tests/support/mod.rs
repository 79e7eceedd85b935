//! What both test files of the examples share: building the example
//! binaries they run as child processes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

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
    if let Some(target) = profile_dir.parent() {
        build.env("CARGO_TARGET_DIR", target);
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the examples failed: {status}");
    profile_dir
}
