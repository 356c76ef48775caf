//! Graph deduplication of a [`Builder`]'s types: types that are structurally equal,
//! following references through cycles, collapse into one.
//!
//! [`Builder::with_dedup`] only catches a type added twice with the same referenced ids.
//! Two copies of a self-referencing struct (`struct list { struct list *next; }`), as
//! merging the BTF of two objects produces, refer to *different* ids and need this
//! whole-graph pass: it computes the coarsest partition of the types in which two
//! types share a class only if they have the same kind, names and fields and their
//! references point to the same classes (Moore's partition refinement, as for
//! minimising an automaton), then keeps the first type of each class.
//!
//! Unlike libbpf's `btf__dedup`, a FWD is not merged into the struct it declares, and
//! types are not compared across a split builder's base (base ids are leaves).
//!
//! ```
//! use ebpf_btf::{Builder, Member, Pointer, Struct, Type, TypeId};
//! let mut b = Builder::new();
//! // Two copies of `struct list { struct list *next; }`: ids 1-2 and 3-4.
//! for first in [1, 3] {
//!     b.add(Type::Struct(Struct { name: "list".into(), size: 8, members: vec![
//!         Member { name: "next".into(), type_id: TypeId(first + 1), bit_offset: 0, bitfield_size: 0 },
//!     ]}));
//!     b.add(Type::Pointer(Pointer { target: TypeId(first) }));
//! }
//! let remap = b.dedup();
//! assert_eq!(b.len(), 2);
//! assert_eq!(remap.get(TypeId(3)), TypeId(1));
//! assert_eq!(remap.get(TypeId(4)), TypeId(2));
//! ```

use std::collections::HashMap;

use crate::marshal::Builder;
use crate::types::{Type, TypeId};

/// Where each id went after [`Builder::dedup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    first_id: u32,
    new_ids: Vec<TypeId>,
}

impl Remap {
    /// The id that `old` has now (ids below the builder's first id, such as void and a
    /// split builder's base types, are unchanged; so are ids past its last type).
    #[must_use]
    pub fn get(&self, old: TypeId) -> TypeId {
        old.0
            .checked_sub(self.first_id)
            .and_then(|i| self.new_ids.get(i as usize))
            .copied()
            .unwrap_or(old)
    }
}

/// A reference in a type's signature: a class of this builder's types, or an id
/// outside them (void, base types, or an id past the end), which is only equal to itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ref {
    Class(u32),
    Outside(u32),
}

impl Builder {
    /// Collapses structurally equal types (see the [module docs](crate::dedup)) into the
    /// first of each, renumbering the rest in order, and returns where every old id went
    /// so that ids held elsewhere (`.BTF.ext` records, map definitions) can follow.
    ///
    /// The string table keeps strings of removed types until the builder is rebuilt.
    pub fn dedup(&mut self) -> Remap {
        let first = self.first_id;
        let n = self.types.len();
        let local = |id: TypeId| id.0.checked_sub(first).filter(|&i| (i as usize) < n);

        // Initial classes: the type with every reference to a local type blanked.
        let mut class = vec![0u32; n];
        let mut shapes: HashMap<Type, u32> = HashMap::new();
        for (i, t) in self.types.iter().enumerate() {
            let mut shape = t.clone();
            shape.map_refs(|id| {
                if local(id).is_some() {
                    TypeId(u32::MAX)
                } else {
                    id
                }
            });
            let next = shapes.len() as u32;
            class[i] = *shapes.entry(shape).or_insert(next);
        }
        let mut count = shapes.len();
        drop(shapes);

        // Refine by the classes of the references until no class splits.
        let mut sig_ids: HashMap<(u32, Vec<Ref>), u32> = HashMap::new();
        let mut refs = Vec::new();
        loop {
            sig_ids.clear();
            let mut next = vec![0u32; n];
            for (i, t) in self.types.iter().enumerate() {
                refs.clear();
                t.for_each_ref(|id| {
                    refs.push(match local(id) {
                        Some(j) => Ref::Class(class[j as usize]),
                        None => Ref::Outside(id.0),
                    });
                });
                let fresh = sig_ids.len() as u32;
                next[i] = *sig_ids.entry((class[i], refs.clone())).or_insert(fresh);
            }
            class = next;
            // Classes only ever split, so an unchanged count means a stable partition.
            if sig_ids.len() == count {
                break;
            }
            count = sig_ids.len();
        }

        // Keep the first type of each class, in order, and point references at the kept ids.
        let mut kept_id: Vec<Option<TypeId>> = vec![None; count];
        let mut new_ids = Vec::with_capacity(n);
        let mut kept = Vec::with_capacity(count);
        for (i, t) in std::mem::take(&mut self.types).into_iter().enumerate() {
            let c = class[i] as usize;
            let id = *kept_id[c].get_or_insert_with(|| {
                kept.push(t);
                TypeId(first + kept.len() as u32 - 1)
            });
            new_ids.push(id);
        }
        let remap = Remap {
            first_id: first,
            new_ids,
        };
        for t in &mut kept {
            t.map_refs(|id| remap.get(id));
        }
        self.types = kept;
        if let Some(d) = &mut self.dedup {
            d.clear();
            for (i, t) in self.types.iter().enumerate() {
                d.insert(t.clone(), TypeId(first + i as u32));
            }
        }
        remap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Member, Pointer, Struct, test_int as int};

