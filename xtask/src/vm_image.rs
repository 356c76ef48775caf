//! The pieces `vm-test` boots: a Debian kernel and busybox unpacked from their
//! packages (never installed), qemu unpacked the same way when the host has none,
//! and an initramfs (newc cpio) holding busybox, the guest's modules and `/init`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules loaded before the tests: the virtio-9p root first, then what the
/// network tests create (veth pairs, clsact qdiscs, tc BPF classifiers/actions).
/// Their dependencies (from each module's `depends=` modinfo) come along.
const MODULES: &[&str] = &[
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "veth",
    "sch_ingress",
    "cls_bpf",
    "act_bpf",
    "dummy",
];

/// Everything unpacked under `target/vm`.
pub struct Image {
    /// The kernel image (`vmlinuz-<release>`).
    pub kernel: PathBuf,
    /// The kernel release, e.g. `6.1.0-56-amd64`.
    pub release: String,
    /// The package's `/boot` (holding `config-<release>`, which the loader reads
    /// for `CONFIG_*` externs): the guest bind-mounts it over the host's `/boot`.
    pub boot: PathBuf,
    /// The qemu binary and the environment/arguments it needs when unpacked.
    pub qemu: Qemu,
    /// The extracted busybox-static binary.
    busybox: PathBuf,
    /// `/lib/modules/<release>` of the extracted kernel package.
    modules: PathBuf,
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

fn run(cmd: &mut Command) -> Result<String, String> {
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

/// `apt-get download`s `pkgs` into `debs` and unpacks each with `dpkg -x` into `dest`.
/// Runs `apt-get update` once if the first download attempt fails.
fn fetch_and_unpack(pkgs: &[String], debs: &Path, dest: &Path) -> Result<(), String> {
    fs::create_dir_all(debs).map_err(|e| format!("create {}: {e}", debs.display()))?;
    let download = || {
        run(Command::new("apt-get")
            .arg("download")
            .args(pkgs)
            .current_dir(debs))
    };
    if download().is_err() {
        run(Command::new("apt-get").arg("update"))?;
        download()?;
    }
    let entries = fs::read_dir(debs).map_err(|e| format!("read {}: {e}", debs.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let wanted = pkgs.iter().any(|p| name.starts_with(&format!("{p}_")));
        if wanted && name.ends_with(".deb") {
            run(Command::new("dpkg").arg("-x").arg(&path).arg(dest))?;
        }
    }
    Ok(())
}

/// The kernel series `vm-test` boots by default: Debian bookworm's.
pub const DEFAULT_SERIES: &str = "6.1";

/// Natural-order key: runs of digits compare as numbers (`6.1.0-56` < `6.1.0-100`).
fn natural_key(s: &str) -> Vec<(u64, String)> {
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

/// The newest signed amd64 kernel package of `series` (`6.1`, `6.12`, ...) that apt
/// knows, e.g. `linux-image-6.1.0-56-amd64` or `linux-image-6.12.117+deb12-amd64`.
fn kernel_package(series: &str) -> Result<String, String> {
    let prefix = format!("linux-image-{series}.");
    let find = || -> Result<Option<String>, String> {
        let out = run(Command::new("apt-cache").args(["search", "--names-only", &prefix]))?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|p| p.starts_with(&prefix) && p.ends_with("-amd64"))
            .filter(|p| {
                !["-dbg", "-unsigned", "-cloud-", "-rt-"]
                    .iter()
                    .any(|x| p.contains(x))
            })
            .max_by_key(|p| natural_key(p))
            .map(str::to_owned))
    };
    if let Ok(Some(p)) = find() {
        return Ok(p);
    }
    run(Command::new("apt-get").arg("update"))?;
    find()?.ok_or_else(|| format!("apt-cache: no {prefix}*-amd64 package"))
}

fn first_with_prefix(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    names.sort_by_key(|p| natural_key(&p.to_string_lossy()));
    names.pop()
}

/// Unpacks (once) the kernel, busybox and, when the host has none, qemu.
///
/// `kernel` is a package name (`linux-image-6.12.117+deb12-amd64`) or a series
/// (`6.12`; default `6.1`), which means the newest package of that series
/// unless one is unpacked already.
pub fn prepare(cache: &Path, kernel: Option<&str>) -> Result<Image, String> {
    let sysroot = cache.join("sysroot");
    let boot = sysroot.join("boot");
    let wanted = kernel.unwrap_or(DEFAULT_SERIES);
    let (prefix, pkg) = match wanted.strip_prefix("linux-image-") {
        Some(release) => (format!("vmlinuz-{release}"), Some(wanted.to_owned())),
        None => (format!("vmlinuz-{wanted}."), None),
    };
    let kernel = match first_with_prefix(&boot, &prefix) {
        Some(k) => k,
        None => {
            let pkg = match pkg {
                Some(p) => p,
                None => kernel_package(wanted)?,
            };
            eprintln!(
                "vm-test: fetching {pkg} and busybox-static into {}",
                sysroot.display()
            );
            let pkgs = [pkg, "busybox-static".to_owned()];
            fetch_and_unpack(&pkgs, &cache.join("debs"), &sysroot)?;
            first_with_prefix(&boot, &prefix)
                .ok_or_else(|| format!("no {prefix}* in {} after unpacking", boot.display()))?
        }
    };
    let release = kernel
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .trim_start_matches("vmlinuz-")
        .to_owned();
    let busybox = sysroot.join("bin/busybox");
    if !busybox.exists() {
        fetch_and_unpack(
            &["busybox-static".to_owned()],
            &cache.join("debs"),
            &sysroot,
        )?;
    }
    let modules = sysroot.join("lib/modules").join(&release);
    Ok(Image {
        kernel,
        release,
        boot,
        qemu: qemu(cache)?,
        busybox,
        modules,
    })
}

/// `qemu-system-x86_64` from PATH, else bookworm's qemu-system-x86 and the
/// libraries it lacks, unpacked under `cache/qemu` (installing it would remove
/// the host's newer qemu-utils).
fn qemu(cache: &Path) -> Result<Qemu, String> {
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
        let plan = run(Command::new("apt-get").args([
            "install",
            "-s",
            "--no-install-recommends",
            "qemu-system-x86",
        ]))?;
        let pkgs: Vec<String> = plan
            .lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        eprintln!(
            "vm-test: unpacking qemu ({} packages) into {}",
            pkgs.len(),
            root.display()
        );
        fetch_and_unpack(&pkgs, &cache.join("debs"), &root)?;
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

/// The `depends=` list of a module, read from its `.modinfo` strings.
fn module_depends(ko: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = ko.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let rest = &ko[at + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn index_modules(dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            index_modules(&path, out);
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            // Newer Debian kernels ship xz-compressed modules.
            if let Some(stem) = name
                .strip_suffix(".ko")
                .or_else(|| name.strip_suffix(".ko.xz"))
            {
                out.insert(stem.replace('-', "_"), path);
            }
        }
    }
}

/// A module's ELF bytes (`.ko.xz` decompressed with `xz`).
fn module_bytes(path: &Path) -> Result<Vec<u8>, String> {
    if path.extension().is_some_and(|e| e == "xz") {
        let out = Command::new("xz")
            .arg("-dc")
            .arg(path)
            .output()
            .map_err(|e| format!("xz -dc {}: {e} (apt-get install xz-utils)", path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "xz -dc {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        return Ok(out.stdout);
    }
    fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))
}

/// Modules built into the kernel (`modules.builtin`: `kernel/.../name.ko` per line).
fn builtin_modules(modules: &Path) -> BTreeSet<String> {
    let list = fs::read_to_string(modules.join("modules.builtin")).unwrap_or_default();
    list.lines()
        .filter_map(|l| l.rsplit('/').next()?.strip_suffix(".ko"))
        .map(|n| n.replace('-', "_"))
        .collect()
}

/// `MODULES` and their dependencies, each after the modules it depends on;
/// modules built into the kernel are left out.
fn module_load_order(modules: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut index = BTreeMap::new();
    index_modules(&modules.join("kernel"), &mut index);
    let builtin = builtin_modules(modules);
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    fn visit(
        name: &str,
        index: &BTreeMap<String, PathBuf>,
        builtin: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<(String, PathBuf)>,
    ) -> Result<(), String> {
        let name = name.replace('-', "_");
        if builtin.contains(&name) || !seen.insert(name.clone()) {
            return Ok(());
        }
        let path = index
            .get(&name)
            .ok_or_else(|| format!("module {name}: no {name}.ko in the kernel package"))?;
        let bytes = module_bytes(path)?;
        for dep in module_depends(&bytes) {
            visit(&dep, index, builtin, seen, order)?;
        }
        order.push((name, path.clone()));
        Ok(())
    }
    for m in MODULES {
        visit(m, &index, &builtin, &mut seen, &mut order)?;
    }
    Ok(order)
}

/// A newc cpio archive built in memory.
#[derive(Default)]
struct Cpio {
    buf: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            u32::try_from(data.len()).expect("initramfs member under 4 GiB"),
            0,
            0,
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).expect("short name"),
            0,
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
    }
    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, (0, 0), &[]);
    }
    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100_000 | perm, (0, 0), data);
    }
    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.buf
    }
}

