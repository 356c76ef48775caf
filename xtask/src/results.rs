//! Test outcomes read from libtest's output: a `vm-test` console log (one
//! binary at a time, framed by `VMTEST BEGIN`/`VMTEST END`) or a host
//! `cargo test` log, and the per-kernel result files (`target/vm/results/*.tsv`)
//! that `test-summary` and `test-report` read.
//!
//! A kernel test that skips prints `SKIP <test>: <reason>` to stderr and then
//! passes: libtest has printed `test <test> ... ` already, so the skip line
//! continues that line and the `ok` follows on a line of its own.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;

/// What became of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "pass" => Some(Status::Pass),
            "fail" => Some(Status::Fail),
            "skip" => Some(Status::Skip),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        })
    }
}

/// One test's outcome: the skip reason, or the failure message, in `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The test binary, `crate/target` (`vm-test`'s label).
    pub binary: String,
    pub test: String,
    pub status: Status,
    pub reason: String,
}

/// The counts of `test result: ok. 3 passed; 1 failed; 2 ignored; ...`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResultLine {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl ResultLine {
    fn parse(rest: &str) -> Self {
        let mut r = ResultLine::default();
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse() else { continue };
            match what {
                "passed" => r.passed = n,
                "failed" => r.failed = n,
                "ignored" => r.ignored = n,
                _ => {}
            }
        }
        r
    }
}

/// libtest's verdict on one test line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Ok,
    Failed,
    Ignored(String),
}

fn verdict(s: &str) -> Option<Verdict> {
    let s = s.trim();
    if s == "ok" {
        return Some(Verdict::Ok);
    }
    if s.starts_with("FAILED") {
        return Some(Verdict::Failed);
    }
    s.strip_prefix("ignored")
        .map(|rest| Verdict::Ignored(rest.trim_start_matches(", ").trim().to_owned()))
}

/// The output of one test binary, fed line by line.
#[derive(Debug, Default)]
pub struct Tests {
    verdicts: Vec<(String, Verdict)>,
    /// A test whose `test NAME ... ` line had no verdict yet.
    pending: Option<String>,
    skips: BTreeMap<String, String>,
    /// The captured output of failed tests (`---- NAME stdout ----` blocks).
    failures: BTreeMap<String, Vec<String>>,
    in_failure: Option<String>,
    pub result: Option<ResultLine>,
}

