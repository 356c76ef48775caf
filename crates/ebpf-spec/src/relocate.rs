//! Code sections: decoding, attaching `.BTF.ext` records, and applying relocations.
//!
//! Every relocation in an executable section turns into metadata on the instruction it
//! patches; nothing is resolved to a number yet:
//!
//! - a map (`.maps` or legacy `maps`): `ld_imm64` with `BPF_PSEUDO_MAP_FD`, reference = map;
//! - global data: `BPF_PSEUDO_MAP_VALUE`, reference = section, offset in the high half
//!   (from a section symbol plus the immediate, or an object or notype symbol's value);
//! - an arena global (`.addr_space.1`): the same, with the arena map as the reference;
//! - a function: call (`BPF_PSEUDO_CALL`) or address (`BPF_PSEUDO_FUNC`), reference =
//!   function name, constant -1;
//! - an extern: [`KconfigRef`] (a `.kconfig` map value load), [`KsymRef`] or [`KfuncRef`].
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let p = &spec.programs["socket_prog"];
//! let refs: Vec<&str> = p.instructions.iter().filter_map(|i| i.reference()).collect();
//! assert!(refs.contains(&"array_map") && refs.contains(&".data.foo") && refs.contains(&"nested_helper"));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use ebpf_asm::{
    Endianness, Instruction, Instructions, Metadata, PseudoCall, PseudoLoad, SLOT_SIZE,
};
use ebpf_btf::{FuncLinkage, Kind, Spec, Type, TypeId};

use crate::arena::is_arena_section;
use crate::btf_maps::MAPS_SECTION;
use crate::data::data_kind;
use crate::datasec::{KCONFIG_SECTION, KSYMS_SECTION};
use crate::elf::{
    ElfFile, R_BPF_64_32, R_BPF_64_64, R_BPF_64_ABS32, R_BPF_64_ABS64, R_BPF_64_NODYLD32,
    R_BPF_NONE, Reloc, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE,
    STT_OBJECT, STT_SECTION, Symbol,
};
use crate::error::{Error, Result};
use crate::kconfig::KconfigRef;
use crate::ksyms::{KfuncRef, KsymRef};
use crate::legacy_maps::is_legacy_maps_section;
use crate::slots::Slots;

/// An executable section, read and checked but not decoded: its instructions stay raw
/// until a program that holds them is first used, except the ones relocations (and calls
/// inside the section) change, which are decoded and kept relocated in [`patches`](Self::patches).
#[derive(Debug)]
pub(crate) struct CodeSection<'e> {
    /// ELF section index.
    pub index: usize,
    /// Section name.
    pub name: &'e str,
    /// The section's bytes, a whole number of instructions.
    pub data: &'e [u8],
    /// The byte order of `data`.
    pub order: Endianness,
    /// Where its instructions start.
    pub slots: Slots,
    /// The slots of the instructions that may be calls to BPF functions or loads of their
    /// addresses, from their opcode and source register, in order.
    local: Vec<u32>,
    /// Each relocated instruction by index, relocated, sorted by index. Only calls and
    /// `ld_imm64`s are relocated.
    pub patches: Vec<(u32, Instruction)>,
    /// The name each of `patches` now refers to.
    pub patch_names: Vec<&'e str>,
    /// Where each patch is in `patches` by index, while relocations out of offset order
    /// leave them unsorted.
    unsorted: Option<HashMap<u32, usize>>,
    /// The calls to BPF functions and loads of their addresses, by index, with the
    /// function they name, in order (found by [`resolve_local_calls`]).
    pub calls: Vec<(u32, &'e str)>,
}

/// Marks a slot where no instruction starts.
const NO_INSN: u32 = u32::MAX;

impl<'e> CodeSection<'e> {
    /// The size of the section in bytes.
    pub fn byte_len(&self) -> u64 {
        self.slots.byte_len()
    }

    /// The index of the instruction starting at byte `offset`.
    pub fn index_at(&self, offset: u64) -> Option<usize> {
        self.slots.index_at(offset)
    }

