//! Spec ids: the keys of a `__bpf_usdt_specs` map, shared by every USDT
//! attachment of the programs that use that map (one collection).
//!
//! As libbpf's USDT manager does per object, ids are small integers handed
//! out from 0 up to the map's `max_entries`, and those of a dropped attachment
//! are reused first. The pools live here, in the process, keyed by the specs
//! map's kernel id (a map holds its id until it is freed, and an attachment
//! keeps its map open).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
struct Pool {
    next: u32,
    free: Vec<u32>,
    /// Ids handed out and not yet returned.
    taken: usize,
}

static POOLS: Mutex<Option<HashMap<u32, Pool>>> = Mutex::new(None);

/// The spec ids one attachment holds, returned to the pool when dropped.
#[derive(Debug)]
pub(crate) struct SpecIds {
    map_id: u32,
    max_entries: u32,
    ids: Vec<u32>,
}

impl SpecIds {
    /// An empty set for the specs map with kernel id `map_id`.
    pub fn new(map_id: u32, max_entries: u32) -> SpecIds {
        SpecIds {
            map_id,
            max_entries,
            ids: Vec::new(),
        }
    }

    /// One more id, or `None` when the map is full.
    pub fn take(&mut self) -> Option<u32> {
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = pools
            .get_or_insert_with(HashMap::new)
            .entry(self.map_id)
            .or_default();
        let id = match pool.free.pop() {
            Some(id) => id,
            None if pool.next < self.max_entries => {
                pool.next += 1;
                pool.next - 1
            }
            None => return None,
        };
        pool.taken += 1;
        self.ids.push(id);
        Some(id)
    }

    /// How many ids this set holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

impl Drop for SpecIds {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(map) = pools.as_mut() else { return };
        let Some(pool) = map.get_mut(&self.map_id) else {
            return;
        };
        pool.taken = pool.taken.saturating_sub(self.ids.len());
        if pool.taken == 0 {
            // Every id is free again: the same as a fresh pool.
            map.remove(&self.map_id);
        } else {
            pool.free.append(&mut self.ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reused_and_bounded() {
        // A map id no kernel map has in this test process.
        let map = u32::MAX - 7;
        let mut a = SpecIds::new(map, 3);
        assert_eq!((a.take(), a.take()), (Some(0), Some(1)));
        let mut b = SpecIds::new(map, 3);
        assert_eq!((b.take(), b.take()), (Some(2), None));
        drop(a);
        let mut c = SpecIds::new(map, 3);
        let mut got = [c.take().unwrap(), c.take().unwrap()];
        got.sort();
        assert_eq!(got, [0, 1]);
        assert_eq!(c.take(), None);
        assert_eq!(c.len(), 2);
        drop((b, c));
        let mut d = SpecIds::new(map, 3);
        assert_eq!(d.take(), Some(0));
    }
}
