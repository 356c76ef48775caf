//! Iterating a map's entries in batches, without an allocation per entry.

use std::marker::PhantomData;

use super::{Pod, decode};
use crate::error::Result;
use crate::map::{BatchCursor, Map};

/// How many entries one batch lookup asks for.
const BATCH: usize = 256;

/// An iterator over a typed map's `(key, value)` entries. Entries are read
/// in batches of up to 256 (`BPF_MAP_LOOKUP_BATCH`, 5.6), or one key at a
/// time (`BPF_MAP_GET_NEXT_KEY`) where the kernel or map type has no batch
/// lookup. Entries changed during iteration may be seen or not.
#[derive(Debug)]
pub struct Entries<'a, K, V> {
    map: &'a Map,
    mode: Mode,
    keys: Vec<u8>,
    values: Vec<u8>,
    /// The last key read one at a time.
    prev_key: Vec<u8>,
    /// Entries in the buffers, and the next one to yield.
    len: usize,
    next: usize,
    done: bool,
    /// No batch has been asked for yet.
    first: bool,
    decode_value: fn(&[u8], usize) -> V,
    _key: PhantomData<K>,
}

#[derive(Debug)]
enum Mode {
    /// Batch lookups from this cursor.
    Batch(BatchCursor),
    /// One key at a time; `started` once the first key was read.
    Keys { started: bool },
}

impl<'a, K: Pod, V> Entries<'a, K, V> {
    /// Entries of `map`, whose values `decode_value` turns into `V` from a
    /// value buffer ([`Map::value_buffer_size`] bytes) and the number of
    /// possible CPUs' values in it.
    pub(crate) fn new(map: &'a Map, decode_value: fn(&[u8], usize) -> V) -> Self {
        let ks = map.key_size() as usize;
        let vs = map.value_buffer_size();
        Entries {
            map,
            mode: Mode::Batch(BatchCursor::new()),
            keys: vec![0; ks * BATCH],
            values: vec![0; vs * BATCH],
            prev_key: vec![0; ks],
            len: 0,
            next: 0,
            done: false,
            first: true,
            decode_value,
            _key: PhantomData,
        }
    }

    /// Refills the buffers; `Ok(false)` at the end of the map.
    fn fill(&mut self) -> Result<bool> {
        let ks = self.map.key_size() as usize;
        let vs = self.map.value_buffer_size();
        self.next = 0;
        match &mut self.mode {
            Mode::Batch(cursor) => {
                if cursor.is_done() {
                    return Ok(false);
                }
                let res = self
                    .map
                    .lookup_batch_into(cursor, &mut self.keys, &mut self.values);
                let first = std::mem::replace(&mut self.first, false);
                match res {
                    Ok(n) => {
                        self.len = n as usize;
                        // An empty batch that is not the end: ask again.
                        Ok(self.len > 0 || !cursor.is_done())
                    }
                    // No batch lookup for this map type, or (EINVAL on the
                    // first call) no batch commands at all (before 5.6).
                    Err(e)
                        if e.not_supported().is_some()
                            || (first && e.errno() == Some(ebpf_syscall::Errno::INVAL)) =>
                    {
                        self.mode = Mode::Keys { started: false };
                        self.fill()
                    }
                    Err(e) => Err(e),
                }
            }
            Mode::Keys { started } => {
                // One entry per refill, in slot 0, keyed from the previous key.
                let next = &mut self.keys[..ks];
                let found = if *started {
                    self.map.next_key_into(Some(&self.prev_key), next)?
                } else {
                    *started = true;
                    self.map.next_key_into(None, next)?
                };
                if !found {
                    return Ok(false);
                }
                self.prev_key.copy_from_slice(next);
                // A key deleted since it was listed yields nothing: the next
                // refill goes on from it.
                let found = self.map.lookup_into(
                    &self.keys[..ks],
                    &mut self.values[..vs],
                    crate::UpdateFlags::ANY,
                )?;
                self.len = usize::from(found);
                Ok(true)
            }
        }
    }
}

impl<K: Pod, V> Iterator for Entries<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next >= self.len {
            if self.done {
                return None;
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        let ks = self.map.key_size() as usize;
        let vs = self.map.value_buffer_size();
        let i = self.next;
        self.next += 1;
        let key = decode::<K>(&self.keys[i * ks..]);
        let value = (self.decode_value)(&self.values[i * vs..(i + 1) * vs], vs);
        Some(Ok((key, value)))
    }
}