    /// Where the patch of instruction `index` is in `patches`.
    pub(crate) fn patch_at(&self, index: u32) -> Option<usize> {
        if let Some(unsorted) = &self.unsorted {
            return unsorted.get(&index).copied();
        }
        // Relocations come in offset order: the last patch is the one to look at first.
        match self.patches.last() {
            Some((last, _)) if *last >= index => {
                self.patches.binary_search_by_key(&index, |(i, _)| *i).ok()
            }
            _ => None,
        }
    }

    /// Sets the patch of instruction `index`. Patches are appended: relocations out of
    /// offset order are found through a map until [`sort_patches`](Self::sort_patches).
    fn set_patch(&mut self, index: u32, ins: Instruction, name: &'e str) {
        if let Some(at) = self.patch_at(index) {
            self.patches[at] = (index, ins);
            self.patch_names[at] = name;
            return;
        }
        let in_order = self.patches.last().is_none_or(|(last, _)| *last < index);
        if !in_order && self.unsorted.is_none() {
            let at = self.patches.iter().enumerate().map(|(at, (i, _))| (*i, at));
            self.unsorted = Some(at.collect());
        }
        if let Some(unsorted) = &mut self.unsorted {
            unsorted.insert(index, self.patches.len());
        }
        self.patches.push((index, ins));
        self.patch_names.push(name);
    }

    /// Puts the patches in index order (and forgets the map of unsorted ones).
    fn sort_patches(&mut self) {
        self.unsorted = None;
        let mut both: Vec<_> = std::mem::take(&mut self.patches)
            .into_iter()
            .zip(std::mem::take(&mut self.patch_names))
            .collect();
        // Indexes are unique (a second relocation of an instruction replaced its patch).
        both.sort_unstable_by_key(|((i, _), _)| *i);
        (self.patches, self.patch_names) = both.into_iter().unzip();
    }

    /// The instruction numbered `index`, which starts at slot `slot`: relocated if it is,
    /// decoded from the bytes otherwise.
    fn instruction(&self, index: u32, slot: usize) -> Result<Instruction> {
        if let Some(at) = self.patch_at(index) {
            return Ok(self.patches[at].1.clone());
        }
        self.decode_slot(slot)
    }

    /// Decodes the instruction starting at slot `slot`.
    fn decode_slot(&self, slot: usize) -> Result<Instruction> {
        let bytes = self.data.get(slot * SLOT_SIZE..).unwrap_or_default();
        Instruction::decode(bytes, self.order)
            .map(|(ins, _)| ins)
            .map_err(|source| Error::Instructions {
                section: self.name.to_owned(),
                source,
            })
    }
}

/// What an undefined symbol is, according to BTF.
#[derive(Debug, Clone)]
enum Extern {
    Kconfig { offset: u32, type_id: TypeId },
    Ksym { type_id: Option<TypeId> },
    Kfunc { type_id: TypeId },
}

/// The externs the object's BTF declares, by name.
#[derive(Debug, Default)]
pub(crate) struct Externs(BTreeMap<String, Extern>);

