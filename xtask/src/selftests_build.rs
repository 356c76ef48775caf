//! Compiling and linking the selftests' BPF programs for `cargo xtask
//! selftests` (see `selftests.rs`), with a cache: each object keeps the
//! command that built it (`NAME.cmd`) and clang's list of the files it read
//! (`NAME.d`, from `-MD`), and is rebuilt only when either changed. A source
//! that failed keeps its error (`NAME.err`) under the same rule.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::apt;
use crate::selftests::make_var;

const CLANG: &str = "clang-19";

/// Everything a compile needs.
pub struct Build {
    /// `tools/testing/selftests/bpf` (the Makefile's `CURDIR`; clang runs here).
    selftests: PathBuf,
    /// Where objects, commands, dependency lists and errors go.
    obj: PathBuf,
    /// `TRUNNER_BPF_CFLAGS` of the `test_progs` runner, expanded.
    cflags: Vec<String>,
    /// The Makefile, for per-file flags and the linked objects.
    makefile: String,
    /// `clang-19 --version`'s first line: part of every cached command.
    clang_version: String,
    /// How many compilers run at once.
    jobs: usize,
    /// The workspace root (to run `tools/libbpf-link`).
    root: PathBuf,
}

/// How one object came out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Built,
    Cached,
    /// Did not compile (or link): the first error line; whether it was cached.
    Failed(String, bool),
}

/// What a build did.
#[derive(Debug, Default)]
pub struct Report {
    outcomes: BTreeMap<String, Outcome>,
    linked: Vec<String>,
}

