//! The allow-list: gaps the parity test accepts, each with its reason. It lives
//! in `docs/TESTING.md`, as the table between the markers [`BEGIN`] and
//! [`END`], one row per object:
//!
//! ```text
//! | object | series | gap | why |
//! |---|---|---|---|
//! | `name.bpf.o` | 6.1, 6.12 | load | the reason |
//! ```
//!
//! `object` is a row name of the parity table; a trailing `*` makes it a
//! prefix. `series` lists the trees it applies to (`all` for every one).
//! `gap` is `open` (not opened, or other counts) or `load` (the object or one
//! of its programs not loaded).

use std::path::Path;

/// The line before the table.
pub const BEGIN: &str = "<!-- libbpf-parity allow-list: begin -->";
/// The line after it.
pub const END: &str = "<!-- libbpf-parity allow-list: end -->";

/// One row of the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The row name, or a prefix of row names when it ends in `*`.
    pub object: String,
    /// The series it applies to; empty for all.
    pub series: Vec<String>,
    /// `open` or `load`.
    pub gap: String,
    /// Why we accept it.
    pub why: String,
}

impl Entry {
    /// Whether this entry accepts a gap of kind `gap` on row `name` of `series`.
    pub fn covers(&self, series: &str, name: &str, gap: &str) -> bool {
        let object = match self.object.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.object,
        };
        object
            && self.gap == gap
            && (self.series.is_empty() || self.series.iter().any(|s| s == series))
    }
}

/// Reads the allow-list from the text of `docs/TESTING.md`.
pub fn parse(doc: &str) -> Result<Vec<Entry>, String> {
    let start = doc
        .find(BEGIN)
        .ok_or_else(|| format!("docs/TESTING.md: no line {BEGIN}"))?;
    let rest = &doc[start + BEGIN.len()..];
    let end = rest
        .find(END)
        .ok_or_else(|| format!("docs/TESTING.md: no line {END} after {BEGIN}"))?;
    let mut out = Vec::new();
    for line in rest[..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells
            .first()
            .is_some_and(|c| *c == "object" || c.starts_with("---"))
        {
            continue;
        }
        let [object, series, gap, why] = cells[..] else {
            return Err(format!(
                "docs/TESTING.md allow-list: a row needs 4 cells (object, series, gap, why): {line}"
            ));
        };
        let object = object.trim_matches('`').to_owned();
        if !matches!(gap, "open" | "load") {
            return Err(format!(
                "docs/TESTING.md allow-list: gap of '{object}' is '{gap}', not open or load"
            ));
        }
        if why.is_empty() {
            return Err(format!(
                "docs/TESTING.md allow-list: '{object}' has no reason"
            ));
        }
        let series = match series {
            "all" => Vec::new(),
            s => s.split(',').map(|s| s.trim().to_owned()).collect(),
        };
        out.push(Entry {
            object,
            series,
            gap: gap.to_owned(),
            why: why.to_owned(),
        });
    }
    Ok(out)
}

/// Reads the allow-list from `docs/TESTING.md` under the workspace `root`.
pub fn load(root: &Path) -> Result<Vec<Entry>, String> {
    let path = root.join("docs/TESTING.md");
    let doc =
        std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
    parse(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_between_the_markers() {
        let doc = format!(
            "# T\n| not | this |\n{BEGIN}\n| object | series | gap | why |\n|---|---|---|---|\n\
             | `a.bpf.o` | 6.1, 6.12 | load | USDT |\n| `b.bpf.o @ *` | all | open | x |\n{END}\n"
        );
        let list = parse(&doc).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].covers("6.12", "a.bpf.o", "load"));
        assert!(!list[0].covers("6.12", "a.bpf.o", "open"));
        assert!(!list[0].covers("6.18", "a.bpf.o", "load"));
        assert!(list[1].covers("6.1", "b.bpf.o @ btf__x", "open"));
        assert!(!list[1].covers("6.1", "b.bpf.o", "open"));
    }

    #[test]
    fn rejects_rows_without_a_reason_or_kind() {
        let row = |r: &str| format!("{BEGIN}\n{r}\n{END}\n");
        assert!(parse(&row("| `a.bpf.o` | all | load | |")).is_err());
        assert!(parse(&row("| `a.bpf.o` | all | run | why |")).is_err());
        assert!(parse(&row("| `a.bpf.o` | all | load |")).is_err());
        assert!(parse("no markers").is_err());
    }

    #[test]
    fn the_committed_list_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        load(&root).unwrap();
    }
}
