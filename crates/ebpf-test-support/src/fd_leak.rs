//! Detecting file descriptors a test body forgot to close.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Serialises leak-checked bodies: fds are process-wide, so two bodies running
/// at once would see each other's descriptors.
static LOCK: Mutex<()> = Mutex::new(());

/// The open descriptors of this process with what they point at.
pub fn open_fds() -> BTreeMap<i32, PathBuf> {
    let mut fds = BTreeMap::new();
    // The listing's own directory fd shows up in it, under a number that can
    // differ between two listings: leave it out.
    let own_dir = PathBuf::from(format!("/proc/{}/fd", std::process::id()));
    let dir = std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd");
    for entry in dir.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if let Ok(target) = std::fs::read_link(entry.path()) {
            if target != own_dir {
                fds.insert(fd, target);
            }
        }
    }
    fds
}

/// Runs `body` and fails the test if it left descriptors open.
///
/// Bodies wrapped in this function run one at a time in a test binary, so the
/// comparison is exact as long as every test of that binary that opens fds
/// uses it (kernel test files wrap every test). A panic inside `body` is
/// propagated unchanged.
#[track_caller]
pub fn check_fd_leaks<R>(body: impl FnOnce() -> R) -> R {
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = open_fds();
    let out = body();
    let after = open_fds();
    let leaked: Vec<String> = after
        .iter()
        .filter(|(fd, target)| before.get(fd) != Some(target))
        .map(|(fd, target)| format!("{fd} -> {}", target.display()))
        .collect();
    assert!(
        leaked.is_empty(),
        "the test body leaked {} fd(s): {}",
        leaked.len(),
        leaked.join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_body_passes() {
        check_fd_leaks(|| {
            let f = std::fs::File::open("/proc/self/status").unwrap();
            drop(f);
        });
    }

    #[test]
    fn leaked_fd_fails() {
        let res = std::panic::catch_unwind(|| {
            check_fd_leaks(|| std::mem::forget(std::fs::File::open("/proc/self/status").unwrap()))
        });
        assert!(res.is_err(), "a forgotten fd must be reported");
    }
}