/// `-idirafter DIR` for each directory in clang's `#include <...>` search list
/// (what the Makefile's `get_sys_includes` computes for the host target).
fn sys_includes() -> Result<Vec<String>, String> {
    let out = Command::new(CLANG)
        .args(["-v", "-E", "-", "-o", "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("run {CLANG}: {e} (apt-get install clang-19)"))?;
    let text = String::from_utf8_lossy(&out.stderr);
    let mut dirs = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("#include <...> search starts here:") {
            inside = true;
        } else if line.starts_with("End of search list.") {
            break;
        } else if inside {
            dirs.push("-idirafter".to_owned());
            dirs.push(line.trim().to_owned());
        }
    }
    if dirs.is_empty() {
        return Err(format!("{CLANG} -v printed no include search list"));
    }
    Ok(dirs)
}

/// Expands the Makefile variables the BPF flags use; any other is an error.
fn expand(text: &str, vars: &[(&str, String)]) -> Result<String, String> {
    let mut out = text.replace(
        "$(abspath $(OUTPUT)/../usr/include)",
        &vars
            .iter()
            .find(|(k, _)| *k == "USR_INCLUDE")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    );
    for (name, value) in vars {
        out = out.replace(&format!("$({name})"), value);
    }
    if let Some(at) = out.find("$(") {
        return Err(format!(
            "selftests Makefile: cannot expand {:?} in the BPF flags",
            &out[at..]
        ));
    }
    Ok(out)
}

impl Build {
    /// Reads the flags from the selftests Makefile under `src`.
    pub fn new(
        root: &Path,
        src: &Path,
        include: &Path,
        obj: &Path,
        jobs: usize,
    ) -> Result<Build, String> {
        let selftests = src.join("tools/testing/selftests/bpf");
        let makefile = fs::read_to_string(selftests.join("Makefile"))
            .map_err(|e| format!("read the selftests Makefile: {e}"))?;
        let var = |name: &str| {
            make_var(&makefile, name)
                .ok_or_else(|| format!("selftests Makefile: no {name} definition"))
        };
        let sys = sys_includes()?.join(" ");
        let mut vars = vec![
            (
                "USR_INCLUDE",
                selftests.join("../usr/include").display().to_string(),
            ),
            ("SRCARCH", "x86".to_owned()),
            ("MENDIAN", "-mlittle-endian".to_owned()),
            ("INCLUDE_DIR", include.display().to_string()),
            ("CURDIR", selftests.display().to_string()),
            (
                "APIDIR",
                src.join("tools/include/uapi").display().to_string(),
            ),
            ("CLANG_SYS_INCLUDES", sys),
        ];
        let bpf = expand(&var("BPF_CFLAGS")?, &vars)?;
        let clang = expand(&var("CLANG_CFLAGS")?, &vars)?;
        vars.push(("BPF_CFLAGS", bpf));
        vars.push(("CLANG_CFLAGS", clang));
        // The first TRUNNER_BPF_CFLAGS is test_progs' (the others are its flavours).
        let cflags = expand(&var("TRUNNER_BPF_CFLAGS")?, &vars)?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let version = apt::run(Command::new(CLANG).arg("--version"))?;
        fs::create_dir_all(obj).map_err(|e| format!("create {}: {e}", obj.display()))?;
        Ok(Build {
            selftests,
            obj: obj.to_owned(),
            cflags,
            makefile,
            clang_version: version.lines().next().unwrap_or_default().to_owned(),
            jobs: jobs.max(1),
            root: root.to_owned(),
        })
    }

    /// The clang arguments for `progs/NAME.c`, as the Makefile's
    /// `CLANG_BPF_BUILD_RULE` has them, plus `-MD` for the cache.
    fn args(&self, name: &str) -> Vec<String> {
        let mut args = self.cflags.clone();
        if let Some(extra) = make_var(&self.makefile, &format!("progs/{name}.c-CFLAGS")) {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
        let out = self.obj.join(format!("{name}.bpf.o"));
        let deps = self.obj.join(format!("{name}.d"));
        args.extend(
            [
                "-O2",
                "--target=bpf",
                "-c",
                &format!("progs/{name}.c"),
                "-mcpu=v3",
                "-o",
                &out.display().to_string(),
                "-MD",
                "-MF",
                &deps.display().to_string(),
            ]
            .map(str::to_owned),
        );
        args
    }

    /// Compiles `progs/NAME.c` unless its cached object or error is current.
    fn compile(&self, name: &str) -> Outcome {
        let args = self.args(name);
        let cmd = format!("{}\n{}\n", self.clang_version, args.join(" "));
        let path = |ext: &str| self.obj.join(format!("{name}.{ext}"));
        let (object, cmd_file, err_file) = (path("bpf.o"), path("cmd"), path("err"));
        let same_cmd = fs::read_to_string(&cmd_file).ok().as_deref() == Some(cmd.as_str());
        if same_cmd {
            let inputs = dep_inputs(&path("d"), &self.selftests);
            if newer_than_all(&object, &inputs) {
                return Outcome::Cached;
            }
            if newer_than_all(&err_file, &inputs) {
                let err = fs::read_to_string(&err_file).unwrap_or_default();
                return Outcome::Failed(first_error(&err), true);
            }
        }
        for stale in [&object, &err_file, &cmd_file] {
            let _ = fs::remove_file(stale);
        }
        let result = Command::new(CLANG)
            .args(&args)
            .current_dir(&self.selftests)
            .output();
        let outcome = match result {
            Ok(out) if out.status.success() => Outcome::Built,
            Ok(out) => {
                let err = String::from_utf8_lossy(&out.stderr).into_owned();
                let _ = fs::write(&err_file, &err);
                Outcome::Failed(first_error(&err), false)
            }
            Err(e) => return Outcome::Failed(format!("run {CLANG}: {e}"), false),
        };
        let _ = fs::write(&cmd_file, cmd);
        outcome
    }

    /// The Makefile's multi-file objects: `NAME.skel.h-deps := a.bpf.o b.bpf.o`.
    fn linked_objects(&self) -> Vec<(String, Vec<String>)> {
        self.makefile
            .lines()
            .filter_map(|l| {
                let (name, deps) = l.split_once(".skel.h-deps :=")?;
                let deps: Vec<String> = deps.split_whitespace().map(str::to_owned).collect();
                (!name.contains(char::is_whitespace) && !deps.is_empty())
                    .then(|| (name.to_owned(), deps))
            })
            .collect()
    }

    /// Links `inputs` (objects in `obj`) into `obj/NAME.linked.o` with libbpf's
    /// linker, unless it is newer than all of them.
    fn link(&self, name: &str, inputs: &[String]) -> Outcome {
        let out = self.obj.join(format!("{name}.linked.o"));
        let inputs: Vec<PathBuf> = inputs.iter().map(|i| self.obj.join(i)).collect();
        if let Some(missing) = inputs.iter().find(|i| !i.exists()) {
            let _ = fs::remove_file(&out);
            return Outcome::Failed(
                format!("input {} did not compile", file_name(missing)),
                false,
            );
        }
        if newer_than_all(&out, &inputs) {
            return Outcome::Cached;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let result = apt::run(
            Command::new(cargo)
                .current_dir(&self.root)
                .args(["run", "--quiet", "--package", "libbpf-link", "--"])
                .arg(&out)
                .args(&inputs),
        );
        match result {
            Ok(_) => Outcome::Built,
            Err(e) => {
                let _ = fs::remove_file(&out);
                Outcome::Failed(first_error(&e), false)
            }
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The first line of clang's output that says `error`, else its first line.
fn first_error(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.contains("error"))
        .or_else(|| stderr.lines().next())
        .unwrap_or("(no output)")
        .trim()
        .to_owned()
}

/// The files a make-style dependency list (`out.o: a.c b.h \`) names, relative
/// ones below `base`; if it cannot be read, the list itself (which is missing,
/// so nothing counts as current).
fn dep_inputs(path: &Path, base: &Path) -> Vec<PathBuf> {
    let Ok(text) = fs::read_to_string(path) else {
        return vec![path.to_owned()];
    };
    let joined = text.replace("\\\n", " ");
    let Some((_, deps)) = joined.split_once(": ") else {
        return vec![path.to_owned()];
    };
    deps.split_whitespace().map(|d| base.join(d)).collect()
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Whether `out` exists and is at least as new as every one of `inputs` (which
/// must all exist).
fn newer_than_all(out: &Path, inputs: &[PathBuf]) -> bool {
    let Some(t) = mtime(out) else { return false };
    inputs.iter().all(|i| mtime(i).is_some_and(|ti| ti <= t))
}

/// The names of the C files in `progs`, sorted.
fn sources(progs: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = fs::read_dir(progs)
        .map_err(|e| format!("read {}: {e}", progs.display()))?
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".c").map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Compiles every program (`build.jobs` at a time), then links the multi-file objects.
pub fn build_all(build: &Build) -> Result<Report, String> {
    let names = sources(&build.selftests.join("progs"))?;
    let next = AtomicUsize::new(0);
    let done = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..build.jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let outcome = build.compile(name);
                    if matches!(outcome, Outcome::Built | Outcome::Failed(_, false)) {
                        eprintln!(
                            "  {:<8} {name}",
                            if outcome == Outcome::Built {
                                "CLNG-BPF"
                            } else {
                                "FAILED"
                            }
                        );
                    }
                    let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
                    done.insert(format!("{name}.bpf.o"), outcome);
                }
            });
        }
    });
    let mut report = Report {
        outcomes: done.into_inner().unwrap_or_else(|p| p.into_inner()),
        linked: Vec::new(),
    };
    for (name, inputs) in build.linked_objects() {
        let outcome = build.link(&name, &inputs);
        let file = format!("{name}.linked.o");
        if outcome == Outcome::Built {
            eprintln!("  LINK-BPF {file}");
        }
        report.linked.push(file.clone());
        report.outcomes.insert(file, outcome);
    }
    Ok(report)
}

impl Report {
    /// `NAME: first error` for each object that failed, one per line.
    pub fn failed_list(&self) -> String {
        self.outcomes
            .iter()
            .filter_map(|(n, o)| match o {
                Outcome::Failed(e, _) => Some(format!("{n}: {e}\n")),
                _ => None,
            })
            .collect()
    }

    /// Prints the counts and the failures.
    pub fn print(&self, series: &str, pkg: &str) {
        let count = |f: fn(&Outcome) -> bool| self.outcomes.values().filter(|o| f(o)).count();
        let built = count(|o| *o == Outcome::Built);
        let cached = count(|o| *o == Outcome::Cached);
        let failed = count(|o| matches!(o, Outcome::Failed(..)));
        let failures = self.failed_list();
        if !failures.is_empty() {
            println!("left out (did not compile or link):");
            for line in failures.lines() {
                println!("  {line}");
            }
        }
        println!(
            "selftests {series} ({pkg}): {} objects ({} linked): {built} built, {cached} cached, {failed} left out",
            self.outcomes.len() - failed,
            self.linked.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_the_known_variables_only() {
        let vars = [("A", "x".to_owned()), ("USR_INCLUDE", "/u".to_owned())];
        assert_eq!(
            expand("-I$(A) -I$(abspath $(OUTPUT)/../usr/include)", &vars).unwrap(),
            "-Ix -I/u"
        );
        assert!(expand("$(B)", &vars).unwrap_err().contains("$(B)"));
    }

    #[test]
    fn reads_dependency_lists() {
        let dir = std::env::temp_dir().join(format!("xtask-deps-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let d = dir.join("x.d");
        fs::write(
            &d,
            "/o/x.bpf.o: progs/x.c \\\n  /i/vmlinux.h /i/bpf/bpf_helpers.h\n",
        )
        .unwrap();
        assert_eq!(
            dep_inputs(&d, Path::new("/s")),
            ["/s/progs/x.c", "/i/vmlinux.h", "/i/bpf/bpf_helpers.h"].map(PathBuf::from)
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn first_error_line() {
        assert_eq!(
            first_error("In file included from x.c:1:\nx.h:2:3: error: bad\n1 error generated.\n"),
            "x.h:2:3: error: bad"
        );
    }
}
