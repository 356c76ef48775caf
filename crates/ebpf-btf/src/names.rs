//! The name index built when a spec is parsed, and the CO-RE
//! "essential name" rule.
//!
//! The index stores no strings: one chain link per type plus a power-of-two bucket
//! table, each link tagged with bits of the target name's hash. Lookups hash the query,
//! walk a short chain and compare candidate names directly in the (borrowed) string
//! table. Flavoured names (`foo___v2`) are listed separately by essential name.
//!
//! ```
//! use ebpf_btf::essential_name;
//! assert_eq!(essential_name("task_struct___v2"), "task_struct");
//! assert_eq!(essential_name("a___b___c"), "a___b");
//! assert_eq!(essential_name("__u32"), "__u32");
//! assert_eq!(essential_name("foo____"), "foo____");
//! ```

/// The name without its CO-RE flavour suffix: libbpf's rule, cut at the last `X___Y`
/// (where X and Y are not underscores), keeping `X`.
#[must_use]
pub fn essential_name(name: &str) -> &str {
    &name[..essential_len(name.as_bytes())]
}

/// Length of the essential part of `name`.
pub(crate) fn essential_len(name: &[u8]) -> usize {
    let n = name.len();
    if n < 5 {
        return n;
    }
    let mut i = n - 5;
    loop {
        if name[i] != b'_'
            && name[i + 1] == b'_'
            && name[i + 2] == b'_'
            && name[i + 3] == b'_'
            && name[i + 4] != b'_'
        {
            return i + 1;
        }
        if i == 0 {
            return n;
        }
        i -= 1;
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;
const K: u64 = 0x517c_c1b7_2722_0a95;
/// `__` in every 16-bit lane.
const PAIRS: u64 = 0x5f5f_5f5f_5f5f_5f5f;
const LO16: u64 = 0x0001_0001_0001_0001;
const HI16: u64 = 0x8000_8000_8000_8000;

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

#[inline(always)]
fn fold(h: u64, len: usize) -> u32 {
    let h = mix(h, len as u64);
    let h = (h ^ (h >> 29)).wrapping_mul(K);
    let h = (h >> 32) as u32;
    if h == 0 { 1 } else { h }
}

/// Whether some aligned 16-bit lane of `w` is `__`. Three underscores in a row always
/// cover such a lane of one word (words are 8 bytes, an even number), so a name without
/// one cannot contain `___`: a cheap filter before [`has_triple`].
#[inline(always)]
fn aligned_pair(w: u64) -> bool {
    let x = w ^ PAIRS;
    x.wrapping_sub(LO16) & !x & HI16 != 0
}

/// Hash of a name, 8 bytes at a time (the last word zero-padded); never returns 0 (0
/// marks "no name"). Must agree with [`hash_cstr`].
#[inline]
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    let mut h: u64 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = mix(h, u64::from_le_bytes(w));
    }
    fold(h, bytes.len())
}

/// The little-endian word at `s[i..i + 8]` (the caller checked the bounds).
#[inline(always)]
fn word(s: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(b)
}

/// 0x80 in the first zero byte of `w` (and maybe in later ones); 0 if there is none.
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(LO) & !w & HI
}

/// Bytes before the first zero byte flagged by `z` (from [`zero_bytes`]): 0..=8.
#[inline(always)]
fn bytes_before(z: u64) -> usize {
    (z.trailing_zeros() / 8) as usize
}

/// A mask keeping the low `n` bytes of a word, `n` in 0..=7.
#[inline(always)]
fn keep(n: usize) -> u64 {
    (1u64 << (8 * n)).wrapping_sub(1)
}

