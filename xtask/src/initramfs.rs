//! The initramfs `vm-test` boots with (newc cpio, by the `cpio` crate): busybox, the
//! guest kernel's modules for the 9p root and the network tests, `/init` and
//! the generated `/tests.sh`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::vm_image::Image;

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

/// The module file name endings Debian kernels use: plain (up to 6.1),
/// xz-compressed (6.12 and later), and zstd or gzip as other builds may.
const MODULE_SUFFIXES: &[&str] = &[".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

fn index_modules(dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            index_modules(&path, out);
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            if let Some(stem) = MODULE_SUFFIXES.iter().find_map(|s| name.strip_suffix(s)) {
                out.insert(stem.replace('-', "_"), path);
            }
        }
    }
}

/// A module's ELF bytes, decompressed with `xz`, `zstd` or `gzip` as its name says.
fn module_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let tool = match path.extension().and_then(|e| e.to_str()) {
        Some("xz") => Some(("xz", "xz-utils")),
        Some("zst") => Some(("zstd", "zstd")),
        Some("gz") => Some(("gzip", "gzip")),
        _ => None,
    };
    let Some((tool, package)) = tool else {
        return fs::read(path).map_err(|e| format!("read {}: {e}", path.display()));
    };
    let out = Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .map_err(|e| {
            format!(
                "{tool} -dc {}: {e} (apt-get install {package})",
                path.display()
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "{tool} -dc {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Modules built into the kernel (`modules.builtin`: `kernel/.../name.ko` per line).
fn builtin_modules(modules: &Path) -> BTreeSet<String> {
    let list = fs::read_to_string(modules.join("modules.builtin")).unwrap_or_default();
    list.lines()
        .filter_map(|l| l.rsplit('/').next()?.strip_suffix(".ko"))
        .map(|n| n.replace('-', "_"))
        .collect()
}

/// The modules of a kernel package, by name, and those built into it.
struct Modules<'a> {
    dir: &'a Path,
    files: BTreeMap<String, PathBuf>,
    builtin: BTreeSet<String>,
}

impl Modules<'_> {
    /// Appends `name` (unless built in or already there) to `order`, after
    /// the modules it depends on, with its (decompressed) bytes.
    fn visit(
        &self,
        name: &str,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<(), String> {
        let name = name.replace('-', "_");
        if self.builtin.contains(&name) || !seen.insert(name.clone()) {
            return Ok(());
        }
        let path = self.files.get(&name).ok_or_else(|| {
            format!(
                "module {name}: neither in modules.builtin nor a {name}.ko* under {}",
                self.dir.display()
            )
        })?;
        let bytes = module_bytes(path)?;
        for dep in module_depends(&bytes) {
            self.visit(&dep, seen, order)?;
        }
        order.push((name, bytes));
        Ok(())
    }
}

/// `MODULES` and their dependencies with their bytes, each after the modules
/// it depends on; modules built into the kernel are left out.
fn module_load_order(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = BTreeMap::new();
    index_modules(&dir.join("kernel"), &mut files);
    if files.is_empty() {
        return Err(format!(
            "{}: no modules ({}) under kernel/",
            dir.display(),
            MODULE_SUFFIXES.join(", ")
        ));
    }
    let modules = Modules {
        dir,
        files,
        builtin: builtin_modules(dir),
    };
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for m in MODULES {
        modules.visit(m, &mut seen, &mut order)?;
    }
    Ok(order)
}

/// A newc cpio archive built in memory (entries written by the `cpio` crate).
#[derive(Default)]
struct Cpio {
    buf: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        use std::io::Write as _;
        self.ino += 1;
        let size = u32::try_from(data.len()).expect("initramfs member under 4 GiB");
        let mut w = cpio::newc::Builder::new(name)
            .ino(self.ino)
            .mode(mode)
            .rdev_major(rdev.0)
            .rdev_minor(rdev.1)
            .write(&mut self.buf, size);
        // Writing into a Vec cannot fail.
        w.write_all(data).expect("write to memory");
        w.finish().expect("write to memory");
    }
    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, (0, 0), &[]);
    }
    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100_000 | perm, (0, 0), data);
    }
    fn finish(mut self) -> Vec<u8> {
        cpio::newc::trailer(&mut self.buf).expect("write to memory");
        self.buf
    }
}

