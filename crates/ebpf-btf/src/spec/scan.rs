//! Lookups by name before the name index exists.
//!
//! Building the index hashes every name of the spec: for vmlinux (tens of thousands of
//! names) that costs more than parsing. A program that looks up one or two names
//! (`task_struct`, a datasec, a kfunc) would pay it for nothing, so the first
//! [`SCANS_BEFORE_INDEX`] lookups of a spec scan instead, and the index is built when
//! lookups keep coming: the scans then cost at most a few times the index itself, and a
//! caller that knows it will look many names up builds the index at once
//! ([`Spec::index_names`], which CO-RE does).
//!
//! A scan searches the string table for `name\0` (a SIMD substring search), which finds
//! every offset that reads as `name`, and then compares each type's name offset with
//! those. A miss ends after the string search.

use std::sync::atomic::Ordering;

use super::Spec;
use crate::raw::{Endian, info_kind};
use crate::types::TypeId;
use crate::unmarshal::indexed_kind;

/// Lookups by name served by scanning before a spec builds its name index.
pub(super) const SCANS_BEFORE_INDEX: u32 = 4;

/// The offsets at which the string table reads as one name, sorted, behind a bit filter
/// of their low bits (64 filter bits per offset, at least 256) so that nearly every other
/// offset is rejected by one bit test in a table that stays in the L1 cache.
struct Places {
    offsets: Vec<u32>,
    filter: Vec<u64>,
}

impl Places {
    /// Every offset, counted from `str_base`, at which `strs` holds `name` followed by
    /// its NUL: where the name is a whole string, or the tail of a longer one.
    fn find(strs: &[u8], str_base: u32, name: &[u8]) -> Self {
        let mut needle = Vec::with_capacity(name.len() + 1);
        needle.extend_from_slice(name);
        needle.push(0);
        // The string table is shorter than 2^32 bytes (its header length is a u32).
        let offsets: Vec<u32> = memchr::memmem::find_iter(strs, &needle)
            .map(|at| str_base.wrapping_add(at as u32))
            .collect();
        let words = (offsets.len() * 64).next_power_of_two().max(256) / 64;
        let mut filter = vec![0u64; words];
        for &off in &offsets {
            let bit = off as usize & (words * 64 - 1);
            filter[bit / 64] |= 1 << (bit % 64);
        }
        Self { offsets, filter }
    }

    fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    #[inline(always)]
    fn holds(&self, off: u32) -> bool {
        let bit = off as usize & (self.filter.len() * 64 - 1);
        self.filter
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
            && self.offsets.binary_search(&off).is_ok()
    }
}

impl Spec {
    /// Whether this lookup should scan rather than build the index: the index is not
    /// built yet, fewer than [`SCANS_BEFORE_INDEX`] lookups scanned before, and the spec
    /// has no base (a split spec's own types may take their names from the base's
    /// strings; split specs are small, and their index cheap).
    pub(super) fn should_scan(&self) -> bool {
        self.names.get().is_none()
            && self.base.is_none()
            && self.scans.fetch_add(1, Ordering::Relaxed) < SCANS_BEFORE_INDEX
    }

    /// Appends the ids of the own types named exactly `name` (not empty), ascending, by
    /// scanning.
    pub(super) fn scan_by_name(&self, name: &[u8], out: &mut Vec<TypeId>) {
        let Some(strs) = self.data.bytes().get(self.layout.strs.clone()) else {
            return;
        };
        let places = Places::find(strs, self.str_base, name);
        if places.is_empty() {
            return;
        }
        match self.endian() {
            Endian::Little => self.push_named(&places, u32::from_le_bytes, out),
            Endian::Big => self.push_named(&places, u32::from_be_bytes, out),
        }
    }

