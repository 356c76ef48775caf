//! The live tables of `run`: each shown map is read with batch lookups where
//! the kernel has them (else key by key), and a map of integer values is a top
//! table with each key's total and its rate over the last interval.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use ebpf::{BatchCursor, Map};
use ebpf_spec::{CollectionSpec, MapSpec, MapType};

use crate::value;

/// Entries asked for per batch lookup.
const BATCH: usize = 256;

/// Map types whose contents are shown (the others hold fds or stream data).
pub fn is_shown(spec: &MapSpec) -> bool {
    ![
        MapType::RINGBUF,
        MapType::PERF_EVENT_ARRAY,
        MapType::PROG_ARRAY,
        MapType::ARRAY_OF_MAPS,
        MapType::HASH_OF_MAPS,
        MapType::USER_RINGBUF,
        MapType::STRUCT_OPS,
    ]
    .contains(&spec.map_type)
        && spec.name != ebpf_spec::KCONFIG_SECTION
        // Constants (`.rodata`, `.rodata.str1.1`) do not change while running.
        && !spec.name.starts_with(".rodata")
        && spec.value_size > 0
}

/// Whether a map of this type stops taking new keys once full: a hash that
/// does not evict (LRU hashes do; arrays are always full).
fn fills_up(map_type: MapType) -> bool {
    [MapType::HASH, MapType::PERCPU_HASH, MapType::LPM_TRIE].contains(&map_type)
}

/// The warning for a map holding `entries` of at most `max_entries`, if it is
/// full and takes no new keys.
pub fn full_warning(name: &str, map_type: MapType, entries: usize, max: u32) -> Option<String> {
    (fills_up(map_type) && max > 0 && entries >= max as usize).then(|| {
        format!(
            "map {name} is full ({entries} entries): new keys are not added \
             (an LRU hash would evict the least recently used)"
        )
    })
}

/// Whether values of this map are a single integer (shown as a sorted top table).
fn integer_value(spec: &CollectionSpec, map: &MapSpec) -> bool {
    let (Some(btf), Some(id)) = (&spec.btf, map.value_type) else {
        return matches!(map.value_size, 4 | 8);
    };
    let Ok(id) = btf.underlying_type(id) else {
        return false;
    };
    matches!(btf.type_by_id(id), Ok(ebpf_btf::Type::Int(_)))
}

/// A key or value as one line of text, decoded with BTF where there is some.
pub fn describe(
    spec: &CollectionSpec,
    map: &MapSpec,
    which: Option<ebpf_btf::TypeId>,
    bytes: &[u8],
) -> String {
    match (&spec.btf, which) {
        (Some(btf), Some(id)) => value::format(btf, id, bytes),
        // Untyped keys and values of integer size read best as integers.
        _ => match value::read_uint(bytes) {
            Some(v) => v.to_string(),
            None => value::hex(bytes),
        },
    }
    .replace('\n', " ")
    .chars()
    .take(if map.name.is_empty() { 0 } else { 160 })
    .collect()
}

/// Every entry of `map` through batch lookups, as (key, value buffer) pairs.
fn read_batch(map: &Map) -> ebpf::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut cursor = BatchCursor::new();
    let mut out = Vec::new();
    // A hash map changing under the lookup could go on; its size bounds it.
    let rounds = map.max_entries() as usize / BATCH + 2;
    for _ in 0..rounds {
        if cursor.is_done() {
            break;
        }
        let count = u32::try_from(BATCH).unwrap_or(u32::MAX);
        out.extend(map.lookup_batch(&mut cursor, count)?);
    }
    Ok(out)
}

/// Every entry of `map`, key by key (entries deleted meanwhile are skipped).
fn read_iter(map: &Map) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for key in map.keys() {
        let Ok(key) = key else { break };
        if let Ok(Some(v)) = map.lookup(&key) {
            out.push((key, v));
        }
    }
    out
}

/// One shown map and what the previous refresh read from it.
#[derive(Debug)]
pub struct MapTable<'a> {
    spec: &'a CollectionSpec,
    map_spec: &'a MapSpec,
    integer: bool,
    /// Whether batch lookups work on this map (`None`: not tried yet).
    batch: Option<bool>,
    warned_full: bool,
    /// The totals by key at the previous refresh, and its time.
    prev: HashMap<Vec<u8>, u64>,
    prev_at: Instant,
    /// The heading of the totals column (`CALLS`, `VALUE`).
    label: &'static str,
}

impl<'a> MapTable<'a> {
    /// A table for `map_spec`, whose rates count from `start`.
    pub fn new(
        spec: &'a CollectionSpec,
        map_spec: &'a MapSpec,
        label: &'static str,
        start: Instant,
    ) -> Self {
        Self {
            spec,
            map_spec,
            integer: integer_value(spec, map_spec),
            batch: None,
            warned_full: false,
            prev: HashMap::new(),
            prev_at: start,
            label,
        }
    }

