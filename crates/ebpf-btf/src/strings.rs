//! Zero-copy access to a BTF string table, and a deduplicating table builder.
//!
//! ```
//! use ebpf_btf::strings::{StringTable, StringTableBuilder};
//! let mut b = StringTableBuilder::new();
//! let a = b.add("foo");
//! assert_eq!(b.add("foo"), a);
//! let bytes = b.into_bytes();
//! let t = StringTable::new(&bytes);
//! assert_eq!(t.get(a).unwrap(), "foo");
//! assert_eq!(t.get(0).unwrap(), "");
//! ```

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Longest name accepted in a type (bounds allocation on hostile input; the kernel's
/// limit, `KSYM_NAME_LEN`, is 512).
pub const MAX_NAME_LEN: usize = 1024;

/// Why a string lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrError {
    /// Offset past the end, or no NUL terminator.
    OutOfRange,
    /// Not UTF-8.
    NotUtf8,
}

/// A borrowed view of a string section: NUL-terminated strings addressed by byte offset.
#[derive(Debug, Clone, Copy)]
pub struct StringTable<'a> {
    bytes: &'a [u8],
}

impl<'a> StringTable<'a> {
    /// Wraps the raw section bytes.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bytes of the string at `off`, without its NUL.
    pub fn get_bytes(&self, off: u32) -> Result<&'a [u8], StrError> {
        let rest = self.bytes.get(off as usize..).ok_or(StrError::OutOfRange)?;
        let end = nul_position(rest).ok_or(StrError::OutOfRange)?;
        Ok(&rest[..end])
    }

    /// Whether the string at `off` is `s`, compared in place (no scan for its end, no
    /// UTF-8 check).
    #[must_use]
    pub fn holds(&self, off: u32, s: &str) -> bool {
        let start = off as usize;
        self.bytes.get(start..start.saturating_add(s.len())) == Some(s.as_bytes())
            && self.bytes.get(start + s.len()) == Some(&0)
    }

    /// Whether the string at `off` starts with `prefix` (which holds no NUL), compared in
    /// place like [`StringTable::holds`]; `None` when `off` is not inside the table.
    #[must_use]
    pub fn starts_with(&self, off: u32, prefix: &str) -> Option<bool> {
        let rest = self
            .bytes
            .get(off as usize..)
            .filter(|rest| !rest.is_empty())?;
        Some(rest.get(..prefix.len()) == Some(prefix.as_bytes()))
    }

    /// The string at `off`.
    pub fn get(&self, off: u32) -> Result<&'a str, StrError> {
        std::str::from_utf8(self.get_bytes(off)?).map_err(|_| StrError::NotUtf8)
    }
}

/// The high bit of each byte of a word.
const HI: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `s` at `i` as a little-endian word, if there are 8.
#[inline]
fn word_at(s: &[u8], i: usize) -> Option<u64> {
    let mut b = [0u8; 8];
    b.copy_from_slice(s.get(i..i + 8)?);
    Some(u64::from_le_bytes(b))
}

/// The high bit of the first zero byte of `w` set, and perhaps of later bytes: the lowest
/// set bit, if any, marks the first NUL.
#[inline]
fn nul_flags(w: u64) -> u64 {
    w.wrapping_sub(0x0101_0101_0101_0101) & !w & HI
}

/// Position of the first NUL in `s`, testing 8 bytes at a time.
#[inline]
pub(crate) fn nul_position(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(w) = word_at(s, i) {
        let z = nul_flags(w);
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == 0).map(|n| i + n)
}