impl Externs {
    /// Reads `.kconfig` and `.ksyms` from BTF (after the datasec fixup).
    pub fn from_btf(btf: Option<&Spec>) -> Result<Externs> {
        let mut out = BTreeMap::new();
        let Some(btf) = btf else {
            return Ok(Externs(out));
        };
        let err = |section: &str| {
            let section = section.to_owned();
            move |source| Error::Btf { section, source }
        };
        for section in [KCONFIG_SECTION, KSYMS_SECTION] {
            let Some((id, _)) = crate::datasec::datasec_by_name(btf, section) else {
                continue;
            };
            for v in btf.datasec_entries(id).map_err(err(section))? {
                let e = match btf.type_by_id(v.type_id).map_err(err(section))? {
                    Type::Var(var) if section == KCONFIG_SECTION => (
                        var.name.to_owned(),
                        Extern::Kconfig {
                            offset: v.offset,
                            type_id: var.type_id,
                        },
                    ),
                    Type::Var(var) => {
                        let underlying = btf.skip_qualifiers(var.type_id).map_err(err(section))?;
                        let type_id = (underlying.0 != 0).then_some(var.type_id);
                        (var.name.to_owned(), Extern::Ksym { type_id })
                    }
                    Type::Func(f) => (f.name.to_owned(), Extern::Kfunc { type_id: v.type_id }),
                    _ => continue,
                };
                out.insert(e.0, e.1);
            }
        }
        // Extern functions outside the datasec are kfuncs too.
        // (A func's linkage is read from its header: most funcs are not decoded here.)
        for id in btf.ids_of_kind(Kind::Func) {
            if btf.func_linkage(id).ok() != Some(FuncLinkage::Extern) {
                continue;
            }
            if let Ok(Type::Func(f)) = btf.type_by_id(id) {
                if !out.contains_key(&f.name) {
                    out.insert(f.name.to_owned(), Extern::Kfunc { type_id: id });
                }
            }
        }
        Ok(Externs(out))
    }
}

/// The metadata of a relocated instruction that has nothing but its reference, one per name:
/// the instructions that refer to the same map, function or section share it (a reference
/// count), instead of each allocating its own metadata and a copy of the name.
///
/// Names are looked up by where they are stored (the ELF string table, a section's name,
/// ..., all of which outlive this map), which is the same each time a name is read from the
/// same place: the lookup hashes two words instead of a string. A name read from two places
/// gets two equal metadata.
///
/// The same goes for the record of an extern (a kfunc's or ksym's): the instructions that use
/// the same extern symbol share one.
#[derive(Debug, Default)]
pub(crate) struct References {
    names: HashMap<(usize, usize), Metadata, BuildHasherDefault<AddrHasher>>,
    /// By the extern symbol's name (where it is stored) and whether it is weak.
    externs: HashMap<(usize, usize, bool), Metadata, BuildHasherDefault<AddrHasher>>,
}

impl References {
    /// Makes `name` the reference of `ins`.
    fn set(&mut self, ins: &mut Instruction, name: &str) {
        if !ins.metadata.is_empty() {
            ins.metadata.set_reference(Some(name.into()));
            return;
        }
        let shared = self
            .names
            .entry((name.as_ptr() as usize, name.len()))
            .or_insert_with(|| {
                let mut m = Metadata::default();
                m.set_reference(Some(name.into()));
                m
            });
        ins.metadata = shared.clone();
    }

    /// Makes the extern `sym` the reference of `ins`, with the record `make` builds.
    fn set_extern<T: std::any::Any + Send + Sync>(
        &mut self,
        ins: &mut Instruction,
        sym: &Symbol<'_>,
        make: impl FnOnce() -> T,
    ) {
        let build = |m: &mut Metadata| {
            m.insert(make());
            m.set_reference(Some(sym.name.into()));
        };
        if !ins.metadata.is_empty() {
            build(&mut ins.metadata);
            return;
        }
        let weak = sym.bind == STB_WEAK;
        let shared = self
            .externs
            .entry((sym.name.as_ptr() as usize, sym.name.len(), weak))
            .or_insert_with(|| {
                let mut m = Metadata::default();
                build(&mut m);
                m
            });
        ins.metadata = shared.clone();
    }
}

