//! A private apt: its own sources list, package lists and caches under
//! `target/vm/apt`, so `vm-test` can look up and download Debian packages of
//! any of the suites it boots kernels from without touching `/etc/apt` or the
//! host's package lists (and without installing anything).

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suites the private sources list names: bullseye (5.10), bookworm (6.1,
/// busybox, qemu), bookworm-backports and trixie (6.12), sid (`latest`).
pub const SUITES: &[&str] = &[
    "bullseye",
    "bookworm",
    "bookworm-backports",
    "trixie",
    "sid",
];

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Runs `cmd`; its stdout, or an error with the command, its status and stderr.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// apt-get and apt-cache on the private state in `dir`.
pub struct Apt {
    dir: PathBuf,
    /// Whether this process ran `apt-get update` already (it does so at most once).
    updated: Cell<bool>,
}

/// One line of `apt-cache madison`: a package version and the suite holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    pub package: String,
    pub version: String,
    pub suite: String,
}

impl Apt {
    /// Creates the private directories and (re)writes the sources list.
    pub fn new(dir: &Path) -> Result<Self, String> {
        for d in ["lists/partial", "cache/archives/partial"] {
            let p = dir.join(d);
            fs::create_dir_all(&p).map_err(|e| format!("create {}: {e}", p.display()))?;
        }
        let sources: String = SUITES
            .iter()
            .map(|s| format!("deb [signed-by={KEYRING}] http://deb.debian.org/debian {s} main\n"))
            .collect();
        let list = dir.join("sources.list");
        if fs::read_to_string(&list).ok().as_deref() != Some(sources.as_str()) {
            fs::write(&list, sources).map_err(|e| format!("write {}: {e}", list.display()))?;
        }
        if !Path::new(KEYRING).exists() {
            return Err(format!(
                "{KEYRING} is missing: apt-get install debian-archive-keyring"
            ));
        }
        Ok(Apt {
            dir: dir.to_owned(),
            updated: Cell::new(false),
        })
    }

    /// `program` (`apt-get` or `apt-cache`) with the options that point it at
    /// the private state. The host's dpkg status stays the reference for what is
    /// installed (`install -s` plans only what the host lacks).
    fn command(&self, program: &str) -> Command {
        let d = self.dir.display();
        let mut cmd = Command::new(program);
        for opt in [
            format!("Dir::Etc::SourceList={d}/sources.list"),
            "Dir::Etc::SourceParts=/dev/null".to_owned(),
            format!("Dir::State={d}"),
            format!("Dir::State::Lists={d}/lists"),
            format!("Dir::Cache={d}/cache"),
            // A binary cache of the parsed lists: look-ups take milliseconds
            // instead of seconds (the host's apt.conf may turn it off).
            "Dir::Cache::pkgcache=pkgcache.bin".to_owned(),
            "Dir::Cache::srcpkgcache=srcpkgcache.bin".to_owned(),
            "Dir::State::status=/var/lib/dpkg/status".to_owned(),
            // Only the Packages indices: no AppStream metadata.
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".to_owned(),
            // Downloads land in directories the sandbox user `_apt` cannot write.
            "APT::Sandbox::User=root".to_owned(),
        ] {
            cmd.arg("-o").arg(opt);
        }
        cmd
    }

