//! CPU time consumed so far by a process, read from `/proc`.
//!
//! `total_ns` sums `/proc/PID/task/*/schedstat` (nanosecond resolution, every
//! live thread); when schedstat is missing it falls back to `utime + stime`
//! from `/proc/PID/stat`, which has only clock-tick (10 ms) resolution.
//! `user_ns` always comes from `/proc/PID/stat`.

use std::io;

/// One reading of a process's CPU clocks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuSample {
    /// User plus system time in nanoseconds.
    pub(crate) total_ns: u64,
    /// User time in nanoseconds (tick resolution), for the user/system split.
    pub(crate) user_ns: u64,
}

impl CpuSample {
    /// Reads the clocks of `pid` (a number, or `self`).
    pub(crate) fn read(pid: &str) -> io::Result<CpuSample> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name, which may itself hold spaces and ')'.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed stat"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| -> io::Result<u64> {
            fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed stat field"))
        };
        // utime and stime are fields 14 and 15; `rest` starts at field 3.
        let tick_ns = 1_000_000_000 / clock_ticks();
        let user_ns = field(11)? * tick_ns;
        let sys_ns = field(12)? * tick_ns;
        let total_ns = schedstat_ns(pid).unwrap_or(user_ns + sys_ns);
        Ok(CpuSample { total_ns, user_ns })
    }

    /// The clocks consumed between `earlier` and `self`.
    pub(crate) fn since(self, earlier: CpuSample) -> CpuSample {
        CpuSample {
            total_ns: self.total_ns.saturating_sub(earlier.total_ns),
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
        }
    }
}

/// Sum of on-CPU nanoseconds of every thread of `pid`.
fn schedstat_ns(pid: &str) -> Option<u64> {
    let mut sum = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        sum += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(sum)
}

/// Clock ticks per second for `/proc/*/stat` times.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a constant; any argument is allowed.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}
