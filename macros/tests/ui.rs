//! UI tests: what the compiler tells a user who gets an attribute wrong.
//!
//! Each file under `tests/ui/main/` (compiled as a binary) and
//! `tests/ui/test/` (compiled with `--test`) is a small crate with one
//! mistake in it. The harness compiles it with `rustc` and compares the
//! errors it reports with the file of the same name ending in `.errors`,
//! one line per error: `LINE:COLUMN: error: MESSAGE` for an error in the
//! case's own file, `OTHER: error: MESSAGE` for one elsewhere, `error:
//! MESSAGE` for one with no place. A mistake should give one error, the
//! macro's own, at the token it is about; a cascade of compiler errors
//! about the macro's output shows up as extra lines.
//!
//! Only errors, and only their first line and primary place
//! (`--error-format=short`), are compared: no paths of this machine, no
//! notes or help, no warnings, whose wording changes between compilers
//! (the suite runs on stable and on the 1.85 MSRV). An expected line that
//! ends in ` ...` matches any error that starts with the text before it,
//! for an error worded by the compiler, whose place is what the case is
//! about.
//!
//! The harness needs no dependency and no Cargo run of its own: it builds
//! this crate's `src/lib.rs` (which has no dependencies) as a proc-macro
//! with the same `rustc`, a stand-in `eddy` that re-exports the two
//! attributes and has the `Runtime::new().expect(..).block_on(..)` the
//! generated code calls with the real signatures, and then only checks
//! each case (`--emit=metadata`): a few seconds in all.
//!
//! Every case needs its `.errors` file (an empty one for a case that must
//! compile). `EDDY_UI_BLESS=1 cargo test -p eddy-macros --test ui` writes
//! the files that are missing or no longer match from what the compiler
//! says now (a matching file, ` ...` lines and all, is left alone); read
//! the diff.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The stand-in for the `eddy` crate: what the attributes' output names,
/// with the same signatures as the real crate's, and nothing else.
const EDDY_STAND_IN: &str = r#"
pub use eddy_macros::{main, test};

pub struct Runtime;

impl Runtime {
    pub fn new() -> std::io::Result<Runtime> {
        Ok(Runtime)
    }

    pub fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        drop(future);
        panic!("the UI tests only type-check their cases")
    }
}
"#;

#[test]
fn each_mistake_gets_the_errors_its_expected_file_lists() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eddy-macros-ui");
    fs::create_dir_all(&out).unwrap();
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let eddy = build_stand_in(&rustc, &out);
    let bless = env::var_os("EDDY_UI_BLESS").is_some();

    let mut failures = Vec::new();
    let mut cases = 0;
    for (flavor, test_flag) in [("main", false), ("test", true)] {
        let dir = ui.join(flavor);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
            .collect();
        files.sort();
        for file in files {
            cases += 1;
            let name = file.file_name().unwrap().to_str().unwrap().to_owned();
            let mut command = Command::new(&rustc);
            command
                .current_dir(&dir)
                .arg(&name)
                .args(["--edition", "2024", "--error-format=short"])
                .args(["--emit=metadata", "--crate-type", "bin"])
                .arg("--out-dir")
                .arg(out.join("cases").join(flavor))
                .arg("--extern")
                .arg(format!("eddy={}", eddy.display()))
                .arg("-L")
                .arg(format!("dependency={}", out.display()));
            if test_flag {
                command.arg("--test");
            }
            let output = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let actual = errors(&name, &stderr);
            let expected_path = file.with_extension("errors");
            // A missing file is a failure, not "no errors": a case whose
            // expected file was never written would pass on anything.
            let expected = fs::read_to_string(&expected_path).ok();
            let expected: Option<Vec<&str>> = expected
                .as_deref()
                .map(|text| text.lines().filter(|line| !line.is_empty()).collect());
            let matches = expected.as_ref().is_some_and(|expected| {
                expected.len() == actual.len()
                    && expected
                        .iter()
                        .zip(&actual)
                        .all(|(expected, actual)| line_matches(expected, actual))
            });
            if bless && !matches {
                // Only files that no longer match: a ` ...` line is kept.
                let text: String = actual.iter().map(|line| format!("{line}\n")).collect();
                fs::write(&expected_path, text).unwrap();
                continue;
            }
            if !matches {
                let expected = match &expected {
                    Some(expected) => indent(expected),
                    None => format!("    (no {} file)", expected_path.display()),
                };
                failures.push(format!(
                    "{flavor}/{name}:\n  expected:\n{}\n  got:\n{}\n  full stderr:\n{stderr}",
                    expected,
                    indent(&actual),
                ));
            }
        }
    }
    assert!(cases > 0, "no UI cases found under {}", ui.display());
    assert!(
        failures.is_empty(),
        "{} of {cases} UI cases reported other errors than expected \
         (EDDY_UI_BLESS=1 rewrites the .errors files):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Builds the macros from this crate's source, and the stand-in `eddy` on
/// them, into `out`; returns the stand-in's path.
fn build_stand_in(rustc: &OsString, out: &Path) -> PathBuf {
    let macros = out.join(format!(
        "{}eddy_macros{}",
        env::consts::DLL_PREFIX,
        env::consts::DLL_SUFFIX
    ));
    run(Command::new(rustc)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .args(["--crate-name", "eddy_macros", "--crate-type", "proc-macro"])
        .args(["--edition", "2024", "--extern", "proc_macro"])
        .args(["--cap-lints", "allow", "-C", "debuginfo=0", "-o"])
        .arg(&macros));
    let source = out.join("eddy.rs");
    fs::write(&source, EDDY_STAND_IN).unwrap();
    let eddy = out.join("libeddy.rlib");
    run(Command::new(rustc)
        .arg(&source)
        .args(["--crate-name", "eddy", "--crate-type", "rlib"])
        .args(["--edition", "2024", "--cap-lints", "allow", "--extern"])
        .arg(format!("eddy_macros={}", macros.display()))
        .arg("-o")
        .arg(&eddy));
    eddy
}

/// Runs a build step that must succeed.
fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The errors in `stderr` (`--error-format=short`), one line each, with
/// the place shortened to `LINE:COLUMN` in the case's file `name` and to
/// `OTHER` elsewhere; "aborting due to" and its like left out.
fn errors(name: &str, stderr: &str) -> Vec<String> {
    let mut errors = Vec::new();
    for line in stderr.lines() {
        if line.starts_with("error") {
            let summary = line.starts_with("error: aborting due to")
                || line.starts_with("error: could not compile");
            if !summary {
                errors.push(line.to_owned());
            }
            continue;
        }
        // `PATH:LINE:COLUMN: error...`: the path may hold `:`, the rest not.
        let Some(at) = line.find(": error") else {
            continue;
        };
        let (place, message) = (&line[..at], &line[at + 2..]);
        let mut parts = place.rsplitn(3, ':');
        let (Some(column), Some(row), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if path == name {
            errors.push(format!("{row}:{column}: {message}"));
        } else {
            errors.push(format!("OTHER: {message}"));
        }
    }
    errors
}

/// Whether an error matches its expected line: equal, or starting with
/// the expected text before a final ` ...`.
fn line_matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix(" ...") {
        Some(prefix) => actual.starts_with(prefix),
        None => expected == actual,
    }
}

/// Lines indented under a heading of the failure report.
fn indent(lines: &[impl AsRef<str>]) -> String {
    if lines.is_empty() {
        return "    (no errors)".to_owned();
    }
    lines
        .iter()
        .map(|line| format!("    {}", line.as_ref()))
        .collect::<Vec<_>>()
        .join("\n")
}