/// Writes `cache/initramfs.cpio` with busybox, the modules of `image`'s kernel,
/// `/init` and `script` (the commands `/init` runs once the host root is mounted
/// at `/newroot`). With `online_cpus`, `/init` takes every CPU from that
/// number on offline before anything else runs.
pub fn write(
    image: &Image,
    cache: &Path,
    script: &str,
    online_cpus: Option<u32>,
) -> Result<PathBuf, String> {
    let mut cpio = Cpio::default();
    for d in ["bin", "dev", "proc", "sys", "newroot", "modules"] {
        cpio.dir(d);
    }
    cpio.entry("dev/console", 0o020_600, (5, 1), &[]);
    let busybox =
        fs::read(&image.busybox).map_err(|e| format!("read {}: {e}", image.busybox.display()))?;
    cpio.file("bin/busybox", 0o755, &busybox);
    let mut order = String::new();
    for (name, data) in module_load_order(&image.kernel.modules)? {
        cpio.file(&format!("modules/{name}.ko"), 0o644, &data);
        order.push_str(&name);
        order.push('\n');
    }
    cpio.file("modules/order", 0o644, order.as_bytes());
    cpio.file("init", 0o755, INIT.as_bytes());
    cpio.file("tests.sh", 0o755, script.as_bytes());
    if let Some(n) = online_cpus {
        cpio.file("online-cpus", 0o644, format!("{n}\n").as_bytes());
    }
    let out = cache.join("initramfs.cpio");
    fs::write(&out, cpio.finish()).map_err(|e| format!("write {}: {e}", out.display()))?;
    Ok(out)
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
# vm-test --maxcpus N boots N CPUs and keeps the first $(cat /online-cpus)
# online: the others stay possible (and present) but offline.
if [ -f /online-cpus ]; then
    keep=$(cat /online-cpus)
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        n=${c##*/cpu}
        [ "$n" -lt "$keep" ] || echo 0 > $c/online || echo "VMTEST taking cpu$n offline failed"
    done
fi
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
echo "VMTEST kernel $(uname -r) lockdown: $(cat $R/sys/kernel/security/lockdown) lsm: $(cat $R/sys/kernel/security/lsm) cpus possible: $(cat /sys/devices/system/cpu/possible) online: $(cat /sys/devices/system/cpu/online)"
# EBPF_TEST_REQUIRE_ROOT: a kernel test that finds itself without root fails
# instead of skipping (the guest runs them as root; not being root is a bug here).
export HOME=/tmp TMPDIR=/tmp RUST_BACKTRACE=1 EBPF_TEST_REQUIRE_ROOT=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /tests.sh
echo "VMTEST DONE"
sync
poweroff -f
"#;

#[cfg(test)]
mod tests {
    use super::{Cpio, builtin_modules, index_modules, module_depends};
    use std::collections::BTreeMap;
    use std::fs;

    #[test]
    fn modules_of_every_compression_and_builtins() {
        let dir = std::env::temp_dir().join(format!("xtask-modules-{}", std::process::id()));
        let sub = dir.join("kernel/net/9p");
        fs::create_dir_all(&sub).unwrap();
        for f in [
            "9pnet.ko",
            "9pnet_virtio.ko.xz",
            "sch-ingress.ko.zst",
            "x.ko.gz",
            "README",
        ] {
            fs::write(sub.join(f), b"").unwrap();
        }
        fs::write(dir.join("modules.builtin"), "kernel/fs/netfs/netfs.ko\n").unwrap();
        let mut index = BTreeMap::new();
        index_modules(&dir.join("kernel"), &mut index);
        let builtin = builtin_modules(&dir);
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(
            index.keys().collect::<Vec<_>>(),
            ["9pnet", "9pnet_virtio", "sch_ingress", "x"]
        );
        assert!(index["9pnet_virtio"].ends_with("9pnet_virtio.ko.xz"));
        assert!(builtin.contains("netfs"));
    }

    /// The archive reads back as the kernel reads it: newc (`070701`) entries
    /// with their modes, device numbers and data, 4-byte aligned, then the trailer.
    #[test]
    fn archive_reads_back() {
        let mut cpio = Cpio::default();
        cpio.dir("bin");
        cpio.entry("dev/console", 0o020_600, (5, 1), &[]);
        cpio.file("bin/busybox", 0o755, b"\x7fELF and then some");
        cpio.file("init", 0o755, b"#!/bin/busybox sh\n");
        let bytes = cpio.finish();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(bytes.len() % 4, 0);
        let mut rest = &bytes[..];
        let mut entries = Vec::new();
        loop {
            let mut reader = cpio::NewcReader::new(rest).unwrap();
            let e = reader.entry();
            if e.is_trailer() {
                break;
            }
            let head = format!(
                "{} {:o} {}:{} ino {}",
                e.name(),
                e.mode(),
                e.rdev_major(),
                e.rdev_minor(),
                e.ino()
            );
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut reader, &mut data).unwrap();
            entries.push(format!("{head} {:?}", String::from_utf8_lossy(&data)));
            rest = reader.finish().unwrap();
        }
        assert_eq!(
            entries,
            [
                r#"bin 40755 0:0 ino 1 """#,
                r#"dev/console 20600 5:1 ino 2 """#,
                r#"bin/busybox 100755 0:0 ino 3 "\u{7f}ELF and then some""#,
                r##"init 100755 0:0 ino 4 "#!/bin/busybox sh\n""##,
            ]
        );
    }

    #[test]
    fn depends_from_modinfo() {
        let ko = b"\x7fELF...\0license=GPL\0depends=9pnet,virtio_ring\0vermagic=6.1\0";
        assert_eq!(module_depends(ko), ["9pnet", "virtio_ring"]);
        assert!(module_depends(b"\0depends=\0").is_empty());
    }
}