/// Hashes the address and length of a name: a multiply per word.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Reads executable section `index`: checks that its bytes are whole instructions (every
/// `ld_imm64` with a well-formed second half) and finds where each starts, without decoding
/// them.
pub(crate) fn read_section<'e>(elf: &'e ElfFile<'_>, index: usize) -> Result<CodeSection<'e>> {
    let section = &elf.sections[index];
    if section.data.len() % SLOT_SIZE != 0 {
        return Err(Error::BadSection {
            section: section.name.to_owned(),
            reason: format!(
                "size {} is not a multiple of {SLOT_SIZE}",
                section.data.len()
            ),
        });
    }
    let data = section.data;
    // The source register of a slot's byte of registers.
    let src = |regs: u8| match elf.order {
        Endianness::Little => regs >> 4,
        Endianness::Big => regs & 0x0f,
    };
    const CALL: u8 = PseudoCall::Call.register().number();
    const FUNC: u8 = PseudoLoad::Func.register().number();
    // One look at each slot's opcode (its first byte in either byte order): an `ld_imm64`
    // takes two slots, whose second has no opcode, registers or offset (its first four
    // bytes are zero in either byte order too).
    // Room for one `ld_imm64` in eight slots, as compiled code has (it grows past that).
    let mut wide = Vec::with_capacity(data.len() / SLOT_SIZE / 8);
    let mut local = Vec::new();
    let mut bad = false;
    // Sections hold far fewer than `u32::MAX` slots (the file would be 32 GiB).
    let at = |slot: usize| u32::try_from(slot).unwrap_or(NO_INSN);
    let n_slots = data.len() / SLOT_SIZE;
    let mut slot = 0;
    while slot < n_slots {
        // Most instructions are neither: skipped by their first byte alone.
        let rest = data.get(slot * SLOT_SIZE..).unwrap_or_default();
        let Some(skip) = rest
            .iter()
            .step_by(SLOT_SIZE)
            .position(|&op| op == 0x85 || op == LOAD_IMM64)
        else {
            break;
        };
        slot += skip;
        let (op, regs) = (data[slot * SLOT_SIZE], data[slot * SLOT_SIZE + 1]);
        if op == 0x85 {
            if src(regs) == CALL {
                local.push(at(slot));
            }
            slot += 1;
            continue;
        }
        if src(regs) == FUNC {
            local.push(at(slot));
        }
        wide.push(at(slot));
        let second = data.get((slot + 1) * SLOT_SIZE..(slot + 1) * SLOT_SIZE + 4);
        if second != Some(&[0u8; 4][..]) {
            bad = true;
            break;
        }
        slot += 2;
    }
    if bad {
        // The decoder names what is wrong with the `ld_imm64`.
        if let Err(source) = Instructions::unmarshal(data, elf.order) {
            return Err(Error::Instructions {
                section: section.name.to_owned(),
                source,
            });
        }
    }
    Ok(CodeSection {
        index,
        name: section.name,
        data,
        order: elf.order,
        slots: Slots::new(at(data.len() / SLOT_SIZE), &wide),
        local,
        patches: Vec::new(),
        patch_names: Vec::new(),
        unsorted: None,
        calls: Vec::new(),
    })
}

/// The first byte of an `ld_imm64`.
const LOAD_IMM64: u8 = ebpf_asm::OpCode::LOAD_IMM64.0;

struct RelocCtx<'a, 'e, 'r> {
    elf: &'a ElfFile<'e>,
    externs: &'a Externs,
    arena: Option<&'a str>,
    section: &'a str,
    /// The relocation, read from the file for this loop turn only.
    reloc: &'r Reloc,
    sym: &'a Symbol<'e>,
}

impl<'a> RelocCtx<'a, '_, '_> {
    fn bad(&self, reason: impl Into<String>) -> Error {
        Error::BadRelocation {
            section: self.section.to_owned(),
            index: self.reloc.index,
            offset: self.reloc.offset,
            symbol: self.sym.name.to_owned(),
            reason: reason.into(),
        }
    }

    /// The function symbol starting at byte `offset` of section `index`.
    fn function_at(&self, index: usize, offset: i64) -> Result<&'a str> {
        let sym = u64::try_from(offset)
            .ok()
            .and_then(|off| self.elf.function_at(index, off));
        sym.and_then(|s| self.elf.function_name(index, s.value))
            .ok_or_else(|| self.bad(format!("no function at offset {offset}")))
    }
}

