//! Map operations against the running kernel, for every map type it supports.

use ebpf::{BatchCursor, Map, MapSpec, MapType, UpdateFlags};
use ebpf_test_support::{BpfFs, kernel_test, skip_if_not_supported};

fn create(spec: &MapSpec) -> Option<Map> {
    skip_if_not_supported(Map::create(spec))
}

#[test]
fn hash_ops() {
    kernel_test(|| {
        let map = create(&MapSpec::new("hash", MapType::HASH, 4, 8, 16)).unwrap();
        assert_eq!(map.name(), "hash");
        assert_eq!(map.key_size(), 4);
        assert_eq!(map.get::<u32, u64>(&1).unwrap(), None);
        map.put(&1u32, &42u64, UpdateFlags::ANY).unwrap();
        map.put(&2u32, &43u64, UpdateFlags::NO_EXIST).unwrap();
        let e = map.put(&2u32, &44u64, UpdateFlags::NO_EXIST).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("map 'hash': update"),
            "{e}"
        );
        assert!(map.put(&3u32, &1u64, UpdateFlags::EXIST).is_err());
        assert_eq!(map.get::<u32, u64>(&1).unwrap(), Some(42));
        let mut keys: Vec<u32> = map
            .keys()
            .map(|k| u32::from_ne_bytes(k.unwrap().try_into().unwrap()))
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, [1, 2]);
        assert_eq!(map.iter().count(), 2);
        assert!(map.remove(&1u32).unwrap());
        assert!(!map.remove(&1u32).unwrap());
        // Lookup and delete on a hash map: 5.14.
        if let Some(v) = skip_if_not_supported(map.lookup_and_delete(&2u32.to_ne_bytes())) {
            assert_eq!(v, Some(43u64.to_ne_bytes().to_vec()));
            assert_eq!(map.iter().count(), 0);
        } else {
            assert!(map.remove(&2u32).unwrap());
        }
        // Wrong sizes are refused before the kernel is asked.
        let e = map.lookup(&[0u8; 3]).unwrap_err();
        assert!(ebpf::ErrorChain(&e).to_string().contains("3 bytes"), "{e}");

        let info = map.info().unwrap();
        assert_eq!(info.map_type, MapType::HASH);
        assert_eq!(info.name, "hash");
        assert_eq!(info.max_entries, 16);
        let again = Map::from_id(info.id).unwrap();
        assert_eq!(again.value_size(), 8);
        let dup = map.try_clone().unwrap();
        dup.put(&9u32, &9u64, UpdateFlags::ANY).unwrap();
        assert_eq!(map.get::<u32, u64>(&9).unwrap(), Some(9));
        Ok(())
    });
}

#[test]
fn batch_ops() {
    kernel_test(|| {
        let map = create(&MapSpec::new("batch", MapType::HASH, 4, 4, 64)).unwrap();
        let keys: Vec<u8> = (0u32..10).flat_map(u32::to_ne_bytes).collect();
        let values: Vec<u8> = (100u32..110).flat_map(u32::to_ne_bytes).collect();
        assert_eq!(
            map.update_batch(&keys, &values, UpdateFlags::ANY).unwrap(),
            10
        );
        let mut cursor = BatchCursor::new();
        let mut all = Vec::new();
        while !cursor.is_done() {
            all.extend(map.lookup_batch(&mut cursor, 3).unwrap());
        }
        assert_eq!(all.len(), 10);
        for (k, v) in &all {
            let k = u32::from_ne_bytes(k[..].try_into().unwrap());
            assert_eq!(u32::from_ne_bytes(v[..].try_into().unwrap()), k + 100);
        }
        assert_eq!(map.delete_batch(&keys[..8]).unwrap(), 2);
        let mut cursor = BatchCursor::new();
        let mut gone = Vec::new();
        while !cursor.is_done() {
            gone.extend(map.lookup_and_delete_batch(&mut cursor, 4).unwrap());
        }
        assert_eq!(gone.len(), 8);
        assert_eq!(map.iter().count(), 0);
        Ok(())
    });
}

