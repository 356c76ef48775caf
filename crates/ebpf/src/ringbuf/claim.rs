//! One owner per ring buffer map per process.
//!
//! A [`RingBufReader`](super::RingBufReader) lends records as `&[u8]` views of
//! the ring and a [`UserRingBuf`](super::UserRingBuf) hands out `&mut [u8]`
//! views of the records it reserves; both are sound only if nothing else in
//! the process moves the same ring's consumer (or producer) position while a
//! view lives. Each reader and writer therefore holds a [`Claim`] on its map,
//! keyed by the map's id, for as long as it has the ring mapped: a second
//! reader of the same ring buffer (or a second ring of one reader that is the
//! same map), or a second writer of the same user ring buffer, is refused with
//! [`ReaderError::AlreadyClaimed`].
//!
//! Map ids are unique among live maps, and the claim's owner keeps a
//! descriptor of the map open, so the id cannot be reused while it is claimed.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use crate::reader_error::{ReaderError, Result};

/// The map ids claimed by a ring buffer reader or user ring buffer writer of
/// this process.
static CLAIMED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// The exclusive claim of this process on one ring buffer map; released on drop.
#[derive(Debug)]
pub(crate) struct Claim {
    id: u32,
}

impl Claim {
    /// Claims map `id` for `ring` (a name for the error), or fails if a reader
    /// or writer of this process already holds it.
    pub(crate) fn take(id: u32, ring: &str) -> Result<Self> {
        let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
        if claimed.insert(id) {
            Ok(Self { id })
        } else {
            Err(ReaderError::AlreadyClaimed {
                ring: ring.to_owned(),
                id,
            })
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        CLAIMED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::Claim;

    #[test]
    fn one_claim_per_id_until_dropped() {
        // Ids far above what a test kernel hands out, so kernel tests in the
        // same process cannot collide with them.
        let first = Claim::take(u32::MAX - 1, "ring buffer 'a'").unwrap();
        let err = Claim::take(u32::MAX - 1, "ring buffer 'a'").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "ring buffer 'a': map id {} is already read or written by another \
                 reader or writer of this process (one per ring buffer)",
                u32::MAX - 1
            )
        );
        let other = Claim::take(u32::MAX - 2, "ring buffer 'b'").unwrap();
        drop(first);
        let again = Claim::take(u32::MAX - 1, "ring buffer 'a'").unwrap();
        drop((again, other));
    }
}
