//! Bounds on what an object file may make this process allocate.
//!
//! A `.bss` has no bytes in the file, so a 9 KiB object can declare dozens of
//! 64 MiB sections; an input path can name a FIFO that never ends or a device
//! such as `/dev/zero`. [`Limits`] caps the total of global data and initial
//! map contents (checked from the section headers, before anything is
//! allocated, and again by the loader before it copies a spec), and
//! [`read_file`] reads only regular files, at most their size at open.
//!
//! ```
//! use ebpf_spec::{CollectionSpec, Limits};
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let tight = Limits { max_data_bytes: 16 };
//! let e = CollectionSpec::from_elf_with(&bytes, &tight).unwrap_err();
//! assert!(e.to_string().starts_with("global data and map contents need "), "{e}");
//! let spec = CollectionSpec::from_elf_with(&bytes, &Limits::default())?;
//! assert!(spec.data_bytes() <= Limits::DEFAULT_MAX_DATA_BYTES);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::map::{MapKey, MapValue};

/// How much memory an object may ask for ([`CollectionSpec::from_elf_with`](crate::CollectionSpec::from_elf_with),
/// and the loader's `CollectionOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of global data (`.data*`, `.rodata*`, `.bss*`,
    /// `.kconfig`) and initial map contents, over all maps together.
    pub max_data_bytes: u64,
}

impl Limits {
    /// The default of [`Limits::max_data_bytes`]: 1 GiB, far above what real
    /// objects hold (the kernel refuses a single array value above 4 MiB on
    /// x86-64), far below what a hostile one can declare.
    pub const DEFAULT_MAX_DATA_BYTES: u64 = 1 << 30;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_data_bytes: Self::DEFAULT_MAX_DATA_BYTES,
        }
    }
}

/// Fails with [`Error::DataTooLarge`] if the `(name, bytes)` items add up to
/// more than `limits` allows, naming the largest.
pub(crate) fn check_total<'a>(
    items: impl IntoIterator<Item = (&'a str, u64)>,
    limits: &Limits,
) -> Result<()> {
    let mut items: Vec<(&str, u64)> = items.into_iter().filter(|(_, n)| *n > 0).collect();
    let total = items.iter().fold(0u64, |t, (_, n)| t.saturating_add(*n));
    if total <= limits.max_data_bytes {
        return Ok(());
    }
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    const SHOWN: usize = 4;
    let mut largest: Vec<String> = items
        .iter()
        .take(SHOWN)
        .map(|(name, n)| format!("'{name}' {n}"))
        .collect();
    if items.len() > SHOWN {
        largest.push(format!("and {} more", items.len() - SHOWN));
    }
    Err(Error::DataTooLarge {
        total,
        limit: limits.max_data_bytes,
        largest: largest.join(", "),
    })
}

pub(crate) fn map_bytes(m: &crate::MapSpec) -> u64 {
    let contents = m
        .contents
        .iter()
        .map(|e| {
            let key = match &e.key {
                MapKey::Index(_) => 4,
                MapKey::Bytes(b) => b.len() as u64,
            };
            let value = match &e.value {
                MapValue::Bytes(b) => b.len() as u64,
                MapValue::Program(_) | MapValue::Map(_) => 4,
            };
            key + value
        })
        .fold(0, u64::saturating_add);
    if m.data_bytes().is_some() {
        contents.max(u64::from(m.value_size))
    } else {
        contents
    }
}

/// Reads the object (or BTF) file at `path`.
///
/// Only regular files are read, and at most the size they had when opened:
/// a FIFO (which would block) or a device such as `/dev/zero` (which never
/// ends) is refused with [`Error::Io`].
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    // O_NONBLOCK: opening a FIFO with no writer returns at once (and is then
    // refused below) instead of blocking; regular files ignore the flag.
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(meta.len()).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