#[test]
fn batch_into_caller_buffers() {
    kernel_test(|| {
        let map = create(&MapSpec::new("batch_into", MapType::HASH, 4, 8, 128)).unwrap();
        let keys: Vec<u8> = (0u32..100).flat_map(u32::to_ne_bytes).collect();
        let values: Vec<u8> = (0u64..100)
            .map(|k| k * 7)
            .flat_map(u64::to_ne_bytes)
            .collect();
        assert_eq!(
            map.update_batch(&keys, &values, UpdateFlags::ANY).unwrap(),
            100
        );

        // Read everything 16 entries at a time through the same two buffers.
        let (mut kbuf, mut vbuf) = (vec![0u8; 16 * 4], vec![0u8; 16 * 8]);
        let mut cursor = BatchCursor::new();
        let mut seen = std::collections::BTreeMap::new();
        while !cursor.is_done() {
            let n = map
                .lookup_batch_into(&mut cursor, &mut kbuf, &mut vbuf)
                .unwrap() as usize;
            for i in 0..n {
                let k = u32::from_ne_bytes(kbuf[i * 4..i * 4 + 4].try_into().unwrap());
                let v = u64::from_ne_bytes(vbuf[i * 8..i * 8 + 8].try_into().unwrap());
                assert!(seen.insert(k, v).is_none(), "key {k} returned twice");
            }
        }
        assert_eq!(seen.len(), 100);
        assert!(seen.iter().all(|(k, v)| *v == u64::from(*k) * 7));

        // Buffers that are not whole entries are refused before the kernel sees them.
        let err = map
            .lookup_batch_into(&mut BatchCursor::new(), &mut kbuf[..5], &mut vbuf)
            .unwrap_err();
        assert!(
            ebpf::ErrorChain(&err)
                .to_string()
                .contains("not whole entries"),
            "{err}"
        );

        let mut cursor = BatchCursor::new();
        let mut deleted = 0;
        while !cursor.is_done() {
            deleted += map
                .lookup_and_delete_batch_into(&mut cursor, &mut kbuf, &mut vbuf)
                .unwrap();
        }
        assert_eq!(deleted, 100);
        assert_eq!(map.iter().count(), 0);
        Ok(())
    });
}

#[test]
fn per_cpu() {
    kernel_test(|| {
        let cpus = ebpf::possible_cpus().unwrap();
        for t in [
            MapType::PERCPU_ARRAY,
            MapType::PERCPU_HASH,
            MapType::LRU_PERCPU_HASH,
        ] {
            let Some(map) = create(&MapSpec::new("pcpu", t, 4, 4, 4)) else {
                continue;
            };
            assert!(map.is_per_cpu());
            assert_eq!(map.value_buffer_size(), 8 * cpus);
            let vals: Vec<Vec<u8>> = (0..cpus as u32)
                .map(|c| (c + 1).to_ne_bytes().to_vec())
                .collect();
            map.update_percpu(&0u32.to_ne_bytes(), &vals, UpdateFlags::ANY)
                .unwrap();
            let got = map.get_percpu::<u32, u32>(&0).unwrap().unwrap();
            assert_eq!(got, (1..=cpus as u32).collect::<Vec<_>>(), "{t}");
            assert!(
                map.update_percpu(&0u32.to_ne_bytes(), &vals[..0], UpdateFlags::ANY)
                    .is_err()
            );
        }
        Ok(())
    });
}

