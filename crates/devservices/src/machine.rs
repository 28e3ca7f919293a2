//! What else the machine does while a benchmark runs: its load, and on a virtual machine the
//! CPU time the host gave to other guests (steal), which has moved this machine's figures by
//! up to 2x from one hour to the next. Benchmarks print both beside their figures.

/// The 1-, 5- and 15-minute load averages, `unknown` without /proc.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The machine's CPU time counters (the `cpu` line of /proc/stat) at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    steal: u64,
    total: u64,
}

impl CpuTimes {
    /// Now; `None` without /proc/stat.
    pub fn now() -> Option<CpuTimes> {
        parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The steal since `self`, as a percentage of all CPU time since (`None` if none passed).
    pub fn steal_percent_since(&self) -> Option<f64> {
        self.steal_percent_until(&CpuTimes::now()?)
    }

    fn steal_percent_until(&self, later: &CpuTimes) -> Option<f64> {
        let total = later.total.checked_sub(self.total).filter(|&t| t > 0)?;
        Some(later.steal.saturating_sub(self.steal) as f64 * 100.0 / total as f64)
    }
}

/// `steal N %` since `before`, or `steal unknown`.
pub fn steal_since(before: Option<CpuTimes>) -> String {
    match before.and_then(|b| b.steal_percent_since()) {
        Some(p) => format!("steal {p:.0} %"),
        None => "steal unknown".to_owned(),
    }
}

/// user nice system idle iowait irq softirq steal: the total is their sum (guest time is
/// already counted in user and nice).
fn parse(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> =
        line.split_whitespace().skip(1).take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if fields.len() != 8 {
        return None;
    }
    Some(CpuTimes { steal: fields[7], total: fields.iter().sum() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_its_share_of_all_cpu_time_between_two_readings() {
        let before = parse("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n").unwrap();
        let after = parse("cpu  200 0 100 900 10 0 0 140 0 0\n").unwrap();
        // 100 + 50 + 100 + 100 = 350 jiffies, 100 of them stolen.
        assert_eq!(format!("{:.1}", before.steal_percent_until(&after).unwrap()), "28.6");
        assert_eq!(before.steal_percent_until(&before), None);
        assert_eq!(parse("cpu  1 2 3\n"), None);
        assert_eq!(parse("intr 1 2 3 4 5 6 7 8 9\n"), None);
    }

    #[test]
    fn this_machine_reads() {
        let now = CpuTimes::now().expect("/proc/stat");
        assert!(now.total > 0 && now.steal <= now.total);
        assert!(load_average().split(' ').count() == 3);
    }
}
