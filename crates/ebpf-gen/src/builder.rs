//! [`Builder`]: the build.rs helper.

use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_spec::CollectionSpec;

use crate::error::{Error, Result};
use crate::{Embed, SkeletonOptions, generate_skeleton};

/// A BPF target: which byte order to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Little-endian BPF (`-target bpfel`).
    BpfEl,
    /// Big-endian BPF (`-target bpfeb`).
    BpfEb,
    /// The byte order of the crate's target (`CARGO_CFG_TARGET_ENDIAN`).
    Host,
}

impl Target {
    fn resolve(self) -> Target {
        match self {
            Target::Host => {
                let endian = std::env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_else(|_| {
                    if cfg!(target_endian = "big") {
                        "big".into()
                    } else {
                        "little".into()
                    }
                });
                if endian == "big" {
                    Target::BpfEb
                } else {
                    Target::BpfEl
                }
            }
            t => t,
        }
    }

    fn clang_target(self) -> &'static str {
        match self.resolve() {
            Target::BpfEb => "bpfeb",
            _ => "bpfel",
        }
    }
}

/// What [`Builder::build`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The objects, one per target.
    pub objects: Vec<PathBuf>,
    /// The generated skeleton.
    pub skeleton: PathBuf,
    /// Warnings (also printed as `cargo:warning`).
    pub warnings: Vec<String>,
}

/// [`Builder`]: compiles BPF C from `build.rs` and writes the object and its
/// skeleton into `OUT_DIR`, as bpf2go does for Go.
///
/// - clang: `$CLANG`, else `clang-19`, else `clang` (an error names the Debian
///   package when none runs); `-O2 -g`, `-target bpfel`/`bpfeb`,
///   `-D__TARGET_ARCH_<arch>` from the crate's target architecture, include
///   directories and extra flags.
/// - DWARF is stripped and BTF kept: `$LLVM_STRIP`, else `llvm-strip-19`,
///   else `llvm-strip`, run with `-g`.
/// - `cargo:rerun-if-changed` for the source and every header clang read
///   (from its `-MD` dependency file), and for `$CLANG`/`$LLVM_STRIP`.
/// - `OUT_DIR/NAME.bpfel.o` (and/or `NAME.bpfeb.o`) and `OUT_DIR/NAME.skel.rs`.
#[derive(Debug, Clone)]
pub struct Builder {
    source: PathBuf,
    name: Option<String>,
    targets: Vec<Target>,
    includes: Vec<PathBuf>,
    cflags: Vec<String>,
    types: Vec<String>,
    out_dir: Option<PathBuf>,
    cargo: bool,
}

/// Runs `tool --version`: whether it can be executed.
fn runs(tool: &Path) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The first tool of `$env`, `names` that runs.
fn find_tool(
    env: &'static str,
    names: &[&str],
    tool: &'static str,
    package: &'static str,
) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if runs(&p) {
            Ok(p)
        } else {
            Err(Error::ToolNotFound {
                tool,
                tried: format!("${env}={} does not run", p.display()),
                package,
                env,
            })
        };
    }
    for n in names {
        let p = PathBuf::from(n);
        if runs(&p) {
            return Ok(p);
        }
    }
    Err(Error::ToolNotFound {
        tool,
        tried: format!("${env} unset, {} not on PATH", names.join(" and ")),
        package,
        env,
    })
}

/// The clang to use: `$CLANG`, `clang-19`, `clang`.
pub(crate) fn find_clang() -> Result<PathBuf> {
    find_tool("CLANG", &["clang-19", "clang"], "clang", "clang-19")
}

/// The strip tool: `$LLVM_STRIP`, `llvm-strip-19`, `llvm-strip`.
pub(crate) fn find_strip() -> Result<PathBuf> {
    find_tool(
        "LLVM_STRIP",
        &["llvm-strip-19", "llvm-strip"],
        "llvm-strip",
        "llvm-19",
    )
}

/// The `__TARGET_ARCH_*` name of a Rust target architecture (libbpf's `bpf_tracing.h`).
fn target_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv",
        "s390x" => "s390",
        "powerpc64" | "powerpc" => "powerpc",
        "mips" | "mips64" => "mips",
        "loongarch64" => "loongarch",
        "sparc64" => "sparc",
        other => other,
    }
}

