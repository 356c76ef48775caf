//! The name index built during the single pass over type headers, and the CO-RE
//! "essential name" rule.
//!
//! The index stores no strings: one 32-bit hash and one chain link per type, plus a
//! power-of-two bucket table. Lookups hash the query, walk a short chain and compare
//! candidate names directly in the (borrowed) string table.
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

/// 0x80 in every byte of `w` equal to `_`, exactly.
#[inline(always)]
fn underscores(w: u64) -> u64 {
    let x = w ^ 0x5f5f_5f5f_5f5f_5f5f;
    !(((x & !HI).wrapping_add(!HI)) | x | !HI)
}

/// Hash of a name, processing 8 bytes at a time; never returns 0 (0 marks "no name").
/// Must agree with [`hash_cstr`].
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

/// Finds the NUL-terminated string at the start of `s` in one pass: returns its length,
/// its [`hash`], and whether it contains `___` (so may have a CO-RE flavour).
/// `None` if there is no NUL.
#[inline]
pub(crate) fn hash_cstr(s: &[u8]) -> Option<(usize, u32, bool)> {
    let mut h: u64 = 0;
    let mut i = 0;
    let mut prev_u: u64 = 0;
    let mut triple = false;
    while i + 8 <= s.len() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&s[i..i + 8]);
        let w = u64::from_le_bytes(b);
        let z = w.wrapping_sub(LO) & !w & HI;
        let (w, n) = if z != 0 {
            let n = (z.trailing_zeros() / 8) as usize;
            (
                if n == 0 {
                    0
                } else {
                    w & (u64::MAX >> (64 - 8 * n))
                },
                n,
            )
        } else {
            (w, 8)
        };
        let u = underscores(w)
            & if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            };
        triple |= u & ((u << 8) | (prev_u >> 56)) & ((u << 16) | (prev_u >> 48)) != 0;
        prev_u = u;
        if n < 8 {
            if n > 0 {
                h = mix(h, w);
            }
            return Some((i + n, fold(h, i + n), triple));
        }
        h = mix(h, w);
        i += 8;
    }
    // Fewer than 8 bytes left in the table.
    let rest = &s[i..];
    let n = rest.iter().position(|&b| b == 0)?;
    let len = i + n;
    let name = &s[..len];
    Some((len, hash(name), name.windows(3).any(|w| w == b"___")))
}

/// Hash index from type names to type indices (0-based within one spec).
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    /// Hash of each type's name, 0 if unnamed or not indexed.
    hashes: Vec<u32>,
    /// Bucket heads: index + 1 of the most recent type in the bucket, 0 if empty.
    heads: Vec<u32>,
    /// Chain links: index + 1 of the next type in the same bucket.
    next: Vec<u32>,
    /// (hash of essential name, index) for flavoured names (`foo___bar`), sorted.
    flavoured: Vec<(u32, u32)>,
    /// Number of named entries.
    named: usize,
}

impl NameIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            hashes: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// Records the next type's name (empty slice for unnamed).
    #[inline]
    pub(crate) fn push(&mut self, name: &[u8]) {
        if name.is_empty() {
            self.hashes.push(0);
            return;
        }
        let triple = name.windows(3).any(|w| w == b"___");
        self.push_hashed(hash(name), name, triple);
    }

    /// Records the next type's name given its precomputed [`hash`] (0 for unnamed) and
    /// whether it contains `___`.
    #[inline]
    pub(crate) fn push_hashed(&mut self, h: u32, name: &[u8], triple: bool) {
        let idx = self.hashes.len() as u32;
        self.hashes.push(h);
        self.named += usize::from(h != 0);
        if triple {
            let ess = essential_len(name);
            if ess != name.len() {
                self.flavoured.push((hash(&name[..ess]), idx));
            }
        }
    }

    /// Builds the bucket table once all names are pushed.
    pub(crate) fn finish(&mut self) {
        // Load factor between 0.5 and 1: chains stay short and the table small enough to
        // stay mostly in cache while it is built.
        let size = self.named.next_power_of_two().max(16);
        let mask = (size - 1) as u32;
        self.heads = vec![0; size];
        self.next = vec![0; self.hashes.len()];
        for (i, &h) in self.hashes.iter().enumerate().rev() {
            if h == 0 {
                continue;
            }
            let b = (h & mask) as usize;
            self.next[i] = self.heads[b];
            self.heads[b] = i as u32 + 1;
        }
        self.flavoured.sort_unstable();
    }

    /// Indices whose name hashes like `name`; the caller compares the actual names.
    pub(crate) fn candidates(&self, name: &[u8]) -> impl Iterator<Item = u32> + '_ {
        let h = hash(name);
        let mask = self.heads.len().saturating_sub(1) as u32;
        let mut cur = self.heads.get((h & mask) as usize).copied().unwrap_or(0);
        std::iter::from_fn(move || {
            while cur != 0 {
                let i = cur - 1;
                cur = self.next.get(i as usize).copied().unwrap_or(0);
                if self.hashes.get(i as usize) == Some(&h) {
                    return Some(i);
                }
            }
            None
        })
    }

    /// Indices of flavoured names whose essential name hashes like `ess`.
    pub(crate) fn flavoured_candidates(&self, ess: &[u8]) -> impl Iterator<Item = u32> + '_ {
        let h = hash(ess);
        let start = self.flavoured.partition_point(|&(fh, _)| fh < h);
        self.flavoured[start..]
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
        ];
        for n in names {
            for pad in 0..9 {
                let mut table = n.as_bytes().to_vec();
                table.push(0);
                table.extend(std::iter::repeat_n(b'_', pad));
                let (len, h, triple) = hash_cstr(&table).unwrap();
                assert_eq!(len, n.len(), "{n:?}");
                assert_eq!(h, hash(n.as_bytes()), "{n:?} pad {pad}");
                assert_eq!(triple, n.contains("___"), "{n:?} pad {pad}");
            }
        }
        assert!(hash_cstr(b"no terminator").is_none());
        assert!(hash_cstr(b"no terminator at all!").is_none());
    }
}