/// Applies the relocations of `code`'s section to its instructions; `arena` is the name of
/// the object's arena map, which arena globals refer to.
pub(crate) fn relocate_section<'e>(
    elf: &'e ElfFile<'_>,
    code: &mut CodeSection<'e>,
    externs: &'e Externs,
    arena: Option<&'e str>,
    refs: &mut References,
) -> Result<()> {
    // A patch per relocation at most: sized once, not grown by doubling.
    let count = elf.reloc_count(code.index);
    code.patches.reserve(count);
    code.patch_names.reserve(count);
    for reloc in elf.relocs_for(code.index) {
        match reloc.kind {
            R_BPF_NONE => continue,
            R_BPF_64_64 | R_BPF_64_32 => {}
            R_BPF_64_ABS64 | R_BPF_64_ABS32 | R_BPF_64_NODYLD32 => {
                let sym = elf
                    .symbols
                    .get(reloc.symbol)
                    .map_or_else(|| format!("#{}", reloc.symbol), |s| s.name.to_owned());
                return Err(Error::BadRelocation {
                    section: code.name.to_owned(),
                    index: reloc.index,
                    offset: reloc.offset,
                    symbol: sym,
                    reason: format!("data relocation type {} in code", reloc.kind),
                });
            }
            kind => {
                return Err(Error::UnknownRelocation {
                    section: code.name.to_owned(),
                    index: reloc.index,
                    offset: reloc.offset,
                    kind,
                });
            }
        }
        let Some(sym) = elf.symbols.get(reloc.symbol) else {
            return Err(Error::SymbolNotFound {
                section: code.name.to_owned(),
                index: reloc.index,
                symbol: format!("#{}", reloc.symbol),
            });
        };
        let ctx = RelocCtx {
            elf,
            externs,
            arena,
            section: code.name,
            reloc: &reloc,
            sym,
        };
        let Some(i) = code.index_at(reloc.offset) else {
            return Err(ctx.bad("offset is not at an instruction"));
        };
        // Instructions fit in `u32` indexes (see `read_section`).
        let i = u32::try_from(i).unwrap_or(NO_INSN);
        // `index_at` found an instruction at the offset: it is a whole slot.
        let mut ins = code.instruction(i, (reloc.offset / SLOT_SIZE as u64) as usize)?;
        let name = relocate_one(&ctx, &mut ins, refs)?;
        code.set_patch(i, ins, name);
    }
    if code.unsorted.is_some() {
        code.sort_patches();
    }
    Ok(())
}

