//! CO-RE (Compile Once, Run Everywhere): relocating instructions compiled against local
//! BTF to the layouts of a target kernel's BTF, with libbpf's semantics.
//!
//! - [`Relocator`] computes one [`Fixup`] per [`CoreRelo`] (all 13 kinds) and applies
//!   it to an [`ebpf_asm::Instruction`]; [`relocate`] does both for a slice.
//! - Candidates are searched by essential name in the first target (vmlinux) and only
//!   then in the others (module BTF); every candidate is evaluated and disagreeing
//!   candidates are an [ambiguity error](CoreErrorKind::Ambiguous). Candidate lists are
//!   cached per local type and pruned to the matching candidates, like libbpf.
//! - Unsatisfiable relocations poison their instruction ([`poison`]) and relocation
//!   goes on; [`diagnose`] turns the verifier's complaint back into the relocation.
//!
//! ```
//! use ebpf_btf::core::parse_accessor;
//! assert_eq!(parse_accessor("0:1").unwrap(), vec![0, 1]);
//! ```
//!
//! # Differences from libbpf
//!
//! - A poisoned `ld_imm64` stays one two-slot instruction, `r10 = 0xbad2310 ll`, which the
//!   verifier rejects ("frame pointer is read only") if reachable; libbpf writes two
//!   `call 0xbad2310` slots, which this instruction model cannot express without changing
//!   the instruction count.
//! - A `target type id` resolved to a type of a module's BTF (a target after the first) is
//!   poisoned (the id cannot be encoded without the module's BTF fd); libbpf patches the
//!   module-relative id in.
//! - The bitfield shift uses the byte order of the local BTF (the program's), not the host's.
//! - Accessor components must be non-negative decimal numbers (libbpf's `sscanf("%d")`
//!   also takes signs and whitespace).

mod accessor;
mod candidates;
mod compat;
mod error;
mod field;
mod patch;
mod poison;

use std::collections::HashMap;

use ebpf_asm::Instruction;

pub use accessor::{Accessor, CoreSpec, MAX_ACCESSOR_LEN, kind_str, parse_accessor, parse_spec};
pub use candidates::{Candidate, find_candidates};
pub use compat::{fields_are_compat, types_are_compat, types_match};
pub use error::{AccessorError, CoreError, CoreErrorKind, kind_description};
pub use field::spec_match;
pub use patch::Patch;
pub use poison::{Diagnosis, POISON_HELPER_ID, diagnose, poison, poisoned_insn_in_log};

use crate::ext_info::{CoreRelo, CoreReloKind};
use crate::raw::Endian;
use crate::spec::Spec;
use crate::types::{IntEncoding, Type, TypeId};
use accessor::{enum_value, is_enumval_based, is_field_based, type_desc};

/// The matched target of a [`Fixup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixupTarget {
    /// Index of the target spec (0: vmlinux or the only target).
    pub target: usize,
    /// The candidate type.
    pub type_id: TypeId,
    /// Its position in the (cached, pruned) candidate list, as libbpf numbers candidates.
    pub candidate: usize,
    /// The target side spelled like libbpf: `[1] struct core_s.a (0:3 @ offset 14)`.
    pub spec: String,
}

/// The computed result of one CO-RE relocation, before or after it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixup {
    /// The relocation's number (see [`Relocator::relocate_at`]).
    pub relocation: usize,
    /// Byte offset of the relocated instruction (as in the [`CoreRelo`]).
    pub insn_off: u32,
    /// The kind.
    pub kind: CoreReloKind,
    /// The local root type.
    pub local_type: TypeId,
    /// The local side as a C-like path: `struct core_s.arr[3]`, `enum e::A`, `struct s`.
    pub local: String,
    /// The local side spelled like libbpf's debug log: `[5] struct core_s.arr[3] (0:5:3 @ offset 32)`.
    pub local_spec: String,
    /// The first matching candidate, if any matched.
    pub target: Option<FixupTarget>,
    /// The value the instruction holds (computed from the local type).
    pub local_value: u64,
    /// The value it gets.
    pub target_value: u64,
    /// Memory size of the local field for byte-offset relocations (0 if not applicable).
    pub local_size: u32,
    /// Memory size of the target field for byte-offset relocations (0 if not applicable).
    pub target_size: u32,
    /// Whether [`Fixup::apply`] checks that the instruction holds `local_value`.
    pub validate: bool,
    /// Loads/stores of this field must not change size (signed ints, structs, ...):
    /// applying to a load/store poisons it.
    pub size_change_forbidden: bool,
    /// The relocation could not be satisfied: the instruction is poisoned.
    pub poisoned: bool,
}

