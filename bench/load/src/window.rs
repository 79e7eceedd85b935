//! The measured window: wall clock, CPU clocks of server and client, and the
//! line of results printed at its end.

use std::time::Instant;

use crate::cpu_sample::CpuSample;
use crate::histogram::Histogram;

/// Counters that start when the warm-up ends.
#[derive(Debug)]
pub(crate) struct Window {
    /// When the window opened.
    start: Instant,
    /// Server CPU clocks at the start (None without `--server-pid`).
    server: Option<CpuSample>,
    /// Our own CPU clocks at the start, to show whether the client saturated.
    client: CpuSample,
    /// The server's pid as `/proc` wants it.
    pid: Option<String>,
    /// Completed operations (round trips or connections) in the window.
    pub(crate) ops: u64,
    /// Failed connects or resets in the window.
    pub(crate) errors: u64,
    /// Latency of every completed operation in the window.
    pub(crate) latency: Histogram,
}

impl Window {
    /// Opens a window now.
    pub(crate) fn open(server_pid: Option<u32>) -> Window {
        let pid = server_pid.map(|p| p.to_string());
        Window {
            start: Instant::now(),
            server: pid.as_deref().and_then(|p| CpuSample::read(p).ok()),
            client: CpuSample::read("self").unwrap_or_default(),
            pid,
            ops: 0,
            errors: 0,
            latency: Histogram::new(),
        }
    }

    /// Restarts the window now, dropping what the warm-up counted.
    pub(crate) fn reopen(&mut self) {
        *self = Window::open(self.pid.as_ref().and_then(|p| p.parse().ok()));
    }

    /// Closes the window and prints the human and the `RESULT` line.
    pub(crate) fn close(&self, mode: &str, conns: usize, size: usize) {
        let secs = self.start.elapsed().as_secs_f64();
        let client = CpuSample::read("self")
            .unwrap_or_default()
            .since(self.client);
        let server = match (&self.pid, self.server) {
            (Some(pid), Some(before)) => CpuSample::read(pid).ok().map(|now| now.since(before)),
            _ => None,
        };
        let ops = self.ops.max(1) as f64;
        let us = |q: f64| self.latency.quantile(q) as f64 / 1000.0;
        let mut line = format!(
            "RESULT mode={mode} conns={conns} size={size} secs={secs:.3} ops={} errors={} \
             ops_per_sec={:.1} p50_us={:.2} p99_us={:.2} p999_us={:.2} client_util={:.3}",
            self.ops,
            self.errors,
            self.ops as f64 / secs,
            us(0.5),
            us(0.99),
            us(0.999),
            client.total_ns as f64 / 1e9 / secs,
        );
        if let Some(s) = server {
            line += &format!(
                " server_cpu_ns_per_op={:.1} server_user_share={:.3} server_util={:.3}",
                s.total_ns as f64 / ops,
                s.user_ns as f64 / (s.total_ns.max(1)) as f64,
                s.total_ns as f64 / 1e9 / secs,
            );
        }
        println!(
            "{mode}: {conns} conns x {size} B: {:.0} ops/s, p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us",
            self.ops as f64 / secs,
            us(0.5),
            us(0.99),
            us(0.999)
        );
        println!("{line}");
    }
}
