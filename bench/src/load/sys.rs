//! Process limits and `/proc` readings.

use rustix::process::{getrlimit, setrlimit, Resource};

/// Raises the soft limit on open files to the hard limit and returns the
/// new soft limit. Holding 10,000 connections needs more than the usual
/// default of 1,024.
pub fn raise_nofile_limit() -> Result<u64, String> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)
            .map_err(|e| format!("cannot raise the open-file limit: {e}"))?;
    }
    Ok(limit.current.unwrap_or(u64::MAX))
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB;
/// `None` if the process or the field does not exist.
pub fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Current and peak resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rss {
    /// `VmRSS`.
    pub now_kb: u64,
    /// `VmHWM`, the peak so far.
    pub peak_kb: u64,
}

/// Reads [`Rss`] of `pid`; `None` if it cannot be read.
pub fn rss(pid: u32) -> Option<Rss> {
    Some(Rss {
        now_kb: proc_status_kb(pid, "VmRSS")?,
        peak_kb: proc_status_kb(pid, "VmHWM")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_rss_and_limit() {
        let me = rss(std::process::id()).expect("own /proc status");
        assert!(me.now_kb > 0 && me.peak_kb >= me.now_kb / 2);
        assert!(proc_status_kb(std::process::id(), "NoSuchField").is_none());
        assert!(raise_nofile_limit().expect("raise limit") >= 64);
    }
}
