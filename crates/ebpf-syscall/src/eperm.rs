//! Why the kernel said `EPERM`, from what this process and kernel actually are.
//!
//! A refusal by policy has four usual causes, each checked rather than
//! guessed: capabilities the process lacks (its effective set, from
//! `/proc/self/status`), kernel lockdown (`/sys/kernel/security/lockdown`,
//! where readable), `RLIMIT_MEMLOCK` on kernels that still charge it (before
//! 5.11, probed), and otherwise a policy this process cannot see (an LSM,
//! `kernel.unprivileged_bpf_disabled`, a seccomp filter). Every layer's
//! permission error carries [`eperm_hint`]'s text, so the cause is worded once.
//!
//! ```
//! let hint = ebpf_syscall::eperm_hint(Some("fentry"));
//! assert!(!hint.is_empty());
//! ```

/// Capability numbers (`linux/capability.h`).
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// The facts behind an `EPERM`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionFacts {
    /// Capabilities BPF needs that the process's effective set lacks
    /// (`CAP_SYS_ADMIN` stands in for `CAP_BPF` and `CAP_PERFMON`).
    pub missing_capabilities: Vec<&'static str>,
    /// The kernel's lockdown mode when it is not `none` (`integrity`, `confidentiality`).
    pub lockdown: Option<String>,
    /// Whether the kernel charges BPF memory to a finite `RLIMIT_MEMLOCK`.
    pub memlock_charged: bool,
}

impl PermissionFacts {
    /// Reads the facts of the running process and kernel.
    pub fn current() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Self {
            missing_capabilities: effective_caps(&status)
                .map(missing_capabilities)
                .unwrap_or_default(),
            lockdown: current_lockdown(),
            memlock_charged: crate::memlock_rlimit_needed().unwrap_or(false),
        }
    }

    /// The hint for an `EPERM` refusing `what` (a program kind such as
    /// `fentry`, or `None` for any other operation).
    pub fn hint(&self, what: Option<&str>) -> String {
        let mut causes = Vec::new();
        if !self.missing_capabilities.is_empty() {
            causes.push(format!(
                "the process lacks {} (and CAP_SYS_ADMIN)",
                self.missing_capabilities.join(", ")
            ));
        }
        // Lockdown refuses some program kinds even to root; for anything
        // else it is a cause only when no capability is missing.
        let lockdown = self
            .lockdown
            .as_ref()
            .filter(|_| what.is_some() || self.missing_capabilities.is_empty());
        if let Some(mode) = lockdown {
            causes.push(match what {
                Some(kind) => {
                    format!("the kernel is locked down ({mode}), which refuses {kind} programs even to root")
                }
                None => format!(
                    "the kernel is locked down ({mode}), which refuses some BPF operations even to root"
                ),
            });
        }
        if self.memlock_charged {
            causes.push(
                "this kernel charges BPF memory to RLIMIT_MEMLOCK (before 5.11) and the limit may be too low"
                    .to_owned(),
            );
        }
        if causes.is_empty() {
            causes.push(
                "a policy refused it: an LSM (SELinux, AppArmor, a BPF LSM program), \
                 kernel.unprivileged_bpf_disabled or a seccomp filter"
                    .to_owned(),
            );
        }
        causes.join("; ")
    }
}

/// The likely cause of an `EPERM` from the kernel, for an operation on a
/// program of kind `what` (`fentry`, `LSM`, ...) or any other (`None`).
pub fn eperm_hint(what: Option<&str>) -> String {
    PermissionFacts::current().hint(what)
}

/// The effective capability set (`CapEff:` of `/proc/self/status`).
fn effective_caps(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

fn missing_capabilities(eff: u64) -> Vec<&'static str> {
    let has = |cap: u32| eff & (1u64 << cap) != 0;
    let admin = has(CAP_SYS_ADMIN);
    let mut missing = Vec::new();
    if !admin && !has(CAP_BPF) {
        missing.push("CAP_BPF");
    }
    if !admin && !has(CAP_PERFMON) {
        missing.push("CAP_PERFMON");
    }
    if !has(CAP_NET_ADMIN) {
        missing.push("CAP_NET_ADMIN");
    }
    missing
}

