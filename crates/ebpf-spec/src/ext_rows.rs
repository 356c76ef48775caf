//! The `.BTF.ext` records of one code section as a single [`ExtensionRows`] table: every
//! instruction with a func info, line info or CO-RE relocation refers to its row, so
//! attaching them allocates once per section instead of several times per instruction.
//!
//! The table keeps the section's records as parsed ([`ebpf_btf::RawLineInfo`],
//! [`ebpf_btf::RawCoreRelo`]: string offsets, no allocation), each list sorted by instruction offset, and an instruction's row
//! is its byte offset: its records are found by binary search when they are used, not
//! gathered per instruction at open. The [`LineInfo`], [`Source`] and [`CoreRelo`] values
//! are made on first use, reading the strings from a copy of the `.BTF` string table the
//! rows share. Opening an object then reads no record's strings, as libbpf keeps `.BTF.ext`
//! raw until load. An instruction's line info is also there as parsed
//! (`metadata.get::<RawLineInfo>()`, with the [`ExtStrings`] its offsets point into), so that
//! loading, which passes the offsets on with the same BTF, reads no string either. Those two
//! are views of the row, answered by `get` only: not extensions of the instruction (not
//! counted, compared, copied out by `get_arc`, or removable); editing the line info copies
//! the row's [`LineInfo`] into the instruction, and then neither view is there.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

use ebpf_asm::{ExtensionRows, Instruction, RowTable, Source};
use ebpf_btf::{CoreRelo, ExtStrings, FuncInfo, LineInfo, RawExtInfo, RawExtSection, RawLineInfo};

use crate::error::{Error, Result};
use crate::relocate::CodeSection;
use crate::slots::Slots;

/// An object's `.BTF.ext` records by section name, each section's shared by the tables made
/// from it (not copied), and a copy of the `.BTF` string table their offsets point into.
pub(crate) struct ExtRecords {
    /// Sorted by name (a few: a list, not a map).
    sections: Vec<(String, Arc<RawExtSection>)>,
    strings: ExtStrings,
}

impl ExtRecords {
    /// The records of `raw` as [`RawExtInfo::parse`] returns them: each list sorted by
    /// offset (stable: of several records at one instruction, the last is the one found),
    /// which the rows' binary searches rely on.
    pub fn new(raw: RawExtInfo, strings: Arc<[u8]>) -> ExtRecords {
        debug_assert!(raw.sections.values().all(|r| {
            r.func_info.is_sorted_by_key(|r| r.insn_off)
                && r.line_info.is_sorted_by_key(|r| r.insn_off)
                && r.core_relos.is_sorted_by_key(|r| r.insn_off)
        }));
        // In name order, as the map gives them: `PendingRows::new` searches them by name.
        let sections: Vec<_> = raw
            .sections
            .into_iter()
            .map(|(name, records)| (name, Arc::new(records)))
            .collect();
        debug_assert!(sections.is_sorted_by(|a, b| a.0 < b.0));
        ExtRecords {
            sections,
            strings: ExtStrings(strings),
        }
    }
}

/// The `.BTF.ext` records of a code section, checked against its instructions but not
/// attached yet: checked before the relocations are applied (so that a misplaced record is
/// reported before a bad relocation), attached after (so that a relocated instruction gets
/// its reference before its row, and shares its metadata with the other instructions that
/// refer to the same name).
pub(crate) struct PendingRows(SectionRows);

impl PendingRows {
    /// The records of `code`'s section in `ext`. A record that is not at an instruction is
    /// an error naming the first one: func info first, then line info, then CO-RE
    /// relocations.
    pub fn new(code: &CodeSection<'_>, ext: Option<&ExtRecords>) -> Result<Option<PendingRows>> {
        let Some((records, strings)) = ext.and_then(|e| {
            let i = e
                .sections
                .binary_search_by(|(name, _)| name.as_str().cmp(code.name))
                .ok()?;
            e.sections.get(i).map(|(_, records)| (records, &e.strings))
        }) else {
            return Ok(None);
        };
        let misplaced = |what: &str, off: u32| Error::BtfMismatch {
            section: ".BTF.ext".into(),
            reason: format!(
                "section '{}': {what} at offset {off} is not at an instruction",
                code.name
            ),
        };
        let at = |off: u32| code.slots.starts_at(u64::from(off));
        // One loop per list (a chain of the three costs more than the check).
        if let Some(r) = records.func_info.iter().find(|r| !at(r.insn_off)) {
            return Err(misplaced("func_info", r.insn_off));
        }
        if let Some(r) = records.line_info.iter().find(|r| !at(r.insn_off)) {
            return Err(misplaced("line_info", r.insn_off));
        }
        if let Some(r) = records.core_relos.iter().find(|r| !at(r.insn_off)) {
            return Err(misplaced("core_relo", r.insn_off));
        }
        Ok(Some(PendingRows(SectionRows {
            records: Arc::clone(records),
            strings: strings.clone(),
            lines: OnceLock::new(),
            cores: OnceLock::new(),
        })))
    }