    /// Whether the private lists of every suite are on disk.
    pub fn has_lists(&self) -> bool {
        let names: Vec<String> = fs::read_dir(self.dir.join("lists"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        SUITES.iter().all(|s| {
            let release = format!("_dists_{s}_InRelease");
            let packages = format!("_dists_{s}_main_binary-amd64_Packages");
            names.iter().any(|n| n.ends_with(&release))
                && names.iter().any(|n| n.contains(&packages))
        })
    }

    /// `apt-get update` of the private lists, unless this process ran it already.
    /// Returns whether it ran (a caller retries a failed look-up only then).
    pub fn update_once(&self) -> Result<bool, String> {
        if self.updated.replace(true) {
            return Ok(false);
        }
        eprintln!(
            "vm-test: apt-get update of the private lists in {} ({})",
            self.dir.display(),
            SUITES.join(", ")
        );
        run(self.command("apt-get").args(["-q", "update"]))
            .map_err(|e| format!("updating the private package lists failed: {e}"))?;
        Ok(true)
    }

    /// Runs `apt-get update` if the lists of some suite are missing.
    pub fn ensure_lists(&self) -> Result<(), String> {
        if !self.has_lists() {
            self.update_once()?;
        }
        Ok(())
    }

    /// Package names starting with `prefix` (`apt-cache search --names-only`).
    pub fn names_with_prefix(&self, prefix: &str) -> Result<Vec<String>, String> {
        let pattern = format!("^{}", prefix.replace('.', r"\.").replace('+', r"\+"));
        let out = run(self
            .command("apt-cache")
            .args(["search", "--names-only", &pattern]))?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|p| p.starts_with(prefix))
            .map(str::to_owned)
            .collect())
    }

    /// Which versions of `pkgs` the lists offer, and in which suites.
    pub fn madison(&self, pkgs: &[String]) -> Result<Vec<Available>, String> {
        if pkgs.is_empty() {
            return Ok(Vec::new());
        }
        let out = run(self.command("apt-cache").arg("madison").args(pkgs))?;
        Ok(out
            .lines()
            .filter_map(|l| {
                let mut f = l.split('|').map(str::trim);
                let package = f.next()?.to_owned();
                let version = f.next()?.to_owned();
                // "http://deb.debian.org/debian sid/main amd64 Packages"
                let suite = f.next()?.split_whitespace().nth(1)?.split('/').next()?;
                Some(Available {
                    package,
                    version,
                    suite: suite.to_owned(),
                })
            })
            .collect())
    }

    /// `apt-get download PKGS` into `dir` (each `name`, `name=version` or `name/suite`).
    pub fn download(&self, pkgs: &[String], dir: &Path) -> Result<(), String> {
        fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        run(self
            .command("apt-get")
            .args(["-q", "download"])
            .args(pkgs)
            .current_dir(dir))
        .map(drop)
    }

    /// The packages (`name=version`) `apt-get install` of `pkg` from `suite`
    /// would add to this host, without recommends (a simulation: nothing is installed).
    pub fn install_plan(&self, pkg: &str, suite: &str) -> Result<Vec<String>, String> {
        let out = run(self.command("apt-get").args([
            "install",
            "-s",
            "-t",
            suite,
            "--no-install-recommends",
            pkg,
        ]))?;
        Ok(out.lines().filter_map(parse_inst).collect())
    }
}

/// `Inst NAME [OLD] (VERSION SUITES [ARCH])` from `apt-get install -s` as `NAME=VERSION`.
fn parse_inst(line: &str) -> Option<String> {
    let rest = line.strip_prefix("Inst ")?;
    let (name, rest) = rest.split_once(' ')?;
    let version = rest[rest.find('(')? + 1..].split_whitespace().next()?;
    Some(format!("{name}={version}"))
}

/// The package names in a `Depends:` field (alternatives included, versions dropped).
pub fn depends_names(field: &str) -> Vec<String> {
    field
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(|n| n.split(':').next().unwrap_or(n).to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{depends_names, parse_inst};

    #[test]
    fn install_plan_lines() {
        assert_eq!(
            parse_inst("Inst seabios (1.16.2-1 Debian:12.15/oldstable [all])").as_deref(),
            Some("seabios=1.16.2-1")
        );
        assert_eq!(
            parse_inst("Inst libfoo [1.0-1] (1.0-2 Debian:12.15/oldstable [amd64])").as_deref(),
            Some("libfoo=1.0-2")
        );
        assert_eq!(parse_inst("Remv qemu-utils [1:10.0.2]"), None);
    }

    #[test]
    fn depends_field() {
        let f = "dracut | initramfs-tools (>= 0.120+deb8u2), linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), kmod:any";
        assert_eq!(
            depends_names(f),
            [
                "dracut",
                "initramfs-tools",
                "linux-base-7.2.13+deb14-amd64",
                "kmod"
            ]
        );
    }
}