/// Finds the NUL-terminated string at the start of `s` in one pass, a word at a time:
/// returns its length, its [`hash`], and whether it contains `___` (so may have a CO-RE
/// flavour). `None` if there is no NUL.
///
/// Per word: a NUL test, one multiply for the hash and a four-operation test for an
/// aligned `__` ([`aligned_pair`]); only names that pass that test are searched for `___`.
#[inline]
pub(crate) fn hash_cstr(s: &[u8]) -> Option<(usize, u32, bool)> {
    let mut h: u64 = 0;
    let mut pair = false;
    let mut i = 0;
    while i + 8 <= s.len() {
        let w = word(s, i);
        let z = zero_bytes(w);
        if z != 0 {
            let n = bytes_before(z);
            let len = i + n;
            if n > 0 {
                let w = w & keep(n);
                pair |= aligned_pair(w);
                h = mix(h, w);
            }
            let triple = pair && has_triple(&s[..len]);
            return Some((len, fold(h, len), triple));
        }
        pair |= aligned_pair(w);
        h = mix(h, w);
        i += 8;
    }
    // Fewer than 8 bytes left in the table.
    let n = s[i..].iter().position(|&b| b == 0)?;
    let name = &s[..i + n];
    Some((i + n, hash(name), has_triple(name)))
}

/// Whether `name` contains `___`.
#[inline]
pub(crate) fn has_triple(name: &[u8]) -> bool {
    name.windows(3).any(|w| w == b"___")
}

/// Low bits of a link: type index + 1 (0 ends a chain). Type indices are below
/// `BTF_MAX_TYPE` (0xfffff), so index + 1 fits.
const IDX_BITS: u32 = 20;
const IDX_MASK: u32 = (1 << IDX_BITS) - 1;

/// Hash index from type names to type indices (0-based within one spec): one or more
/// [`Segment`]s over consecutive ranges of types (two for big specs, built in parallel),
/// probed in order so that candidates come out ascending.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    segments: Vec<Segment>,
}

impl NameIndex {
    /// The index made of `segments`, in ascending order of their types.
    pub(crate) fn from_segments(segments: Vec<Segment>) -> Self {
        Self { segments }
    }

    /// Indices whose name hashes like `name`, ascending; the caller compares the actual names.
    pub(crate) fn candidates(&self, name: &[u8]) -> impl Iterator<Item = u32> + '_ {
        let h = hash(name);
        self.segments.iter().flat_map(move |s| s.candidates_of(h))
    }
}

/// One segment of a [`NameIndex`], over the types `base..base + next.len()`.
///
/// Chained hashing over `u32` links sized from the counts found by the header pass: a
/// power-of-two table of bucket heads (one to two named types per bucket on average) and
/// one chain link per type. Each link holds the target's index (relative to `base`) + 1 in
/// its low 20 bits and the top 12 bits of the target name's hash as a tag, so walking a
/// chain rarely has to compare a name and needs no per-type hash array. Insertion is O(1)
/// whatever the names (duplicates and hash collisions only lengthen one chain). The index
/// stores no strings: callers compare candidate names in the (borrowed) string table.
#[derive(Debug, Default)]
pub(crate) struct Segment {
    /// The first type index covered.
    base: u32,
    /// Link to the first (lowest-index) type in each bucket.
    heads: Box<[u32]>,
    /// Link to the next type in the same bucket, by type index - `base`.
    next: Box<[u32]>,
}

impl Segment {
    /// An empty segment for the `types` types from index `base`, of which up to `named`
    /// have a name.
    pub(crate) fn with_counts(base: u32, types: usize, named: usize) -> Self {
        Self {
            base,
            heads: vec![0; (named / 2).next_power_of_two().max(16)].into_boxed_slice(),
            next: vec![0; types].into_boxed_slice(),
        }
    }

    /// Records that type index `idx` has a name with [`hash`] `h`. Indices must be
    /// inserted in descending order (so that chains run in ascending order).
    #[inline]
    pub(crate) fn insert(&mut self, idx: u32, h: u32) {
        let local = idx.wrapping_sub(self.base);
        debug_assert!(local < IDX_MASK);
        let b = h as usize & (self.heads.len() - 1);
        if let (Some(head), Some(next)) = (self.heads.get_mut(b), self.next.get_mut(local as usize))
        {
            *next = *head;
            *head = (h & !IDX_MASK) | ((local + 1) & IDX_MASK);
        }
    }

