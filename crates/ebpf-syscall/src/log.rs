//! Verifier and BTF logs, and the load loop that fetches them.

use core::fmt;

/// How many trailing lines [`VerifierLog`]'s `Display` prints.
pub const DISPLAY_LINES: usize = 20;

/// The log the kernel wrote while verifying a program (`BPF_PROG_LOAD`) or
/// checking BTF (`BPF_BTF_LOAD`).
///
/// The whole text is kept ([`VerifierLog::as_str`]); `Display` prints only its
/// last [`DISPLAY_LINES`] lines, which is where the verifier says what went
/// wrong.
///
/// ```
/// use ebpf_syscall::VerifierLog;
/// let log = VerifierLog::new("0: R1=ctx()\nlast insn is not an exit or jmp\n".into(), false);
/// assert!(log.to_string().contains("last insn"));
/// assert_eq!(log.lines().count(), 2);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerifierLog {
    text: String,
    truncated: bool,
}

impl VerifierLog {
    /// A log with the given text; `truncated` when the kernel had more to say
    /// than the largest buffer offered.
    pub fn new(text: String, truncated: bool) -> Self {
        Self { text, truncated }
    }

    pub(crate) fn from_buf(buf: &[u8], truncated: bool) -> Self {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let text = String::from_utf8_lossy(&buf[..end]).into_owned();
        Self::new(text, truncated)
    }

    /// The whole log.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The log's lines.
    pub fn lines(&self) -> core::str::Lines<'_> {
        self.text.lines()
    }

    /// Whether the kernel's log did not fit the largest buffer tried (the
    /// beginning is then missing: since 6.4 the kernel keeps the end).
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// The last `n` lines, joined with newlines.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines.len().saturating_sub(n);
        lines[start..].join("\n")
    }
}

impl fmt::Display for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(the kernel wrote no log)");
        }
        let total = self.text.lines().count();
        if total > DISPLAY_LINES || self.truncated {
            writeln!(
                f,
                "(last {} of {total} lines{})",
                DISPLAY_LINES.min(total),
                if self.truncated {
                    ", log truncated"
                } else {
                    ""
                }
            )?;
        }
        f.write_str(&self.tail(DISPLAY_LINES))
    }
}

impl fmt::Debug for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierLog")
            .field("lines", &self.text.lines().count())
            .field("truncated", &self.truncated)
            .field("tail", &self.tail(DISPLAY_LINES))
            .finish()
    }
}

bitflags::bitflags! {
    /// Verbosity of a verifier log (`log_level`); combine with `|`
    /// (`LogLevel::INSTRUCTION | LogLevel::STATS`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LogLevel: u32 {
        /// `BPF_LOG_LEVEL1`: the instructions on the failing path.
        #[doc(alias = "BPF_LOG_LEVEL1")]
        const BRANCH = 1;
        /// `BPF_LOG_LEVEL2`: every instruction with register state.
        #[doc(alias = "BPF_LOG_LEVEL2")]
        const INSTRUCTION = 2;
        /// `BPF_LOG_STATS`: statistics at the end.
        #[doc(alias = "BPF_LOG_STATS")]
        const STATS = 4;
    }
}

impl LogLevel {
    /// No log (the same as [`LogLevel::empty`]).
    pub const NONE: Self = Self::empty();
}

/// The first log buffer size tried after a failed load without a log.
pub(crate) const LOG_INITIAL_SIZE: usize = 64 * 1024;
/// The largest log buffer offered (the kernel's own limit is `u32::MAX >> 2`
/// since 5.2, `u32::MAX >> 8` before).
pub(crate) const LOG_MAX_SIZE: usize = (u32::MAX >> 8) as usize * 16;
/// How many times a load is retried with a larger log.
pub(crate) const LOG_MAX_ATTEMPTS: usize = 6;

/// The next log buffer size after `ENOSPC`: what the kernel asked for
/// (`log_true_size`, 6.4+) or double.
pub(crate) fn next_log_size(current: usize, true_size: u32) -> usize {
    let wanted = if true_size as usize > current {
        true_size as usize
    } else {
        current.saturating_mul(2)
    };
    wanted.min(LOG_MAX_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prints_the_tail() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let log = VerifierLog::new(text, false);
        let shown = log.to_string();
        assert!(shown.contains("line 99"));
        assert!(shown.contains("line 80"));
        assert!(!shown.contains("line 79\n"));
        assert!(shown.starts_with("(last 20 of 100 lines)"));
        assert_eq!(log.lines().count(), 100);
    }

    #[test]
    fn from_buf_stops_at_nul() {
        let log = VerifierLog::from_buf(b"abc\n\0garbage", false);
        assert_eq!(log.as_str(), "abc\n");
    }

    #[test]
    fn log_sizes_grow() {
        assert_eq!(next_log_size(1024, 5000), 5000);
        assert_eq!(next_log_size(1024, 0), 2048);
        assert_eq!(next_log_size(LOG_MAX_SIZE, 0), LOG_MAX_SIZE);
    }
}