#[test]
fn every_map_type() {
    kernel_test(|| {
        let page = 4096;
        let mut lpm = MapSpec::new("lpm", MapType::LPM_TRIE, 8, 4, 16);
        lpm.flags = ebpf_spec::MAP_FLAG_NO_PREALLOC;
        let mut bloom = MapSpec::new("bloom", MapType::BLOOM_FILTER, 0, 4, 16);
        bloom.map_extra = 3;
        let mut arena = MapSpec::new("arena", MapType::ARENA, 0, 0, 1);
        arena.flags = 1 << 10; // BPF_F_MMAPABLE
        let mut arr_of = MapSpec::new("aom", MapType::ARRAY_OF_MAPS, 4, 4, 2);
        arr_of.inner_map = Some(Box::new(MapSpec::new("inner", MapType::ARRAY, 4, 4, 1)));
        let mut hash_of = MapSpec::new("hom", MapType::HASH_OF_MAPS, 4, 4, 2);
        hash_of.inner_map = Some(Box::new(MapSpec::new("inner", MapType::HASH, 4, 4, 1)));
        let specs = vec![
            MapSpec::new("array", MapType::ARRAY, 4, 8, 4),
            MapSpec::new("lru", MapType::LRU_HASH, 8, 4, 16),
            MapSpec::new("progs", MapType::PROG_ARRAY, 4, 4, 4),
            MapSpec::new("perf", MapType::PERF_EVENT_ARRAY, 4, 4, 0),
            MapSpec::new("stack", MapType::STACK_TRACE, 4, 8 * 127, 16),
            MapSpec::new("cgarr", MapType::CGROUP_ARRAY, 4, 4, 4),
            lpm,
            arr_of,
            hash_of,
            MapSpec::new("devmap", MapType::DEVMAP, 4, 4, 4),
            MapSpec::new("sockmap", MapType::SOCKMAP, 4, 4, 4),
            MapSpec::new("cpumap", MapType::CPUMAP, 4, 4, 2),
            MapSpec::new("xskmap", MapType::XSKMAP, 4, 4, 4),
            MapSpec::new("sockhash", MapType::SOCKHASH, 4, 4, 4),
            MapSpec::new("queue", MapType::QUEUE, 0, 4, 4),
            MapSpec::new("stack2", MapType::STACK, 0, 4, 4),
            MapSpec::new("devhash", MapType::DEVMAP_HASH, 4, 4, 4),
            MapSpec::new("ringbuf", MapType::RINGBUF, 0, 0, page * 4),
            MapSpec::new("uringbuf", MapType::USER_RINGBUF, 0, 0, page * 4),
            bloom,
            arena,
            MapSpec::new("reuse", MapType::REUSEPORT_SOCKARRAY, 4, 4, 4),
        ];
        for spec in &specs {
            let Some(map) = create(spec) else { continue };
            let info = map.info().unwrap();
            assert_eq!(info.map_type, spec.map_type, "{}", spec.name);
            match spec.map_type {
                MapType::PERF_EVENT_ARRAY => {
                    assert_eq!(map.max_entries() as usize, ebpf::possible_cpus().unwrap());
                }
                MapType::QUEUE | MapType::STACK => {
                    map.update(&[], &1u32.to_ne_bytes(), UpdateFlags::ANY)
                        .unwrap();
                    map.update(&[], &2u32.to_ne_bytes(), UpdateFlags::ANY)
                        .unwrap();
                    let top = map.lookup_and_delete(&[]).unwrap().unwrap();
                    let want: u32 = if spec.map_type == MapType::QUEUE {
                        1
                    } else {
                        2
                    };
                    assert_eq!(top, want.to_ne_bytes());
                }
                MapType::BLOOM_FILTER => {
                    map.update(&[], &5u32.to_ne_bytes(), UpdateFlags::ANY)
                        .unwrap();
                    // A bloom filter is queried with the value as input.
                    let mut probe = 5u32.to_ne_bytes();
                    assert!(map.lookup_into(&[], &mut probe, UpdateFlags::ANY).unwrap());
                }
                MapType::LPM_TRIE => {
                    let key = [24u32.to_ne_bytes(), [10, 0, 0, 0]].concat();
                    map.update(&key, &7u32.to_ne_bytes(), UpdateFlags::ANY)
                        .unwrap();
                    let probe = [32u32.to_ne_bytes(), [10, 0, 0, 9]].concat();
                    assert_eq!(
                        map.lookup(&probe).unwrap(),
                        Some(7u32.to_ne_bytes().to_vec())
                    );
                }
                MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS => {
                    let inner = Map::create(spec.inner_map.as_deref().unwrap()).unwrap();
                    map.set_fd(&0u32.to_ne_bytes(), &inner).unwrap();
                    let id = map.lookup(&0u32.to_ne_bytes()).unwrap().unwrap();
                    assert_eq!(
                        u32::from_ne_bytes(id[..].try_into().unwrap()),
                        inner.id().unwrap()
                    );
                }
                MapType::ARRAY => {
                    map.put(&3u32, &7u64, UpdateFlags::ANY).unwrap();
                    assert_eq!(map.keys().count(), 4);
                    assert!(map.put(&4u32, &7u64, UpdateFlags::ANY).is_err());
                }
                _ => {}
            }
        }
        Ok(())
    });
}

