//! Opening whatever is pinned in a bpffs, and walking a bpffs tree, with each
//! object's kind found by the kernel (as cilium/ebpf's `pin.Load` and
//! `pin.WalkDir`).
//!
//! An object is opened with `BPF_OBJ_GET`; its kind is the name of the
//! anonymous inode behind the fd (`bpf-map`, `bpf-prog`, `bpf_link` or `bpf-link`), read
//! from `/proc/self/fd`. Maps and programs come back as [`Map`] and
//! [`Program`]; links as a [`PinnedLink`] (the `ebpf-link` crate turns one
//! into its `RawLink`).
//!
//! ```no_run
//! use ebpf::pin_walk::{self, Pinned};
//! for entry in pin_walk::walk("/sys/fs/bpf")? {
//!     let entry = entry?;
//!     match entry.object {
//!         Some(Pinned::Map(m)) => println!("{}: map {}", entry.path.display(), m.name()),
//!         Some(Pinned::Program(p)) => println!("{}: program {}", entry.path.display(), p.name()),
//!         Some(Pinned::Link(l)) => println!("{}: link {}", entry.path.display(), l.id()),
//!         _ if entry.is_dir => println!("{}/", entry.path.display()),
//!         _ => {} // not an object (bpf_preload's maps.debug)
//!     }
//! }
//! # Ok::<(), ebpf::Error>(())
//! ```
//!
//! # Minimum kernel version
//!
//! 4.4 (pinned maps and programs); links 5.7.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use ebpf_syscall::LinkType;

use crate::error::{Error, Result};
use crate::{Map, Program};

/// The kind of a pinned object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinnedKind {
    /// A map.
    Map,
    /// A program.
    Program,
    /// A `bpf_link`.
    Link,
}

impl std::fmt::Display for PinnedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinnedKind::Map => "map",
            PinnedKind::Program => "program",
            PinnedKind::Link => "link",
        })
    }
}

/// A pinned `bpf_link`: its fd, type and ids.
#[derive(Debug)]
pub struct PinnedLink {
    fd: OwnedFd,
    path: PathBuf,
    info: ebpf_syscall::LinkInfo,
}

impl AsFd for PinnedLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl PinnedLink {
    /// The link's kernel type.
    pub fn link_type(&self) -> LinkType {
        self.info.r#type
    }
    /// The link's kernel id.
    pub fn id(&self) -> u32 {
        self.info.id
    }
    /// The id of the program it attaches.
    pub fn program_id(&self) -> u32 {
        self.info.prog_id
    }
    /// Where it is pinned.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Gives up the fd (the pin stays).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

/// A pinned object, opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum Pinned {
    /// A map.
    Map(Map),
    /// A program.
    Program(Program),
    /// A link.
    Link(PinnedLink),
}

impl Pinned {
    /// Its kind.
    pub fn kind(&self) -> PinnedKind {
        match self {
            Pinned::Map(_) => PinnedKind::Map,
            Pinned::Program(_) => PinnedKind::Program,
            Pinned::Link(_) => PinnedKind::Link,
        }
    }
}

/// The kind of the object behind `fd`, from its anonymous inode's name.
pub fn kind_of(fd: impl AsFd) -> Result<PinnedKind> {
    let link = format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd());
    let target = std::fs::read_link(&link).map_err(Error::io(&link))?;
    match target.to_string_lossy().as_ref() {
        "anon_inode:bpf-map" => Ok(PinnedKind::Map),
        "anon_inode:bpf-prog" => Ok(PinnedKind::Program),
        // bpf_link until 6.x, bpf-link since.
        "anon_inode:bpf_link" | "anon_inode:bpf-link" => Ok(PinnedKind::Link),
        other => Err(Error::InvalidArgument(format!(
            "the fd is {other}, not a BPF map, program or link"
        ))),
    }
}

/// Opens the object pinned at `path`, whatever its kind.
///
/// # Minimum kernel version
///
/// 4.4; links 5.7.
#[doc(alias = "BPF_OBJ_GET")]
pub fn open(path: impl AsRef<Path>) -> Result<Pinned> {
    let path = path.as_ref();
    let what = || format!("open pinned {}", path.display());
    (|| {
        let fd = ebpf_syscall::obj_get(path, 0)?;
        Ok(match kind_of(&fd)? {
            PinnedKind::Map => Pinned::Map(Map::from_fd(fd)?.with_pinned(path)),
            PinnedKind::Program => Pinned::Program(Program::from_fd(fd)?.with_pinned(path)),
            PinnedKind::Link => {
                let info = ebpf_syscall::link_info(&fd)?;
                Pinned::Link(PinnedLink {
                    fd,
                    path: path.to_owned(),
                    info,
                })
            }
        })
    })()
    .map_err(Error::context(what()))
}

/// One entry of a bpffs tree.
#[derive(Debug)]
pub struct PinnedEntry {
    /// Its path.
    pub path: PathBuf,
    /// How deep it is below the walked directory (its children are at 1).
    pub depth: usize,
    /// A directory.
    pub is_dir: bool,
    /// The object; `None` for a directory, and for a file that holds none
    /// (the `maps.debug` and `progs.debug` that `bpf_preload` puts at the
    /// root of a bpffs are iterator output, not objects).
    pub object: Option<Pinned>,
}

/// Walks the bpffs tree under `dir`: each directory (before what it holds)
/// and each file, with the object pinned there opened, in name order, depth
/// first. `dir` must be on a bpffs.
pub fn walk(dir: impl AsRef<Path>) -> Result<PinWalk> {
    let dir = dir.as_ref();
    if !crate::pin::is_bpffs(dir)? || !dir.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{} is not a directory of a BPF filesystem",
            dir.display()
        )));
    }
    let mut walk = PinWalk { stack: Vec::new() };
    walk.push_dir(dir, 1)?;
    Ok(walk)
}

/// The iterator of [`walk`].
#[derive(Debug)]
pub struct PinWalk {
    /// Entries still to visit, last first, with their depth.
    stack: Vec<(PathBuf, usize)>,
}

impl PinWalk {
    fn push_dir(&mut self, dir: &Path, depth: usize) -> Result<()> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(Error::io(dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(Error::io(dir.display()))?;
        names.sort();
        self.stack
            .extend(names.into_iter().rev().map(|p| (p, depth)));
        Ok(())
    }
}

impl Iterator for PinWalk {
    type Item = Result<PinnedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let (path, depth) = self.stack.pop()?;
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => return Some(Err(Error::io(path.display())(e))),
        };
        if meta.is_dir() {
            if let Err(e) = self.push_dir(&path, depth + 1) {
                return Some(Err(e));
            }
            return Some(Ok(PinnedEntry {
                path,
                depth,
                is_dir: true,
                object: None,
            }));
        }
        let object = match open(&path) {
            Ok(o) => Some(o),
            Err(e) if e.errno() == Some(ebpf_syscall::Errno::NOENT) => None,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(PinnedEntry {
            path,
            depth,
            is_dir: false,
            object,
        }))
    }
}