/// Whether `table` holds a NUL-terminated string at `start` that is ASCII and at most
/// [`MAX_NAME_LEN`] bytes long: the end and the high bits found in one pass, 8 bytes at a
/// time.
#[inline]
pub(crate) fn ascii_name_at(table: &[u8], start: usize) -> bool {
    let Some(s) = table.get(start..) else {
        return false;
    };
    let mut i = 0;
    while let Some(w) = word_at(s, i) {
        let z = nul_flags(w);
        if z != 0 {
            // The bytes below the first NUL are the name's.
            let nul = z.trailing_zeros() / 8;
            let below = (1u64 << (nul * 8)) - 1;
            return w & HI & below == 0 && i + nul as usize <= MAX_NAME_LEN;
        }
        i += 8;
        if w & HI != 0 || i > MAX_NAME_LEN {
            return false;
        }
    }
    s[i..]
        .iter()
        .position(|&b| b == 0)
        .is_some_and(|n| s[i..i + n].is_ascii() && i + n <= MAX_NAME_LEN)
}

/// Whether every string of `table` is a valid name: the whole table is UTF-8 and no
/// string is longer than [`MAX_NAME_LEN`]. Then any offset inside the table that starts a
/// character ([`starts_char`]) holds a valid name, and checking all of a big table's names
/// costs one pass over the table instead of one per name.
pub(crate) fn all_names_valid(table: &[u8]) -> bool {
    if std::str::from_utf8(table).is_err() {
        return false;
    }
    let mut rest = table;
    while let Some(n) = nul_position(rest) {
        if n > MAX_NAME_LEN {
            return false;
        }
        rest = &rest[n + 1..];
    }
    rest.len() <= MAX_NAME_LEN
}

/// [`all_names_valid`] of the two halves of `table` (cut after a NUL, so
/// that each holds whole strings) on two threads.
pub(crate) fn all_names_valid_in_halves(table: &[u8]) -> bool {
    let mid = table.len() / 2;
    let cut = table[mid..]
        .iter()
        .position(|&b| b == 0)
        .map_or(table.len(), |p| mid + p + 1);
    let (lo, hi) = table.split_at(cut);
    let (lo_valid, hi_valid) = crate::threads::join(|| all_names_valid(lo), || all_names_valid(hi));
    lo_valid && hi_valid
}

/// Whether offset `off` of `table` is inside it and starts a UTF-8 character (is not a
/// continuation byte).
pub(crate) fn starts_char(table: &[u8], off: usize) -> bool {
    table.get(off).is_some_and(|&b| !(0x80..0xc0).contains(&b))
}

/// The quick test of a name in a spec's own string table: a name that passes it is valid
/// (one that fails it may still be, and takes the full check). With the whole table known
/// to hold only valid names ([`all_names_valid`]) the test is whether the offset starts a
/// character; otherwise whether the name is ASCII and not too long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuickNames<'a> {
    /// The own string table.
    pub(crate) table: &'a [u8],
    /// The offset of its first string (a base spec's strings come before it).
    pub(crate) base: u32,
    /// Whether every string of the table is a valid name.
    pub(crate) all_valid: bool,
}

impl QuickNames<'_> {
    /// Whether the name at `off` passes the quick test.
    #[inline(always)]
    pub(crate) fn pass(&self, off: u32) -> bool {
        if self.all_valid {
            self.starts_char(off)
        } else {
            self.ascii(off)
        }
    }

    /// The test for a table of valid names: `off` starts a character of the table.
    #[inline(always)]
    pub(crate) fn starts_char(&self, off: u32) -> bool {
        off.checked_sub(self.base)
            .is_some_and(|rel| starts_char(self.table, rel as usize))
    }

    /// The test for any table: the name at `off` is in the table, ASCII and not too long.
    #[inline(always)]
    pub(crate) fn ascii(&self, off: u32) -> bool {
        off.checked_sub(self.base)
            .is_some_and(|rel| ascii_name_at(self.table, rel as usize))
    }
}

