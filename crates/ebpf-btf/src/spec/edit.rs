//! Editing a parsed [`Spec`]: the fixups an object's BTF needs before it is loaded
//! (datasec sizes and offsets, linkage), each replacing one decoded type; a datasec whose
//! record the spec owns is fixed up in its record instead, and stays undecoded.

use std::sync::OnceLock;

use super::records::{HEADER, SECINFO};
use super::{CHUNK, Data, Spec, new_chunk};
use crate::error::{Error, Result};
use crate::raw::Endian;
use crate::types::{Datasec, FuncLinkage, Type, TypeId, VarLinkage, VarSecinfo};

impl Spec {
    /// Replaces type `id` (which must belong to this spec, not its base). Its record
    /// is re-encoded when the spec is written out again ([`Spec::marshal`],
    /// [`RawEdit`](crate::RawEdit)); lookups by name still find it by the record's name.
    pub fn replace_type(&mut self, id: TypeId, t: Type) -> Result<()> {
        if id.0 < self.first_id {
            return Err(self.out_of_range(id));
        }
        let idx = (id.0 - self.first_id) as usize;
        let count = self.next_id().0;
        if idx >= self.offsets.len() {
            return Err(Error::TypeIdOutOfRange { id, count });
        }
        let chunk = self
            .cache
            .get_mut(idx / CHUNK)
            .ok_or(Error::TypeIdOutOfRange { id, count })?;
        if chunk.get().is_none() {
            *chunk = OnceLock::from(new_chunk(self.offsets.len(), idx));
        }
        let slot = chunk
            .get_mut()
            .and_then(|c| c.get_mut(idx % CHUNK))
            .ok_or(Error::TypeIdOutOfRange { id, count })?;
        let kind = t.kind() as u8;
        *slot = OnceLock::from(t);
        self.kinds[idx] = kind;
        let idx = idx as u32;
        if let Err(at) = self.replaced.binary_search(&idx) {
            self.replaced.insert(at, idx);
        }
        Ok(())
    }

    /// Fixes up a DATASEC from ELF data, as the loader must do for object files (clang
    /// emits size 0): sets the section `size`, each entry's offset from
    /// `var_offset(entry type id, entry name)` (unchanged where it returns `None`), and sorts
    /// the entries by offset. The type id tells apart entries of the same name (static
    /// variables of different source files in a linked object). Returns the datasec's id.
    pub fn fixup_datasec(
        &mut self,
        name: &str,
        size: u32,
        var_offset: impl FnMut(TypeId, &str) -> Option<u32>,
    ) -> Result<TypeId> {
        let (id, _) = self.type_by_name::<Datasec>(name)?;
        self.fixup_datasec_id(id, size, var_offset)?;
        Ok(id)
    }

    /// [`Spec::fixup_datasec`] of the DATASEC `id` (no lookup by name).
    pub fn fixup_datasec_id(
        &mut self,
        id: TypeId,
        size: u32,
        mut var_offset: impl FnMut(TypeId, &str) -> Option<u32>,
    ) -> Result<()> {
        let offsets = self
            .datasec_entries(id)?
            .map(|v| Ok(var_offset(v.type_id, self.type_name(v.type_id)?)))
            .collect::<Result<Vec<_>>>()?;
        self.set_datasec_layout(id, size, &offsets)
    }

    /// Sets the size of the DATASEC `id` and the offsets of its entries, by position:
    /// entry `i` gets `offsets[i]` unless that is `None` (or past the slice's end); then
    /// sorts the entries by offset. [`Spec::fixup_datasec_id`] without reading any entry's
    /// name, for a caller that knows the offsets by entry already.
    pub fn set_datasec_layout(
        &mut self,
        id: TypeId,
        size: u32,
        offsets: &[Option<u32>],
    ) -> Result<()> {
        let place = |vars: &mut Vec<VarSecinfo>| {
            for (v, off) in vars.iter_mut().zip(offsets) {
                if let Some(off) = off {
                    v.offset = *off;
                }
            }
            vars.sort_by_key(|v| v.offset);
        };
        if let (Some(off), Data::Owned(_)) = (self.own_datasec(id), &self.data) {
            let mut vars: Vec<VarSecinfo> = self.datasec_entries(id)?.collect();
            place(&mut vars);
            self.write_datasec(id, off, size, &vars);
            return Ok(());
        }
        let Type::Datasec(ds) = self.type_by_id(id)? else {
            return Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a datasec",
            });
        };
        let mut ds = ds.clone();
        ds.size = size;
        place(&mut ds.vars);
        self.replace_type(id, Type::Datasec(ds))
    }

    /// Writes `size` and `vars` (as many as the record has) into the owned record at `off`
    /// of own DATASEC `id`, and forgets a decoded copy of the old one.
    fn write_datasec(&mut self, id: TypeId, off: usize, size: u32, vars: &[VarSecinfo]) {
        let endian = self.endian();
        let Data::Owned(bytes) = &mut self.data else {
            return;
        };
        let mut put = |at: usize, v: u32| {
            let w = match endian {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            if let Some(dst) = bytes.get_mut(at..at + 4) {
                dst.copy_from_slice(&w);
            }
        };
        put(off + 8, size);
        for (i, v) in vars.iter().enumerate() {
            let at = off + HEADER + i * SECINFO;
            put(at, v.type_id.0);
            put(at + 4, v.offset);
            put(at + 8, v.size);
        }
        let idx = (id.0 - self.first_id) as usize;
        let decoded = self
            .cache
            .get_mut(idx / CHUNK)
            .and_then(OnceLock::get_mut)
            .and_then(|c| c.get_mut(idx % CHUNK));
        if let Some(slot) = decoded {
            slot.take();
        }
    }

    /// Sets the linkage of the FUNC `id` (a hidden global function is verified as a static
    /// one, as libbpf arranges).
    pub fn set_func_linkage(&mut self, id: TypeId, linkage: FuncLinkage) -> Result<()> {
        match self.type_by_id(id)? {
            Type::Func(f) => {
                let mut f = f.clone();
                f.linkage = linkage;
                self.replace_type(id, Type::Func(f))
            }
            _ => Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a func",
            }),
        }
    }

    /// Sets the linkage of the VAR `id` (from the ELF symbol's binding).
    pub fn set_var_linkage(&mut self, id: TypeId, linkage: VarLinkage) -> Result<()> {
        match self.type_by_id(id)? {
            Type::Var(v) => {
                let mut v = v.clone();
                v.linkage = linkage;
                self.replace_type(id, Type::Var(v))
            }
            _ => Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a var",
            }),
        }
    }
}
