//! [`Instructions`]: a program as a list of instructions, with raw offsets, label resolution,
//! marshalling to bytes and unmarshalling from bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use crate::instruction::RawSlot;
use crate::{
    Endianness, Error, Instruction, OpCode, PseudoCall, PseudoLoad, Register, Result, SLOT_SIZE,
};

/// A list of instructions. Dereferences to `Vec<Instruction>`.
///
/// A list read from an object file may be *deferred*: made from an
/// [`InstructionSource`] on first access (any dereference), not when the object is opened,
/// as libbpf keeps a program's instructions as raw bytes until load. Reading it needs
/// nothing more than `&self`; the list is made once, and is then what every access sees.
#[derive(Default)]
pub struct Instructions {
    /// The instructions: set when the list is made from a `Vec`, else on first access.
    list: OnceLock<Vec<Instruction>>,
    /// Where the instructions come from while `list` is not set. Dropped when the list is
    /// borrowed mutably; while it is kept, `list` is empty or what it made.
    source: Option<Arc<dyn InstructionSource>>,
}

/// What a deferred [`Instructions`] list is made from: an object file's program, read and
/// checked when the file was opened, decoded on first use.
///
/// [`instructions`](InstructionSource::instructions) must not fail (everything that can go
/// wrong is checked before the source is made) and must give an equal list each time it is
/// called.
pub trait InstructionSource: fmt::Debug + Send + Sync {
    /// Makes the instructions.
    fn instructions(&self) -> Vec<Instruction>;
}

impl Instructions {
    /// A list made from `source` on first access ([`InstructionSource`]).
    pub fn deferred(source: Arc<dyn InstructionSource>) -> Instructions {
        Instructions {
            list: OnceLock::new(),
            source: Some(source),
        }
    }

    /// Whether the list is made: not a deferred list, or one accessed already.
    pub fn is_decoded(&self) -> bool {
        self.source.is_none() || self.list.get().is_some()
    }

    /// The instructions as a `Vec`, made first if deferred.
    pub fn into_vec(mut self) -> Vec<Instruction> {
        std::mem::take(self.as_mut_vec())
    }

    /// The list, made now if deferred and not made yet.
    fn as_vec(&self) -> &Vec<Instruction> {
        self.list.get_or_init(|| {
            self.source
                .as_ref()
                .map_or_else(Vec::new, |s| s.instructions())
        })
    }

    /// The list, made now if deferred, and no longer tied to its source.
    fn as_mut_vec(&mut self) -> &mut Vec<Instruction> {
        if self.list.get().is_none() {
            let list = self
                .source
                .as_ref()
                .map_or_else(Vec::new, |s| s.instructions());
            self.list = OnceLock::from(list);
        }
        self.source = None;
        match self.list.get_mut() {
            Some(list) => list,
            None => unreachable!("the instruction list was set above"),
        }
    }
}

impl Deref for Instructions {
    type Target = Vec<Instruction>;

    fn deref(&self) -> &Vec<Instruction> {
        self.as_vec()
    }
}

impl DerefMut for Instructions {
    fn deref_mut(&mut self) -> &mut Vec<Instruction> {
        self.as_mut_vec()
    }
}

impl Clone for Instructions {
    /// A deferred list not made yet is cloned as its source (made on the clone's first
    /// access); a made one is copied.
    fn clone(&self) -> Instructions {
        Instructions {
            list: self.list.clone(),
            source: self.source.clone(),
        }
    }
}

impl PartialEq for Instructions {
    fn eq(&self, other: &Instructions) -> bool {
        self.as_vec() == other.as_vec()
    }
}

impl Eq for Instructions {}

impl std::hash::Hash for Instructions {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_vec().hash(state);
    }
}

impl fmt::Debug for Instructions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instructions").field(self.as_vec()).finish()
    }
}

impl From<Vec<Instruction>> for Instructions {
    fn from(v: Vec<Instruction>) -> Instructions {
        Instructions {
            list: OnceLock::from(v),
            source: None,
        }
    }
}

