//! What to tell a CLI user whose command the kernel refused with `EPERM`.
//!
//! The library's error already states the facts (missing capabilities,
//! lockdown); this adds what to do about them, in command-line words.

use std::fmt::Display;

use ebpf::PermissionFacts;

/// `err` as text, followed by a line saying how to get the privileges it
/// lacks, when the kernel refused it with `EPERM` and this process lacks
/// capabilities.
pub fn hint(err: &impl Display) -> String {
    let msg = err.to_string();
    if !msg.contains("(EPERM)") {
        return msg;
    }
    let facts = PermissionFacts::current();
    if facts.missing_capabilities.is_empty() {
        return msg;
    }
    let caps: Vec<String> = facts
        .missing_capabilities
        .iter()
        .map(|c| c.to_lowercase())
        .collect();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "ebpf-tool".into());
    format!(
        "{msg}\nhint: run as root, or give ebpf-tool the capabilities: sudo setcap {}+ep {exe}",
        caps.join(",")
    )
}
