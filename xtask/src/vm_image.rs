//! The pieces `vm-test` boots: a Debian kernel and busybox unpacked from their
//! packages (never installed), and qemu unpacked the same way when the host has
//! none. Everything is downloaded through the private apt of [`crate::apt`] and
//! cached under `target/vm`:
//!
//! - `kernels/<release>/`: one directory per kernel (`dpkg -x` of its packages),
//!   so kernels of different series never mix;
//! - `busybox/`, `qemu/`: bookworm's busybox-static and qemu-system-x86;
//! - `apt/`: the private sources list, package lists and apt caches.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::apt::{self, Apt, run};

/// The kernel series `vm-test` boots by default: Debian bookworm's.
pub const DEFAULT_SERIES: &str = "6.1";

/// The suite `--kernel latest` takes the newest kernel of.
const LATEST_SUITE: &str = "sid";

/// Which kernel to boot, as given to `--kernel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSpec {
    /// `5.10`, `6.1`, `6.12`, ...: the newest `linux-image-<series>.*-amd64` of
    /// any suite (5.10 is bullseye's, 6.1 bookworm's, 6.12 trixie's or
    /// bookworm-backports', whichever is newer).
    Series(String),
    /// The newest `linux-image-<version>-amd64` in sid.
    Latest,
    /// A package name, `linux-image-6.1.0-56-amd64`.
    Package(String),
}

impl KernelSpec {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "latest" {
            return Ok(KernelSpec::Latest);
        }
        if s.starts_with("linux-image-") && s.ends_with("-amd64") {
            return Ok(KernelSpec::Package(s.to_owned()));
        }
        let mut parts = s.split('.');
        let numeric = |p: Option<&str>| {
            p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        if numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none() {
            return Ok(KernelSpec::Series(s.to_owned()));
        }
        Err(format!(
            "--kernel {s}: want a series (5.10, 6.1, 6.12), latest, or a package name \
             (linux-image-<release>-amd64)"
        ))
    }

    /// The name results and console logs are saved under: the series, `latest`,
    /// or the release of a package name.
    pub fn key(&self) -> String {
        match self {
            KernelSpec::Series(s) => s.clone(),
            KernelSpec::Latest => "latest".to_owned(),
            KernelSpec::Package(p) => release_of(p).to_owned(),
        }
    }
}

/// `6.1.0-56-amd64` of `linux-image-6.1.0-56-amd64`.
fn release_of(pkg: &str) -> &str {
    pkg.strip_prefix("linux-image-").unwrap_or(pkg)
}

/// Natural-order key: runs of digits compare as numbers (`6.1.0-56` < `6.1.0-100`).
pub fn natural_key(s: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (n, tail) = rest.split_at(digits);
        let text = tail.len() - tail.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
        let (t, tail) = tail.split_at(text);
        key.push((n.parse().unwrap_or(0), t.to_owned()));
        rest = tail;
    }
    key
}

/// Whether `pkg` is a signed generic amd64 kernel image (`linux-image-<version>-amd64`):
/// not the `linux-image-amd64` metapackage, debug symbols, unsigned, cloud or RT flavours.
fn is_generic_image(pkg: &str) -> bool {
    let Some(release) = pkg.strip_prefix("linux-image-") else {
        return false;
    };
    release.starts_with(|c: char| c.is_ascii_digit())
        && release.ends_with("-amd64")
        && !["-dbg", "-unsigned", "-cloud-", "-rt-"]
            .iter()
            .any(|x| pkg.contains(x))
}

/// The package `spec` means according to the private lists on disk (no
/// network), and the suite it comes from.
fn resolve(apt: &Apt, spec: &KernelSpec) -> Result<(String, String), String> {
    let (prefix, suite) = match spec {
        KernelSpec::Package(p) => (p.clone(), None),
        KernelSpec::Series(s) => (format!("linux-image-{s}."), None),
        KernelSpec::Latest => ("linux-image-".to_owned(), Some(LATEST_SUITE)),
    };
    let mut names = apt.names_with_prefix(&prefix)?;
    names.retain(|p| {
        is_generic_image(p) && (!matches!(spec, KernelSpec::Package(_)) || *p == prefix)
    });
    let available = apt.madison(&names)?;
    available
        .into_iter()
        .filter(|a| suite.is_none_or(|s| a.suite == s))
        .max_by_key(|a| natural_key(&a.package))
        .map(|a| (a.package, a.suite))
        .ok_or_else(|| match spec {
            KernelSpec::Package(p) => format!(
                "no package {p} in the private lists ({})",
                apt::SUITES.join(", ")
            ),
            KernelSpec::Series(s) => format!(
                "no linux-image-{s}.*-amd64 package in the private lists ({})",
                apt::SUITES.join(", ")
            ),
            KernelSpec::Latest => {
                format!("no linux-image-<version>-amd64 package in {LATEST_SUITE}")
            }
        })
}