/// Builds a string table, deduplicating equal strings. Offset 0 is always the empty string.
#[derive(Debug, Clone)]
pub struct StringTableBuilder {
    bytes: Vec<u8>,
    /// The offset of each added string by its keyed hash (`hasher`), so that
    /// adding a string allocates nothing but the table's own bytes.
    offsets: HashMap<u64, u32, BuildHasherDefault<IntHasher>>,
    /// Strings whose hash collides with a different string already added
    /// (with a 64-bit keyed hash, in practice never).
    collided: HashMap<String, u32>,
    hasher: RandomState,
    base: u32,
}

/// A [`Hasher`] for integer keys (string offsets, keyed hashes), much cheaper than
/// SipHash: multiplying by an odd constant is a bijection on the low bits a table indexes
/// with, so distinct offsets (bounded by the string table's size) cannot be crafted to
/// collide there.
#[derive(Debug, Default)]
pub(crate) struct IntHasher(u64);

impl IntHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
}

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(Self::K);
        }
    }

    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(Self::K);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(Self::K);
    }
}

impl Default for StringTableBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StringTableBuilder {
    /// An empty table holding only `""`.
    #[must_use]
    pub fn new() -> Self {
        Self {
            bytes: vec![0],
            offsets: HashMap::default(),
            collided: HashMap::new(),
            hasher: RandomState::new(),
            base: 0,
        }
    }

    /// A table for split BTF: offsets start at `base` (the base table's length) and
    /// the table does not start with `""` (offset 0 refers to the base's empty string).
    #[must_use]
    pub fn new_split(base: u32) -> Self {
        Self {
            bytes: Vec::new(),
            base,
            ..Self::new()
        }
    }

