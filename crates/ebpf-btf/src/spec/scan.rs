//! Lookups by name before the name index exists.
//!
//! Building the index hashes every name of the spec: for vmlinux (tens of thousands of
//! names) that costs more than parsing. A program that looks up one or two names
//! (`task_struct`, a datasec, a kfunc) would pay it for nothing, so the first
//! [`SCANS_BEFORE_INDEX`] lookups of a spec scan instead, and the index is built when
//! lookups keep coming: the scans then cost about as much as the index itself. Lookups
//! by essential name, which CO-RE makes, build the index at once, and a caller that knows
//! it will look many names up can too ([`Spec::index_names`]).
//!
//! A scan searches the string table for `name\0` (a substring search, SIMD on common
//! CPUs), which finds every offset that reads as `name`, and then compares each type's
//! name offset with those. A name that is no string's tail ends after the string search;
//! one that is (a member's name, say) costs the walk over the types too.

use std::sync::atomic::Ordering;

use super::Spec;
use crate::bits::Bits;
use crate::raw::{Endian, info_kind};
use crate::types::TypeId;
use crate::unmarshal::indexed_kind;

/// Lookups by name served by scanning before a spec builds its name index.
pub(super) const SCANS_BEFORE_INDEX: u32 = 4;

/// The offsets at which the string table reads as one name.
enum Places {
    /// A few offsets (relative to the table), sorted, behind a bit filter of their low
    /// bits (64 filter bits per offset, at least 256): nearly every other offset is
    /// rejected by one bit test in a small table.
    Sparse {
        offsets: Vec<u32>,
        filter: Bits,
        mask: u32,
    },
    /// So many that one bit per byte of the table is smaller: exact, and never more than
    /// an eighth of the table's size.
    Dense(Bits),
}

impl Places {
    /// Every offset at which `strs` holds `name` followed by its NUL: where the name is a
    /// whole string, or the tail of a longer one. `name` holds no NUL.
    fn find(strs: &[u8], name: &[u8]) -> Self {
        let mut needle = Vec::with_capacity(name.len() + 1);
        needle.extend_from_slice(name);
        needle.push(0);
        // The table is shorter than 2^32 bytes (its header length is a u32), and the
        // needle cannot overlap itself (its only NUL ends it): matches are every place.
        let mut found = memchr::memmem::find_iter(strs, &needle).map(|at| at as u32);
        let mut offsets = Vec::new();
        let dense_from = strs.len() / 64;
        for at in found.by_ref() {
            offsets.push(at);
            if offsets.len() > dense_from {
                let mut bits = Bits::new(strs.len());
                for at in offsets.into_iter().chain(found) {
                    bits.insert(at);
                }
                return Self::Dense(bits);
            }
        }
        let len = (offsets.len() * 64).next_power_of_two().max(256);
        // `offsets` is below `strs.len() / 64` long, itself below 2^32.
        let mask = (len - 1) as u32;
        let mut filter = Bits::new(len);
        for &at in &offsets {
            filter.insert(at & mask);
        }
        Self::Sparse {
            offsets,
            filter,
            mask,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::Sparse { offsets, .. } => offsets.is_empty(),
            Self::Dense(_) => false,
        }
    }

