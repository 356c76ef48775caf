//! Kernel fixtures for tests: a private bpffs, a temporary cgroup v2, a network namespace.
//! Each cleans up when dropped.

use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::Mode;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A bpffs mounted on a fresh temporary directory; unmounted and removed on drop.
#[derive(Debug)]
pub struct BpfFs {
    path: PathBuf,
}

impl BpfFs {
    /// Mounts a new bpffs instance under the system temp directory. Needs root.
    pub fn new() -> io::Result<Self> {
        let path = std::env::temp_dir().join(unique_name("ebpf-test-bpffs"));
        fs::create_dir(&path)?;
        if let Err(e) = mount(
            Some("bpf"),
            &path,
            Some("bpf"),
            MsFlags::empty(),
            None::<&str>,
        ) {
            let _ = fs::remove_dir(&path);
            return Err(e.into());
        }
        Ok(Self { path })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for BpfFs {
    fn drop(&mut self) {
        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
        let _ = fs::remove_dir(&self.path);
    }
}

/// Finds the mount point of the cgroup v2 hierarchy from `/proc/self/mountinfo`.
pub(crate) fn cgroup2_root() -> io::Result<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo")?;
    for line in info.lines() {
        // "... mount_point ... - fstype source opts"
        let (left, right) = line.split_once(" - ").unwrap_or((line, ""));
        if right.split_whitespace().next() == Some("cgroup2") {
            if let Some(mp) = left.split_whitespace().nth(4) {
                return Ok(PathBuf::from(mp));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no cgroup2 hierarchy is mounted",
    ))
}

/// A temporary cgroup v2 directory; processes in it are moved back to the
/// root cgroup and the directory is removed on drop.
#[derive(Debug)]
pub struct TempCgroup {
    path: PathBuf,
    root: PathBuf,
    fd: OwnedFd,
}

impl TempCgroup {
    /// Creates a child of the cgroup v2 root. Needs root.
    pub fn new() -> io::Result<Self> {
        let root = cgroup2_root()?;
        let path = root.join(unique_name("ebpf-test-cg"));
        fs::create_dir(&path)?;
        let fd = match open(
            &path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = fs::remove_dir(&path);
                return Err(e.into());
            }
        };
        Ok(Self { path, root, fd })
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves process `pid` into this cgroup.
    pub fn add_process(&self, pid: u32) -> io::Result<()> {
        fs::write(self.path.join("cgroup.procs"), pid.to_string())
    }
}

impl AsFd for TempCgroup {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for TempCgroup {
    fn drop(&mut self) {
        if let Ok(procs) = fs::read_to_string(self.path.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = fs::write(self.root.join("cgroup.procs"), pid);
            }
        }
        let _ = fs::remove_dir(&self.path);
    }
}

/// A new, empty network namespace (only `lo`, down) held open by an fd.
///
/// The test process stays in its own namespace; [`NetNs::run`] runs a closure
/// on a thread that has entered this one, so commands spawned from it (`ip
/// link add ...`) and sockets it opens live here. Traffic never leaves it.
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
}

impl NetNs {
    /// Creates the namespace and brings its loopback up. Needs root.
    pub fn new() -> io::Result<Self> {
        let fd = std::thread::spawn(|| -> io::Result<OwnedFd> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            let fd = open(
                "/proc/thread-self/ns/net",
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            Ok(fd)
        })
        .join()
        .map_err(|_| io::Error::other("netns thread panicked"))??;
        let ns = Self { fd };
        ns.run(|| {
            let status = std::process::Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()?;
            if status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!("ip link set lo up: {status}")))
            }
        })??;
        Ok(ns)
    }

    /// Runs `f` on a new thread inside this namespace and returns its result.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> io::Result<R> {
        let fd = self.fd.as_fd();
        std::thread::scope(|s| {
            s.spawn(|| -> io::Result<R> {
                setns(fd, CloneFlags::CLONE_NEWNET)?;
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("closure inside the netns panicked"))?
        })
    }

    /// The raw namespace fd, for `BPF_LINK_CREATE` on netns attach points.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel_test;

    #[test]
    fn bpffs_mounts_and_cleans_up() {
        kernel_test(|| {
            let fs = BpfFs::new()?;
            let st = nix::sys::statfs::statfs(fs.path())?;
            assert_eq!(st.filesystem_type(), nix::sys::statfs::BPF_FS_MAGIC);
            let path = fs.path().to_owned();
            drop(fs);
            assert!(!path.exists());
            Ok(())
        });
    }

    #[test]
    fn cgroup_is_created_and_removed() {
        kernel_test(|| {
            let cg = TempCgroup::new()?;
            assert!(cg.path().join("cgroup.procs").exists());
            let path = cg.path().to_owned();
            drop(cg);
            assert!(!path.exists());
            Ok(())
        });
    }

    #[test]
    fn netns_is_separate() {
        kernel_test(|| {
            let ns = NetNs::new()?;
            let inside = ns.run(|| fs::read_link("/proc/thread-self/ns/net"))??;
            let outside = fs::read_link("/proc/thread-self/ns/net")?;
            assert_ne!(inside, outside);
            let out = ns.run(|| {
                std::process::Command::new("ip")
                    .args(["-o", "link"])
                    .output()
            })??;
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.lines().count(), 1, "only lo in a new netns: {text}");
            Ok(())
        });
    }
}
