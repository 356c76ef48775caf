//! Editing a parsed [`Spec`]: the fixups an object's BTF needs before it is loaded
//! (datasec sizes and offsets, linkage), each replacing one decoded type.

use std::sync::OnceLock;

use super::{CHUNK, Spec, new_chunk};
use crate::error::{Error, Result};
use crate::types::{Datasec, FuncLinkage, Type, TypeId, VarLinkage};

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
        let Type::Datasec(ds) = self.type_by_id(id)? else {
            return Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a datasec",
            });
        };
        let mut ds = ds.clone();
        ds.size = size;
        for v in &mut ds.vars {
            let vname = self.type_name(v.type_id)?;
            if let Some(off) = var_offset(v.type_id, vname) {
                v.offset = off;
            }
        }
        ds.vars.sort_by_key(|v| v.offset);
        self.replace_type(id, Type::Datasec(ds))
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
