//! `ebpf-bench`: ebpf-rs measured side by side with libbpf and aya-obj in one run.
//!
//! ```text
//! cargo run --release -p ebpf-bench -- [--quick] [--no-write] [FILTER]
//! ```
//!
//! Prints one TSV line per benchmark (`name ours libbpf aya unit ratio_vs_libbpf`)
//! and writes the same table to `docs/PERFORMANCE.md` (unless `--no-write` or a
//! FILTER is given). A ratio below 1.0 means ebpf-rs is faster (or smaller).

mod measure;
mod peers;
mod report;
mod rss;
mod suites;

use std::path::Path;

use measure::Budget;
use report::Row;

/// What a suite needs to run: the budget and the name filter.
#[derive(Debug)]
pub struct Ctx {
    /// Timing budget.
    pub budget: Budget,
    /// Only benchmarks whose name contains this run.
    pub filter: Option<String>,
}

impl Ctx {
    /// Whether benchmark `name` passes the filter.
    pub fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(rss::CHILD_FLAG) {
        rss::child(&args[1..]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let no_write = args.iter().any(|a| a == "--no-write");
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let ctx = Ctx {
        budget: if quick { Budget::QUICK } else { Budget::FULL },
        filter: filter.clone(),
    };
    peers::libbpf::silence();

    println!("{}", report::HEADER);
    let mut rows: Vec<Row> = Vec::new();
    for suite in suites::ALL {
        for row in suite(&ctx) {
            println!("{}", report::tsv(&row));
            rows.push(row);
        }
    }
    match report::noise_floor(&rows) {
        Some(n) => eprintln!("noise floor (baseline rows): {:.1}%", n * 100.0),
        None => eprintln!("noise floor unknown (no baseline row ran): no target is decided"),
    }
    for t in report::check_targets(&rows) {
        eprintln!(
            "target {}: {} {}: {}",
            t.name,
            t.target,
            t.measured,
            t.verdict.word()
        );
    }
    if !no_write && filter.is_none() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PERFORMANCE.md");
        if let Err(e) = report::write_markdown(&path, &rows, quick) {
            eprintln!("ebpf-bench: write {}: {e}", path.display());
            std::process::exit(1);
        }
        eprintln!("wrote {}", path.display());
    }
}