impl std::fmt::Display for Fixup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "relo #{} insn #{} <{}> {}",
            self.relocation,
            self.insn_off / 8,
            self.kind.name(),
            self.local_spec
        )?;
        match &self.target {
            Some(t) => write!(f, " => {}", t.spec)?,
            None => write!(f, " => no target")?,
        }
        if self.poisoned {
            write!(f, ": poison")
        } else {
            write!(f, ": {} -> {}", self.local_value, self.target_value)?;
            if self.local_size != self.target_size {
                write!(
                    f,
                    " (size {} -> {}{})",
                    self.local_size,
                    self.target_size,
                    if self.size_change_forbidden {
                        ", forbidden"
                    } else {
                        ""
                    }
                )?;
            }
            if !self.validate {
                write!(f, " (unchecked)")?;
            }
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Res {
    orig_val: u64,
    new_val: u64,
    poison: bool,
    validate: bool,
    fail_memsz_adjust: bool,
    orig_sz: u32,
    new_sz: u32,
}

/// Relocates `insns` (whose first instruction is at byte offset 0 of the relocations'
/// `insn_off`) against `targets` (vmlinux first, then module BTF; or a single target).
/// Fixups are numbered by their position in `relos`.
///
/// # Errors
/// The first relocation that cannot be computed or applied (unsatisfiable relocations
/// are not errors: they poison their instruction).
pub fn relocate(
    insns: &mut [Instruction],
    relos: &[CoreRelo],
    local: &Spec,
    targets: &[&Spec],
) -> Result<Vec<Fixup>, CoreError> {
    Relocator::new(local, targets).relocate(insns, relos)
}

/// Computes and applies CO-RE relocations for one object, caching candidate lists per
/// local type across calls (as libbpf does per object).
#[derive(Debug)]
pub struct Relocator<'a> {
    local: &'a Spec,
    targets: &'a [&'a Spec],
    cache: HashMap<TypeId, Vec<Candidate>>,
    endian: Endian,
}