    /// Indices whose name has hash `h`, ascending.
    fn candidates_of(&self, h: u32) -> impl Iterator<Item = u32> + '_ {
        let tag = h & !IDX_MASK;
        let mask = self.heads.len().wrapping_sub(1);
        let mut cur = self.heads.get(h as usize & mask).copied().unwrap_or(0);
        std::iter::from_fn(move || {
            while cur != 0 {
                let local = (cur & IDX_MASK) - 1;
                let t = cur & !IDX_MASK;
                cur = self.next.get(local as usize).copied().unwrap_or(0);
                if t == tag {
                    return Some(self.base + local);
                }
            }
            None
        })
    }
}

/// (hash of essential name, index) for every flavoured name (`foo___bar`), sorted.
#[derive(Debug, Default)]
pub(crate) struct FlavouredIndex(Box<[(u32, u32)]>);

impl FlavouredIndex {
    pub(crate) fn new(mut v: Vec<(u32, u32)>) -> Self {
        v.sort_unstable();
        Self(v.into_boxed_slice())
    }

    /// Indices of flavoured names whose essential name hashes like `ess`, ascending.
    pub(crate) fn candidates(&self, ess: &[u8]) -> impl Iterator<Item = u32> + '_ {
        let h = hash(ess);
        let start = self.0.partition_point(|&(fh, _)| fh < h);
        self.0[start..]
            .iter()
            .take_while(move |&&(fh, _)| fh == h)
            .map(|&(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_cstr_agrees_with_hash() {
        let names = [
            "",
            "a",
            "ab",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "task_struct",
            "x___y",
            "abcdef___gh",
            "abcdefg___h",
            "abcdefgh___",
            "a__b__c",
            "___",
            "____long_name_with_many_parts_of_text___v2",
            "abcdefghijklmno",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmn___",
            "abcdefghijklmnop___q",
            "trace_event_raw_sched_switch",
            "nf_conn___init",
            "0123456789abcdefghijklmnopqrstuvwxyz_0123456789",
        ];
        for n in names {
            // Padding decides which path runs (fewer than 16 bytes in the table, two
            // words, the word loop, the short tail); `_` and `x` after the NUL must not leak
            // into the name, its hash or its flavour.
            for (pad, fill) in (0..26).flat_map(|p| [(p, b'_'), (p, b'x')]) {
                let mut table = n.as_bytes().to_vec();
                table.push(0);
                table.extend(std::iter::repeat_n(fill, pad));
                let (len, h, triple) = hash_cstr(&table).unwrap();
                assert_eq!(len, n.len(), "{n:?}");
                assert_eq!(h, hash(n.as_bytes()), "{n:?} pad {pad}");
                assert_eq!(triple, n.contains("___"), "{n:?} pad {pad}");
                assert_eq!(triple, has_triple(n.as_bytes()), "{n:?}");
            }
        }
        assert!(hash_cstr(b"no terminator").is_none());
        assert!(hash_cstr(b"no terminator at all!").is_none());
    }

    #[test]
    fn index_chains_ascend() {
        let h = hash(b"x");
        // Two segments, as a big spec's index has: 0..60 and 60..100.
        let mut lo = Segment::with_counts(0, 60, 60);
        let mut hi = Segment::with_counts(60, 40, 40);
        // Same hash, different tags, and colliding buckets: insert descending.
        for i in (0..100).rev() {
            let seg = if i < 60 { &mut lo } else { &mut hi };
            seg.insert(i, if i % 3 == 0 { h } else { h ^ 0xfff0_0000 });
        }
        let ix = NameIndex::from_segments(vec![lo, hi]);
        let want: Vec<u32> = (0..100).filter(|i| i % 3 == 0).collect();
        assert_eq!(ix.candidates(b"x").collect::<Vec<_>>(), want);
        assert_eq!(NameIndex::default().candidates(b"x").count(), 0);
    }
}
