//! The parity table and its summary.

use std::fmt::Write as _;

use crate::allow::Entry;
use crate::{Counts, Gap, Row, Side};

/// The header of [`line()`]'s table.
pub fn header() -> String {
    format!(
        "{:<56} {:>9} {:>9}  {:>4} {:>4}  {:>7} {:>7} {:>5}  note\n{:<56} {:>9} {:>9}  {:>4} {:>4}  {:>7} {:>7} {:>5}",
        "object",
        "open",
        "",
        "load",
        "",
        "alone",
        "",
        "time",
        "",
        "libbpf",
        "ours",
        "lbpf",
        "ours",
        "libbpf",
        "ours",
        "s"
    )
}

fn open_cell(open: &Option<Result<Counts, String>>) -> String {
    match open {
        Some(Ok(c)) => format!("{}p {}m", c.programs, c.maps),
        Some(Err(_)) => "FAIL".to_owned(),
        None => "-".to_owned(),
    }
}

fn load_cell(load: &Option<Result<(), String>>) -> &'static str {
    match load {
        Some(Ok(())) => "ok",
        Some(Err(_)) => "FAIL",
        None => "-",
    }
}

fn alone_cell(side: &Side) -> String {
    if side.alone.is_empty() {
        return String::new();
    }
    let ok = side.alone.values().filter(|v| v.is_ok()).count();
    format!("{ok}/{}", side.alone.len())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}...")
}

/// One row of the table: counts or FAIL per side, load verdicts, programs
/// loaded alone (`ok/total`), and a note: the gaps, what we do that libbpf
/// does not, or why both failed.
pub fn line(row: &Row) -> String {
    let (l, o) = (&row.libbpf, &row.ours);
    let gaps = row.gaps();
    let ahead = row.ahead();
    let note = if !gaps.is_empty() {
        gaps.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    } else if !ahead.is_empty() {
        ahead.join("; ")
    } else if let Some(Err(e)) = &l.open {
        format!("neither opens: libbpf: {e}")
    } else if let Some(Err(e)) = &l.load {
        format!("neither loads: libbpf: {e}")
    } else if let Some((name, Err(e))) = l.alone.iter().find(|(_, v)| v.is_err()) {
        format!("neither loads some alone, e.g. '{name}': libbpf: {e}")
    } else {
        String::new()
    };
    format!(
        "{:<56} {:>9} {:>9}  {:>4} {:>4}  {:>7} {:>7} {:>5.1}  {}",
        row.name,
        open_cell(&l.open),
        open_cell(&o.open),
        load_cell(&l.load),
        load_cell(&o.load),
        alone_cell(l),
        alone_cell(o),
        row.elapsed.as_secs_f64(),
        shorten(&note, 240)
    )
}

/// Whether a row is worth printing when only the interesting rows are: not
/// everything opened and loaded alike.
pub fn interesting(row: &Row) -> bool {
    let all_ok = |s: &Side| {
        matches!(s.open, Some(Ok(_)))
            && matches!(s.load, Some(Ok(())))
            && s.alone.values().all(Result::is_ok)
    };
    !(all_ok(&row.libbpf) && all_ok(&row.ours) && row.gaps().is_empty())
}

/// The counts of one sweep, and its gaps split by the allow-list.
#[derive(Debug, Default)]
pub struct Summary {
    /// Rows (objects and their CO-RE variants).
    pub rows: usize,
    /// Of them, CO-RE variants.
    pub core_variants: usize,
    /// Opened by libbpf, by us.
    pub opened: (usize, usize),
    /// Loaded by libbpf, by us (of the rows both opened).
    pub loaded: (usize, usize),
    /// Programs loaded alone by libbpf, by us, and how many were tried.
    pub alone: (usize, usize, usize),
    /// Gaps not on the allow-list: row, gap.
    pub failures: Vec<(String, Gap)>,
    /// Gaps on the allow-list: row, gap, reason.
    pub allowed: Vec<(String, Gap, String)>,
    /// Allow-list entries that covered nothing.
    pub unused: Vec<Entry>,
    /// What we do that libbpf does not: row, what.
    pub ahead: Vec<(String, String)>,
}

/// Counts `rows` of `series` and sorts their gaps with `allow`.
pub fn summarise(series: &str, rows: &[Row], allow: &[Entry]) -> Summary {
    let mut s = Summary {
        rows: rows.len(),
        ..Summary::default()
    };
    let mut used = vec![false; allow.len()];
    for row in rows {
        s.core_variants += usize::from(row.name.contains(" @ "));
        let (l, o) = (&row.libbpf, &row.ours);
        s.opened.0 += usize::from(matches!(l.open, Some(Ok(_))));
        s.opened.1 += usize::from(matches!(o.open, Some(Ok(_))));
        s.loaded.0 += usize::from(matches!(l.load, Some(Ok(()))));
        s.loaded.1 += usize::from(matches!(o.load, Some(Ok(()))));
        s.alone.0 += l.alone.values().filter(|v| v.is_ok()).count();
        s.alone.1 += o.alone.values().filter(|v| v.is_ok()).count();
        s.alone.2 += l.alone.len();
        for gap in row.gaps() {
            let entry = allow
                .iter()
                .position(|e| e.covers(series, &row.name, gap.kind()));
            match entry {
                Some(i) => {
                    used[i] = true;
                    s.allowed
                        .push((row.name.clone(), gap, allow[i].why.clone()));
                }
                None => s.failures.push((row.name.clone(), gap)),
            }
        }
        for a in row.ahead() {
            s.ahead.push((row.name.clone(), a));
        }
    }
    s.unused = allow
        .iter()
        .zip(used)
        .filter(|(e, used)| !used && (e.series.is_empty() || e.series.iter().any(|x| x == series)))
        .map(|(e, _)| e.clone())
        .collect();
    s
}

impl Summary {
    /// The summary as text: counts, then the failures, allowed gaps, unused
    /// allow-list entries and what we do that libbpf does not.
    pub fn text(&self, series: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "libbpf parity, selftests {series}: {} objects (+{} CO-RE target variants); \
             open: libbpf {}, ours {}; load: libbpf {}, ours {}; \
             programs loaded alone: libbpf {}, ours {} (of {}); \
             gaps: {} failing, {} allowed; we do more: {}",
            self.rows - self.core_variants,
            self.core_variants,
            self.opened.0,
            self.opened.1,
            self.loaded.0,
            self.loaded.1,
            self.alone.0,
            self.alone.1,
            self.alone.2,
            self.failures.len(),
            self.allowed.len(),
            self.ahead.len()
        );
        for (name, gap) in &self.failures {
            let _ = writeln!(out, "  GAP     {name}: {gap}");
        }
        for (name, gap, why) in &self.allowed {
            let _ = writeln!(
                out,
                "  allowed {name}: {} ({why})",
                shorten(&gap.to_string(), 160)
            );
        }
        for e in &self.unused {
            let _ = writeln!(
                out,
                "  UNUSED  allow-list entry `{}` ({}) covers no gap: remove it from docs/TESTING.md",
                e.object, e.gap
            );
        }
        for (name, what) in &self.ahead {
            let _ = writeln!(out, "  ahead   {name}: {what}");
        }
        out
    }
}