impl<'a> Relocator<'a> {
    /// A relocator for the object whose BTF is `local` against `targets`.
    #[must_use]
    pub fn new(local: &'a Spec, targets: &'a [&'a Spec]) -> Self {
        Self {
            local,
            targets,
            cache: HashMap::new(),
            endian: local.endian(),
        }
    }

    /// Uses `endian` for the bitfield shift computations (default: the local BTF's byte order).
    #[must_use]
    pub fn with_endian(mut self, endian: Endian) -> Self {
        self.endian = endian;
        self
    }

    /// [`Relocator::relocate_at`] numbering from 0.
    pub fn relocate(
        &mut self,
        insns: &mut [Instruction],
        relos: &[CoreRelo],
    ) -> Result<Vec<Fixup>, CoreError> {
        self.relocate_at(0, insns, relos)
    }

    /// Computes every relocation of `relos` and applies it to the instruction of `insns`
    /// at its `insn_off` (bytes from the start of `insns`). The fixups are numbered from
    /// `first` (libbpf numbers relocations per ELF section: pass the index of `relos[0]`
    /// in its section).
    pub fn relocate_at(
        &mut self,
        first: usize,
        insns: &mut [Instruction],
        relos: &[CoreRelo],
    ) -> Result<Vec<Fixup>, CoreError> {
        let mut slots = Vec::with_capacity(insns.len());
        let mut off = 0usize;
        for ins in insns.iter() {
            slots.push(off);
            off += ins.width();
        }
        let mut out = Vec::with_capacity(relos.len());
        for (i, relo) in relos.iter().enumerate() {
            let fixup = self.calculate(first + i, relo)?;
            let slot = relo.insn_off as usize / 8;
            let idx = if relo.insn_off % 8 == 0 {
                slots.binary_search(&slot).ok()
            } else {
                None
            };
            let Some(idx) = idx else {
                return Err(fixup.error(CoreErrorKind::NoInstruction {
                    offset: relo.insn_off,
                }));
            };
            fixup.apply(&mut insns[idx])?;
            out.push(fixup);
        }
        Ok(out)
    }

    /// Computes every relocation and applies it to the instruction it names
    /// by index: `(index into insns, relocation)` pairs, numbered from 0 in
    /// order. Each relocation's `insn_off` is kept in its fixup (to match
    /// verifier messages), but not used to find the instruction.
    pub fn relocate_indexed(
        &mut self,
        insns: &mut [Instruction],
        relos: &[(usize, CoreRelo)],
    ) -> Result<Vec<Fixup>, CoreError> {
        let mut out = Vec::with_capacity(relos.len());
        for (i, (idx, relo)) in relos.iter().enumerate() {
            let fixup = self.calculate(i, relo)?;
            let Some(ins) = insns.get_mut(*idx) else {
                return Err(fixup.error(CoreErrorKind::NoInstruction {
                    offset: relo.insn_off,
                }));
            };
            fixup.apply(ins)?;
            out.push(fixup);
        }
        Ok(out)
    }

    /// Computes relocation number `index` (used in messages) without applying it.
    pub fn calculate(&mut self, index: usize, relo: &CoreRelo) -> Result<Fixup, CoreError> {
        let err = |local: String, source: CoreErrorKind| CoreError {
            relocation: index,
            kind: relo.kind,
            local,
            insn: relo.insn_off as usize / 8,
            source,
        };
        let local_spec =
            parse_spec(self.local, relo.type_id, &relo.access, relo.kind).map_err(|e| {
                err(
                    format!("{} + {}", type_desc(self.local, relo.type_id), relo.access),
                    e,
                )
            })?;
        let mut fixup = Fixup {
            relocation: index,
            insn_off: relo.insn_off,
            kind: relo.kind,
            local_type: relo.type_id,
            local: local_spec.path(),
            local_spec: local_spec.describe(),
            target: None,
            local_value: 0,
            target_value: 0,
            local_size: 0,
            target_size: 0,
            validate: true,
            size_change_forbidden: false,
            poisoned: false,
        };
        match self.resolve(&local_spec, relo.kind) {
            Ok((res, target)) => {
                fixup.local_value = res.orig_val;
                fixup.target_value = res.new_val;
                fixup.local_size = res.orig_sz;
                fixup.target_size = res.new_sz;
                fixup.validate = res.validate;
                fixup.size_change_forbidden = res.fail_memsz_adjust;
                fixup.poisoned = res.poison;
                fixup.target = target;
                Ok(fixup)
            }
            Err(e) => Err(err(fixup.local, e)),
        }
    }

    fn resolve(
        &mut self,
        local: &CoreSpec<'_>,
        kind: CoreReloKind,
    ) -> Result<(Res, Option<FixupTarget>), CoreErrorKind> {
        if kind == CoreReloKind::TypeIdLocal {
            let id = u64::from(local.root.0);
            return Ok((
                Res {
                    orig_val: id,
                    new_val: id,
                    validate: false,
                    ..Res::default()
                },
                None,
            ));
        }
        let root = local.root;
        let mut cands = match self.cache.remove(&root) {
            Some(c) => c,
            None => find_candidates(self.local, root, self.targets)?,
        };
        let result = self.resolve_with(local, &mut cands);
        self.cache.insert(root, cands);
        result
    }

    fn resolve_with(
        &self,
        local: &CoreSpec<'_>,
        cands: &mut Vec<Candidate>,
    ) -> Result<(Res, Option<FixupTarget>), CoreErrorKind> {
        let mut best: Option<(Res, CoreSpec<'a>, Candidate, usize)> = None;
        let mut kept = 0;
        for i in 0..cands.len() {
            let cand = cands[i];
            let targ: &'a Spec = self.targets[cand.target];
            let Some(cs) = spec_match(local, targ, cand.id)? else {
                continue;
            };
            let res = self.calc(local, Some(&cs), Some(cand))?;
            if let Some((bres, bspec, _, _)) = &best {
                let detail = if cs.bit_offset != bspec.bit_offset {
                    Some(format!(
                        "field offset ambiguity: bit offset {} != {}",
                        cs.bit_offset, bspec.bit_offset
                    ))
                } else if res.poison != bres.poison || res.new_val != bres.new_val {
                    let show = |r: &Res| {
                        if r.poison {
                            "failure".to_string()
                        } else {
                            format!("success {}", r.new_val)
                        }
                    };
                    Some(format!(
                        "relocation decision ambiguity: {} != {}",
                        show(&res),
                        show(bres)
                    ))
                } else {
                    None
                };
                if let Some(detail) = detail {
                    return Err(CoreErrorKind::Ambiguous {
                        detail,
                        candidates: vec![bspec.describe(), cs.describe()],
                    });
                }
            } else {
                best = Some((res, cs, cand, i));
            }
            cands[kept] = cand;
            kept += 1;
        }
        match best {
            Some((res, spec, cand, pos)) => {
                cands.truncate(kept);
                Ok((
                    res,
                    Some(FixupTarget {
                        target: cand.target,
                        type_id: cand.id,
                        candidate: pos,
                        spec: spec.describe(),
                    }),
                ))
            }
            None => Ok((self.calc(local, None, None)?, None)),
        }
    }

    /// libbpf's `bpf_core_calc_relo`.
    fn calc(
        &self,
        local: &CoreSpec<'_>,
        targ: Option<&CoreSpec<'_>>,
        cand: Option<Candidate>,
    ) -> Result<Res, CoreErrorKind> {
        let kind = local.kind;
        let mut res = Res {
            validate: true,
            ..Res::default()
        };
        if is_field_based(kind) {
            let Some(l) = field::calc_field(Some(local), kind, self.endian)? else {
                res.poison = true;
                return Ok(res);
            };
            res.orig_val = l.val;
            res.orig_sz = l.field_sz;
            res.validate = l.validate;
            let Some(t) = field::calc_field(targ, kind, self.endian)? else {
                res.poison = true;
                return Ok(res);
            };
            res.new_val = t.val;
            res.new_sz = t.field_sz;
            if res.orig_sz != res.new_sz {
                let (Some(targ), lt) = (targ, self.local.type_by_id(l.type_id)?) else {
                    return Ok(res);
                };
                let tt = targ.btf.type_by_id(t.type_id)?;
                let ok = match (lt, tt) {
                    (Type::Pointer(_), Type::Pointer(_)) => true,
                    (Type::Int(a), Type::Int(b)) => {
                        a.encoding != IntEncoding::Signed && b.encoding != IntEncoding::Signed
                    }
                    _ => false,
                };
                res.fail_memsz_adjust = !ok;
            }
        } else if is_enumval_based(kind) {
            let value = |s: &CoreSpec<'_>| -> Result<u64, CoreErrorKind> {
                let a = s
                    .accessors
                    .first()
                    .ok_or_else(|| CoreErrorKind::Size("empty enum spec".into()))?;
                enum_value(s.btf.type_by_id(a.type_id)?, a.idx as usize).ok_or_else(|| {
                    CoreErrorKind::Size(format!("no enumerator {} in type {}", a.idx, a.type_id))
                })
            };
            match kind {
                CoreReloKind::EnumvalExists => {
                    res.orig_val = 1;
                    res.new_val = u64::from(targ.is_some());
                }
                _ => {
                    res.orig_val = value(local)?;
                    match targ {
                        Some(t) => res.new_val = value(t)?,
                        None => res.poison = true,
                    }
                }
            }
        } else {
            let type_val = |s: &CoreSpec<'_>| -> Result<u64, CoreErrorKind> {
                Ok(match kind {
                    CoreReloKind::TypeIdTarget => u64::from(s.root.0),
                    CoreReloKind::TypeSize => u64::from(s.btf.sizeof(s.root)?),
                    _ => 1,
                })
            };
            res.orig_val = type_val(local)?;
            if kind == CoreReloKind::TypeIdTarget {
                // The id in the instruction may change during linking: not enforced.
                res.validate = false;
            }
            if let Some(t) = targ {
                res.new_val = type_val(t)?;
                if kind == CoreReloKind::TypeIdTarget && cand.is_some_and(|c| c.target > 0) {
                    // A module's type id means nothing without the module's BTF fd.
                    res.poison = true;
                }
            }
        }
        Ok(res)
    }
}

impl Fixup {
    pub(crate) fn error(&self, source: CoreErrorKind) -> CoreError {
        CoreError {
            relocation: self.relocation,
            kind: self.kind,
            local: self.local.clone(),
            insn: self.insn_off as usize / 8,
            source,
        }
    }
}
