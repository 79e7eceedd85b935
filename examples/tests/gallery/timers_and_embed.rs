//! `timers` and `embed`: programs that run to completion, and their usage
//! errors.

use crate::{Example, PATIENCE, example_path, support};

#[test]
fn timers_runs_sleep_timeout_interval_and_each_missed_tick_behavior() {
    let output = Example::start("timers", &[]).finish();
    for prefix in [
        "sleep: asked for 50 ms",
        "timeout: got \"quick answer\"",
        "timeout: gave up on a future that never finishes",
        "interval: tick 4 scheduled at",
        "Burst: stalled until",
        "Delay: stalled until",
        "Skip: stalled until",
        "timers: done",
    ] {
        assert!(
            output.iter().any(|line| line.starts_with(prefix)),
            "no line starting with {prefix:?} in {output:#?}"
        );
    }
}

#[test]
fn timers_and_inspect_refuse_a_zero_period_with_a_usage_error() {
    // An interval of 0 ms panics; inspect's printer used to die of it in
    // its task and leave the server running without a word.
    for (name, args) in [
        ("timers", &["--period-ms", "0"][..]),
        ("inspect", &["--addr", "127.0.0.1:0", "--every-ms", "0"]),
    ] {
        let code = Example::start(name, args).exit_code();
        assert_eq!(code, Some(2), "{name} {args:?}");
    }
}

#[test]
fn embed_runs_every_job_on_the_runtime_thread_and_stops_cleanly() {
    let output = Example::start("embed", &["--jobs", "7"]).finish();
    for job in 1..=7 {
        let answer = format!("job {job} -> {} (after", job * job);
        assert!(
            output.iter().any(|line| line.starts_with(&answer)),
            "no {answer:?} in {output:#?}"
        );
    }
    let last = output.last().expect("some output");
    assert_eq!(
        last, "embed: runtime stopped cleanly (0 tasks alive of 7 spawned)",
        "in {output:#?}"
    );
}

#[test]
fn embed_refuses_more_jobs_than_its_limit_with_a_usage_error_instead_of_overflowing() {
    // u64::MAX jobs used to overflow computing job 1's delay: a panic in a
    // debug build, 2^64 jobs in a release one.
    for jobs in ["1001", "18446744073709551615"] {
        let (code, stderr) =
            support::exit_code_and_stderr(&example_path("embed"), &["--jobs", jobs], PATIENCE);
        assert_eq!(code, Some(2), "--jobs {jobs}: {stderr}");
        assert!(
            stderr.contains(&format!("--jobs may be at most 1000, not {jobs}")),
            "--jobs {jobs}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "--jobs {jobs}: {stderr}");
    }
}
