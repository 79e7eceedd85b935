//! `inspect`: an echo server whose metrics lines count its live connection.

use std::io::Write;
use std::time::Instant;

use crate::{Example, PATIENCE, connect, read_n};

/// The number after `label ` in a metrics line.
fn metric(line: &str, label: &str) -> u64 {
    let after = line
        .split(" | ")
        .find_map(|field| field.trim_start_matches("metrics: ").strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in {line:?}"));
    after.trim().split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn inspect_echoes_and_its_metrics_lines_count_the_live_connection() {
    let (mut server, addr) = Example::serve("inspect", &["--every-ms", "50"]);
    let idle = server.line_starting("metrics: ");
    let idle_registrations = metric(&idle, "registrations");

    let mut client = connect(addr);
    client.write_all(b"ping").unwrap();
    assert_eq!(read_n(&mut client, 4), b"ping");
    // The connection is registered until it closes, so some later line
    // must count it (and the polls that served it).
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "no line counted the connection");
        let line = server.line_starting("metrics: ");
        if metric(&line, "registrations") > idle_registrations {
            assert!(metric(&line, "polls") > metric(&idle, "polls"), "{line:?}");
            assert!(
                metric(&line, "tasks") >= 2,
                "printer + connection: {line:?}"
            );
            break;
        }
    }
}