impl Tests {
    pub fn line(&mut self, line: &str) {
        if let Some(name) = failure_block(line) {
            self.in_failure = Some(name.to_owned());
            return;
        }
        if let Some(name) = &self.in_failure {
            if line == "failures:" || line.starts_with("test result: ") {
                self.in_failure = None;
            } else {
                self.failures
                    .entry(name.clone())
                    .or_default()
                    .push(line.to_owned());
                return;
            }
        }
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.result = Some(ResultLine::parse(rest));
            return;
        }
        if let Some((name, tail)) = line
            .strip_prefix("test ")
            .and_then(|l| l.split_once(" ... "))
        {
            let name = name.strip_suffix(" - should panic").unwrap_or(name);
            match verdict(tail) {
                Some(v) => self.verdicts.push((name.to_owned(), v)),
                None => {
                    self.pending = Some(name.to_owned());
                    self.skip_line(tail);
                }
            }
            return;
        }
        if let Some(v) = verdict(line) {
            if let Some(name) = self.pending.take() {
                self.verdicts.push((name, v));
                return;
            }
        }
        self.skip_line(line);
    }

    /// Records `SKIP <test>: <reason>` found in `text`.
    fn skip_line(&mut self, text: &str) {
        let Some(at) = text.find("SKIP ") else { return };
        let Some((name, reason)) = text[at + 5..].split_once(": ") else {
            return;
        };
        // The skip belongs to the running test; its name is the thread's, which
        // libtest sets to the test's name.
        let known =
            self.pending.as_deref() == Some(name) || self.verdicts.iter().any(|(n, _)| n == name);
        let name = match &self.pending {
            Some(p) if !known => p.clone(),
            _ => name.to_owned(),
        };
        self.skips.insert(name, reason.trim().to_owned());
    }

    /// Names of tests with a SKIP line that did not fail.
    pub fn skipped_names(&self) -> Vec<&str> {
        self.skips
            .keys()
            .filter(|n| {
                !self
                    .verdicts
                    .iter()
                    .any(|(v, verdict)| v == *n && *verdict == Verdict::Failed)
            })
            .map(String::as_str)
            .collect()
    }

    /// One row per test. A test still without a verdict fails with `unfinished`.
    pub fn rows(&self, binary: &str, unfinished: &str) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .verdicts
            .iter()
            .map(|(test, v)| {
                let (status, reason) = match v {
                    Verdict::Ok => match self.skips.get(test) {
                        Some(r) => (Status::Skip, r.clone()),
                        None => (Status::Pass, String::new()),
                    },
                    Verdict::Failed => (Status::Fail, self.failure_message(test)),
                    Verdict::Ignored(r) if r.is_empty() => (Status::Skip, "#[ignore]".to_owned()),
                    Verdict::Ignored(r) => (Status::Skip, format!("#[ignore]: {r}")),
                };
                Row {
                    binary: binary.to_owned(),
                    test: test.clone(),
                    status,
                    reason,
                }
            })
            .collect();
        if let Some(test) = &self.pending {
            rows.push(Row {
                binary: binary.to_owned(),
                test: test.clone(),
                status: Status::Fail,
                reason: unfinished.to_owned(),
            });
        }
        rows
    }

    /// The panic location and message of a failed test (without the backtrace),
    /// else the first lines of its captured output.
    fn failure_message(&self, test: &str) -> String {
        let lines = self.failures.get(test).map(Vec::as_slice).unwrap_or(&[]);
        let msg = match lines.iter().position(|l| l.contains(" panicked at ")) {
            Some(at) => {
                let loc = lines[at]
                    .split_once(" panicked at ")
                    .map_or("", |(_, l)| l)
                    .trim_end_matches(':');
                let text: Vec<&str> = lines[at + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .take_while(|l| {
                        !l.is_empty()
                            && !l.starts_with("stack backtrace:")
                            && !l.starts_with("note: ")
                    })
                    .collect();
                format!("{loc}: {}", text.join(" / "))
            }
            None => lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .take(3)
                .collect::<Vec<_>>()
                .join(" / "),
        };
        let mut msg = msg.replace(['\t', '\r', '\n'], " ");
        if msg.len() > 600 {
            let mut end = 600;
            while !msg.is_char_boundary(end) {
                end -= 1;
            }
            msg.truncate(end);
            msg.push_str(" ...");
        }
        msg
    }
}

/// `NAME` of `---- NAME stdout ----`.
fn failure_block(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("---- ")?;
    inner
        .strip_suffix(" stdout ----")
        .or_else(|| inner.strip_suffix(" stderr ----"))
}

/// One test binary's run in the guest.
#[derive(Debug, Default)]
pub struct BinaryRun {
    pub label: String,
    /// The exit status from `VMTEST END`, if the binary finished.
    pub rc: Option<i32>,
    pub tests: Tests,
}

impl BinaryRun {
    pub fn rows(&self) -> Vec<Row> {
        let unfinished = match self.rc {
            Some(rc) => {
                format!("no verdict: the test binary exited with status {rc} during this test")
            }
            None => "no verdict: the guest stopped during this test".to_owned(),
        };
        let mut rows = self.tests.rows(&self.label, &unfinished);
        let failed = rows.iter().any(|r| r.status == Status::Fail);
        if self.rc != Some(0) && !failed {
            let reason = match self.rc {
                Some(rc) => format!("the test binary exited with status {rc}"),
                None => "the guest stopped before the binary finished".to_owned(),
            };
            rows.push(Row {
                binary: self.label.clone(),
                test: "(binary)".to_owned(),
                status: Status::Fail,
                reason,
            });
        }
        rows
    }
}

