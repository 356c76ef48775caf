//! Pinning objects in a BPF filesystem (bpffs).
//!
//! [`Map::pin`](crate::Map::pin), [`Program::pin`](crate::Program::pin) and
//! [`Collection::load`](crate::Collection::load) (maps with
//! `pinning = LIBBPF_PIN_BY_NAME`) use these helpers; they are public for the
//! link layer, which pins links the same way.
//!
//! ```no_run
//! use ebpf::pin::is_bpffs;
//! assert!(is_bpffs("/sys/fs/bpf")?);
//! # Ok::<(), ebpf::Error>(())
//! ```

use std::os::fd::AsFd;
use std::path::Path;

use crate::error::{Error, Result};

/// `BPF_FS_MAGIC`.
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

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