#[test]
fn ringbuf_size_rounded() {
    kernel_test(|| {
        let map = create(&MapSpec::new("rb", MapType::RINGBUF, 0, 0, 5000)).unwrap();
        assert_eq!(map.max_entries(), 8192);
        Ok(())
    });
}

#[test]
fn lpm_without_no_prealloc_hints() {
    kernel_test(|| {
        let e = Map::create(&MapSpec::new("lpm", MapType::LPM_TRIE, 8, 4, 16)).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("BPF_F_NO_PREALLOC"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn freeze() {
    kernel_test(|| {
        let mut spec = MapSpec::new("frozen", MapType::ARRAY, 4, 4, 1);
        spec.contents.push(ebpf_spec::MapEntry {
            key: ebpf_spec::MapKey::Index(0),
            value: ebpf_spec::MapValue::Bytes(7u32.to_ne_bytes().to_vec().into()),
        });
        spec.freeze = true;
        let map = create(&spec).unwrap();
        assert_eq!(map.get::<u32, u32>(&0).unwrap(), Some(7));
        assert!(map.put(&0u32, &8u32, UpdateFlags::ANY).is_err());
        Ok(())
    });
}

#[test]
fn pin_and_reopen() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let path = fs.path().join("pinned");
        let mut map = create(&MapSpec::new("pinme", MapType::HASH, 4, 4, 4)).unwrap();
        map.put(&1u32, &2u32, UpdateFlags::ANY).unwrap();
        map.pin(&path).unwrap();
        assert!(path.exists());
        {
            let again = Map::from_pin(&path).unwrap();
            assert_eq!(again.name(), "pinme");
            assert_eq!(again.get::<u32, u32>(&1).unwrap(), Some(2));
            assert_eq!(again.pinned_path(), Some(path.as_path()));
        }
        map.unpin().unwrap();
        assert!(!path.exists());
        let e = Map::from_pin(&path).unwrap_err();
        assert!(ebpf::ErrorChain(&e).to_string().contains("open pin"), "{e}");
        // Pinning outside a bpffs is refused with a clear message.
        let e = map.pin("/tmp/not-bpffs-pin").unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("not on a BPF filesystem"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn object_ids() {
    kernel_test(|| {
        let map = create(&MapSpec::new("listed", MapType::ARRAY, 4, 4, 1)).unwrap();
        let id = map.id().unwrap();
        let ids: Vec<u32> = ebpf::info::map_ids().map(Result::unwrap).collect();
        assert!(ids.contains(&id));
        let btf: Vec<u32> = ebpf::info::btf_ids().map(Result::unwrap).collect();
        // Kernel BTF objects (vmlinux first) have ids from 5.11.
        if ebpf_test_support::kernel_version() >= ebpf::KernelVersion::new(5, 11, 0) {
            let vmlinux = ebpf::info::btf_info_by_id(btf[0]).unwrap();
            assert!(vmlinux.kernel);
            assert_eq!(vmlinux.name, "vmlinux");
        }
        Ok(())
    });
}

#[test]
fn not_supported_is_found_in_the_chain() {
    // A NotSupported wrapped in map context is still found by the skip helper.
    let e = ebpf::Error::NotSupported(ebpf::NotSupported::new(
        "BPF_MAP_TYPE_FUTURE",
        ebpf::KernelVersion::new(99, 0, 0),
    ));
    let wrapped: Result<(), ebpf::Error> = Err(ebpf::Error::Map {
        name: "m".into(),
        op: "create",
        source: Box::new(e),
    });
    let err = wrapped.as_ref().unwrap_err();
    assert!(err.not_supported().is_some());
    assert_eq!(err.to_string(), "map 'm': create");
    let text = ebpf::ErrorChain(err).to_string();
    assert!(
        text.starts_with("map 'm': create: BPF_MAP_TYPE_FUTURE is not supported"),
        "{text}"
    );
    // The skip helper finds it (a skip: the feature is newer than the kernel).
    assert_eq!(ebpf_test_support::skip_if_not_supported(wrapped), None);
}

/// BTF: [1] unsigned int, [2] struct bpf_spin_lock { val }, [3] struct locked { lock; v }.
fn lock_btf() -> ebpf_btf::Spec {
    use ebpf_btf::{Builder, Int, IntEncoding, Member, Struct, Type, TypeId};
    let mut b = Builder::new();
    let u32_id = b.add(Type::Int(Int {
        name: "unsigned int".into(),
        size: 4,
        encoding: IntEncoding::Unsigned,
        offset: 0,
        bits: 32,
    }));
    let member = |name: &str, type_id: TypeId, bit_offset: u32| Member {
        name: name.into(),
        type_id,
        bit_offset,
        bitfield_size: 0,
    };
    let lock = b.add(Type::Struct(Struct {
        name: "bpf_spin_lock".into(),
        size: 4,
        members: vec![member("val", u32_id, 0)],
    }));
    b.add(Type::Struct(Struct {
        name: "locked".into(),
        size: 8,
        members: vec![member("lock", lock, 0), member("v", u32_id, 32)],
    }));
    ebpf_btf::Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap()
}

#[test]
fn spin_lock_values() {
    kernel_test(|| {
        let btf = lock_btf();
        let mut spec = MapSpec::new("locked", MapType::HASH, 4, 8, 4);
        spec.key_type = Some(ebpf_btf::TypeId(1));
        spec.value_type = Some(ebpf_btf::TypeId(3));
        let Some(map) = skip_if_not_supported(Map::create_with_btf(&spec, &btf)) else {
            return Ok(());
        };
        assert!(map.info().unwrap().btf_id > 0);
        let value = [0u32.to_ne_bytes(), 7u32.to_ne_bytes()].concat();
        map.update(&1u32.to_ne_bytes(), &value, UpdateFlags::LOCK)
            .unwrap();
        let mut out = vec![0u8; 8];
        assert!(
            map.lookup_into(&1u32.to_ne_bytes(), &mut out, UpdateFlags::LOCK)
                .unwrap()
        );
        assert_eq!(out[4..], 7u32.to_ne_bytes());
        // Without BTF the kernel does not know where the lock is.
        let plain = Map::create(&MapSpec::new("unlocked", MapType::HASH, 4, 8, 4)).unwrap();
        assert!(
            plain
                .update(&1u32.to_ne_bytes(), &value, UpdateFlags::LOCK)
                .is_err()
        );
        Ok(())
    });
}

#[test]
fn local_storage_maps() {
    kernel_test(|| {
        use std::os::fd::AsRawFd;
        let btf = lock_btf();
        let storage = |name: &str, t: MapType| {
            let mut spec = MapSpec::new(name, t, 4, 4, 0);
            spec.flags = ebpf_spec::MAP_FLAG_NO_PREALLOC;
            spec.key_type = Some(ebpf_btf::TypeId(1));
            spec.value_type = Some(ebpf_btf::TypeId(1));
            spec
        };
        // Without BTF the kernel refuses them; the error says why.
        let e = Map::create(&MapSpec {
            flags: ebpf_spec::MAP_FLAG_NO_PREALLOC,
            ..MapSpec::new("nobtf", MapType::SK_STORAGE, 4, 4, 0)
        })
        .unwrap_err();
        assert!(ebpf::ErrorChain(&e).to_string().contains("need BTF"), "{e}");
        // Each storage is keyed by an fd of the object it belongs to.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let cg = ebpf_test_support::TempCgroup::new().unwrap();
        let cgroup = std::fs::File::open(cg.path()).unwrap();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let cases: [(MapType, i32); 3] = [
            (MapType::SK_STORAGE, sock.as_raw_fd()),
            (MapType::CGRP_STORAGE, cgroup.as_raw_fd()),
            (MapType::INODE_STORAGE, file.as_raw_fd()),
        ];
        for (t, fd) in cases {
            let spec = storage("storage", t);
            let Some(map) = skip_if_not_supported(Map::create_with_btf(&spec, &btf)) else {
                continue;
            };
            let key = fd.to_ne_bytes();
            match map.update(&key, &9u32.to_ne_bytes(), UpdateFlags::ANY) {
                Ok(()) => {
                    assert_eq!(map.get::<i32, u32>(&fd).unwrap(), Some(9), "{t}");
                    assert!(map.delete(&key).unwrap(), "{t}");
                }
                // Inode storage needs the BPF LSM to be active.
                Err(e) if t == MapType::INODE_STORAGE => println!("{t}: {e}"),
                Err(e) => panic!("{t}: {e}"),
            }
        }
        Ok(())
    });
}
