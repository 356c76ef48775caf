//! Pinning objects in a BPF filesystem (bpffs).
//!
//! [`Map::pin`](crate::Map::pin), [`Program::pin`](crate::Program::pin) and
//! [`Collection::load`](crate::Collection::load) (maps with
//! `pinning = LIBBPF_PIN_BY_NAME`) use these helpers; they are public for the
//! link layer, which pins links the same way, and for tools that pin a whole
//! collection under a directory:
//!
//! - names that come from an object file (map and program names are ELF
//!   symbols, so anything) become one path component only through
//!   [`join_name`], which refuses `/`, `..`, a leading `.` and NUL;
//! - [`check_dir`] says whether a directory is (or would be created) on a
//!   bpffs, before anything is created;
//! - a [`PinGuard`] removes every pin and directory it recorded unless the
//!   whole operation succeeded ([`PinGuard::keep`]).
//!
//! ```no_run
//! use ebpf::pin::{PinGuard, check_dir, is_bpffs, join_name};
//! assert!(is_bpffs("/sys/fs/bpf")?);
//! let dir = std::path::Path::new("/sys/fs/bpf/myapp");
//! check_dir(dir)?;
//! let mut guard = PinGuard::new();
//! guard.create_dir_all(dir)?;
//! let path = join_name(dir, "events")?;
//! // ... pin something at `path`, then `guard.record(path)` ...
//! # let _ = path;
//! guard.keep();
//! # Ok::<(), ebpf::Error>(())
//! ```

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `BPF_FS_MAGIC`.
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

/// `NAME_MAX`: the longest file name.
const NAME_MAX: usize = 255;

/// Whether `path` (or, if it does not exist, its parent directory) lies on a bpffs.
pub fn is_bpffs(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    let dir = if path.exists() {
        path
    } else {
        path.parent().unwrap_or(Path::new("/"))
    };
    let st = nix::sys::statfs::statfs(dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        source: std::io::Error::from(e),
    })?;
    #[allow(
        clippy::useless_conversion,
        clippy::unnecessary_cast,
        reason = "the statfs type differs between libcs"
    )]
    let magic = st.filesystem_type().0 as i64;
    Ok(magic == BPF_FS_MAGIC)
}

/// Checks that `dir` is a directory on a bpffs, or, if it does not exist yet,
/// that its nearest existing ancestor is, so that creating it puts it there.
/// Nothing is created.
pub fn check_dir(dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    let existing = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .unwrap_or(Path::new("."));
    if existing == dir && !dir.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    if !is_bpffs(existing)? {
        return Err(Error::InvalidArgument(format!(
            "{} is not on a BPF filesystem (mount -t bpf bpf /sys/fs/bpf)",
            dir.display()
        )));
    }
    Ok(())
}

/// Checks that `name` (a map or program name, which an object file can set
/// to anything) can be a pin's file name: one path component, not empty, no
/// `/` or NUL, not starting with `.` (which also rules out `.` and `..`), at
/// most 255 bytes.
pub fn check_name(name: &str) -> Result<()> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.contains('/') {
        "contains '/'"
    } else if name.contains('\0') {
        "contains NUL"
    } else if name.starts_with('.') {
        "starts with '.'"
    } else if name.len() > NAME_MAX {
        "is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(Error::InvalidArgument(format!(
        "pin name {name:?} {why}: it must be one path component"
    )))
}

/// `dir/name`, after [`check_name`]: the pin of `name` stays inside `dir`.
pub fn join_name(dir: impl AsRef<Path>, name: &str) -> Result<PathBuf> {
    check_name(name)?;
    Ok(dir.as_ref().join(name))
}

/// Pins `obj` at `path`, which must be in a bpffs and not exist yet.
pub fn pin(obj: impl AsFd, path: &Path) -> Result<()> {
    if !is_bpffs(path)? {
        return Err(Error::InvalidArgument(format!(
            "{} is not on a BPF filesystem (mount -t bpf bpf /sys/fs/bpf)",
            path.display()
        )));
    }
    ebpf_syscall::obj_pin(obj, path).map_err(|e| Error::Context {
        what: path.display().to_string(),
        source: Box::new(e.into()),
    })
}

/// Removes the pin at `path`; a missing pin is not an error.
pub fn unpin(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path.display())(e)),
    }
}

/// Undoes a multi-step pin operation that fails part way: the pins and
/// directories it [recorded](Self::record) are removed when it is dropped,
/// unless [`keep`](Self::keep) was called.
///
/// Pins are removed newest first, then the directories it created (each only
/// if empty, deepest first), so nothing made by someone else is touched.
#[derive(Debug, Default)]
#[must_use = "dropping the guard removes what it recorded"]
pub struct PinGuard {
    pins: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl PinGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a pin made at `path`, to be removed if the operation fails.
    pub fn record(&mut self, path: impl Into<PathBuf>) {
        self.pins.push(path.into());
    }

    /// Creates `dir` and its missing ancestors (like `create_dir_all`),
    /// recording each directory it creates.
    pub fn create_dir_all(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .collect();
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(d) {
                Ok(()) => self.dirs.push(d.to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(e) => return Err(Error::io(format!("create {}", d.display()))(e)),
            }
        }
        Ok(())
    }

    /// The operation succeeded: keep everything recorded.
    pub fn keep(mut self) {
        self.pins.clear();
        self.dirs.clear();
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        for p in self.pins.iter().rev() {
            let _ = std::fs::remove_file(p);
        }
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_path_component() {
        for good in ["events", "rodata", "a.b", "x..y", "-", "名前"] {
            assert_eq!(
                join_name("/sys/fs/bpf/d", good).unwrap(),
                Path::new("/sys/fs/bpf/d").join(good)
            );
        }
        let long = "x".repeat(256);
        for bad in [
            "", ".", "..", "../x", "../../x", "/abs", "a/b", ".hidden", "./x", "x/", "a\0b", &long,
        ] {
            let e = join_name("/sys/fs/bpf/d", bad).unwrap_err();
            assert!(e.to_string().contains("one path component"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_guard_removes_what_it_recorded_unless_kept() {
        let base = std::env::temp_dir().join(format!("ebpf-pin-guard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        let file = base.join("a/b/pin");
        {
            let mut guard = PinGuard::new();
            guard.create_dir_all(base.join("a/b")).unwrap();
            std::fs::write(&file, b"").unwrap();
            guard.record(&file);
        }
        assert!(!base.join("a").exists(), "created directories left behind");
        {
            let mut guard = PinGuard::new();
            guard.create_dir_all(base.join("a/b")).unwrap();
            std::fs::write(&file, b"").unwrap();
            guard.record(&file);
            guard.keep();
        }
        assert!(file.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