/// The files a make-style dependency file (`clang -MD`) names as prerequisites.
pub fn parse_depfile(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut out = Vec::new();
    for rule in joined.lines() {
        // The target ends at the first `: ` (paths may hold colons elsewhere).
        let Some((_, deps)) = rule.split_once(": ").or_else(|| rule.split_once(':')) else {
            continue;
        };
        let mut cur = String::new();
        let mut chars = deps.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    cur.push(' ');
                    chars.next();
                }
                ' ' | '\t' => {
                    if !cur.is_empty() {
                        out.push(PathBuf::from(std::mem::take(&mut cur)));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(PathBuf::from(cur));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn run(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    let out = cmd.output().map_err(|source| Error::ToolFailed {
        command: line.clone(),
        status: source.to_string(),
        stderr: String::new(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::ToolFailed {
            command: line,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

impl Builder {
    /// A builder for `source` (relative paths are relative to the crate, where
    /// cargo runs `build.rs`). The object's name is the file name up to its
    /// first dot (`opensnoop.bpf.c` → `opensnoop`); the target is the host's
    /// byte order.
    pub fn new(source: impl Into<PathBuf>) -> Self {
        Builder {
            source: source.into(),
            name: None,
            targets: Vec::new(),
            includes: Vec::new(),
            cflags: Vec::new(),
            types: Vec::new(),
            out_dir: None,
            cargo: true,
        }
    }

    /// Names the object (and so the skeleton: `name` → `NameSkel`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a target; with both `BpfEl` and `BpfEb`, the skeleton embeds both
    /// and picks one by `target_endian`.
    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// Adds an include directory (`-I`).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.includes.push(dir.into());
        self
    }

    /// Adds a compiler flag (`-DDEBUG`, `-Wall`, ...).
    pub fn cflag(mut self, flag: impl Into<String>) -> Self {
        self.cflags.push(flag.into());
        self
    }

    /// Also generates the type `name` (like bpf2go's `-type`).
    pub fn type_name(mut self, name: impl Into<String>) -> Self {
        self.types.push(name.into());
        self
    }

    /// Writes into `dir` instead of `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:` lines (on by default; off outside `build.rs`).
    pub fn cargo_metadata(mut self, on: bool) -> Self {
        self.cargo = on;
        self
    }

    fn object_name(&self) -> Result<String> {
        if let Some(n) = &self.name {
            return Ok(n.clone());
        }
        self.source
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{}: no object name in the file name",
                    self.source.display()
                ))
            })
    }

    /// Compiles the source for each target, strips DWARF, generates the
    /// skeleton from the host-order object and writes it all to the output directory.
    pub fn build(&self) -> Result<Built> {
        let name = self.object_name()?;
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    Error::Config(
                        "OUT_DIR is not set: run from build.rs, or set Builder::out_dir".into(),
                    )
                })?,
        };
        let clang = find_clang()?;
        let strip = find_strip()?;
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH")
            .unwrap_or_else(|_| std::env::consts::ARCH.to_owned());
        let mut targets: Vec<Target> = if self.targets.is_empty() {
            vec![Target::Host]
        } else {
            self.targets.iter().map(|t| t.resolve()).collect()
        };
        targets.iter_mut().for_each(|t| *t = t.resolve());
        targets.dedup();
        let host = Target::Host.resolve();
        let mut objects = Vec::new();
        let mut deps = vec![self.source.clone()];
        for t in &targets {
            let obj = out_dir.join(format!("{name}.{}.o", t.clang_target()));
            let depfile = out_dir.join(format!("{name}.{}.d", t.clang_target()));
            let mut cmd = Command::new(&clang);
            cmd.args(["-target", t.clang_target(), "-O2", "-g"])
                .arg(format!("-D__TARGET_ARCH_{}", target_arch(&arch)))
                .arg("-MD")
                .arg("-MF")
                .arg(&depfile);
            for i in &self.includes {
                cmd.arg("-I").arg(i);
            }
            cmd.args(&self.cflags)
                .arg("-c")
                .arg(&self.source)
                .arg("-o")
                .arg(&obj);
            run(&mut cmd)?;
            run(Command::new(&strip).arg("-g").arg(&obj))?;
            let text = std::fs::read_to_string(&depfile).map_err(Error::io(&depfile))?;
            deps.extend(parse_depfile(&text));
            objects.push(obj);
        }
        // The skeleton comes from the object of the crate's byte order.
        let main = targets.iter().position(|t| *t == host).unwrap_or(0);
        let bytes = std::fs::read(&objects[main]).map_err(Error::io(&objects[main]))?;
        let spec = CollectionSpec::from_elf(&bytes)?;
        let file = |o: &PathBuf| {
            o.file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_owned()
        };
        let embed = if objects.len() == 2 {
            let (le, be) = if targets[0] == Target::BpfEl {
                (0, 1)
            } else {
                (1, 0)
            };
            Embed::OutDirBoth {
                little: file(&objects[le]),
                big: file(&objects[be]),
            }
        } else {
            Embed::OutDir(file(&objects[0]))
        };
        let generated = generate_skeleton(
            &spec,
            &SkeletonOptions {
                name: name.clone(),
                types: self.types.clone(),
                embed,
            },
        )?;
        let skeleton = out_dir.join(format!("{name}.skel.rs"));
        std::fs::write(&skeleton, &generated.code).map_err(Error::io(&skeleton))?;
        if self.cargo {
            deps.sort();
            deps.dedup();
            for d in &deps {
                println!("cargo:rerun-if-changed={}", d.display());
            }
            println!("cargo:rerun-if-env-changed=CLANG");
            println!("cargo:rerun-if-env-changed=LLVM_STRIP");
            for w in &generated.warnings {
                println!("cargo:warning={name}: {w}");
            }
        }
        Ok(Built {
            objects,
            skeleton,
            warnings: generated.warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfiles() {
        let d = "out/x.o: src/x.bpf.c /usr/include/linux/bpf.h \\\n  my\\ dir/h.h inc/a.h\n";
        assert_eq!(
            parse_depfile(d),
            [
                "/usr/include/linux/bpf.h",
                "inc/a.h",
                "my dir/h.h",
                "src/x.bpf.c"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(target_arch("aarch64"), "arm64");
        assert_eq!(target_arch("x86_64"), "x86");
    }
}