    fn list(name: &str, next: u32, val: u32) -> Type {
        let m = |n: &str, t: u32, off: u32| Member {
            name: n.into(),
            type_id: TypeId(t),
            bit_offset: off,
            bitfield_size: 0,
        };
        Type::Struct(Struct {
            name: name.into(),
            size: 16,
            members: vec![m("next", next, 0), m("val", val, 64)],
        })
    }

    #[test]
    fn cycles_merge_and_differences_survive() {
        let mut b = Builder::new();
        // [1] int, [2] list{next: [3], val: [1]}, [3] *[2]
        b.add(int("int"));
        b.add(list("list", 3, 1));
        b.add(Type::Pointer(Pointer { target: TypeId(2) }));
        // [4] int, [5] list{next: [6], val: [4]}, [6] *[5]: a copy of 1-3.
        b.add(int("int"));
        b.add(list("list", 6, 4));
        b.add(Type::Pointer(Pointer { target: TypeId(5) }));
        // [7] long, [8] list{next: [9], val: [7]}, [9] *[8]: same shape, other value type.
        b.add(int("long"));
        b.add(list("list", 9, 7));
        b.add(Type::Pointer(Pointer { target: TypeId(8) }));
        let r = b.dedup();
        assert_eq!(b.len(), 6);
        let got: Vec<u32> = (1..=9).map(|i| r.get(TypeId(i)).0).collect();
        assert_eq!(got, [1, 2, 3, 1, 2, 3, 4, 5, 6]);
        assert_eq!(b.types()[1], list("list", 3, 1));
        assert_eq!(b.types()[4], list("list", 6, 4));
        assert_eq!(b.types()[5], Type::Pointer(Pointer { target: TypeId(5) }));
        // Outside ids are unchanged; a second pass changes nothing.
        assert_eq!(r.get(TypeId(0)), TypeId(0));
        assert_eq!(r.get(TypeId(100)), TypeId(100));
        let again = b.dedup();
        assert_eq!(b.len(), 6);
        assert!((1..=6).all(|i| again.get(TypeId(i)) == TypeId(i)));
    }

    #[test]
    fn marshals_after_dedup() {
        let mut b = Builder::with_dedup();
        b.add(int("int"));
        b.add(list("a", 3, 1));
        b.add(Type::Pointer(Pointer { target: TypeId(2) }));
        b.add(list("a", 5, 1));
        b.add(Type::Pointer(Pointer { target: TypeId(4) }));
        b.dedup();
        assert_eq!(b.len(), 3);
        // The add-time index follows the new ids.
        assert_eq!(b.add(int("int")), TypeId(1));
        let spec = b.to_spec(None).unwrap();
        assert_eq!(spec.len(), 3);
    }
}