    /// The table the section's instructions share, to attach rows from.
    pub fn into_table(self) -> SectionTable {
        let records = Arc::clone(&self.0.records);
        SectionTable {
            table: RowTable::new(self.0),
            records,
        }
    }
}

/// The `.BTF.ext` rows of a code section, checked, as one table every program made from the
/// section shares.
#[derive(Debug)]
pub(crate) struct SectionTable {
    table: RowTable,
    records: Arc<RawExtSection>,
}

impl SectionTable {
    /// Gives each instruction of `insns` with records its row (its offset): `insns` are the
    /// section's instructions from byte `start` to byte `end`, the first numbered `first`,
    /// and `slots` says where the section's instructions start.
    pub fn attach(
        &self,
        insns: &mut [Instruction],
        (start, end): (u32, u32),
        first: usize,
        slots: &Slots,
    ) {
        let records = &*self.records;
        let funcs = between(&records.func_info, start, end, |r| r.insn_off);
        let lines = between(&records.line_info, start, end, |r| r.insn_off);
        let cores = between(&records.core_relos, start, end, |r| r.insn_off);
        let n = funcs.len() + lines.len() + cores.len();
        if n == 0 {
            return;
        }
        // One handle per record at most, counted at once (those left over are given back
        // when `shares` is dropped).
        let mut shares = self.table.shares(n);
        // The instructions given their row already (an instruction with several records).
        let mut done = vec![0u64; insns.len().div_ceil(64)];
        let mut attach = |off: u32| {
            // Every record was found at an instruction when the rows were checked.
            let Some(i) = slots
                .index_at(u64::from(off))
                .and_then(|i| i.checked_sub(first))
            else {
                return;
            };
            let (Some(word), Some(ins)) = (done.get_mut(i / 64), insns.get_mut(i)) else {
                return;
            };
            let bit = 1 << (i % 64);
            if *word & bit == 0 {
                *word |= bit;
                let share = shares.next().unwrap_or_else(|| self.table.clone());
                ins.metadata.set_rows(share, off);
            }
        };
        // One loop per list (a chain of the three costs more than the work).
        funcs.iter().for_each(|r| attach(r.insn_off));
        lines.iter().for_each(|r| attach(r.insn_off));
        cores.iter().for_each(|r| attach(r.insn_off));
    }
}

/// The records of `v` (sorted by `off`) at offsets from `start` to `end`.
fn between<T>(v: &[T], start: u32, end: u32, off: impl Fn(&T) -> u32) -> &[T] {
    let lo = v.partition_point(|r| off(r) < start);
    let hi = v.partition_point(|r| off(r) < end).max(lo);
    v.get(lo..hi).unwrap_or_default()
}

/// The index of the last of `v` (sorted by `key`) at offset `off`.
fn find<T>(v: &[T], off: u32, key: impl Fn(&T) -> u32) -> Option<usize> {
    let end = v.partition_point(|r| key(r) <= off);
    let last = end.checked_sub(1)?;
    (key(v.get(last)?) == off).then_some(last)
}

/// The records of one code section, each list sorted by offset, and the `.BTF` string table
/// their offsets point into (checked when the records were parsed). Row `r` is the
/// instruction at byte offset `r`.
pub(crate) struct SectionRows {
    records: Arc<RawExtSection>,
    strings: ExtStrings,
    /// Each line info's [`LineInfo`] and [`Source`], and each CO-RE relocation's
    /// [`CoreRelo`], made on first use (the tables too: opening an object allocates nothing
    /// per record beyond the lists).
    lines: Lazy<(LineInfo, Source)>,
    cores: Lazy<CoreRelo>,
}

impl SectionRows {
    fn func(&self, row: u32) -> Option<&FuncInfo> {
        let i = find(&self.records.func_info, row, |r| r.insn_off)?;
        self.records.func_info.get(i)
    }

    /// The line info of row `row` as parsed, its strings not read, and its index.
    fn raw_line_at(&self, row: u32) -> Option<(usize, &RawLineInfo)> {
        let i = find(&self.records.line_info, row, |r| r.insn_off)?;
        Some((i, self.records.line_info.get(i)?))
    }