/// The binaries a `vm-test` console log shows, in order.
pub fn parse_console(log: &str) -> Vec<BinaryRun> {
    let mut all: Vec<BinaryRun> = Vec::new();
    let mut open = false;
    for line in log.lines() {
        if let Some(label) = line.strip_prefix("VMTEST BEGIN ") {
            all.push(BinaryRun {
                label: label.to_owned(),
                ..BinaryRun::default()
            });
            open = true;
            continue;
        }
        let Some(cur) = all.last_mut().filter(|_| open) else {
            continue;
        };
        if let Some(rest) = line.strip_prefix("VMTEST END ") {
            cur.rc = rest.rsplit(' ').next().and_then(|r| r.parse().ok());
            open = false;
        } else {
            cur.tests.line(line);
        }
    }
    all
}

/// Counts of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    pub fn of(rows: &[Row]) -> Self {
        let mut c = Counts::default();
        for r in rows {
            match r.status {
                Status::Pass => c.passed += 1,
                Status::Fail => c.failed += 1,
                Status::Skip => c.skipped += 1,
            }
        }
        c
    }

    pub fn add(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.skipped += o.skipped;
    }
}

/// Counts of a host `cargo test` log: each binary's (`Running ...`,
/// `Doc-tests ...`) `test result:` line, with the tests that printed a SKIP
/// line moved from passed to skipped; ignored tests count as skipped. A binary
/// that started but printed no result line counts as one failure.
pub fn parse_host_log(log: &str) -> Counts {
    fn finish(section: Option<(Tests, bool)>, total: &mut Counts) {
        let Some((t, started)) = section else { return };
        match t.result {
            Some(r) => {
                let skips = (t.skipped_names().len() as u64).min(r.passed);
                total.passed += r.passed - skips;
                total.failed += r.failed;
                total.skipped += r.ignored + skips;
            }
            None if started => total.failed += 1,
            None => {}
        }
    }
    let mut total = Counts::default();
    // The current binary's output, and whether it printed `running N tests`.
    let mut cur: Option<(Tests, bool)> = None;
    for line in log.lines() {
        let t = line.trim_start();
        if t.starts_with("Running ") || t.starts_with("Doc-tests ") {
            finish(cur.take(), &mut total);
            cur = Some((Tests::default(), false));
            continue;
        }
        if let Some((tests, started)) = cur.as_mut() {
            if t.starts_with("running ") && (t.ends_with(" tests") || t.ends_with(" test")) {
                *started = true;
            }
            tests.line(line);
        }
    }
    finish(cur, &mut total);
    total
}