/// A kernel unpacked under `target/vm/kernels/<release>`.
pub struct Kernel {
    /// The kernel release, e.g. `6.1.0-56-amd64` (what `uname -r` prints).
    pub release: String,
    /// The kernel image.
    pub vmlinuz: PathBuf,
    /// A `/boot` holding `config-<release>` (the loader reads it for `CONFIG_*`
    /// externs): the guest bind-mounts it over the host's `/boot`.
    pub boot: PathBuf,
    /// `lib/modules/<release>` (or `usr/lib/modules/<release>`).
    pub modules: PathBuf,
}

impl Kernel {
    /// The kernel unpacked in `dir` (named after its release). Packages up to
    /// Debian 13 put `vmlinuz-<release>` and `config-<release>` in `/boot`;
    /// newer ones put `vmlinuz` and `config` in `/usr/lib/modules/<release>`
    /// (then `boot/config-<release>` is made here, a copy).
    fn open(dir: &Path) -> Result<Self, String> {
        let release = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let modules = ["lib/modules", "usr/lib/modules"]
            .iter()
            .map(|m| dir.join(m).join(&release))
            .find(|m| m.is_dir())
            .ok_or_else(|| {
                format!(
                    "{}: no lib/modules/{release} nor usr/lib/modules/{release}",
                    dir.display()
                )
            })?;
        let boot = dir.join("boot");
        let vmlinuz = [
            boot.join(format!("vmlinuz-{release}")),
            modules.join("vmlinuz"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "{}: no boot/vmlinuz-{release} nor {}/vmlinuz",
                dir.display(),
                modules.display()
            )
        })?;
        let config = boot.join(format!("config-{release}"));
        if !config.is_file() {
            let from = modules.join("config");
            fs::create_dir_all(&boot).map_err(|e| format!("create {}: {e}", boot.display()))?;
            fs::copy(&from, &config).map_err(|e| {
                format!(
                    "{}: no boot/config-{release} and copying {} failed: {e}",
                    dir.display(),
                    from.display()
                )
            })?;
        }
        Ok(Kernel {
            release,
            vmlinuz,
            boot,
            modules,
        })
    }
}

/// The newest kernel of `series` already unpacked in `kernels`.
fn cached_series(kernels: &Path, series: &str) -> Option<PathBuf> {
    let prefix = format!("{series}.");
    fs::read_dir(kernels)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .max_by_key(|p| natural_key(&p.to_string_lossy()))
}

/// The `.deb` of `pkg` (a name, `name=version` or `name/suite`) in `dir`.
fn deb_file(dir: &Path, pkg: &str) -> Result<PathBuf, String> {
    let name = pkg.split(['=', '/']).next().unwrap_or(pkg);
    let prefix = format!("{name}_");
    fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with(&prefix) && n.ends_with(".deb")
            })
        })
        .ok_or_else(|| {
            format!(
                "apt-get download {pkg} left no {prefix}*.deb in {}",
                dir.display()
            )
        })
}

