//! Kernel BTF: `/sys/kernel/btf/vmlinux` (mapped read-only, decoded lazily) and module BTF
//! (split BTF on top of vmlinux), with a process-wide cache so a process parses them once.
//!
//! ```no_run
//! use ebpf_btf::{KernelBtf, Struct};
//! let vmlinux = KernelBtf::shared().vmlinux()?;
//! let (_id, task) = vmlinux.type_by_name::<Struct>("task_struct")?;
//! assert!(task.size > 0);
//! # Ok::<(), ebpf_btf::Error>(())
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::spec::{Data, Spec};

/// Where the kernel exposes BTF.
pub const SYSFS_BTF_DIR: &str = "/sys/kernel/btf";

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The one file whose bytes are mapped instead of read: the kernel's own BTF,
/// which lives in the kernel image and never changes or shrinks.
const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Whether `file` is sysfs's `/sys/kernel/btf/vmlinux`, judged by the open
/// file itself (its filesystem's magic and the path the kernel reports for the
/// descriptor), not by the path it was opened with, which may be a symlink or
/// climb out with `..`.
fn is_sysfs_vmlinux(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let on_sysfs = nix::sys::statfs::fstatfs(file)
        .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::SYSFS_MAGIC);
    on_sysfs
        && std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .is_ok_and(|real| real == Path::new(VMLINUX))
}

/// Reads (or, for the kernel's vmlinux BTF, maps) the regular file at `path`.
///
/// Anything but a regular file is refused: a FIFO would block and a device
/// such as `/dev/zero` never ends. At most the size the file had when opened
/// is read, so a file that grows meanwhile cannot make this unbounded.
fn read_file(path: &Path) -> Result<Data> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO with no writer returns at once (and is then
    // refused below) instead of blocking; regular files ignore the flag.
    let f = File::options()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| io(path, e))?;
    let meta = f.metadata().map_err(|e| io(path, e))?;
    if !meta.is_file() {
        return Err(io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (BTF is read from regular files only)",
            ),
        ));
    }
    let len = usize::try_from(meta.len()).map_err(|_| {
        io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "file too large"),
        )
    })?;
    if is_sysfs_vmlinux(&f) {
        if let Some(m) = crate::mmap::Mmap::map_immutable(&f, len) {
            return Ok(Data::Mapped(m));
        }
        log::debug!("btf: {}: mmap failed, reading instead", path.display());
    }
    let mut buf = Vec::with_capacity(len);
    f.take(meta.len())
        .read_to_end(&mut buf)
        .map_err(|e| io(path, e))?;
    Ok(Data::Owned(buf.into_boxed_slice()))
}

impl Spec {
    /// Loads the running kernel's BTF from `/sys/kernel/btf/vmlinux` (mapped read-only when the
    /// kernel allows it, otherwise read), decoding types lazily. Prefer [`Spec::kernel_shared`].
    ///
    /// # Minimum kernel version
    /// 5.4 (`CONFIG_DEBUG_INFO_BTF`); mmap is used from 6.16.
    pub fn load_kernel() -> Result<Self> {
        Self::load_file(Path::new(SYSFS_BTF_DIR).join("vmlinux"))
    }

    /// Loads a base BTF blob from a regular file (lazily decoded). The file is read into
    /// memory, except sysfs's `/sys/kernel/btf/vmlinux`, which is mapped (it cannot change);
    /// FIFOs, devices and other non-regular files are refused.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_data(read_file(path.as_ref())?, None)
    }

    /// Loads split BTF (a module's) from a file on top of `base`.
    pub fn load_split_file(path: impl AsRef<Path>, base: Arc<Spec>) -> Result<Self> {
        Self::from_data(read_file(path.as_ref())?, Some(base))
    }

    /// The process-wide vmlinux spec (parsed once).
    pub fn kernel_shared() -> Result<Arc<Self>> {
        KernelBtf::shared().vmlinux()
    }
}

/// A cache of the kernel's BTF: vmlinux plus modules, loaded on demand.
#[derive(Debug, Default)]
pub struct KernelBtf {
    dir: PathBuf,
    vmlinux: Mutex<Option<Arc<Spec>>>,
    modules: Mutex<HashMap<String, Arc<Spec>>>,
}

impl KernelBtf {
    /// A cache reading from `dir` instead of `/sys/kernel/btf` (for tests).
    #[must_use]
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            ..Self::default()
        }
    }

    /// The process-wide cache for `/sys/kernel/btf`.
    pub fn shared() -> &'static KernelBtf {
        static SHARED: OnceLock<KernelBtf> = OnceLock::new();
        SHARED.get_or_init(|| KernelBtf::with_dir(SYSFS_BTF_DIR))
    }

    /// vmlinux, loaded on first call.
    pub fn vmlinux(&self) -> Result<Arc<Spec>> {
        let mut g = self
            .vmlinux
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = &*g {
            return Ok(s.clone());
        }
        let s = Arc::new(Spec::load_file(self.dir.join("vmlinux"))?);
        *g = Some(s.clone());
        Ok(s)
    }

    /// Module `name`'s BTF (split on vmlinux), loaded on first call.
    ///
    /// # Minimum kernel version
    /// 5.11.
    pub fn module(&self, name: &str) -> Result<Arc<Spec>> {
        if name.is_empty() || name.contains('/') || name == "vmlinux" || name.starts_with('.') {
            return Err(Error::NotFound { name: name.into() });
        }
        if let Some(s) = self
            .modules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
        {
            return Ok(s.clone());
        }
        let base = self.vmlinux()?;
        let s = Arc::new(Spec::load_split_file(self.dir.join(name), base)?);
        let mut g = self
            .modules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(g.entry(name.to_owned()).or_insert(s).clone())
    }

    /// Names of the modules that expose BTF.
    pub fn module_names(&self) -> Result<Vec<String>> {
        let rd = std::fs::read_dir(&self.dir).map_err(|e| io(&self.dir, e))?;
        let mut v: Vec<String> = rd
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n != "vmlinux")
            .collect();
        v.sort();
        Ok(v)
    }
}
