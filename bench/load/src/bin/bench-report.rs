//! `bench-report`: turns the runner's raw samples into markdown tables.
//!
//! Input (stdin): one sample a line, `metric<TAB>cell<TAB>peer<TAB>value`;
//! lines starting with `#` are ignored. Output: for each metric (in order of
//! first appearance) a table with one row per cell and one column per peer,
//! each entry `median (min–max) t=RATIO m=RATIO`, where the ratios are this
//! median over `tokio_ct`'s and over `mio_raw`'s median for the same cell.
//! The spread is left out when there is one sample.
//!
//! Usage: `bench-report [--peers "eddy tokio_ct smol_local mio_raw"] < samples.tsv`

use std::collections::HashMap;
use std::io::{self, BufRead};

/// Samples of one metric: cell -> peer -> values.
type Cells = HashMap<String, HashMap<String, Vec<f64>>>;

fn main() -> io::Result<()> {
    let mut peers: Vec<String> = ["eddy", "tokio_ct", "smol_local", "mio_raw"]
        .map(String::from)
        .to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--peers", Some(list)) => {
                peers = list.split_whitespace().map(String::from).collect();
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "usage: bench-report [--peers \"A B ...\"] < samples.tsv",
                ));
            }
        }
    }

    let mut metrics: Vec<String> = Vec::new();
    let mut cell_order: HashMap<String, Vec<String>> = HashMap::new();
    let mut data: HashMap<String, Cells> = HashMap::new();
    for line in io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let [metric, cell, peer, value] = parts[..] else {
            eprintln!("bench-report: skipping malformed line {line:?}");
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            eprintln!("bench-report: skipping non-numeric value in {line:?}");
            continue;
        };
        if !data.contains_key(metric) {
            metrics.push(metric.to_string());
        }
        let cells = data.entry(metric.to_string()).or_default();
        let order = cell_order.entry(metric.to_string()).or_default();
        if !cells.contains_key(cell) {
            order.push(cell.to_string());
        }
        cells
            .entry(cell.to_string())
            .or_default()
            .entry(peer.to_string())
            .or_default()
            .push(value);
        if !peers.iter().any(|p| p == peer) {
            peers.push(peer.to_string());
        }
    }

    for metric in &metrics {
        let cells = &data[metric];
        let present: Vec<&String> = peers
            .iter()
            .filter(|p| cells.values().any(|c| c.contains_key(*p)))
            .collect();
        println!("\n**{metric}**\n");
        print!("| |");
        for p in &present {
            print!(" {p} |");
        }
        print!("\n|---|");
        for _ in &present {
            print!("---|");
        }
        println!();
        for cell in &cell_order[metric] {
            let by_peer = &cells[cell];
            let median_of = |peer: &str| by_peer.get(peer).map(|v| stats(v).0);
            let tokio = median_of("tokio_ct");
            let mio = median_of("mio_raw");
            print!("| {cell} |");
            for p in &present {
                match by_peer.get(*p) {
                    None => print!(" – |"),
                    Some(values) => {
                        let (med, min, max) = stats(values);
                        let mut s = fmt(med);
                        if values.len() > 1 {
                            s += &format!(" ({}–{})", fmt(min), fmt(max));
                        }
                        if let Some(t) = tokio.filter(|_| p.as_str() != "tokio_ct") {
                            s += &format!(" t={}", ratio(med, t));
                        }
                        if let Some(m) = mio.filter(|_| p.as_str() != "mio_raw") {
                            s += &format!(" m={}", ratio(med, m));
                        }
                        print!(" {s} |");
                    }
                }
            }
            println!();
        }
    }
    Ok(())
}

/// Median, minimum and maximum of a non-empty list.
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// A ratio with two decimals, or `n/a` when the reference is zero.
fn ratio(value: f64, reference: f64) -> String {
    if reference == 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}", value / reference)
    }
}

/// Three significant figures with a k/M suffix.
///
/// The thresholds are where the *rounded* value crosses a power of ten:
/// 99,960 is printed `100k`, not `100.0k` (four figures).
fn fmt(x: f64) -> String {
    let a = x.abs();
    let (v, suffix) = if a >= 999_500.0 {
        (x / 1e6, "M")
    } else if a >= 9_999.5 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if v.abs() >= 99.95 {
        0
    } else if v.abs() >= 9.995 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(stats(&[4.0, 1.0, 3.0, 2.0]), (2.5, 1.0, 4.0));
        assert_eq!(stats(&[7.0]), (7.0, 7.0, 7.0));
    }

    #[test]
    fn three_figures_even_where_rounding_carries() {
        assert_eq!(fmt(5.0), "5.00");
        assert_eq!(fmt(9.996), "10.0");
        assert_eq!(fmt(99.96), "100");
        assert_eq!(fmt(9_999.6), "10.0k");
        assert_eq!(fmt(99_960.0), "100k");
        assert_eq!(fmt(100_040.0), "100k");
        assert_eq!(fmt(119_000.0), "119k");
        assert_eq!(fmt(999_600.0), "1.00M");
        assert_eq!(fmt(4_512.0), "4512");
        assert_eq!(fmt(1_680.2), "1680");
    }
}