/// A result file: `# key<TAB>value` lines, a header row, then one row per test.
#[derive(Debug, Default)]
pub struct ResultFile {
    pub meta: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

const HEADER: &str = "binary\ttest\tstatus\treason";

impl ResultFile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let mut out = String::new();
        for (k, v) in &self.meta {
            out.push_str(&format!("# {k}\t{}\n", clean(v)));
        }
        out.push_str(HEADER);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                clean(&r.binary),
                clean(&r.test),
                r.status,
                clean(&r.reason)
            ));
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        fs::write(path, out).map_err(|e| format!("write {}: {e}", path.display()))
    }

    pub fn read(path: &Path) -> Result<Self, String> {
        let text = fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let mut file = ResultFile::default();
        for (i, line) in text.lines().enumerate() {
            if let Some(meta) = line.strip_prefix("# ") {
                let (k, v) = meta.split_once('\t').unwrap_or((meta, ""));
                file.meta.push((k.to_owned(), v.to_owned()));
                continue;
            }
            if line == HEADER || line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.splitn(4, '\t').collect();
            let status = f.get(2).and_then(|s| Status::parse(s));
            let (Some(status), [binary, test, _, rest @ ..]) = (status, f.as_slice()) else {
                return Err(format!(
                    "{}:{}: want binary<TAB>test<TAB>pass|fail|skip<TAB>reason, got {line:?}",
                    path.display(),
                    i + 1
                ));
            };
            file.rows.push(Row {
                binary: (*binary).to_owned(),
                test: (*test).to_owned(),
                status,
                reason: rest.first().copied().unwrap_or("").to_owned(),
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE: &str = "\
VMTEST kernel 6.1.0-50-amd64 lockdown: [none] integrity confidentiality lsm: x cpus possible: 0-7 online: 0-1
VMTEST BEGIN ebpf-link/probes

running 4 tests
test kprobe_attach ... ok
test kprobe_multi ... SKIP kprobe_multi: kprobe_multi links need Linux 5.18 (running 5.10.0)
ok
test tcx_attach ... [   12.345678] some kernel message
SKIP tcx_attach: tcx links need Linux 6.6 (running 5.10.0)
ok
test slow ... ignored, needs a big machine
test broken ... FAILED

failures:

---- broken stdout ----
thread 'broken' panicked at crates/ebpf-link/tests/probes.rs:12:5:
assertion `left == right` failed
  left: 1
 right: 2
stack backtrace:
   0: foo

failures:
    broken

test result: FAILED. 3 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.00s

VMTEST END ebpf-link/probes 101
VMTEST BEGIN ebpf/maps

running 2 tests
test a ... ok
test b ... 
VMTEST DONE
";

    #[test]
    fn console_rows() {
        let runs = parse_console(CONSOLE);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].rc, Some(101));
        let rows = runs[0].rows();
        let find = |t: &str| rows.iter().find(|r| r.test == t).unwrap();
        assert_eq!(find("kprobe_attach").status, Status::Pass);
        assert_eq!(find("kprobe_multi").status, Status::Skip);
        assert_eq!(
            find("kprobe_multi").reason,
            "kprobe_multi links need Linux 5.18 (running 5.10.0)"
        );
        assert_eq!(find("tcx_attach").status, Status::Skip);
        assert_eq!(find("slow").status, Status::Skip);
        assert_eq!(find("slow").reason, "#[ignore]: needs a big machine");
        assert_eq!(find("broken").status, Status::Fail);
        assert_eq!(
            find("broken").reason,
            "crates/ebpf-link/tests/probes.rs:12:5: assertion `left == right` failed / left: 1 / right: 2"
        );
        assert_eq!(rows.len(), 5);
        let rows = runs[1].rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].status, Status::Fail);
        assert!(rows[1].reason.contains("guest stopped"));
        assert_eq!(
            Counts::of(&runs[0].rows()),
            Counts {
                passed: 1,
                failed: 1,
                skipped: 3
            }
        );
    }

    #[test]
    fn host_log_counts() {
        let log = "\
     Running unittests src/lib.rs (target/debug/deps/ebpf-1234)

running 3 tests
test a ... ok
SKIP b: needs root
test b ... ok
test c ... ignored

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

   Doc-tests ebpf

running 1 test
test src/lib.rs - x (line 3) ... FAILED

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
     Running tests/crash.rs (target/debug/deps/crash-1234)

running 2 tests
test x ... ok
";
        assert_eq!(
            parse_host_log(log),
            Counts {
                passed: 1,
                failed: 2,
                skipped: 2
            }
        );
    }

    #[test]
    fn result_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("xtask-results-{}", std::process::id()));
        let path = dir.join("6.1.tsv");
        let file = ResultFile {
            meta: vec![("release".into(), "6.1.0-50-amd64".into())],
            rows: vec![Row {
                binary: "ebpf/maps".into(),
                test: "maps::x".into(),
                status: Status::Skip,
                reason: "needs\tLinux 6.6".into(),
            }],
        };
        file.write(&path).unwrap();
        let back = ResultFile::read(&path).unwrap();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(back.get("release"), Some("6.1.0-50-amd64"));
        assert_eq!(back.rows[0].reason, "needs Linux 6.6");
        assert_eq!(back.rows[0].status, Status::Skip);
    }
}