impl Image {
    /// Writes `initramfs.cpio` with busybox, the modules, `/init` and `script`
    /// (the commands `/init` runs once the host root is mounted at `/newroot`).
    pub fn write_initramfs(&self, cache: &Path, script: &str) -> Result<PathBuf, String> {
        let mut cpio = Cpio::default();
        for d in ["bin", "dev", "proc", "sys", "newroot", "modules"] {
            cpio.dir(d);
        }
        cpio.entry("dev/console", 0o020_600, (5, 1), &[]);
        let busybox =
            fs::read(&self.busybox).map_err(|e| format!("read {}: {e}", self.busybox.display()))?;
        cpio.file("bin/busybox", 0o755, &busybox);
        let mut order = String::new();
        for (name, path) in module_load_order(&self.modules)? {
            let data = module_bytes(&path)?;
            cpio.file(&format!("modules/{name}.ko"), 0o644, &data);
            order.push_str(&name);
            order.push('\n');
        }
        cpio.file("modules/order", 0o644, order.as_bytes());
        cpio.file("init", 0o755, INIT.as_bytes());
        cpio.file("tests.sh", 0o755, script.as_bytes());
        let out = cache.join("initramfs.cpio");
        fs::write(&out, cpio.finish()).map_err(|e| format!("write {}: {e}", out.display()))?;
        Ok(out)
    }
}

