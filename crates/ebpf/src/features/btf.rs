//! BTF kind probes: load a small BTF blob using the kind.

use std::fmt;

use ebpf_syscall::{BtfLoadAttr, Errno, btf_load};

use super::{FeatureError, FeatureResult, KernelVersion, Key, cached, v};

/// A BTF kind (or BTF feature) whose support can be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BtfKind {
    /// `BTF_KIND_INT` and the basic kinds: BTF itself (4.18).
    Int,
    /// `BTF_KIND_FUNC` and `BTF_KIND_FUNC_PROTO` (5.0).
    Func,
    /// `BTF_FUNC_GLOBAL` linkage of `BTF_KIND_FUNC` (5.6).
    FuncGlobal,
    /// `BTF_KIND_VAR` and `BTF_KIND_DATASEC` (5.2).
    DataSec,
    /// A `?` in a DATASEC's name, as in `?.data` (5.19).
    QmarkDatasec,
    /// `BTF_KIND_FLOAT` (5.13).
    Float,
    /// `BTF_KIND_DECL_TAG` (5.16).
    DeclTag,
    /// `BTF_KIND_TYPE_TAG` (5.17).
    TypeTag,
    /// `BTF_KIND_ENUM64` (6.0).
    Enum64,
}

impl BtfKind {
    /// Every kind this module probes.
    pub const ALL: &'static [BtfKind] = &[
        Self::Int,
        Self::Func,
        Self::FuncGlobal,
        Self::DataSec,
        Self::QmarkDatasec,
        Self::Float,
        Self::DeclTag,
        Self::TypeTag,
        Self::Enum64,
    ];
}

impl BtfKind {
    /// The kind's name in lower case, as `ebpf-tool feature` lists it (`decl_tag`).
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Func => "func",
            Self::FuncGlobal => "func_global",
            Self::DataSec => "datasec",
            Self::QmarkDatasec => "qmark_datasec",
            Self::Float => "float",
            Self::DeclTag => "decl_tag",
            Self::TypeTag => "type_tag",
            Self::Enum64 => "enum64",
        }
    }
}

impl fmt::Display for BtfKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Int => "BTF",
            Self::Func => "BTF_KIND_FUNC",
            Self::FuncGlobal => "BTF_FUNC_GLOBAL",
            Self::DataSec => "BTF_KIND_DATASEC",
            Self::QmarkDatasec => "BTF_KIND_DATASEC named ?.data",
            Self::Float => "BTF_KIND_FLOAT",
            Self::DeclTag => "BTF_KIND_DECL_TAG",
            Self::TypeTag => "BTF_KIND_TYPE_TAG",
            Self::Enum64 => "BTF_KIND_ENUM64",
        })
    }
}

/// The first kernel with `kind`.
pub fn btf_kind_min_kernel(kind: BtfKind) -> KernelVersion {
    match kind {
        BtfKind::Int => v(4, 18),
        BtfKind::Func => v(5, 0),
        BtfKind::FuncGlobal => v(5, 6),
        BtfKind::DataSec => v(5, 2),
        BtfKind::QmarkDatasec => v(5, 19),
        BtfKind::Float => v(5, 13),
        BtfKind::DeclTag => v(5, 16),
        BtfKind::TypeTag => v(5, 17),
        BtfKind::Enum64 => v(6, 0),
    }
}

/// A tiny BTF writer for probe blobs (host byte order).
pub(super) struct Blob {
    types: Vec<u8>,
    strings: Vec<u8>,
}

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

impl Blob {
    pub(super) fn new() -> Self {
        Self {
            types: Vec::new(),
            strings: vec![0],
        }
    }

    fn name(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }

    fn words(&mut self, words: &[u32]) {
        for w in words {
            self.types.extend_from_slice(&w.to_ne_bytes());
        }
    }

    fn header(&mut self, name: &str, kind: u32, vlen: u32, kind_flag: bool, size_or_type: u32) {
        let name = self.name(name);
        let info = (kind << 24) | (u32::from(kind_flag) << 31) | vlen;
        self.words(&[name, info, size_or_type]);
    }

    /// Appends a signed integer of `size` bytes.
    pub(super) fn int(mut self, name: &str, size: u32) -> Self {
        self.header(name, KIND_INT, 0, false, size);
        self.words(&[(1 << 24) | (size * 8)]);
        self
    }

