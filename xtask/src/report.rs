//! `cargo xtask test-summary` and `cargo xtask test-report`: the kernel matrix
//! from the result files `vm-test` leaves in `target/vm/results/*.tsv`, plus
//! the host's `cargo test --workspace` log (`target/host-test.log`, which
//! `.ci/run` writes).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::results::{Counts, ResultFile, Status, parse_host_log};
use crate::vm_image::natural_key;

const BEGIN: &str = "<!-- BEGIN vm-report -->";
const END: &str = "<!-- END vm-report -->";

/// The result files, ordered by kernel series (`latest` last).
fn result_files(root: &Path) -> Result<Vec<(String, ResultFile)>, String> {
    let dir = root.join("target/vm/results");
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("read {}: {e}", dir.display())),
    };
    files.sort_by_key(|p| {
        let stem = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        (stem == "latest", natural_key(&stem))
    });
    files
        .iter()
        .map(|p| {
            let key = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Ok((key, ResultFile::read(p)?))
        })
        .collect()
}

/// `6.12 (6.12.117+deb13-amd64)`, or the release alone when it is the key.
fn kernel_label(key: &str, file: &ResultFile) -> String {
    match file.get("release") {
        Some(r) if r != key => format!("{key} ({r})"),
        _ => key.to_owned(),
    }
}

/// What the table notes about a run besides its counts.
fn notes(file: &ResultFile) -> String {
    let mut notes = Vec::new();
    if let Some(c) = file.get("cpus") {
        notes.push(format!("cpus {c}"));
    }
    if let Some(w) = file.get("wall_seconds") {
        notes.push(format!("{w} s"));
    }
    match file.get("selection") {
        Some("all") | None => {}
        Some(s) => notes.push(format!("only {s}")),
    }
    match file.get("outcome") {
        Some("complete") | None => {}
        Some(o) => notes.push(o.to_owned()),
    }
    notes.join(", ")
}

/// `host <uname -r>`.
fn host_label() -> String {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("host {}", release.trim())
}

/// Prints the table kernel × passed / failed / skipped.
pub fn summary(root: &Path) -> Result<(), String> {
    let mut rows: Vec<(String, Counts, String)> = Vec::new();
    let host_log = root.join("target/host-test.log");
    match fs::read_to_string(&host_log) {
        Ok(log) => rows.push((
            host_label(),
            parse_host_log(&log),
            "cargo test --workspace".into(),
        )),
        Err(_) => eprintln!(
            "test-summary: no {} (.ci/run writes it): no host row",
            host_log.display()
        ),
    }
    for (key, file) in result_files(root)? {
        rows.push((
            kernel_label(&key, &file),
            Counts::of(&file.rows),
            notes(&file),
        ));
    }
    if rows.is_empty() {
        return Err(
            "test-summary: no results: run cargo xtask vm-test (target/vm/results/) \
                    or keep a cargo test log in target/host-test.log"
                .into(),
        );
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
    println!(
        "{:<width$}  {:>6}  {:>6}  {:>7}  notes",
        "kernel", "passed", "failed", "skipped"
    );
    let mut total = Counts::default();
    for (label, c, note) in &rows {
        println!(
            "{label:<width$}  {:>6}  {:>6}  {:>7}  {note}",
            c.passed, c.failed, c.skipped
        );
        total.add(*c);
    }
    println!(
        "total: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    Ok(())
}

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('|', r"\|")
}

/// `s` cut to about `max` bytes (the console log and the result file have it whole).
fn short(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} ...", &s[..end])
}

/// The markdown `test-report` puts between the markers.
fn report_markdown(files: &[(String, ResultFile)]) -> String {
    let mut md = String::from(
        "Written by `cargo xtask test-report` from the last `cargo xtask vm-test` of each \
         kernel (`target/vm/results/*.tsv`).\n\n\
         | kernel | passed | failed | skipped | notes |\n|---|---:|---:|---:|---|\n",
    );
    for (key, file) in files {
        let c = Counts::of(&file.rows);
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&kernel_label(key, file)),
            c.passed,
            c.failed,
            c.skipped,
            cell(&notes(file))
        ));
    }
    for (key, file) in files {
        let label = kernel_label(key, file);
        let failed: Vec<_> = file
            .rows
            .iter()
            .filter(|r| r.status == Status::Fail)
            .collect();
        if !failed.is_empty() {
            md.push_str(&format!(
                "\n#### {label}: failed\n\n| test | failure |\n|---|---|\n"
            ));
            for r in failed {
                md.push_str(&format!(
                    "| `{}` `{}` | {} |\n",
                    cell(&r.binary),
                    cell(&r.test),
                    cell(&short(&r.reason, 240))
                ));
            }
        }
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in file.rows.iter().filter(|r| r.status == Status::Skip) {
            by_reason.entry(&r.reason).or_default().push(&r.test);
        }
        if by_reason.is_empty() {
            continue;
        }
        md.push_str(&format!(
            "\n#### {label}: skipped\n\n| reason | tests |\n|---|---|\n"
        ));
        for (reason, mut tests) in by_reason {
            tests.sort_unstable();
            let tests: Vec<String> = tests.iter().map(|t| format!("`{}`", cell(t))).collect();
            md.push_str(&format!("| {} | {} |\n", cell(reason), tests.join(", ")));
        }
    }
    md
}

/// Rewrites the part of `docs/TESTING.md` between the vm-report markers.
pub fn report(root: &Path) -> Result<(), String> {
    let files = result_files(root)?;
    if files.is_empty() {
        return Err(
            "test-report: no target/vm/results/*.tsv: run cargo xtask vm-test first".into(),
        );
    }
    let doc = root.join("docs/TESTING.md");
    let text = fs::read_to_string(&doc).map_err(|e| format!("read {}: {e}", doc.display()))?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!(
            "{} has no {BEGIN} ... {END} markers to write the report between",
            doc.display()
        ));
    };
    if e < b {
        return Err(format!("{}: {END} comes before {BEGIN}", doc.display()));
    }
    let new = format!(
        "{}{BEGIN}\n{}{}",
        &text[..b],
        report_markdown(&files),
        &text[e..]
    );
    if new != text {
        fs::write(&doc, new).map_err(|e| format!("write {}: {e}", doc.display()))?;
    }
    println!(
        "test-report: {} kernels written to {}",
        files.len(),
        doc.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::report_markdown;
    use crate::results::{ResultFile, Row, Status};

    #[test]
    fn skipped_tests_grouped_by_reason() {
        let row = |test: &str, status, reason: &str| Row {
            binary: "ebpf-link/probes".into(),
            test: test.into(),
            status,
            reason: reason.into(),
        };
        let file = ResultFile {
            meta: vec![("release".into(), "6.1.0-50-amd64".into())],
            rows: vec![
                row("a", Status::Pass, ""),
                row("c", Status::Skip, "tcx needs 6.6"),
                row("b", Status::Skip, "tcx needs 6.6"),
                row("d", Status::Fail, "x.rs:1:1: boom | bang"),
            ],
        };
        let md = report_markdown(&[("6.1".into(), file)]);
        assert!(md.contains("| 6.1 (6.1.0-50-amd64) | 1 | 1 | 2 |"), "{md}");
        assert!(md.contains("| tcx needs 6.6 | `b`, `c` |"), "{md}");
        assert!(md.contains(r"boom \| bang"), "{md}");
        assert!(!md.contains("`a`"), "{md}");
    }
}