    /// Whether the table reads as the name at `at` (relative to the table).
    #[inline(always)]
    fn holds(&self, at: u32) -> bool {
        match self {
            Self::Sparse {
                offsets,
                filter,
                mask,
            } => filter.contains(at & mask) && offsets.binary_search(&at).is_ok(),
            Self::Dense(bits) => bits.contains(at),
        }
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
    /// scanning. A name with a NUL names no type (as in the index, which compares whole
    /// names).
    pub(super) fn scan_by_name(&self, name: &[u8], out: &mut Vec<TypeId>) {
        let Some(strs) = self.data.bytes().get(self.layout.strs.clone()) else {
            return;
        };
        if memchr::memchr(0, name).is_some() {
            return;
        }
        let places = Places::find(strs, name);
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
            let at = read([a, b, c, d]).wrapping_sub(self.str_base);
            if places.holds(at) && indexed_kind(info_kind(read([e, f, g, h]))) {
                out.push(TypeId(self.first_id + idx as u32));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marshal::{Builder, MarshalOptions};
    use crate::types::{DeclTag, Type, TypeTag, test_int as int};

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
            let id = b.add(int(name.clone()));
            if i % 11 == 0 {
                // Tags whose values equal a type name are not found by that name.
                b.add(Type::DeclTag(DeclTag {
                    value: name.clone(),
                    target: id,
                    component_idx: -1,
                    attribute: false,
                }));
                b.add(Type::TypeTag(TypeTag {
                    value: name.clone(),
                    target: id,
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
            b.add(int(format!("i{i}")));
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
        let held = |p: &Places| (0..40).filter(|&o| p.holds(o)).collect::<Vec<_>>();
        // A small table is a bitmap; in a big one, three places are a sorted list.
        let mut big = strs.to_vec();
        big.extend([b'y'; 1000]);
        for (table, dense) in [(&strs[..], true), (&big[..], false)] {
            let p = Places::find(table, b"int");
            assert_eq!(matches!(p, Places::Dense(_)), dense);
            assert_eq!(held(&p), vec![1, 14, 26]);
            assert!(!p.holds(u32::MAX));
        }
        assert!(Places::find(strs, b"long").is_empty());
        // The last string has no NUL: it names nothing.
        assert!(Places::find(strs, b"x").is_empty());
        // So many places that a bitmap of the table is smaller: exact too.
        let mut many = b"\0a".repeat(100);
        many.push(0);
        many.extend([b'b'; 200]);
        many.extend(b"\0a\0");
        let p = Places::find(&many, b"a");
        assert!(matches!(p, Places::Dense(_)));
        let want: Vec<u32> = (0..100).map(|i| 2 * i + 1).chain([402]).collect();
        assert_eq!((0..420).filter(|&o| p.holds(o)).collect::<Vec<_>>(), want);
        assert!(!p.holds(u32::MAX));
    }

    /// A spec of two ints, `unsigned int` and `x`, with the second's name offset moved to
    /// the `int` inside the first's name, in byte order `endian`.
    fn tail_named(endian: Endian) -> Spec {
        let mut b = Builder::new();
        for name in ["unsigned int", "x"] {
            b.add(int(name));
        }
        let mut bytes = b
            .marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap();
        let word = |b: &[u8], at: usize| {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            match endian {
                Endian::Little => u32::from_le_bytes(w),
                Endian::Big => u32::from_be_bytes(w),
            }
        };
        // Header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len.
        let hdr = word(&bytes, 4) as usize;
        let types = hdr + word(&bytes, 8) as usize;
        let strs = hdr + word(&bytes, 16) as usize;
        let unsigned = word(&bytes, types);
        assert_eq!(&bytes[strs + unsigned as usize..][..12], b"unsigned int");
        // An INT record is 16 bytes: the second starts with its name offset.
        let tail = unsigned + 9;
        let enc = match endian {
            Endian::Little => tail.to_le_bytes(),
            Endian::Big => tail.to_be_bytes(),
        };
        bytes[types + 16..types + 20].copy_from_slice(&enc);
        Spec::parse(&bytes).unwrap()
    }

    #[test]
    fn a_name_read_from_inside_a_longer_string_is_found() {
        for endian in [Endian::Little, Endian::Big] {
            let spec = tail_named(endian);
            assert_eq!(spec.type_name(TypeId(2)).unwrap(), "int");
            let mut scanned = Vec::new();
            spec.scan_by_name(b"int", &mut scanned);
            assert_eq!(scanned, vec![TypeId(2)]);
            assert_eq!(indexed(&spec, "int"), scanned);
        }
    }

    #[test]
    fn a_name_with_a_nul_names_nothing() {
        let spec = tail_named(Endian::Little);
        for name in ["\0", "int\0", "unsigned\0int", "unsigned int\0x"] {
            let mut scanned = Vec::new();
            spec.scan_by_name(name.as_bytes(), &mut scanned);
            assert!(scanned.is_empty(), "{name:?}");
            assert!(indexed(&spec, name).is_empty(), "{name:?}");
        }
    }
}