impl FromIterator<Instruction> for Instructions {
    fn from_iter<I: IntoIterator<Item = Instruction>>(iter: I) -> Instructions {
        Instructions::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl IntoIterator for Instructions {
    type Item = Instruction;
    type IntoIter = std::vec::IntoIter<Instruction>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl Drop for Instructions {
    /// Gives the instructions' handles to shared row tables back with one reference-count
    /// update per run of instructions sharing a table, not one per instruction.
    fn drop(&mut self) {
        if let Some(list) = self.list.get_mut() {
            crate::row_table::release(list.iter_mut().filter_map(|i| i.metadata.take_rows()));
        }
    }
}

impl<'a> IntoIterator for &'a Instructions {
    type Item = &'a Instruction;
    type IntoIter = std::slice::Iter<'a, Instruction>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_vec().iter()
    }
}

/// Iterates instructions with their raw offsets in 8-byte slots.
#[derive(Debug, Clone)]
pub struct OffsetIter<'a> {
    inner: std::slice::Iter<'a, Instruction>,
    offset: usize,
}

impl<'a> Iterator for OffsetIter<'a> {
    type Item = (usize, &'a Instruction);

    fn next(&mut self) -> Option<(usize, &'a Instruction)> {
        let ins = self.inner.next()?;
        let offset = self.offset;
        self.offset += ins.width();
        Some((offset, ins))
    }
}

impl Instructions {
    /// An empty list.
    pub const fn new() -> Instructions {
        Instructions {
            list: OnceLock::new(),
            source: None,
        }
    }

    /// Iterates `(raw offset in slots, instruction)`.
    pub fn iter_offsets(&self) -> OffsetIter<'_> {
        OffsetIter {
            inner: self.as_vec().iter(),
            offset: 0,
        }
    }

    /// The total size in 8-byte slots.
    pub fn slots(&self) -> usize {
        self.as_vec().iter().map(Instruction::width).sum()
    }

    /// The encoded size in bytes.
    pub fn byte_len(&self) -> usize {
        self.slots() * SLOT_SIZE
    }

    /// The index of the instruction at raw slot `offset`, if one starts there.
    pub fn index_of_offset(&self, offset: usize) -> Option<usize> {
        self.iter_offsets().position(|(o, _)| o == offset)
    }

    /// The symbols (function and label names) and the raw slot offset of each.
    pub fn symbol_offsets(&self) -> Result<BTreeMap<String, usize>> {
        let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (index, (offset, ins)) in self.iter_offsets().enumerate() {
            if let Some(sym) = ins.symbol() {
                if let Some(&(first, _)) = out.get(sym) {
                    return Err(Error::DuplicateSymbol {
                        symbol: sym.to_string(),
                        first,
                        second: index,
                    });
                }
                out.insert(sym.to_string(), (index, offset));
            }
        }
        Ok(out.into_iter().map(|(k, (_, o))| (k, o)).collect())
    }