/// The kernel's lockdown mode unless it is `none`: from securityfs where it
/// is mounted, else from the boot command line (`lockdown=`), else from the
/// configuration's forced mode (`CONFIG_LOCK_DOWN_KERNEL_FORCE_*`). A mode
/// raised at run time is seen only through securityfs.
fn current_lockdown() -> Option<String> {
    if let Ok(text) = std::fs::read_to_string("/sys/kernel/security/lockdown") {
        return lockdown_mode(&text);
    }
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let config = crate::KernelConfig::current().ok();
    lockdown_from_boot(&cmdline, config)
}

/// The lockdown mode a kernel boots into, from its command line and configuration.
fn lockdown_from_boot(cmdline: &str, config: Option<&crate::KernelConfig>) -> Option<String> {
    let config = config?;
    if !config.is_enabled("CONFIG_SECURITY_LOCKDOWN_LSM") {
        return None;
    }
    for mode in ["confidentiality", "integrity"] {
        let option = format!("CONFIG_LOCK_DOWN_KERNEL_FORCE_{}", mode.to_uppercase());
        if config.is_enabled(&option) {
            return Some(format!("{mode}, forced by {option}"));
        }
    }
    let arg = cmdline
        .split_whitespace()
        .take_while(|a| *a != "--")
        .find_map(|a| a.strip_prefix("lockdown="))?;
    matches!(arg, "integrity" | "confidentiality")
        .then(|| format!("{arg}, from the boot command line"))
}

/// The selected mode of `none [integrity] confidentiality`, unless it is `none`.
fn lockdown_mode(text: &str) -> Option<String> {
    let mode = text.split('[').nth(1)?.split(']').next()?;
    (mode != "none").then(|| mode.to_owned())
}

/// Whether the effective set holds what the kernel tests need: `CAP_SYS_ADMIN`
/// or `CAP_BPF` + `CAP_PERFMON`, and `CAP_NET_ADMIN`. `None` when the set
/// cannot be read.
pub fn has_bpf_capabilities() -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    effective_caps(&status).map(|eff| missing_capabilities(eff).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_capabilities() {
        let status = "Name:\tx\nCapEff:\t000001ffffffffff\n";
        assert_eq!(effective_caps(status), Some(0x1ff_ffff_ffff));
        assert!(missing_capabilities(0x1ff_ffff_ffff).is_empty());
        assert_eq!(
            missing_capabilities(0),
            ["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"]
        );
        let bpf_only = (1 << CAP_BPF) | (1 << CAP_PERFMON);
        assert_eq!(missing_capabilities(bpf_only), ["CAP_NET_ADMIN"]);
    }

    #[test]
    fn reads_lockdown() {
        assert_eq!(lockdown_mode("[none] integrity confidentiality\n"), None);
        assert_eq!(
            lockdown_mode("none [integrity] confidentiality\n").as_deref(),
            Some("integrity")
        );
    }

    #[test]
    fn lockdown_from_boot_settings() {
        let forced = crate::KernelConfig::parse(
            "CONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y\n",
        );
        assert_eq!(
            lockdown_from_boot("quiet", Some(&forced)).as_deref(),
            Some("integrity, forced by CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY")
        );
        let lsm = crate::KernelConfig::parse("CONFIG_SECURITY_LOCKDOWN_LSM=y\n");
        assert_eq!(lockdown_from_boot("quiet", Some(&lsm)), None);
        assert_eq!(
            lockdown_from_boot("ro lockdown=confidentiality", Some(&lsm)).as_deref(),
            Some("confidentiality, from the boot command line")
        );
        assert_eq!(
            lockdown_from_boot("init -- lockdown=integrity", Some(&lsm)),
            None
        );
        assert_eq!(lockdown_from_boot("lockdown=integrity", None), None);
    }

    #[test]
    fn hints_name_the_facts() {
        let facts = PermissionFacts {
            missing_capabilities: vec!["CAP_BPF"],
            lockdown: Some("integrity".into()),
            memlock_charged: false,
        };
        let h = facts.hint(Some("fentry"));
        assert!(h.contains("lacks CAP_BPF"), "{h}");
        assert!(
            h.contains("locked down (integrity), which refuses fentry"),
            "{h}"
        );
        assert!(!h.contains("RLIMIT_MEMLOCK"), "{h}");
        let h = PermissionFacts::default().hint(None);
        assert!(h.starts_with("a policy refused it"), "{h}");
    }
}