    /// The line info of row `row` as parsed, its strings not read.
    fn raw_line(&self, row: u32) -> Option<&RawLineInfo> {
        self.raw_line_at(row).map(|(_, r)| r)
    }

    /// The line info of row `row` and its source line, strings read.
    fn line(&self, row: u32) -> Option<&(LineInfo, Source)> {
        let (i, raw) = self.raw_line_at(row)?;
        let table = self
            .lines
            .get_or_init(|| new_table(self.records.line_info.len()));
        Some(table.get(i)?.get_or_init(|| {
            let li = raw.resolve(&self.strings.table());
            let source = Source {
                file_name: Some(li.file_name.clone()),
                line: Some(li.line.clone()),
                line_number: li.line_num,
                column: li.column,
            };
            (li, source)
        }))
    }

    /// The CO-RE relocation of row `row`, its accessor read.
    fn core(&self, row: u32) -> Option<&CoreRelo> {
        let i = find(&self.records.core_relos, row, |r| r.insn_off)?;
        let raw = self.records.core_relos.get(i)?;
        let table = self
            .cores
            .get_or_init(|| new_table(self.records.core_relos.len()));
        Some(
            table
                .get(i)?
                .get_or_init(|| raw.resolve(&self.strings.table())),
        )
    }
}

/// One value per record, each made on first use, in a table made on first use.
type Lazy<T> = OnceLock<Box<[OnceLock<T>]>>;

fn new_table<T>(len: usize) -> Box<[OnceLock<T>]> {
    std::iter::repeat_with(OnceLock::new).take(len).collect()
}

impl fmt::Debug for SectionRows {
    /// The records, strings read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<_> = self
            .records
            .line_info
            .iter()
            .filter_map(|r| self.line(r.insn_off))
            .collect();
        let cores: Vec<_> = self
            .records
            .core_relos
            .iter()
            .filter_map(|r| self.core(r.insn_off))
            .collect();
        f.debug_struct("SectionRows")
            .field("func", &self.records.func_info)
            .field("line", &lines.iter().map(|(l, _)| l).collect::<Vec<_>>())
            .field("core", &cores)
            .finish()
    }
}

impl ExtensionRows for SectionRows {
    fn source(&self, row: u32) -> Option<&Source> {
        self.line(row).map(|(_, s)| s)
    }

    fn has_source(&self, row: u32) -> bool {
        self.raw_line(row).is_some()
    }

    fn get(&self, row: u32, id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        // The raw line info and its strings first: loading asks for them per instruction.
        // Both only for a row with a line record, so that the strings never go with a
        // record that was not read from them (one set beside the row by hand).
        if id == TypeId::of::<ExtStrings>() {
            return self.raw_line(row).map(|_| &self.strings as _);
        }
        if id == TypeId::of::<RawLineInfo>() {
            // The record as parsed: a loader passes its offsets on when it loads the
            // same strings, reading none.
            return self.raw_line(row).map(|v| v as _);
        }
        if id == TypeId::of::<FuncInfo>() {
            self.func(row).map(|v| v as _)
        } else if id == TypeId::of::<LineInfo>() {
            self.line(row).map(|(v, _)| v as _)
        } else if id == TypeId::of::<CoreRelo>() {
            self.core(row).map(|v| v as _)
        } else {
            None
        }
    }

    fn extensions(&self, row: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))> {
        let mut out: Vec<(TypeId, &(dyn Any + Send + Sync))> = Vec::with_capacity(3);
        if let Some(v) = self.func(row) {
            out.push((TypeId::of::<FuncInfo>(), v));
        }
        if let Some((v, _)) = self.line(row) {
            out.push((TypeId::of::<LineInfo>(), v));
        }
        if let Some(v) = self.core(row) {
            out.push((TypeId::of::<CoreRelo>(), v));
        }
        out
    }

    fn owned_extensions(&self, row: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
        let mut out: Vec<(TypeId, Arc<dyn Any + Send + Sync>)> = Vec::with_capacity(3);
        if let Some(v) = self.func(row) {
            out.push((TypeId::of::<FuncInfo>(), Arc::new(v.clone())));
        }
        if let Some((v, _)) = self.line(row) {
            out.push((TypeId::of::<LineInfo>(), Arc::new(v.clone())));
        }
        if let Some(v) = self.core(row) {
            out.push((TypeId::of::<CoreRelo>(), Arc::new(v.clone())));
        }
        out
    }
}
