//! [`ValueBytes`]: the bytes of an initial map value, zeros made only when they are used.
//!
//! A `.bss` section has a size but no bytes in the object. Its value is kept as that many
//! zeros not yet allocated (as libbpf maps `.bss` lazily): opening an object with a 16 MiB
//! `.bss` allocates nothing for it, and loading writes nothing into the new map, whose
//! memory the kernel zeroes. The first access to the bytes (any dereference) makes them.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let ebpf_spec::MapValue::Bytes(bss) = &spec.maps[".bss"].contents[0].value else { unreachable!() };
//! assert!(bss.is_unmade_zeros());
//! assert_eq!(bss.len(), 48);
//! assert_eq!(spec.maps[".bss"].data(), Some(&[0u8; 48][..]));
//! assert!(!bss.is_unmade_zeros());
//! # Ok(()) }
//! ```

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

/// The bytes of an initial map value ([`MapValue::Bytes`](crate::MapValue::Bytes)).
/// Dereferences to `Vec<u8>`; [`zeroed`](ValueBytes::zeroed) bytes are allocated on first
/// access.
#[derive(Default)]
pub struct ValueBytes {
    /// The bytes: set when made from a `Vec`, else on first access.
    bytes: OnceLock<Vec<u8>>,
    /// The number of zeros `bytes` holds once made, while it is not set.
    zeros: usize,
}

impl ValueBytes {
    /// `len` zero bytes, allocated on first access.
    pub fn zeroed(len: usize) -> ValueBytes {
        ValueBytes {
            bytes: OnceLock::new(),
            zeros: len,
        }
    }

    /// The number of bytes (without making zeros).
    pub fn len(&self) -> usize {
        self.bytes.get().map_or(self.zeros, Vec::len)
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether these are [`zeroed`](ValueBytes::zeroed) bytes never accessed: all zeros,
    /// and not allocated.
    pub fn is_unmade_zeros(&self) -> bool {
        self.bytes.get().is_none()
    }

    /// The bytes as a `Vec`.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(self.as_mut_vec())
    }

    fn as_vec(&self) -> &Vec<u8> {
        self.bytes.get_or_init(|| vec![0; self.zeros])
    }

    fn as_mut_vec(&mut self) -> &mut Vec<u8> {
        if self.bytes.get().is_none() {
            self.bytes = OnceLock::from(vec![0; self.zeros]);
        }
        self.zeros = 0;
        match self.bytes.get_mut() {
            Some(bytes) => bytes,
            None => unreachable!("the bytes were set above"),
        }
    }
}

impl Deref for ValueBytes {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        self.as_vec()
    }
}

impl DerefMut for ValueBytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        self.as_mut_vec()
    }
}

impl From<Vec<u8>> for ValueBytes {
    fn from(bytes: Vec<u8>) -> ValueBytes {
        ValueBytes {
            bytes: OnceLock::from(bytes),
            zeros: 0,
        }
    }
}

impl Clone for ValueBytes {
    /// Unmade zeros stay unmade in the clone.
    fn clone(&self) -> ValueBytes {
        ValueBytes {
            bytes: self.bytes.clone(),
            zeros: self.zeros,
        }
    }
}

impl PartialEq for ValueBytes {
    fn eq(&self, other: &ValueBytes) -> bool {
        match (self.bytes.get(), other.bytes.get()) {
            (None, None) => self.zeros == other.zeros,
            (Some(a), None) => a.len() == other.zeros && a.iter().all(|b| *b == 0),
            (None, Some(b)) => b.len() == self.zeros && b.iter().all(|b| *b == 0),
            (Some(a), Some(b)) => a == b,
        }
    }
}

impl Eq for ValueBytes {}

impl Hash for ValueBytes {
    /// The length, then the bytes up to the last that is not zero: the same for equal
    /// values, made or not, and nothing to read for unmade zeros.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        let bytes = self.bytes.get().map_or(&[][..], Vec::as_slice);
        let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        state.write(&bytes[..end]);
    }
}

impl fmt::Debug for ValueBytes {
    /// As the `Vec<u8>` (unmade zeros print as the zeros they stand for).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bytes.get() {
            Some(b) => b.fmt(f),
            None => f
                .debug_list()
                .entries(std::iter::repeat_n(0u8, self.zeros))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use super::*;

    #[test]
    fn zeros_are_made_on_first_access_and_equal_to_made_zeros() {
        let z = ValueBytes::zeroed(5);
        assert!(z.is_unmade_zeros());
        assert_eq!(z.len(), 5);
        let copy = z.clone();
        assert!(copy.is_unmade_zeros());
        let made = ValueBytes::from(vec![0; 5]);
        assert_eq!(z, made);
        assert_eq!(made, z);
        assert_ne!(z, ValueBytes::from(vec![0, 0, 0, 0, 1]));
        assert_ne!(z, ValueBytes::zeroed(4));
        let s = RandomState::new();
        assert_eq!(s.hash_one(&z), s.hash_one(&made));
        assert_ne!(s.hash_one(&z), s.hash_one(ValueBytes::zeroed(4)));
        // Whatever the hasher does with its writes.
        #[derive(Default)]
        struct Writes(Vec<Vec<u8>>);
        impl Hasher for Writes {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, bytes: &[u8]) {
                self.0.push(bytes.to_vec());
            }
        }
        let writes = |v: &ValueBytes| {
            let mut w = Writes::default();
            v.hash(&mut w);
            w.0
        };
        assert_eq!(writes(&z), writes(&made));
        assert_eq!(
            writes(&ValueBytes::from(vec![1, 0, 0])),
            writes(&ValueBytes::from(vec![1, 0, 0]))
        );
        assert_ne!(
            writes(&ValueBytes::from(vec![1, 0, 0])),
            writes(&ValueBytes::from(vec![0, 0, 1]))
        );
        assert_eq!(format!("{z:?}"), "[0, 0, 0, 0, 0]");
        assert!(z.is_unmade_zeros());
        assert_eq!(&z[..], &[0; 5]);
        assert!(!z.is_unmade_zeros());
        assert_eq!(format!("{z:?}"), "[0, 0, 0, 0, 0]");
        assert!(copy.is_unmade_zeros());
        let mut m = copy.clone();
        m[1] = 7;
        m.push(1);
        assert_eq!(m.len(), 6);
        assert_eq!(m.into_vec(), [0, 7, 0, 0, 0, 1]);
        assert_eq!(copy.into_vec(), [0; 5]);
    }
}
