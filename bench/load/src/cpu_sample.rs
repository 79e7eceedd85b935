//! CPU time consumed so far by a process, read from `/proc`.
//!
//! `total_ns` sums `/proc/PID/task/*/schedstat` (nanosecond resolution, every
//! live thread); when schedstat is missing it falls back to `utime + stime`
//! from `/proc/PID/stat`, which has only clock-tick (10 ms) resolution.
//! `user_ns` always comes from `/proc/PID/stat`. A difference of two readings
//! uses schedstat only when both have it: the two clocks never mix.

use std::io;

/// One reading of a process's CPU clocks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuSample {
    /// User plus system time in nanoseconds.
    pub(crate) total_ns: u64,
    /// User time in nanoseconds (tick resolution), for the user/system split.
    pub(crate) user_ns: u64,
    /// `utime + stime` in nanoseconds (tick resolution), always read.
    ticks_ns: u64,
    /// Whether `total_ns` came from schedstat rather than from `ticks_ns`.
    precise: bool,
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
        let ticks_ns = user_ns + sys_ns;
        let sched = schedstat_ns(pid);
        Ok(CpuSample {
            total_ns: sched.unwrap_or(ticks_ns),
            user_ns,
            ticks_ns,
            precise: sched.is_some(),
        })
    }

    /// The clocks consumed between `earlier` and `self`.
    ///
    /// schedstat can be missing from one reading only (a thread exited
    /// between listing the tasks and reading its file), and a nanosecond
    /// sum minus a tick count is no time at all: then both sides use ticks.
    pub(crate) fn since(self, earlier: CpuSample) -> CpuSample {
        let precise = self.precise && earlier.precise;
        let ticks_ns = self.ticks_ns.saturating_sub(earlier.ticks_ns);
        CpuSample {
            total_ns: if precise {
                self.total_ns.saturating_sub(earlier.total_ns)
            } else {
                ticks_ns
            },
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            ticks_ns,
            precise,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(total_ns: u64, ticks_ns: u64, precise: bool) -> CpuSample {
        CpuSample {
            total_ns,
            user_ns: 0,
            ticks_ns,
            precise,
        }
    }

    #[test]
    fn a_difference_uses_schedstat_only_when_both_readings_have_it() {
        let open = sample(1_234_567_890, 1_230_000_000, true);
        let close = sample(4_234_567_890, 4_230_000_000, true);
        assert_eq!(close.since(open).total_ns, 3_000_000_000);
        // schedstat missing at the close: ticks on both sides, not 4.23 s - 1.2346 s.
        let close = sample(4_230_000_000, 4_230_000_000, false);
        assert_eq!(close.since(open).total_ns, 3_000_000_000);
        // ... or at the open.
        let open = sample(1_230_000_000, 1_230_000_000, false);
        let close = sample(4_299_999_999, 4_230_000_000, true);
        assert_eq!(close.since(open).total_ns, 3_000_000_000);
    }

    #[test]
    fn reads_this_process() {
        let a = CpuSample::read("self").expect("/proc/self");
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = CpuSample::read("self").expect("/proc/self");
        assert!(b.since(a).total_ns > 0);
    }
}