    /// Makes room for `strings` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.offsets.reserve(strings);
        self.bytes.reserve(bytes);
    }

    /// Adds `s` (or finds it) and returns its offset.
    pub fn add(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.base + self.bytes.len() as u32;
        match self.offsets.entry(self.hasher.hash_one(s)) {
            Entry::Occupied(e) => {
                let at = (*e.get() - self.base) as usize;
                if self.bytes.get(at..at + s.len()) == Some(s.as_bytes())
                    && self.bytes.get(at + s.len()) == Some(&0)
                {
                    return *e.get();
                }
                if let Some(&off) = self.collided.get(s) {
                    return off;
                }
                self.collided.insert(s.to_owned(), off);
            }
            Entry::Vacant(e) => {
                e.insert(off);
            }
        }
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        off
    }

    /// Current length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if nothing but the leading NUL (or nothing, for split) is there.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.len() <= 1
    }

    /// The finished table.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::{
        MAX_NAME_LEN, StringTable, StringTableBuilder, all_names_valid, all_names_valid_in_halves,
        ascii_name_at, nul_position, starts_char,
    };

    /// The two-pass test it replaced: find the end, then check the bytes.
    fn ascii_name_two_pass(table: &[u8], start: usize) -> bool {
        u32::try_from(start).is_ok_and(|off| {
            StringTable::new(table)
                .get_bytes(off)
                .is_ok_and(|name| name.is_ascii() && name.len() <= MAX_NAME_LEN)
        })
    }

    #[test]
    fn ascii_name_in_one_pass_agrees_with_two() {
        let mut table = b"\0a\0hello_world\0caf\xc3\xa9\0x\xffyz\0seven77\0eight888\0".to_vec();
        table.extend(std::iter::repeat_n(b'n', MAX_NAME_LEN));
        table.push(0);
        table.extend(std::iter::repeat_n(b'm', MAX_NAME_LEN + 1));
        table.push(0);
        table.extend(b"no end");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..256 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            table.push(if state % 5 == 0 {
                0
            } else {
                (state >> 8) as u8
            });
        }
        for start in 0..table.len() + 2 {
            assert_eq!(
                ascii_name_at(&table, start),
                ascii_name_two_pass(&table, start),
                "offset {start}"
            );
        }
    }

    #[test]
    fn builder_dedups_and_survives_collisions() {
        let mut b = StringTableBuilder::new();
        let foo = b.add("foo");
        assert_eq!(b.add("foo"), foo);
        let bar = b.add("bar");
        assert_ne!(bar, foo);
        // A string whose hash collides with another's: forced by planting
        // "foo"'s offset under "baz"'s hash.
        let h = std::hash::BuildHasher::hash_one(&b.hasher, "baz");
        b.offsets.insert(h, foo);
        let baz = b.add("baz");
        assert_ne!(baz, foo);
        assert_eq!(b.add("baz"), baz);
        assert_eq!(b.add("foo"), foo);
        // A prefix of an added string is a string of its own.
        let fo = b.add("fo");
        assert_ne!(fo, foo);
        let bytes = b.into_bytes();
        let t = StringTable::new(&bytes);
        assert_eq!(t.get(foo).unwrap(), "foo");
        assert_eq!(t.get(bar).unwrap(), "bar");
        assert_eq!(t.get(baz).unwrap(), "baz");
        assert_eq!(t.get(fo).unwrap(), "fo");
    }

    #[test]
    fn split_builder_offsets_start_at_base() {
        let mut b = StringTableBuilder::new_split(100);
        assert_eq!(b.add("a"), 100);
        assert_eq!(b.add("bc"), 102);
        assert_eq!(b.add("a"), 100);
        assert_eq!(b.add(""), 0);
    }

    #[test]
    fn names_valid_in_one_pass() {
        assert!(all_names_valid(b"\0int\0caf\xc3\xa9\0"));
        assert!(starts_char(b"\0caf\xc3\xa9\0", 4));
        assert!(!starts_char(b"\0caf\xc3\xa9\0", 5));
        assert!(!starts_char(b"\0", 1));
        assert!(!all_names_valid(b"\0caf\xe9\0"));
        let mut long = vec![0u8];
        long.extend(std::iter::repeat_n(b'a', MAX_NAME_LEN + 1));
        long.push(0);
        assert!(!all_names_valid(&long));
        long.remove(1);
        assert!(all_names_valid(&long));
    }

    #[test]
    fn holds_compares_in_place() {
        let t = super::StringTable::new(b"\0int\0long\0");
        assert!(t.holds(1, "int"));
        assert!(t.holds(5, "long"));
        assert!(!t.holds(1, "in"));
        assert!(!t.holds(5, "long int"));
        assert!(!t.holds(u32::MAX, "x"));
        assert_eq!(t.starts_with(1, "in"), Some(true));
        assert_eq!(t.starts_with(1, "int"), Some(true));
        assert_eq!(t.starts_with(1, "intl"), Some(false));
        assert_eq!(t.starts_with(5, ""), Some(true));
        assert_eq!(t.starts_with(10, ""), None, "past the table");
        assert_eq!(t.starts_with(u32::MAX, "x"), None);
    }

    #[test]
    fn halves_agree_with_one_pass() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        let tables: [Vec<u8>; 5] = [
            b"\0int\0long\0".to_vec(),
            b"\0int\0caf\xe9\0".to_vec(),
            [b"\0".as_slice(), long.as_bytes(), b"\0x\0".as_slice()].concat(),
            [b"\0x\0".as_slice(), long.as_bytes(), b"\0".as_slice()].concat(),
            b"\0\xc3\xa9t\xc3\xa9\0".to_vec(),
        ];
        for t in &tables {
            assert_eq!(all_names_valid_in_halves(t), all_names_valid(t), "{t:?}");
        }
    }

    #[test]
    fn nul_position_matches_naive() {
        for len in 0..20 {
            for nul in 0..=len {
                let mut v: Vec<u8> = (0..len).map(|i| 1 + (i as u8 % 200)).collect();
                v.iter_mut().for_each(|b| *b |= 0x80 * (*b % 2));
                if nul < len {
                    v[nul] = 0;
                    if nul + 1 < len {
                        v[nul + 1] = 0;
                    }
                }
                assert_eq!(nul_position(&v), v.iter().position(|&b| b == 0), "{v:?}");
            }
        }
    }
}
