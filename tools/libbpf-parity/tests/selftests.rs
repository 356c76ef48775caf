//! The selftests sweep: every object `cargo xtask selftests --kernel SERIES`
//! built, opened and loaded by libbpf and by us on the running kernel (see the
//! crate docs). Fails on any gap not on the allow-list in `docs/TESTING.md`,
//! and on allow-list entries that no longer cover a gap. Prints the rows where
//! something failed and the summary; the whole table goes to
//! `target/selftests/SERIES/parity.txt`. `EBPF_PARITY_FILTER=TEXT` runs only
//! the rows whose name contains `TEXT`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ebpf_test_support::{BpfFs, kernel_test, skip};
use libbpf_parity::{Sweep, allow, libbpf, report, targets};

/// Set to a substring of row names to run only those rows (for debugging one object).
const FILTER_ENV: &str = "EBPF_PARITY_FILTER";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sweep(series: &str) {
    let root = root();
    let dir = root.join("target/selftests").join(series);
    let obj = dir.join("obj");
    if !obj.is_dir() {
        skip(format!(
            "no selftests objects in {}: run `cargo xtask selftests --kernel {series}` first",
            obj.display()
        ));
        return;
    }
    kernel_test(|| {
        let started = Instant::now();
        let allow = allow::load(&root)?;
        let bpffs = BpfFs::new()?;
        let mut sweep = Sweep::new(bpffs.path());
        let filter = std::env::var(FILTER_ENV).ok();
        let mut rows = Vec::new();
        for target in targets(&obj)? {
            if filter
                .as_ref()
                .is_some_and(|f| !target.name.contains(f.as_str()))
            {
                continue;
            }
            rows.push(sweep.row(&target)?);
        }
        let mut summary = report::summarise(series, &rows, &allow);
        if filter.is_some() {
            // Only part of the objects ran: entries for the others are not stale.
            summary.unused.clear();
        }
        let text = summary.text(series);

        let mut table = report::header();
        table.push('\n');
        let mut shown = table.clone();
        for row in &rows {
            let line = report::line(row);
            table.push_str(&line);
            table.push('\n');
            if report::interesting(row) {
                shown.push_str(&line);
                shown.push('\n');
            }
        }
        let full = dir.join("parity.txt");
        std::fs::write(&full, format!("{table}\n{text}"))?;
        // Straight to stderr: the test harness captures only the print macros.
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "libbpf {} against ebpf-rs: rows where something failed (all rows: {})\n{shown}\n{text}\
             ({:.0} s)",
            libbpf::version(),
            full.display(),
            started.elapsed().as_secs_f64()
        )?;
        assert!(
            summary.failures.is_empty() && summary.unused.is_empty(),
            "libbpf parity on the {series} selftests: {} gaps not on the allow-list, {} unused \
             allow-list entries (docs/TESTING.md):\n{text}",
            summary.failures.len(),
            summary.unused.len()
        );
        Ok(())
    });
}

#[test]
fn selftests_6_1() {
    sweep("6.1");
}

#[test]
fn selftests_6_12() {
    sweep("6.12");
}
