//! `cargo xtask check-layers`: the workspace's dependency chain, enforced.
//!
//! `ebpf-abi` (the kernel's vocabulary) is at the bottom and any crate may use it.
//! The pure crates build bottom-up (`ebpf-asm` <- `ebpf-btf` <- `ebpf-spec`),
//! the kernel crates sit on top (`ebpf` <- `ebpf-link`), and `ebpf-syscall` is
//! used only by `ebpf` and `ebpf-link`. `ebpf-test-support` may only be a
//! dev-dependency. Any other edge between our crates is an error.

use std::fs;
use std::path::Path;

/// Which of our crates each crate may depend on (normal, build and dev deps).
const ALLOWED: &[(&str, &[&str])] = &[
    ("ebpf-abi", &[]),
    ("ebpf-asm", &["ebpf-abi"]),
    ("ebpf-btf", &["ebpf-abi", "ebpf-asm"]),
    ("ebpf-spec", &["ebpf-abi", "ebpf-asm", "ebpf-btf"]),
    // Code generation is pure: it reads objects and BTF and writes text.
    ("ebpf-gen", &["ebpf-abi", "ebpf-btf", "ebpf-spec"]),
    ("ebpf-syscall", &["ebpf-abi"]),
    (
        "ebpf",
        &[
            "ebpf-abi",
            "ebpf-asm",
            "ebpf-btf",
            "ebpf-spec",
            "ebpf-syscall",
        ],
    ),
    (
        "ebpf-link",
        &[
            "ebpf-abi",
            "ebpf-asm",
            "ebpf-btf",
            "ebpf-spec",
            "ebpf-syscall",
            "ebpf",
        ],
    ),
    (
        "ebpf-tool",
        &[
            "ebpf-abi",
            "ebpf-asm",
            "ebpf-btf",
            "ebpf-spec",
            "ebpf-gen",
            "ebpf",
            "ebpf-link",
        ],
    ),
    (
        "ebpf-test-support",
        &["ebpf-abi", "ebpf-syscall", "ebpf", "ebpf-link"],
    ),
    // Generated code depends on ebpf and ebpf-link only; the generator runs in build.rs.
    (
        "ebpf-gen-test",
        &[
            "ebpf-abi",
            "ebpf-btf",
            "ebpf-spec",
            "ebpf-gen",
            "ebpf",
            "ebpf-link",
        ],
    ),
];

/// The crate that only tests may use.
const TEST_ONLY: &str = "ebpf-test-support";

/// One dependency on one of our crates, as read from a manifest.
#[derive(Debug, PartialEq, Eq)]
pub struct Dep {
    /// The dependency's name.
    pub name: String,
    /// The manifest table it was found in (`dependencies`, `dev-dependencies`, ...).
    pub table: String,
}

/// The dependencies on workspace crates (names starting with `ebpf`) in a
/// manifest. Understands `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]`, their `[target.X.*]` forms, and both
/// `name = ...` / `name.workspace = true` lines and `[dependencies.name]` tables.
pub fn our_deps(manifest: &str) -> Vec<Dep> {
    let mut deps = Vec::new();
    let mut table: Option<String> = None;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            let header = line.trim_matches(|c| c == '[' || c == ']').trim();
            let header = header
                .strip_prefix("target.")
                .and_then(|rest| rest.rsplit_once('.').map(|(_, t)| t).or(Some(rest)))
                .filter(|_| header.starts_with("target."))
                .map_or_else(|| header.to_owned(), str::to_owned);
            table = None;
            for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if header == kind {
                    table = Some(kind.to_owned());
                } else if let Some(name) = header.strip_prefix(&format!("{kind}.")) {
                    if name.starts_with("ebpf") {
                        deps.push(Dep {
                            name: name.to_owned(),
                            table: kind.to_owned(),
                        });
                    }
                }
            }
            continue;
        }
        let Some(table) = &table else { continue };
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let name = key
            .trim()
            .split('.')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if name.starts_with("ebpf") {
            deps.push(Dep {
                name: name.to_owned(),
                table: table.clone(),
            });
        }
    }
    deps
}

/// The layering violations of crate `name` with manifest text `manifest`.
pub fn violations(name: &str, manifest: &str) -> Vec<String> {
    let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
        return vec![format!(
            "crate '{name}' is not in the layer table of xtask/src/layers.rs: add it with the crates it may use"
        )];
    };
    let mut out = Vec::new();
    for dep in our_deps(manifest) {
        if dep.name == TEST_ONLY {
            if dep.table != "dev-dependencies" {
                out.push(format!(
                    "{name}: '{TEST_ONLY}' may only be a dev-dependency (found in [{}])",
                    dep.table
                ));
            }
            continue;
        }
        if !allowed.contains(&dep.name.as_str()) {
            out.push(format!(
                "{name}: depends on '{}' in [{}], but its layer may only use {:?}",
                dep.name, dep.table, allowed
            ));
        }
    }
    out
}

/// Checks every crate under `crates/`.
pub fn check(root: &Path) -> Result<(), String> {
    let crates = root.join("crates");
    let mut problems = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(&crates)
        .map_err(|e| format!("read {}: {e}", crates.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    entries.sort();
    for dir in entries {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let manifest = fs::read_to_string(dir.join("Cargo.toml"))
            .map_err(|e| format!("read {name}/Cargo.toml: {e}"))?;
        problems.extend(violations(&name, &manifest));
    }
    if problems.is_empty() {
        println!("layers ok");
        Ok(())
    } else {
        Err(format!("layering violations:\n  {}", problems.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_respects_its_layers() {
        check(&crate::workspace_root()).unwrap();
    }

    #[test]
    fn a_pure_crate_using_the_syscall_layer_is_rejected() {
        let manifest = "[package]\nname = \"ebpf-spec\"\n\n[dependencies]\nebpf-btf = { workspace = true }\nebpf-syscall.workspace = true\n";
        let v = violations("ebpf-spec", manifest);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("ebpf-syscall"), "{v:?}");
    }

    #[test]
    fn upward_edges_are_rejected_in_every_table_form() {
        let manifest = "[dependencies.ebpf]\npath = \"../ebpf\"\n\n[target.'cfg(unix)'.dev-dependencies]\nebpf-link = { path = \"../ebpf-link\" }\n";
        let v = violations("ebpf-asm", manifest);
        assert_eq!(v.len(), 2, "{v:?}");
    }

    #[test]
    fn tool_may_not_bypass_the_object_layer() {
        let v = violations("ebpf-tool", "[dependencies]\nebpf-syscall = \"0.1\"\n");
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn test_support_only_as_dev_dependency() {
        assert!(
            violations(
                "ebpf",
                "[dev-dependencies]\nebpf-test-support.workspace = true\n"
            )
            .is_empty()
        );
        assert_eq!(
            violations(
                "ebpf",
                "[dependencies]\nebpf-test-support.workspace = true\n"
            )
            .len(),
            1
        );
    }
}