/// Relocates `ins`; returns the name it now refers to.
fn relocate_one<'e>(
    ctx: &RelocCtx<'e, '_, '_>,
    ins: &mut Instruction,
    refs: &mut References,
) -> Result<&'e str> {
    let sym = ctx.sym;
    let (kind, bind) = (sym.kind, sym.bind);
    if sym.section == SHN_UNDEF {
        return relocate_extern(ctx, ins, refs);
    }
    let Some(target) = ctx.elf.section(sym.section) else {
        return Err(ctx.bad(format!("symbol in unsupported section {}", sym.section)));
    };
    let name: &'e str;
    if target.name == MAPS_SECTION || is_legacy_maps_section(target.name) {
        if !ins.is_load_imm64() {
            return Err(ctx.bad("map reference from an instruction that is not ld_imm64"));
        }
        name = match kind {
            STT_OBJECT | STT_NOTYPE if bind == STB_LOCAL => {
                return Err(Error::StaticMap {
                    section: target.name.to_owned(),
                    map: sym.name.to_owned(),
                });
            }
            // A weak map (`__weak`, as libbpf's usdt.bpf.h declares one) is a map like any.
            STT_OBJECT | STT_NOTYPE if bind == STB_GLOBAL || bind == STB_WEAK => sym.name,
            STT_SECTION => {
                let off = sym.value.wrapping_add(u64::from(ins.constant as u32));
                let map = ctx
                    .elf
                    .symbols_in(target.index)
                    .iter()
                    .find(|s| s.value == off && s.kind == STT_OBJECT);
                map.map(|m| m.name)
                    .ok_or_else(|| ctx.bad(format!("no map at offset {off}")))?
            }
            _ => {
                return Err(ctx.bad(format!(
                    "map reference: unsupported symbol type {kind} binding {bind}"
                )));
            }
        };
        ins.src = PseudoLoad::MapFd.register();
        ins.constant = 0;
    } else if data_kind(target).is_some() || is_arena_section(target) {
        if !ins.is_load_imm64() {
            return Err(ctx.bad("data reference from an instruction that is not ld_imm64"));
        }
        match (kind, bind) {
            (STT_SECTION, STB_LOCAL)
            | (STT_NOTYPE, STB_LOCAL)
            | (STT_OBJECT, STB_GLOBAL | STB_LOCAL | STB_WEAK) => {}
            _ => {
                return Err(ctx.bad(format!(
                    "data reference: unsupported symbol type {kind} binding {bind}"
                )));
            }
        }
        let offset = sym.value.wrapping_add(u64::from(ins.constant as u32));
        if offset > target.size {
            return Err(ctx.bad(format!("offset {offset} past the end of '{}'", target.name)));
        }
        ins.src = PseudoLoad::MapValue.register();
        ins.constant = ((offset as u32 as u64) << 32) as i64;
        name = if is_arena_section(target) {
            ctx.arena.ok_or_else(|| {
                ctx.bad("arena global, but the object declares no arena map (BPF_MAP_TYPE_ARENA)")
            })?
        } else {
            target.name
        };
    } else if target.is_program() {
        match (kind, bind) {
            (STT_SECTION, STB_LOCAL)
            | (STT_FUNC | STT_NOTYPE, STB_GLOBAL | STB_WEAK | STB_LOCAL) => {}
            _ => {
                return Err(ctx.bad(format!(
                    "function reference: unsupported symbol type {kind} binding {bind}"
                )));
            }
        }
        let value = i64::try_from(sym.value).map_err(|_| ctx.bad("symbol value too large"))?;
        if ins.pseudo_call() == Some(PseudoCall::Call) {
            let imm = i64::from(ins.constant as i32);
            name = ctx.function_at(target.index, value + (imm + 1) * SLOT_SIZE as i64)?;
            ins.constant = -1;
        } else if ins.is_load_imm64() {
            let imm = if kind == STT_SECTION {
                i64::from(ins.constant as i32)
            } else {
                0
            };
            name = ctx.function_at(target.index, value + imm)?;
            ins.src = PseudoLoad::Func.register();
            ins.constant = -1;
        } else {
            return Err(ctx.bad(
                "function reference from an instruction that is neither a call nor ld_imm64",
            ));
        }
    } else {
        return Err(ctx.bad(format!(
            "relocation to section '{}' is not supported",
            target.name
        )));
    }
    refs.set(ins, name);
    Ok(name)
}