/// The kernel `spec` names: unpacked already, or looked up and fetched.
///
/// A series unpacked once is used as it is (no look-up); `latest` and package
/// names are looked up in the private lists on disk, and fetched only when that
/// release is not unpacked yet. The lists are updated when missing, or once when
/// a look-up or download fails.
fn kernel(apt: &Apt, cache: &Path, spec: &KernelSpec) -> Result<Kernel, String> {
    let kernels = cache.join("kernels");
    fs::create_dir_all(&kernels).map_err(|e| format!("create {}: {e}", kernels.display()))?;
    if let KernelSpec::Series(s) = spec {
        if let Some(dir) = cached_series(&kernels, s) {
            return Kernel::open(&dir);
        }
    }
    if let KernelSpec::Package(p) = spec {
        let dir = kernels.join(release_of(p));
        if dir.is_dir() {
            return Kernel::open(&dir);
        }
    }
    apt.ensure_lists()?;
    loop {
        let attempt = resolve(apt, spec).and_then(|(pkg, suite)| {
            let dir = kernels.join(release_of(&pkg));
            if dir.is_dir() {
                return Ok(dir);
            }
            eprintln!("vm-test: fetching {pkg} ({suite}) into {}", dir.display());
            fetch_into(
                apt,
                std::slice::from_ref(&pkg),
                &dir,
                Some(release_of(&pkg)),
            )?;
            Ok(dir)
        });
        match attempt {
            Ok(dir) => return Kernel::open(&dir),
            Err(e) => {
                eprintln!("vm-test: {e}");
                if !apt.update_once()? {
                    return Err(format!("kernel {}: {e}", spec.key()));
                }
            }
        }
    }
}

/// Downloads `pkgs` (`name`, `name=version` or `name/suite`) and unpacks them
/// into `dest`, which must not exist yet, through a staging directory renamed
/// into place at the end (an interrupted run leaves nothing that looks
/// complete). With `release`, the packages they depend on whose names contain
/// it come along: newer Debian kernels split into `linux-image-`,
/// `linux-binary-`, `linux-modules-` and `linux-base-<release>`.
fn fetch_into(
    apt: &Apt,
    pkgs: &[String],
    dest: &Path,
    release: Option<&str>,
) -> Result<(), String> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let debs = parent.join(format!(".debs-{name}"));
    let staging = parent.join(format!(".unpack-{name}"));
    for d in [&debs, &staging] {
        if d.exists() {
            fs::remove_dir_all(d).map_err(|e| format!("remove {}: {e}", d.display()))?;
        }
    }
    let mut wanted = pkgs.to_vec();
    let mut todo = pkgs.to_vec();
    while !todo.is_empty() {
        apt.download(&todo, &debs)?;
        let Some(release) = release else { break };
        let mut next = Vec::new();
        for p in &todo {
            let deb = deb_file(&debs, p)?;
            let depends = run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Depends"))?;
            for d in apt::depends_names(&depends) {
                if d.contains(release) && !wanted.contains(&d) {
                    wanted.push(d.clone());
                    next.push(d);
                }
            }
        }
        todo = next;
    }
    for p in &wanted {
        let deb = deb_file(&debs, p)?;
        run(Command::new("dpkg").arg("-x").arg(&deb).arg(&staging))?;
    }
    fs::rename(&staging, dest)
        .map_err(|e| format!("rename {} to {}: {e}", staging.display(), dest.display()))?;
    fs::remove_dir_all(&debs).map_err(|e| format!("remove {}: {e}", debs.display()))
}

/// Everything `vm-test` boots, unpacked under `target/vm`.
pub struct Image {
    pub kernel: Kernel,
    /// The qemu binary and the environment/arguments it needs when unpacked.
    pub qemu: Qemu,
    /// The extracted busybox-static binary.
    pub busybox: PathBuf,
}

/// How to start qemu.
pub struct Qemu {
    /// `qemu-system-x86_64`, from PATH or unpacked.
    pub binary: PathBuf,
    /// `LD_LIBRARY_PATH` for an unpacked qemu.
    pub lib_path: Option<String>,
    /// `-L` firmware directories for an unpacked qemu.
    pub firmware: Vec<PathBuf>,
}

/// Unpacks (once) the kernel `spec` names, busybox and, when the host has none, qemu.
pub fn prepare(cache: &Path, spec: &KernelSpec) -> Result<Image, String> {
    let apt = Apt::new(&cache.join("apt"))?;
    let kernel = kernel(&apt, cache, spec)?;
    let busybox_root = cache.join("busybox");
    if !busybox_root.is_dir() {
        apt.ensure_lists()?;
        eprintln!(
            "vm-test: fetching busybox-static (bookworm) into {}",
            busybox_root.display()
        );
        let pkgs = ["busybox-static/bookworm".to_owned()];
        if let Err(e) = fetch_into(&apt, &pkgs, &busybox_root, None) {
            if !apt.update_once()? {
                return Err(e);
            }
            fetch_into(&apt, &pkgs, &busybox_root, None)?;
        }
    }
    let busybox = busybox_root.join("bin/busybox");
    if !busybox.is_file() {
        return Err(format!(
            "{} has no bin/busybox: remove it to fetch busybox-static again",
            busybox_root.display()
        ));
    }
    Ok(Image {
        kernel,
        qemu: qemu(&apt, cache)?,
        busybox,
    })
}

