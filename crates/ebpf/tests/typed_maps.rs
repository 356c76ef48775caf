//! Typed map views against the running kernel: construction checks, element
//! operations and batched iteration.

use ebpf::maps::{
    Array, ArrayOfMaps, BloomFilter, HashMap, LpmKey, LpmTrie, LruHashMap, PerCpuArray,
    PerCpuHashMap, ProgramArray, Queue, Stack, StackTrace,
};
use ebpf::zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
use ebpf::{Map, MapSpec, MapType, UpdateFlags};
use ebpf_test_support::kernel_test;

fn map(t: MapType, key: u32, value: u32, max: u32) -> ebpf::Result<Map> {
    Map::create(&MapSpec::new("typed", t, key, value, max))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
struct Event {
    pid: u32,
    seq: u32,
    ts: u64,
}

#[test]
fn hash_map_round_trips_and_iterates_in_batches() {
    kernel_test(|| {
        let counts: HashMap<u32, Event> = map(MapType::HASH, 4, 16, 1000)?.try_into()?;
        // More than one batch of 256.
        for i in 0..600u32 {
            let e = Event {
                pid: i,
                seq: i * 2,
                ts: u64::from(i) << 20,
            };
            counts.insert(&i, &e, UpdateFlags::ANY)?;
        }
        assert_eq!(counts.get(&7)?.map(|e| e.seq), Some(14));
        assert!(counts.contains_key(&599)? && !counts.contains_key(&600)?);
        let mut seen: Vec<(u32, Event)> = counts.iter().collect::<ebpf::Result<_>>()?;
        seen.sort_by_key(|(k, _)| *k);
        assert_eq!(seen.len(), 600);
        assert!(
            seen.iter()
                .all(|(k, e)| e.pid == *k && e.ts == u64::from(*k) << 20)
        );
        assert!(counts.remove(&7)? && !counts.remove(&7)?);
        assert_eq!(counts.keys().count(), 599);
        Ok(())
    });
}

#[test]
fn construction_checks_type_and_sizes_once() {
    kernel_test(|| {
        let e = HashMap::<u32, u32>::try_from(map(MapType::ARRAY, 4, 4, 1)?).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("its type is array, not hash"),
            "{e}"
        );
        let e = HashMap::<u64, u32>::try_from(map(MapType::HASH, 4, 4, 1)?).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("its keys have 4 bytes, the key type 8"),
            "{e}"
        );
        let e = Array::<u64>::try_from(map(MapType::ARRAY, 4, 4, 1)?).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .starts_with("map 'typed': array: invalid argument: its values have 4 bytes"),
            "{e}"
        );
        let lru: LruHashMap<u32, u32> = map(MapType::LRU_HASH, 4, 4, 8)?.try_into()?;
        lru.insert(&1, &2, UpdateFlags::ANY)?;
        assert_eq!(lru.get(&1)?, Some(2));
        // The map is still there to take back.
        assert_eq!(lru.into_inner().map_type(), MapType::LRU_HASH);
        Ok(())
    });
}

#[test]
fn arrays_by_index() {
    kernel_test(|| {
        let a: Array<u64> = map(MapType::ARRAY, 4, 8, 300)?.try_into()?;
        assert_eq!(a.len(), 300);
        a.set(299, &42)?;
        assert_eq!(a.get(299)?, 42);
        assert!(a.get(300).is_err());
        let all: Vec<u64> = a.iter().collect::<ebpf::Result<_>>()?;
        assert_eq!(all.len(), 300);
        assert_eq!((all[0], all[299]), (0, 42));
        Ok(())
    });
}

#[test]
fn per_cpu_values_one_per_possible_cpu() {
    kernel_test(|| {
        let cpus = ebpf::possible_cpus()?;
        let h: PerCpuHashMap<u32, u64> = map(MapType::PERCPU_HASH, 4, 8, 16)?.try_into()?;
        let values: Vec<u64> = (0..cpus as u64).collect();
        h.insert(&5, &values, UpdateFlags::ANY)?;
        let got = h.get(&5)?.unwrap();
        assert_eq!(got.len(), cpus);
        assert_eq!(&got[..], &values[..]);
        assert_eq!(got.sum(), values.iter().sum::<u64>());
        let entries: Vec<_> = h.iter().collect::<ebpf::Result<_>>()?;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].1.len(), cpus);
        assert!(h.insert(&6, &values[1..], UpdateFlags::ANY).is_err());

        let a: PerCpuArray<u32> = map(MapType::PERCPU_ARRAY, 4, 4, 2)?.try_into()?;
        let ones = vec![1u32; cpus];
        a.set(1, &ones)?;
        assert_eq!(a.get(1)?.sum(), cpus as u32);
        assert_eq!(a.iter().count(), 2);
        Ok(())
    });
}