/// Relocates `ins`, which refers to an extern; returns the name it now refers to.
fn relocate_extern<'e>(
    ctx: &RelocCtx<'e, '_, '_>,
    ins: &mut Instruction,
    refs: &mut References,
) -> Result<&'e str> {
    let sym = ctx.sym;
    if sym.bind != STB_GLOBAL && sym.bind != STB_WEAK {
        return Err(ctx.bad("extern is neither global nor weak"));
    }
    if sym.kind != STT_NOTYPE {
        return Err(ctx.bad(format!("extern has symbol type {}", sym.kind)));
    }
    let weak = sym.bind == STB_WEAK;
    let is_call = ins.op.raw() == 0x85;
    match ctx.externs.0.get(sym.name) {
        Some(Extern::Kfunc { type_id }) if is_call || ins.is_load_imm64() => {
            if is_call {
                ins.src = PseudoCall::Kfunc.register();
                ins.constant = -1;
            } else {
                ins.constant = 0;
            }
            refs.set_extern(ins, sym, || KfuncRef {
                name: sym.name.to_owned(),
                type_id: *type_id,
                weak,
            });
            return Ok(sym.name);
        }
        Some(Extern::Ksym { type_id }) if ins.is_load_imm64() => {
            refs.set_extern(ins, sym, || KsymRef {
                name: sym.name.to_owned(),
                type_id: *type_id,
                weak,
            });
            return Ok(sym.name);
        }
        Some(Extern::Kconfig { offset, type_id }) if ins.is_load_imm64() => {
            let off = offset.wrapping_add(ins.constant as u32);
            ins.src = PseudoLoad::MapValue.register();
            ins.constant = (u64::from(off) << 32) as i64;
            ins.metadata.insert(KconfigRef {
                name: sym.name.to_owned(),
                offset: *offset,
                type_id: *type_id,
                weak,
            });
            refs.set(ins, KCONFIG_SECTION);
            return Ok(KCONFIG_SECTION);
        }
        Some(_) => return Err(ctx.bad("extern used by an instruction that cannot refer to it")),
        None if is_call && ins.pseudo_call() == Some(PseudoCall::Call) => {
            // A call to a function declared but defined elsewhere: linking resolves it.
            ins.constant = -1;
        }
        None => {
            return Err(Error::BadExtern {
                name: sym.name.to_owned(),
                reason: format!(
                    "section '{}': relocation {}: not declared __kconfig or __ksym in btf",
                    ctx.section, ctx.reloc.index
                ),
            });
        }
    }
    refs.set(ins, sym.name);
    Ok(sym.name)
}

/// Names the targets of calls (and function address loads) inside one section, which clang
/// resolves itself and leaves without a relocation, and lists every call and function
/// address load of the section in [`CodeSection::calls`].
pub(crate) fn resolve_local_calls<'e>(
    elf: &'e ElfFile<'_>,
    code: &mut CodeSection<'e>,
    refs: &mut References,
) -> Result<()> {
    let index = code.index;
    // Relocated instructions are read as relocated.
    let mut calls: Vec<(u32, &'e str)> = code
        .patches
        .iter()
        .zip(&code.patch_names)
        .filter(|((_, ins), _)| {
            ins.pseudo_call() == Some(PseudoCall::Call)
                || ins.pseudo_load() == Some(PseudoLoad::Func)
        })
        .map(|((i, _), name)| (*i, *name))
        .collect();
    // The others that are calls, from their opcode and source register when read.
    let mut made = Vec::new();
    for &slot in &code.local {
        let Some(i) = code.slots.index_of_slot(u64::from(slot)) else {
            continue;
        };
        // Instructions fit in `u32` indexes (see `read_section`).
        let i = u32::try_from(i).unwrap_or(NO_INSN);
        if code.patch_at(i).is_some() {
            continue;
        }
        let slot = slot as usize;
        let mut ins = code.decode_slot(slot)?;
        let at = (slot * SLOT_SIZE) as u64;
        let target = i64::try_from(at)
            .ok()
            .map(|at| at + (i64::from(ins.constant as i32) + 1) * SLOT_SIZE as i64);
        let Some(name) = target
            .and_then(|t| u64::try_from(t).ok())
            .and_then(|t| elf.function_name(index, t))
        else {
            return Err(Error::BadSection {
                section: code.name.to_owned(),
                reason: format!(
                    "instruction at offset {at}: call target {} is not a function",
                    opt_i64(target)
                ),
            });
        };
        ins.constant = -1;
        refs.set(&mut ins, name);
        made.push((i, ins, name));
    }
    // Both kinds in index order.
    if !made.is_empty() {
        for (i, ins, name) in made {
            calls.push((i, name));
            code.patches.push((i, ins));
            code.patch_names.push(name);
        }
        calls.sort_unstable_by_key(|(i, _)| *i);
        code.sort_patches();
    }
    code.calls = calls;
    Ok(())
}

fn opt_i64(v: Option<i64>) -> String {
    v.map_or_else(|| "(overflow)".to_owned(), |v| v.to_string())
}