    /// The names of the BPF functions referred to by calls and function address loads, in
    /// order of first use, without duplicates.
    pub fn function_references(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for ins in self.as_vec() {
            // `is_function_call() || is_function_reference()`, in two compares.
            let (op, src) = (ins.op.raw(), ins.src);
            let call = op == 0x85 && src == PseudoCall::Call.register();
            if call || (op == OpCode::LOAD_IMM64.0 && src == PseudoLoad::Func.register()) {
                if let Some(r) = ins.reference() {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        }
        out
    }

    /// Whether `ins` is resolved against symbols: jumps, BPF-to-BPF calls and function
    /// address loads that carry a reference. Map references are left to the loader.
    pub(crate) fn resolvable(ins: &Instruction) -> bool {
        ins.reference().is_some()
            && (ins.is_branch() || ins.is_function_call() || ins.is_function_reference())
    }

    /// The offset or constant that `ins` at `(index, offset)` gets once its reference is
    /// resolved against `symbols`; `Ok(None)` if it has nothing to resolve.
    fn resolved(
        ins: &Instruction,
        index: usize,
        offset: usize,
        symbols: &BTreeMap<String, usize>,
        strict: bool,
    ) -> Result<Option<Instruction>> {
        if !Instructions::resolvable(ins) {
            return Ok(None);
        }
        let reference = ins.reference().unwrap_or_default();
        let Some(&target) = symbols.get(reference) else {
            if strict {
                return Err(Error::UnresolvedReference {
                    index,
                    reference: reference.to_string(),
                });
            }
            return Ok(None);
        };
        let distance = target as i64 - offset as i64 - 1;
        let mut out = ins.clone();
        let range = |bits| Error::OffsetOutOfRange {
            index,
            reference: reference.to_string(),
            distance,
            bits,
        };
        if ins.reference_in_constant() {
            out.constant = i64::from(i32::try_from(distance).map_err(|_| range(32))?);
        } else {
            out.offset = i16::try_from(distance).map_err(|_| range(16))?;
        }
        Ok(Some(out))
    }

    /// Writes the distances of jumps and calls with references to symbols defined in this
    /// list; references to symbols not defined here are left alone.
    pub fn resolve_references(&mut self) -> Result<()> {
        let symbols = self.symbol_offsets()?;
        let mut offset = 0;
        for index in 0..self.len() {
            let ins = &self[index];
            let width = ins.width();
            if let Some(new) = Instructions::resolved(ins, index, offset, &symbols, false)? {
                self[index] = new;
            }
            offset += width;
        }
        Ok(())
    }

    /// Encodes every instruction, resolving references to symbols first (jumps, `gotol`,
    /// `may_goto`, BPF-to-BPF calls, function address loads). An unresolved reference or a
    /// distance that does not fit is an error.
    pub fn marshal(&self, order: Endianness) -> Result<Vec<u8>> {
        let symbols = self.symbol_offsets()?;
        let mut out = Vec::with_capacity(self.byte_len());
        for (index, (offset, ins)) in self.iter_offsets().enumerate() {
            match Instructions::resolved(ins, index, offset, &symbols, true)? {
                Some(new) => new.encode_at(order, &mut out, index)?,
                None => ins.encode_at(order, &mut out, index)?,
            }
        }
        Ok(out)
    }

    /// Decodes `bytes` (a whole number of instructions) in byte order `order`.
    ///
    /// Encodings that are not valid instructions are kept as they are (see
    /// [`Instruction::validate`]): judging a program is the verifier's business, and such
    /// instructions encode back to the same bytes.
    pub fn unmarshal(bytes: &[u8], order: Endianness) -> Result<Instructions> {
        let mut out = Vec::with_capacity(bytes.len() / SLOT_SIZE);
        Instructions::unmarshal_into(bytes, order, &mut out)?;
        Ok(Instructions::from(out))
    }

    /// Like [`unmarshal`](Instructions::unmarshal), appending the instructions to `out`
    /// (numbered from 0 in errors); on error, `out` holds those decoded before it.
    pub fn unmarshal_into(
        bytes: &[u8],
        order: Endianness,
        out: &mut Vec<Instruction>,
    ) -> Result<()> {
        // One loop per byte order, so that the order is not tested per instruction.
        match order {
            Endianness::Little => unmarshal_in::<false>(bytes, out),
            Endianness::Big => unmarshal_in::<true>(bytes, out),
        }
    }
}

/// [`Instructions::unmarshal`] for big endian (`BIG`) or little endian. The single-slot
/// instructions between two `ld_imm64`s are decoded in one run, each from one 8-byte read,
/// into room reserved once.
fn unmarshal_in<const BIG: bool>(bytes: &[u8], out: &mut Vec<Instruction>) -> Result<()> {
    let base = out.len();
    out.reserve(bytes.len() / SLOT_SIZE);
    let mut rest = bytes;
    loop {
        let slots = rest.chunks_exact(SLOT_SIZE);
        let run = slots
            .clone()
            .position(|s| s.first() == Some(&OpCode::LOAD_IMM64.0))
            .unwrap_or(slots.len());
        let (singles, tail) = rest.split_at(run * SLOT_SIZE);
        out.extend(singles.chunks_exact(SLOT_SIZE).map(|s| {
            let raw = RawSlot::read_in::<BIG>(s.try_into().unwrap_or(&[0; SLOT_SIZE]));
            Instruction::new(
                OpCode(raw.code),
                Register::from_bits(raw.dst),
                Register::from_bits(raw.src),
                raw.off,
                i64::from(raw.imm),
            )
        }));
        rest = tail;
        // An `ld_imm64`, or the end.
        let Some((slot, tail)) = rest.split_first_chunk::<SLOT_SIZE>() else {
            break;
        };
        let raw = RawSlot::read_in::<BIG>(slot);
        let (hi, tail) = second_half::<BIG>(bytes, tail, out.len() - base)?;
        rest = tail;
        out.push(Instruction::new(
            OpCode(raw.code),
            Register::from_bits(raw.dst),
            Register::from_bits(raw.src),
            raw.off,
            ((u64::from(hi as u32) << 32) | u64::from(raw.imm as u32)) as i64,
        ));
    }
    if !rest.is_empty() {
        return Err(Error::Truncated {
            index: out.len() - base,
            offset: (bytes.len() - rest.len()) / SLOT_SIZE,
            len: rest.len(),
            want: SLOT_SIZE,
        });
    }
    Ok(())
}

/// The immediate of the second half of the `ld_imm64` numbered `index` whose first half
/// `rest` follows in `bytes`, and what follows it.
#[inline(never)]
fn second_half<'a, const BIG: bool>(
    bytes: &[u8],
    rest: &'a [u8],
    index: usize,
) -> Result<(i32, &'a [u8])> {
    let offset = (bytes.len() - rest.len()) / SLOT_SIZE - 1;
    let Some((second, tail)) = rest.split_first_chunk::<SLOT_SIZE>() else {
        return Err(Error::Truncated {
            index,
            offset,
            len: SLOT_SIZE + rest.len(),
            want: 2 * SLOT_SIZE,
        });
    };
    let hi = RawSlot::read_in::<BIG>(second);
    if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
        return Err(Error::BadLoadImm64 {
            index,
            offset,
            raw: u64::from_be_bytes(*second),
        });
    }
    Ok((hi.imm, tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use Register::*;

    fn prog() -> Instructions {
        Instructions::from(vec![
            mov64(R0, 0).with_symbol("main"),
            JumpOp::Eq.imm(R1, 0, "out"),
            load_imm64(R2, 1),
            call_func("sub"),
            JumpOp::Ja.label("out"),
            exit().with_symbol("out"),
            mov64(R0, 1).with_symbol("sub"),
            exit(),
        ])
    }

    #[test]
    fn offsets_and_symbols() {
        let p = prog();
        let offs: Vec<usize> = p.iter_offsets().map(|(o, _)| o).collect();
        assert_eq!(offs, vec![0, 1, 2, 4, 5, 6, 7, 8]);
        let syms = p.symbol_offsets().unwrap_or_default();
        assert_eq!(syms.get("out"), Some(&6));
        assert_eq!(syms.get("sub"), Some(&7));
        assert_eq!(p.function_references(), vec!["sub"]);
        assert_eq!(p.slots(), 9);
        assert_eq!(p.index_of_offset(4), Some(3));
        assert_eq!(p.index_of_offset(3), None);
    }

    #[test]
    fn marshal_resolves() {
        let p = prog();
        for order in [Endianness::Little, Endianness::Big] {
            let bytes = p.marshal(order).unwrap_or_default();
            assert_eq!(bytes.len(), 72);
            let back = Instructions::unmarshal(&bytes, order).unwrap_or_default();
            assert_eq!(back[1].offset, 4);
            assert_eq!(back[3].constant, 2);
            assert_eq!(back[4].offset, 0);
        }
        let mut q = p.clone();
        q.resolve_references().unwrap_or_default();
        assert_eq!(q[1].offset, 4);
        assert_eq!(
            q,
            Instructions::unmarshal(
                &p.marshal(Endianness::Big).unwrap_or_default(),
                Endianness::Big
            )
            .unwrap_or_default()
        );
    }

    #[test]
    fn errors() {
        let p = Instructions::from(vec![JumpOp::Ja.label("nowhere"), exit()]);
        assert!(matches!(
            p.marshal(Endianness::Little),
            Err(Error::UnresolvedReference { index: 0, .. })
        ));
        let p = Instructions::from(vec![exit().with_symbol("a"), exit().with_symbol("a")]);
        assert!(matches!(
            p.marshal(Endianness::Little),
            Err(Error::DuplicateSymbol {
                first: 0,
                second: 1,
                ..
            })
        ));
        let mut v = vec![JumpOp::Ja.label("far")];
        v.extend(std::iter::repeat_n(mov64(R0, 0), 40000));
        v.push(exit().with_symbol("far"));
        assert!(matches!(
            Instructions::from(v.clone()).marshal(Endianness::Little),
            Err(Error::OffsetOutOfRange { bits: 16, .. })
        ));
        v[0] = gotol("far");
        assert!(Instructions::from(v).marshal(Endianness::Little).is_ok());
        let bad = [0x95u8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0];
        let kept = Instructions::unmarshal(&bad, Endianness::Little).unwrap_or_default();
        assert_eq!(kept.len(), 2);
        assert!(kept[1].validate().is_err());
        assert_eq!(kept.marshal(Endianness::Little).ok(), Some(bad.to_vec()));
        assert!(matches!(
            Instructions::unmarshal(&bad[..12], Endianness::Little),
            Err(Error::Truncated {
                index: 1,
                len: 4,
                ..
            })
        ));
    }

    /// Counts how often it is asked for its instructions.
    #[derive(Debug, Default)]
    struct Counted(std::sync::atomic::AtomicUsize);

    impl InstructionSource for Counted {
        fn instructions(&self) -> Vec<Instruction> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            prog().into_vec()
        }
    }

    fn asked(source: &Counted) -> usize {
        source.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn a_deferred_list_is_made_once_on_first_access() {
        let source = Arc::new(Counted::default());
        let list = Instructions::deferred(source.clone());
        assert!(!list.is_decoded());
        assert_eq!(asked(&source), 0);
        // A clone before first access shares the source; each is made once.
        let early = list.clone();
        assert_eq!(list.len(), prog().len());
        assert_eq!(list[0].symbol(), Some("main"));
        assert!(list.is_decoded() && !early.is_decoded());
        assert_eq!(asked(&source), 1);
        // A clone after first access copies the list.
        let late = list.clone();
        assert!(late.is_decoded());
        assert_eq!(list, early);
        assert_eq!(list, late);
        assert_eq!(asked(&source), 2);
        assert_eq!(format!("{list:?}"), format!("{:?}", prog()));
        // Made from several threads at once: once, the same list for all.
        let shared = Instructions::deferred(source.clone());
        std::thread::scope(|s| {
            let lens: Vec<_> = (0..4).map(|_| s.spawn(|| shared.len())).collect();
            for l in lens {
                assert_eq!(l.join().ok(), Some(prog().len()));
            }
        });
        assert_eq!(asked(&source), 3);
    }

    #[test]
    fn an_edited_deferred_list_is_its_own() {
        let source = Arc::new(Counted::default());
        let mut list = Instructions::deferred(source.clone());
        list.push(exit());
        assert_eq!(asked(&source), 1);
        assert_eq!(list.len(), prog().len() + 1);
        let copy = list.clone();
        assert_eq!(copy, list);
        assert_eq!(asked(&source), 1);
        assert_eq!(list.into_vec().len(), prog().len() + 1);
        let vec: Vec<_> = Instructions::deferred(source.clone()).into_iter().collect();
        assert_eq!(vec, prog().into_vec());
        assert_eq!(asked(&source), 2);
        // Dropped without an access: never made.
        drop(Instructions::deferred(source.clone()));
        assert_eq!(asked(&source), 2);
    }
}