#[test]
fn lpm_trie_matches_the_longest_prefix() {
    kernel_test(|| {
        let spec = MapSpec {
            flags: ebpf_spec::MAP_FLAG_NO_PREALLOC,
            ..MapSpec::new("lpm", MapType::LPM_TRIE, 8, 4, 16)
        };
        let t: LpmTrie<LpmKey<[u8; 4]>, u32> = Map::create(&spec)?.try_into()?;
        t.insert(&LpmKey::new(8, [10, 0, 0, 0]), &8, UpdateFlags::ANY)?;
        t.insert(&LpmKey::new(24, [10, 1, 2, 0]), &24, UpdateFlags::ANY)?;
        assert_eq!(t.get(&LpmKey::new(32, [10, 1, 2, 3]))?, Some(24));
        assert_eq!(t.get(&LpmKey::new(32, [10, 9, 9, 9]))?, Some(8));
        assert_eq!(t.get(&LpmKey::new(32, [11, 0, 0, 0]))?, None);
        // LPM tries have no batch lookup: iteration goes key by key.
        assert_eq!(t.iter().count(), 2);
        Ok(())
    });
}

#[test]
fn queues_stacks_and_bloom_filters() {
    kernel_test(|| {
        let q: Queue<u32> = map(MapType::QUEUE, 0, 4, 4)?.try_into()?;
        let s: Stack<u32> = map(MapType::STACK, 0, 4, 4)?.try_into()?;
        for i in 1..=3 {
            q.push(&i, UpdateFlags::ANY)?;
            s.push(&i, UpdateFlags::ANY)?;
        }
        assert_eq!(q.peek()?, Some(1));
        assert_eq!((q.pop()?, s.pop()?), (Some(1), Some(3)));
        assert_eq!((q.pop()?, s.pop()?), (Some(2), Some(2)));
        assert_eq!((q.pop()?, q.pop()?), (Some(3), None));
        let Some(bloom) =
            ebpf_test_support::skip_if_not_supported(map(MapType::BLOOM_FILTER, 0, 8, 64))
        else {
            return Ok(());
        };
        let bloom: BloomFilter<u64> = bloom.try_into()?;
        bloom.insert(&0xfeed)?;
        assert!(bloom.contains(&0xfeed)?);
        Ok(())
    });
}

#[test]
fn maps_of_kernel_objects() {
    kernel_test(|| {
        let progs: ProgramArray = map(MapType::PROG_ARRAY, 4, 4, 2)?.try_into()?;
        let insns = ebpf_asm::Instructions::from(vec![
            ebpf_asm::mov64(ebpf_asm::Register::R0, 0),
            ebpf_asm::exit(),
        ]);
        let prog = ebpf::Program::load_raw(ebpf::ProgramType::SOCKET_FILTER, insns, "GPL")?;
        progs.set(1, &prog)?;
        assert_eq!(progs.program_id(1)?, Some(prog.id()?));
        assert!(progs.clear(1)? && !progs.clear(1)?);

        let mut spec = MapSpec::new("outer", MapType::ARRAY_OF_MAPS, 4, 4, 2);
        spec.inner_map = Some(Box::new(MapSpec::new("inner", MapType::ARRAY, 4, 4, 1)));
        let outer: ArrayOfMaps = Map::create(&spec)?.try_into()?;
        let inner = map(MapType::ARRAY, 4, 4, 1)?;
        outer.set(&0, &inner)?;
        assert!(outer.remove(&0)?);

        let stacks: StackTrace = map(MapType::STACK_TRACE, 4, 8 * 16, 8)?.try_into()?;
        assert_eq!(stacks.get(0)?, None);
        Ok(())
    });
}
