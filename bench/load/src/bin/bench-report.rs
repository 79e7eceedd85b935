//! `bench-report`: turns the runner's raw samples into markdown tables.
//!
//! Input (stdin): one sample a line,
//! `metric<TAB>cell<TAB>peer<TAB>value[<TAB>round]`; lines starting with `#`
//! are ignored. `round` names the run and round a sample was taken in
//! (`bench/run` writes `RUN.ROUND`; older files have no such column).
//! Output: for each metric (in order of first appearance) a table with one
//! row per cell and one column per peer, each entry
//! `median (min–max) t=RATIO m=RATIO`, where the ratios are this median over
//! `tokio_ct`'s and over `mio_raw`'s median for the same cell. The spread is
//! left out when there is one sample.
//!
//! Where at least three rounds hold a sample of both peers, the entry adds
//! `pt=RATIO` and `pm=RATIO`: the median, over those rounds, of the round's
//! own ratio (this peer's value over the reference's, measured seconds
//! apart in the same round). The machine's load drifts between rounds and
//! between runs; a paired ratio cancels what the two measurements shared.
//!
//! Usage: `bench-report [--peers "eddy tokio_ct smol_local mio_raw"] < samples.tsv`

use std::collections::HashMap;
use std::io::{self, BufRead};

/// Samples of one metric: cell -> peer -> samples.
type Cells = HashMap<String, HashMap<String, Vec<Sample>>>;

/// One measured value.
#[derive(Debug, Clone)]
struct Sample {
    /// The figure itself.
    value: f64,
    /// The run and round it was taken in, when the file says.
    round: Option<String>,
}

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
        let (metric, cell, peer, value, round) = match parts[..] {
            [metric, cell, peer, value] => (metric, cell, peer, value, None),
            [metric, cell, peer, value, round] => (metric, cell, peer, value, Some(round)),
            _ => {
                eprintln!("bench-report: skipping malformed line {line:?}");
                continue;
            }
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
            .push(Sample {
                value,
                round: round.map(String::from),
            });
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
            let median_of = |peer: &str| by_peer.get(peer).map(|v| stats(&values(v)).0);
            let tokio = median_of("tokio_ct");
            let mio = median_of("mio_raw");
            print!("| {cell} |");
            for p in &present {
                match by_peer.get(*p) {
                    None => print!(" – |"),
                    Some(samples) => {
                        let (med, min, max) = stats(&values(samples));
                        let mut s = fmt(med);
                        if samples.len() > 1 {
                            s += &format!(" ({}–{})", fmt(min), fmt(max));
                        }
                        if let Some(t) = tokio.filter(|_| p.as_str() != "tokio_ct") {
                            s += &format!(" t={}", ratio(med, t));
                        }
                        if let Some(m) = mio.filter(|_| p.as_str() != "mio_raw") {
                            s += &format!(" m={}", ratio(med, m));
                        }
                        for (label, reference) in [("pt", "tokio_ct"), ("pm", "mio_raw")] {
                            if p.as_str() == reference {
                                continue;
                            }
                            let paired = by_peer
                                .get(reference)
                                .and_then(|r| paired_ratio(samples, r));
                            if let Some(paired) = paired {
                                s += &format!(" {label}={paired:.2}");
                            }
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

/// The values of `samples`, in order.
fn values(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.value).collect()
}

/// The fewest rounds a paired ratio is printed for: with fewer, one odd
/// round decides it.
const MIN_PAIRS: usize = 3;

/// The median over rounds of `samples`' value over `reference`'s taken in
/// the same round; `None` with fewer than [`MIN_PAIRS`] such rounds, or if
/// any round holds two samples of one peer (the file is then not what
/// `bench/run` writes, and pairing would be a guess).
fn paired_ratio(samples: &[Sample], reference: &[Sample]) -> Option<f64> {
    let mut by_round: HashMap<&str, f64> = HashMap::new();
    for (round, value) in tagged(reference) {
        if by_round.insert(round, value).is_some() {
            return None;
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut ratios = Vec::new();
    for (round, value) in tagged(samples) {
        if !seen.insert(round) {
            return None;
        }
        if let Some(&r) = by_round.get(round).filter(|r| **r != 0.0) {
            ratios.push(value / r);
        }
    }
    (ratios.len() >= MIN_PAIRS).then(|| stats(&ratios).0)
}

/// The samples that say which round they are from, as `(round, value)`.
/// Samples from runs older than the round column are left out, so a pool
/// of old and new runs pairs the new ones.
fn tagged(samples: &[Sample]) -> impl Iterator<Item = (&str, f64)> {
    samples
        .iter()
        .filter_map(|s| Some((s.round.as_deref()?, s.value)))
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

    fn sample(value: f64, round: &str) -> Sample {
        Sample {
            value,
            round: Some(round.into()),
        }
    }

    #[test]
    fn paired_ratio_divides_within_each_round_and_takes_the_median() {
        // The machine was twice as slow for both peers in round 2, and
        // eddy alone was slow in round 3. The ratio of medians says 2.0
        // (6 over 3); the rounds' own ratios are 1.5, 1.5 and 3.0.
        let eddy = [sample(3.0, "r.1"), sample(6.0, "r.2"), sample(9.0, "r.3")];
        let tokio = [sample(2.0, "r.1"), sample(4.0, "r.2"), sample(3.0, "r.3")];
        assert_eq!(paired_ratio(&eddy, &tokio), Some(1.5));
    }

    #[test]
    fn paired_ratio_needs_three_rounds_of_both_peers() {
        let eddy = [sample(3.0, "r.1"), sample(6.0, "r.2"), sample(9.0, "r.4")];
        let tokio = [sample(2.0, "r.1"), sample(4.0, "r.2"), sample(3.0, "r.3")];
        assert_eq!(paired_ratio(&eddy, &tokio), None);
        let untagged: Vec<Sample> = (0..3)
            .map(|_| Sample {
                value: 1.0,
                round: None,
            })
            .collect();
        assert_eq!(paired_ratio(&untagged, &tokio), None);
        // Untagged samples beside three tagged rounds are left out.
        let mut mixed = untagged;
        mixed.extend([sample(3.0, "r.1"), sample(6.0, "r.2"), sample(9.0, "r.3")]);
        assert_eq!(paired_ratio(&mixed, &tokio), Some(1.5));
    }

    #[test]
    fn paired_ratio_refuses_a_round_with_two_samples_of_one_peer() {
        let eddy = [
            sample(3.0, "r.1"),
            sample(6.0, "r.1"),
            sample(9.0, "r.2"),
            sample(1.0, "r.3"),
        ];
        let tokio = [sample(2.0, "r.1"), sample(4.0, "r.2"), sample(3.0, "r.3")];
        assert_eq!(paired_ratio(&eddy, &tokio), None);
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