    /// The entries of `map`, in batches unless the kernel cannot.
    fn read(&mut self, map: &Map) -> Vec<(Vec<u8>, Vec<u8>)> {
        if self.batch != Some(false) {
            match read_batch(map) {
                Ok(entries) => {
                    if self.batch.is_none() {
                        log::info!("map {}: read with batch lookups", self.map_spec.name);
                    }
                    self.batch = Some(true);
                    return entries;
                }
                Err(e) => {
                    log::info!(
                        "map {}: batch lookup failed, reading key by key: {}",
                        self.map_spec.name,
                        ebpf::ErrorChain(&e)
                    );
                    self.batch = Some(false);
                }
            }
        }
        read_iter(map)
    }

    /// A value buffer as one value: per-CPU integers summed, else CPU 0's.
    fn one_value(&self, map: &Map, buf: Vec<u8>) -> Vec<u8> {
        if !map.is_per_cpu() {
            return buf;
        }
        let size = self.map_spec.value_size as usize;
        let stride = size.next_multiple_of(8).max(1);
        if self.integer {
            let sum: u64 = buf
                .chunks(stride)
                .filter_map(|v| value::read_uint(&v[..size.min(v.len())]))
                .fold(0, u64::wrapping_add);
            sum.to_ne_bytes()[..size.min(8)].to_vec()
        } else {
            buf.get(..size).map(<[u8]>::to_vec).unwrap_or_default()
        }
    }

    /// The map's contents as text; the warning for a full map is returned
    /// the first time only.
    pub fn render(&mut self, map: &Map, top: usize, now: Instant) -> (String, Option<String>) {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = self
            .read(map)
            .into_iter()
            .map(|(k, v)| {
                let v = self.one_value(map, v);
                (k, v)
            })
            .collect();
        let total = entries.len();
        let ms = self.map_spec;
        let mut warning = None;
        if !self.warned_full {
            warning = full_warning(&ms.name, map.map_type(), total, map.max_entries());
            self.warned_full = warning.is_some();
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "map {} ({}, {} entries{}):",
            ms.name,
            ms.map_type,
            total,
            if total > top {
                format!(", top {top}")
            } else {
                String::new()
            }
        );
        if !self.integer {
            for (k, v) in entries.iter().take(top) {
                let _ = writeln!(
                    out,
                    "  {} => {}",
                    describe(self.spec, ms, ms.key_type, k),
                    describe(self.spec, ms, ms.value_type, v)
                );
            }
            return (out, warning);
        }
        // Totals and their growth since the previous refresh.
        let secs = now.duration_since(self.prev_at).as_secs_f64().max(1e-3);
        let mut rows: Vec<(Vec<u8>, u64, f64)> = entries
            .into_iter()
            .map(|(k, v)| {
                let cur = value::read_uint(&v).unwrap_or(0);
                // A key seen anew (or evicted and back) counts from zero.
                let prev = self.prev.get(&k).copied().filter(|&p| p <= cur);
                let rate = (cur - prev.unwrap_or(0)) as f64 / secs;
                (k, cur, rate)
            })
            .collect();
        self.prev = rows.iter().map(|(k, cur, _)| (k.clone(), *cur)).collect();
        self.prev_at = now;
        rows.sort_by(|a, b| {
            b.2.total_cmp(&a.2)
                .then_with(|| b.1.cmp(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        let label = self.label;
        let _ = writeln!(out, "  {label:>12}  {:>10}  KEY", format!("{label}/S"));
        for (k, cur, rate) in rows.iter().take(top) {
            let _ = writeln!(
                out,
                "  {cur:>12}  {rate:>10.0}  {}",
                describe(self.spec, ms, ms.key_type, k)
            );
        }
        (out, warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_hash_that_does_not_evict_warns() {
        let w = full_warning("counts", MapType::HASH, 10, 10).expect("full");
        assert!(w.starts_with("map counts is full (10 entries)"), "{w}");
        assert!(full_warning("counts", MapType::PERCPU_HASH, 10, 10).is_some());
        assert!(full_warning("counts", MapType::HASH, 9, 10).is_none());
        assert!(full_warning("counts", MapType::LRU_HASH, 10, 10).is_none());
        assert!(full_warning("counts", MapType::ARRAY, 10, 10).is_none());
    }

    #[test]
    fn constants_are_not_shown() {
        let obj = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/syscount-el.o"
        ))
        .unwrap();
        let spec = CollectionSpec::from_elf(&obj).unwrap();
        assert!(!is_shown(&spec.maps[".rodata"]));
        assert!(is_shown(&spec.maps["counts"]));
        assert_eq!(spec.maps["counts"].map_type, MapType::LRU_HASH);
    }
}