/// `qemu-system-x86_64` from PATH, else bookworm's qemu-system-x86 and the
/// libraries this host lacks, unpacked under `cache/qemu` (installing it would
/// remove the host's newer qemu-utils).
fn qemu(apt: &Apt, cache: &Path) -> Result<Qemu, String> {
    if let Ok(out) = run(Command::new("sh").args(["-c", "command -v qemu-system-x86_64"])) {
        return Ok(Qemu {
            binary: PathBuf::from(out.trim()),
            lib_path: None,
            firmware: Vec::new(),
        });
    }
    let root = cache.join("qemu");
    let binary = root.join("usr/bin/qemu-system-x86_64");
    if !binary.exists() {
        apt.ensure_lists()?;
        let fetch = || -> Result<(), String> {
            let plan = apt
                .install_plan("qemu-system-x86", "bookworm")
                .map_err(|e| format!("planning qemu-system-x86 (bookworm): {e}"))?;
            if plan.is_empty() {
                return Err("apt-get install -s qemu-system-x86 planned no packages".into());
            }
            eprintln!(
                "vm-test: unpacking qemu ({} packages) into {}",
                plan.len(),
                root.display()
            );
            if root.exists() {
                fs::remove_dir_all(&root).map_err(|e| format!("remove {}: {e}", root.display()))?;
            }
            fetch_into(apt, &plan, &root, None)
        };
        if let Err(e) = fetch() {
            if !apt.update_once()? {
                return Err(e);
            }
            fetch()?;
        }
    }
    let libs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"]
        .map(|d| root.join(d).display().to_string())
        .join(":");
    Ok(Qemu {
        binary,
        lib_path: Some(libs),
        firmware: vec![root.join("usr/share/seabios"), root.join("usr/share/qemu")],
    })
}

#[cfg(test)]
mod tests {
    use super::{KernelSpec, is_generic_image, natural_key};

    #[test]
    fn kernel_versions_sort_naturally() {
        let mut v = [
            "linux-image-6.12.117+deb12-amd64",
            "linux-image-6.12.99+deb12-amd64",
            "linux-image-6.12.100+deb12-amd64",
        ];
        v.sort_by_key(|p| natural_key(p));
        assert_eq!(v[2], "linux-image-6.12.117+deb12-amd64");
        assert!(natural_key("vmlinuz-6.1.0-100-amd64") > natural_key("vmlinuz-6.1.0-56-amd64"));
        assert!(natural_key("6.12") > natural_key("6.1.0"));
        assert!(
            natural_key("linux-image-7.2.13+deb14-amd64")
                > natural_key("linux-image-6.12.117+deb13-amd64")
        );
    }

    #[test]
    fn generic_images_only() {
        assert!(is_generic_image("linux-image-7.2.13+deb14-amd64"));
        assert!(is_generic_image("linux-image-5.10.0-32-amd64"));
        for p in [
            "linux-image-amd64",
            "linux-image-7.2.13+deb14-amd64-dbg",
            "linux-image-7.2.13+deb14-cloud-amd64",
            "linux-image-7.2.13+deb14-rt-amd64",
            "linux-image-6.1.0-50-amd64-unsigned",
        ] {
            assert!(!is_generic_image(p), "{p}");
        }
    }

    #[test]
    fn kernel_specs() {
        assert_eq!(
            KernelSpec::parse("6.1").unwrap(),
            KernelSpec::Series("6.1".into())
        );
        assert_eq!(KernelSpec::parse("6.12").unwrap().key(), "6.12");
        assert_eq!(KernelSpec::parse("latest").unwrap(), KernelSpec::Latest);
        assert_eq!(
            KernelSpec::parse("linux-image-6.1.0-56-amd64")
                .unwrap()
                .key(),
            "6.1.0-56-amd64"
        );
        for bad in ["6", "6.1.0", "v6.1", "linux-image-amd64x", ""] {
            assert!(KernelSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
