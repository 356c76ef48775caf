//! The `.BTF.ext` records of one code section as a single [`ExtensionRows`] table: every
//! instruction with a func info, line info or CO-RE relocation refers to its row, so
//! attaching them allocates once per section instead of several times per instruction.
//!
//! A row keeps its records as read ([`RawLineInfo`], [`RawCoreRelo`]: string offsets, no
//! allocation) and makes the [`LineInfo`], [`Source`] and [`CoreRelo`] values on first use,
//! reading the strings from a copy of the `.BTF` string table the rows share. Opening an
//! object then reads no record's strings, as libbpf keeps `.BTF.ext` raw until load.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

use ebpf_asm::{ExtensionRows, Source};
use ebpf_btf::strings::StringTable;
use ebpf_btf::{CoreRelo, FuncInfo, LineInfo, RawCoreRelo, RawLineInfo};

/// The records of one instruction.
#[derive(Default)]
pub(crate) struct Row {
    pub func: Option<FuncInfo>,
    pub line: Option<RawLineInfo>,
    pub core: Option<RawCoreRelo>,
}

/// The line info, the source line made from it and the CO-RE relocation of a row, with
/// their strings.

#[derive(Debug)]
struct Resolved {
    line: Option<(LineInfo, Source)>,
    core: Option<CoreRelo>,
}

/// The rows of one code section, and the `.BTF` string table their offsets point into
/// (checked when the records were parsed).
pub(crate) struct SectionRows {
    rows: Vec<Row>,
    strings: Arc<[u8]>,
    /// Each row's [`Resolved`], made on first use (the table too: opening an object
    /// allocates nothing per row beyond `rows`).
    resolved: OnceLock<Box<[OnceLock<Resolved>]>>,
}

impl SectionRows {
    pub fn new(rows: Vec<Row>, strings: Arc<[u8]>) -> Self {
        SectionRows {
            rows,
            strings,
            resolved: OnceLock::new(),
        }
    }

    fn row(&self, row: u32) -> Option<&Row> {
        self.rows.get(row as usize)
    }

    /// Row `row` with its strings read.
    fn resolved(&self, row: u32) -> Option<(&Row, &Resolved)> {
        let r = self.row(row)?;
        let table = self.resolved.get_or_init(|| {
            std::iter::repeat_with(OnceLock::new)
                .take(self.rows.len())
                .collect()
        });
        let v = table.get(row as usize)?;
        Some((r, v.get_or_init(|| self.resolve(r))))
    }

    fn resolve(&self, r: &Row) -> Resolved {
        let strings = StringTable::new(&self.strings);
        let line = r.line.map(|raw| {
            let li = raw.resolve(&strings);
            let source = Source {
                file_name: Some(li.file_name.clone()),
                line: Some(li.line.clone()),
                line_number: li.line_num,
                column: li.column,
            };
            (li, source)
        });
        Resolved {
            line,
            core: r.core.map(|raw| raw.resolve(&strings)),
        }
    }
}

impl fmt::Debug for SectionRows {
    /// The rows as their records, strings read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct R<'a>(&'a Row, &'a Resolved);
        impl fmt::Debug for R<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Row")
                    .field("func", &self.0.func)
                    .field("line", &self.1.line)
                    .field("core", &self.1.core)
                    .finish()
            }
        }
        let rows = (0..self.rows.len() as u32).filter_map(|i| self.resolved(i));
        f.debug_tuple("SectionRows")
            .field(&rows.map(|(r, v)| R(r, v)).collect::<Vec<_>>())
            .finish()
    }
}

impl ExtensionRows for SectionRows {
    fn source(&self, row: u32) -> Option<&Source> {
        let (_, v) = self.resolved(row)?;
        v.line.as_ref().map(|(_, s)| s)
    }

    fn get(&self, row: u32, id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        if id == TypeId::of::<FuncInfo>() {
            self.row(row)?.func.as_ref().map(|v| v as _)
        } else if id == TypeId::of::<LineInfo>() {
            let (_, v) = self.resolved(row)?;
            v.line.as_ref().map(|(v, _)| v as _)
        } else if id == TypeId::of::<CoreRelo>() {
            let (_, v) = self.resolved(row)?;
            v.core.as_ref().map(|v| v as _)
        } else {
            None
        }
    }

    fn extensions(&self, row: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))> {
        let Some((r, v)) = self.resolved(row) else {
            return Vec::new();
        };
        let mut out: Vec<(TypeId, &(dyn Any + Send + Sync))> = Vec::with_capacity(3);
        if let Some(v) = &r.func {
            out.push((TypeId::of::<FuncInfo>(), v));
        }
        if let Some((v, _)) = &v.line {
            out.push((TypeId::of::<LineInfo>(), v));
        }
        if let Some(v) = &v.core {
            out.push((TypeId::of::<CoreRelo>(), v));
        }
        out
    }

    fn owned_extensions(&self, row: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
        let Some((r, v)) = self.resolved(row) else {
            return Vec::new();
        };
        let mut out: Vec<(TypeId, Arc<dyn Any + Send + Sync>)> = Vec::with_capacity(3);
        if let Some(v) = &r.func {
            out.push((TypeId::of::<FuncInfo>(), Arc::new(v.clone())));
        }
        if let Some((v, _)) = &v.line {
            out.push((TypeId::of::<LineInfo>(), Arc::new(v.clone())));
        }
        if let Some(v) = &v.core {
            out.push((TypeId::of::<CoreRelo>(), Arc::new(v.clone())));
        }
        out
    }
}
