//! Iteration over a [`Map`]'s keys and entries.

use super::Map;
use crate::error::{Error, Result};

impl Map {
    /// Iterates over the keys (`BPF_MAP_GET_NEXT_KEY`).
    pub fn keys(&self) -> MapKeys<'_> {
        MapKeys {
            map: self,
            prev: None,
            done: false,
            count: 0,
        }
    }

    /// Iterates over `(key, value)` pairs. Keys deleted during iteration are skipped.
    pub fn iter(&self) -> MapIter<'_> {
        MapIter { keys: self.keys() }
    }
}

/// Iterator over a map's keys; see [`Map::keys`].
#[derive(Debug)]
pub struct MapKeys<'a> {
    map: &'a Map,
    prev: Option<Vec<u8>>,
    done: bool,
    count: u64,
}

impl Iterator for MapKeys<'_> {
    type Item = Result<Vec<u8>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.map.next_key(self.prev.as_deref()) {
            Ok(Some(k)) => {
                // When the previous key is deleted meanwhile, a hash map starts
                // over from its first key; give up rather than loop forever.
                self.count += 1;
                if self.count > 2 * u64::from(self.map.max_entries().max(1)) + 16 {
                    self.done = true;
                    return Some(Err(Error::map(&self.map.name, "iterate")(Error::InvalidArgument(
                        "iteration aborted: the map changed too much while iterating (keys deleted)".into(),
                    ))));
                }
                self.prev = Some(k.clone());
                Some(Ok(k))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Iterator over a map's `(key, value)` pairs; see [`Map::iter`].
#[derive(Debug)]
pub struct MapIter<'a> {
    keys: MapKeys<'a>,
}

impl Iterator for MapIter<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.next()? {
                Ok(k) => k,
                Err(e) => return Some(Err(e)),
            };
            match self.keys.map.lookup(&key) {
                Ok(Some(v)) => return Some(Ok((key, v))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
