//! Splitting the passes over a big spec (checking, indexing names) in two halves, the
//! second on another thread when the machine has a second CPU and one can be started.

/// Below this many types a pass runs on the calling thread only.
pub(crate) const PARALLEL_MIN_TYPES: usize = 16 * 1024;

/// Whether this process may use a second thread for big passes (asked once:
/// `available_parallelism` reads cgroup files).
pub(crate) fn have_second_cpu() -> bool {
    static CPUS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Runs `lo` here and `hi` on a second thread, and returns both results. When no thread
/// can be started (a process or memory limit), or it fails (nothing in these passes
/// panics), `hi` runs here too: the result never depends on the thread.
pub(crate) fn join<A, B: Send>(lo: impl FnOnce() -> A, hi: impl Fn() -> B + Sync) -> (A, B) {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new().spawn_scoped(scope, &hi);
        let a = lo();
        let b = match handle {
            Ok(h) => h.join().unwrap_or_else(|_| hi()),
            Err(_) => hi(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_returns_both_halves() {
        let data: Vec<u32> = (0..1000).collect();
        let (lo, hi) = super::join(
            || data[..500].iter().sum::<u32>(),
            || data[500..].iter().sum::<u32>(),
        );
        assert_eq!(lo + hi, data.iter().sum::<u32>());
    }
}