    fn kind(mut self, kind: BtfKind) -> Self {
        // Type 1 is always `int`.
        self = self.int("int", 4);
        match kind {
            BtfKind::Int => {}
            BtfKind::Func | BtfKind::FuncGlobal => {
                // [2] FUNC_PROTO int(void); [3] FUNC "probe" linkage static/global.
                self.header("", KIND_FUNC_PROTO, 0, false, 1);
                let linkage = u32::from(kind == BtfKind::FuncGlobal);
                self.header("probe", KIND_FUNC, linkage, false, 2);
            }
            BtfKind::DataSec | BtfKind::QmarkDatasec => {
                // [2] VAR "v" int, global; [3] DATASEC ".data" (or "?.data") { v @0, 4 bytes }.
                self.header("v", KIND_VAR, 0, false, 1);
                self.words(&[1]);
                let name = if kind == BtfKind::QmarkDatasec {
                    "?.data"
                } else {
                    ".data"
                };
                self.header(name, KIND_DATASEC, 1, false, 4);
                self.words(&[2, 0, 4]);
            }
            BtfKind::Float => self.header("float", KIND_FLOAT, 0, false, 4),
            BtfKind::DeclTag => {
                // [2] DECL_TAG "tag" on type 1 (component_idx -1: the type itself)... a
                // tag must annotate a struct, union, var, func or typedef: use a var.
                self.header("v", KIND_VAR, 0, false, 1);
                self.words(&[0]);
                self.header("tag", KIND_DECL_TAG, 0, false, 2);
                self.words(&[u32::MAX]);
            }
            BtfKind::TypeTag => {
                // [2] TYPE_TAG "tag" -> int; [3] PTR -> [2].
                self.header("tag", KIND_TYPE_TAG, 0, false, 1);
                self.header("", KIND_PTR, 0, false, 2);
            }
            BtfKind::Enum64 => {
                self.header("e", KIND_ENUM64, 1, true, 8);
                let name = self.name("E");
                self.words(&[name, 1, 0]);
            }
        }
        self
    }

    pub(super) fn build(self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9f_u16.to_ne_bytes());
        out.push(1);
        out.push(0);
        let words = [
            24,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ];
        for w in words {
            out.extend_from_slice(&w.to_ne_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// Probes whether the kernel accepts BTF using `kind`.
///
/// # Minimum kernel version
///
/// See [`btf_kind_min_kernel`].
pub fn have_btf_kind(kind: BtfKind) -> FeatureResult {
    cached(Key::Btf(kind), || {
        let blob = Blob::new().kind(kind).build();
        let mut attr = BtfLoadAttr::default();
        attr.set_btf(&blob)
            .map_err(|e| FeatureError::probe(kind.to_string(), &e))?;
        match btf_load(&attr) {
            Ok(_fd) => Ok(()),
            // Unknown kinds are EINVAL; a kernel without BPF_BTF_LOAD says EINVAL too.
            Err(e) if matches!(e.errno(), Some(Errno::INVAL | Errno::TOOBIG)) => Err(
                FeatureError::missing(kind.to_string(), btf_kind_min_kernel(kind)),
            ),
            Err(e) => Err(FeatureError::probe(kind.to_string(), &e)),
        }
    })
}

/// What the running kernel's BTF loader accepts, as the capability set that
/// [`ebpf_btf::sanitize::sanitize`] works from: one (cached) probe per kind. A probe
/// that cannot tell (an unexpected error) counts as "not supported", so the BTF sent
/// is sanitised rather than refused.
pub fn btf_sanitize_features() -> ebpf_btf::sanitize::Features {
    // Asked on every load: keep the assembled set, not just each probe's
    // result; per BPF token in effect, like the probes.
    type Sets = std::collections::HashMap<Option<i32>, ebpf_btf::sanitize::Features>;
    static SETS: std::sync::Mutex<Option<Sets>> = std::sync::Mutex::new(None);
    let token = ebpf_syscall::token::current();
    let known = SETS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .and_then(|m| m.get(&token).copied());
    if let Some(set) = known {
        return set;
    }
    let set = probe_sanitize_features();
    *SETS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(Default::default)
        .entry(token)
        .or_insert(set)
}

fn probe_sanitize_features() -> ebpf_btf::sanitize::Features {
    let has = |k| have_btf_kind(k).is_ok();
    ebpf_btf::sanitize::Features {
        func: has(BtfKind::Func),
        func_global: has(BtfKind::FuncGlobal),
        datasec: has(BtfKind::DataSec),
        qmark_datasec: has(BtfKind::QmarkDatasec),
        float: has(BtfKind::Float),
        decl_tag: has(BtfKind::DeclTag),
        type_tag: has(BtfKind::TypeTag),
        enum64: has(BtfKind::Enum64),
    }
}