    /// Appends the ids of the own types whose name offset is one of `places`; `read`
    /// decodes a `u32` in the spec's byte order (a parameter so that each order gets its
    /// own loop).
    #[inline(always)]
    fn push_named(&self, places: &Places, read: impl Fn([u8; 4]) -> u32, out: &mut Vec<TypeId>) {
        let bytes = self.data.bytes();
        for (idx, &rec) in self.offsets.iter().enumerate() {
            // Every record starts with its name offset and info word: the header pass
            // checked that the record lies inside the type section.
            let rec = rec as usize;
            let Some(&[a, b, c, d, e, f, g, h]) = bytes.get(rec..rec + 8) else {
                continue;
            };
            // Tags are not found by name (their "names" are values), as in the index.
            if places.holds(read([a, b, c, d])) && indexed_kind(info_kind(read([e, f, g, h]))) {
                out.push(TypeId(self.first_id + idx as u32));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marshal::{Builder, MarshalOptions};
    use crate::types::{DeclTag, Int, IntEncoding, Type};

    /// What the index finds for `name` (the index built first).
    fn indexed(spec: &Spec, name: &str) -> Vec<TypeId> {
        spec.index_names();
        spec.types_by_name(name)
    }

    /// Every name of `names` (and misses) found by a scan exactly as by the index.
    fn scan_agrees(spec: &Spec, names: &[String]) {
        for name in names
            .iter()
            .map(String::as_str)
            .chain(["ebpf_rs_miss", "x", "nt"])
        {
            let mut scanned = Vec::new();
            spec.scan_by_name(name.as_bytes(), &mut scanned);
            assert_eq!(scanned, indexed(spec, name), "{name:?}");
        }
    }

    #[test]
    fn scan_finds_what_the_index_finds() {
        let mut b = Builder::new();
        let mut names = Vec::new();
        for i in 0..3000 {
            // Duplicates, names that end other names (`int`, `unsigned int`), flavours.
            let name = match i % 5 {
                0 => format!("t{}", i % 31),
                1 => format!("unsigned t{}", i % 31),
                2 => format!("t{}___v2", i % 7),
                3 => "int".to_owned(),
                _ => format!("name_{i}"),
            };
            let id = b.add(Type::Int(Int {
                name: name.clone(),
                size: 4,
                encoding: IntEncoding::Signed,
                offset: 0,
                bits: 32,
            }));
            if i % 11 == 0 {
                // A tag whose value equals a type name is not found by that name.
                b.add(Type::DeclTag(DeclTag {
                    value: name.clone(),
                    target: id,
                    component_idx: -1,
                    attribute: false,
                }));
            }
            names.push(name);
        }
        for endian in [Endian::Little, Endian::Big] {
            let bytes = b
                .marshal(MarshalOptions {
                    endian: Some(endian),
                })
                .unwrap();
            scan_agrees(&Spec::parse(&bytes).unwrap(), &names);
        }
    }

    #[test]
    fn scan_agrees_on_vmlinux() {
        let Ok(spec) = Spec::load_kernel() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let names: Vec<String> = spec
            .ids()
            .step_by(397)
            .filter_map(|id| spec.type_name(id).ok().map(str::to_owned))
            .filter(|n| !n.is_empty())
            .collect();
        assert!(names.len() > 50, "{}", names.len());
        scan_agrees(&spec, &names);
    }

    #[test]
    fn lookups_scan_then_index() {
        let mut b = Builder::new();
        for i in 0..10 {
            b.add(Type::Int(Int {
                name: format!("i{i}"),
                size: 4,
                encoding: IntEncoding::Signed,
                offset: 0,
                bits: 32,
            }));
        }
        let spec = Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap();
        for i in 0..SCANS_BEFORE_INDEX {
            assert_eq!(spec.types_by_name(&format!("i{i}")), vec![TypeId(i + 1)]);
            assert!(spec.names.get().is_none());
        }
        assert_eq!(spec.types_by_name("i9"), vec![TypeId(10)]);
        assert!(spec.names.get().is_some());
    }

    #[test]
    fn places_are_whole_strings_or_their_tails() {
        let strs = b"\0int\0unsigned int\0integer\0int\0x";
        let p = Places::find(strs, 0, b"int");
        let held = |p: &Places| (0..40).filter(|&o| p.holds(o)).collect::<Vec<_>>();
        assert_eq!(held(&p), vec![1, 14, 26]);
        let p = Places::find(strs, 100, b"int");
        assert!(p.holds(114) && !p.holds(14) && !p.holds(u32::MAX));
        assert!(Places::find(strs, 0, b"long").is_empty());
        // The last string has no NUL: it names nothing.
        assert!(Places::find(strs, 0, b"x").is_empty());
        // Many places, more than a word apart.
        let many = b"\0a".repeat(100);
        let mut many = [many.as_slice(), &[0u8]].concat();
        many.extend([b'b'; 200]);
        many.extend(b"\0a\0");
        let p = Places::find(&many, 0, b"a");
        let want: Vec<u32> = (0..100).map(|i| 2 * i + 1).chain([402]).collect();
        assert_eq!((0..420).filter(|&o| p.holds(o)).collect::<Vec<_>>(), want);
    }
}