/// PID 1: load modules, mount the host's `/` read-only over 9p with writable
/// tmpfs/pseudo filesystems on top, run `/tests.sh`, power off.
const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do
    insmod /modules/$m.ko || echo "VMTEST insmod $m failed"
done
R=/newroot
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $R; then
    echo "VMTEST mount of the host root failed"
    poweroff -f
fi
# Keep the host's /tmp, /run and /dev/shm reachable under /host before fresh
# tmpfs covers them (a workspace may live there).
for d in tmp run dev/shm; do
    mkdir -p /host/$d
    mount --bind $R/$d /host/$d
done
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs tmp $R/tmp
mount -t tmpfs run $R/run
mount -t bpf bpf $R/sys/fs/bpf
mount -t tracefs tracefs $R/sys/kernel/tracing
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t securityfs securityfs $R/sys/kernel/security
mount -t tmpfs cgroup $R/sys/fs/cgroup
mkdir $R/sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup/unified
ip link set lo up
echo "VMTEST kernel $(uname -r) lockdown: $(cat $R/sys/kernel/security/lockdown) lsm: $(cat $R/sys/kernel/security/lsm)"
export HOME=/tmp TMPDIR=/tmp RUST_BACKTRACE=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /tests.sh
echo "VMTEST DONE"
sync
poweroff -f
"#;

#[cfg(test)]
mod tests {
    use super::natural_key;

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
    }
}
