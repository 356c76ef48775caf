//! BTF files that change under the reader, or are not files at all: only the
//! kernel's own vmlinux BTF is mapped, everything else is read (and only
//! regular files are read), so truncating a file after loading it cannot
//! raise `SIGBUS` and a FIFO or device cannot block or exhaust memory.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use ebpf_btf::{Endian, KernelBtf, MarshalOptions, Spec};

mod common;

/// A fresh directory under the temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ebpf-btf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `path` spelled from inside `/sys/kernel/btf`, which a lexical prefix check
/// takes for a sysfs file.
fn via_sysfs(path: &Path) -> PathBuf {
    Path::new("/sys/kernel/btf/../../..").join(path.strip_prefix("/").expect("absolute"))
}

fn btf_bytes() -> Vec<u8> {
    common::all_kinds()
        .marshal(MarshalOptions {
            endian: Some(Endian::native()),
        })
        .expect("marshal")
}

/// Every type's raw dump: touches every byte a type record covers.
fn dump(spec: &Spec) -> String {
    spec.dump_raw().expect("dump")
}

#[test]
fn files_outside_sysfs_are_read_not_mapped() {
    let dir = TempDir::new("truncate");
    let file = dir.0.join("vmlinux");
    let bytes = btf_bytes();
    let expected = dump(&Spec::parse(&bytes).expect("parse"));

    std::fs::write(&file, &bytes).expect("write");
    let by_path = Spec::load_file(via_sysfs(&file)).expect("load_file");
    let cache = KernelBtf::with_dir(via_sysfs(&dir.0));
    let by_dir = cache.vmlinux().expect("with_dir");

    // Shrinking a mapped file makes its pages raise SIGBUS; rewriting it would
    // change bytes behind a `&[u8]`. Read copies see neither.
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_len(0)
        .expect("truncate");
    assert!(format!("{by_path:?}").contains("Owned("), "{by_path:?}");
    assert_eq!(dump(&by_path), expected);
    assert_eq!(dump(&by_dir), expected);
}

/// Runs `f` on another thread and fails if it does not return within 10 s.
fn within_10s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}: still blocked after 10 s"))
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = TempDir::new("fifo");
    let fifo = dir.0.join("vmlinux");
    nix::unistd::mkfifo(
        &fifo,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .expect("mkfifo");
    let path = fifo.clone();
    let err = within_10s("load_file of a FIFO", move || Spec::load_file(path))
        .expect_err("a FIFO is not BTF");
    let text = common::chain(&err);
    assert!(text.contains("not a regular file"), "{text}");
    let path = dir.0.clone();
    let err = within_10s("KernelBtf of a FIFO", move || {
        KernelBtf::with_dir(path).vmlinux().map(drop)
    })
    .expect_err("a FIFO is not BTF");
    let text = common::chain(&err);
    assert!(text.contains("not a regular file"), "{text}");
}

#[test]
fn devices_are_refused() {
    for dev in ["/dev/zero", "/dev/null"] {
        let err = within_10s(dev, move || Spec::load_file(dev)).expect_err(dev);
        let text = common::chain(&err);
        assert!(text.contains("not a regular file"), "{dev}: {text}");
    }
}

/// The kernel's vmlinux BTF is still mapped (6.16+), through any spelling of its path.
#[test]
fn sysfs_vmlinux_is_still_mapped() {
    let uname = nix::sys::utsname::uname().expect("uname");
    let release = uname.release().to_string_lossy().into_owned();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let (major, minor): (u32, u32) = match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
        _ => (0, 0),
    };
    if (major, minor) < (6, 16) || !Path::new("/sys/kernel/btf/vmlinux").exists() {
        common::skip(format!(
            "kernel {release}: no mmap of /sys/kernel/btf/vmlinux"
        ));
        return;
    }
    for path in ["/sys/kernel/btf/vmlinux", "/sys/kernel/btf/../btf/vmlinux"] {
        let spec = Spec::load_file(path).expect("vmlinux");
        assert!(format!("{spec:?}").contains("Mapped("), "{path}: {spec:?}");
    }
}
