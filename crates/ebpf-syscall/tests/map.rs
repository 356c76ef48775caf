//! Real-kernel tests of the map commands, pinning and ids.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use ebpf_syscall::*;
use ebpf_test_support::{BpfFs, kernel_test};

fn hash_map(max: u32) -> MapFd {
    let mut attr = MapCreateAttr::new(MapType::HASH, 4, 8, max);
    attr.map_name = obj_name("test.hash").unwrap();
    map_create_sized(&attr).unwrap()
}

/// Asserts `r` is the typed size error for `buffer`, `expected` and `given`.
#[track_caller]
fn assert_size_err<T: std::fmt::Debug>(
    r: Result<T>,
    buffer: MapBuffer,
    expected: usize,
    given: usize,
) {
    match r {
        Err(Error::BufferSize {
            buffer: b,
            expected: e,
            given: g,
        }) => assert_eq!((b, e, g), (buffer, expected, given)),
        other => panic!("expected a {buffer} size error, got {other:?}"),
    }
}

#[test]
fn hash_map_elements() {
    kernel_test(|| {
        let map = hash_map(16);
        assert_eq!(
            (
                map.map_type(),
                map.key_size(),
                map.value_size(),
                map.max_entries()
            ),
            (MapType::HASH, 4, 8, 16)
        );
        assert_eq!(map.value_buffer_size(), 8);
        for k in 0u32..4 {
            map.update_elem(&k.to_ne_bytes(), &u64::from(k * 10).to_ne_bytes(), BPF_ANY)
                .unwrap();
        }
        let mut value = [0u8; 8];
        map.lookup_elem(&2u32.to_ne_bytes(), &mut value, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(value), 20);

        // NOEXIST on an existing key.
        let err = map
            .update_elem(&2u32.to_ne_bytes(), &value, BPF_NOEXIST)
            .unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EXIST));

        // Iterate.
        let mut keys = Vec::new();
        let mut next = [0u8; 4];
        let mut cur: Option<[u8; 4]> = None;
        while map
            .get_next_key(cur.as_ref().map(|k| &k[..]), &mut next)
            .unwrap()
        {
            keys.push(u32::from_ne_bytes(next));
            cur = Some(next);
        }
        keys.sort_unstable();
        assert_eq!(keys, [0, 1, 2, 3]);

        // Delete, then lookup fails with a message naming the command.
        map.delete_elem(&2u32.to_ne_bytes()).unwrap();
        let err = map
            .lookup_elem(&2u32.to_ne_bytes(), &mut value, 0)
            .unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        assert_eq!(
            err.to_string(),
            "BPF_MAP_LOOKUP_ELEM: No such file or directory (ENOENT)"
        );
        let err = map.delete_elem(&2u32.to_ne_bytes()).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));

        // Lookup and delete (hash maps: 5.14; before, the kernel says ENOTSUPP).
        let taken = map.lookup_and_delete_elem(&3u32.to_ne_bytes(), &mut value, 0);
        if ebpf_test_support::kernel_version() >= KernelVersion::new(5, 14, 0) {
            taken.unwrap();
            assert_eq!(u64::from_ne_bytes(value), 30);
            assert!(map.lookup_elem(&3u32.to_ne_bytes(), &mut value, 0).is_err());
        } else {
            let errno = taken.unwrap_err().errno().unwrap();
            assert!(errno.is_not_supported(), "{errno}");
        }

        let info = map_info(&map).unwrap();
        assert_eq!(info.r#type, MapType::HASH);
        assert_eq!(
            (info.key_size, info.value_size, info.max_entries),
            (4, 8, 16)
        );
        assert_eq!(info.name(), "test.hash");
        Ok(())
    });
}

#[test]
fn wrong_lengths_are_refused() {
    kernel_test(|| {
        let map = hash_map(4);
        let key = 1u32.to_ne_bytes();
        let mut value = [0u8; 8];
        map.update_elem(&key, &value, BPF_ANY).unwrap();

        assert_size_err(
            map.lookup_elem(&[0; 3], &mut value, 0),
            MapBuffer::Key,
            4,
            3,
        );
        assert_size_err(
            map.lookup_elem(&[0; 8], &mut value, 0),
            MapBuffer::Key,
            4,
            8,
        );
        assert_size_err(map.lookup_elem(&[], &mut value, 0), MapBuffer::Key, 4, 0);
        assert_size_err(
            map.lookup_elem(&key, &mut [0; 4], 0),
            MapBuffer::Value,
            8,
            4,
        );
        assert_size_err(
            map.lookup_elem(&key, &mut [0; 16], 0),
            MapBuffer::Value,
            8,
            16,
        );
        assert_size_err(
            map.update_elem(&key, &[0; 7], BPF_ANY),
            MapBuffer::Value,
            8,
            7,
        );
        assert_size_err(
            map.update_elem(&[0; 2], &value, BPF_ANY),
            MapBuffer::Key,
            4,
            2,
        );
        assert_size_err(map.delete_elem(&[0; 5]), MapBuffer::Key, 4, 5);
        assert_size_err(
            map.lookup_and_delete_elem(&key, &mut [0; 9], 0),
            MapBuffer::Value,
            8,
            9,
        );
        assert_size_err(
            map.lookup_and_delete_elem(&[], &mut value, 0),
            MapBuffer::Key,
            4,
            0,
        );
        assert_size_err(
            map.get_next_key(None, &mut [0; 2]),
            MapBuffer::NextKey,
            4,
            2,
        );
        assert_size_err(
            map.get_next_key(Some(&[0; 2]), &mut [0; 4]),
            MapBuffer::Key,
            4,
            2,
        );
        let err = map.lookup_elem(&[0; 3], &mut value, 0).unwrap_err();
        assert_eq!(err.to_string(), "key has 3 bytes, the map needs 4");
        assert_eq!(err.errno(), None);

        // Nothing above reached the kernel: the element is still there, unchanged.
        value = [0xff; 8];
        map.lookup_elem(&key, &mut value, 0).unwrap();
        assert_eq!(value, [0; 8]);
        Ok(())
    });
}

#[test]
fn per_cpu_values() {
    kernel_test(|| {
        let cpus = possible_cpus().unwrap();
        assert!(cpus >= 1);
        // 12-byte values are padded to 16 per CPU.
        let array = map_create_sized(&MapCreateAttr::new(MapType::PERCPU_ARRAY, 4, 12, 2)).unwrap();
        assert!(array.is_per_cpu());
        assert_eq!(array.value_buffer_size(), 16 * cpus);
        let key = 1u32.to_ne_bytes();
        assert_size_err(
            array.update_elem(&key, &[0; 12], BPF_ANY),
            MapBuffer::Value,
            16 * cpus,
            12,
        );
        assert_size_err(
            array.lookup_elem(&key, &mut [0; 16], 0),
            MapBuffer::Value,
            16 * cpus,
            16,
        );
        let mut values = vec![0u8; 16 * cpus];
        for cpu in 0..cpus {
            values[cpu * 16..cpu * 16 + 12].fill(cpu as u8 + 1);
        }
        array.update_elem(&key, &values, BPF_ANY).unwrap();
        let mut out = vec![0u8; 16 * cpus];
        array.lookup_elem(&key, &mut out, 0).unwrap();
        for cpu in 0..cpus {
            assert_eq!(out[cpu * 16..cpu * 16 + 12], [cpu as u8 + 1; 12]);
        }

        // The same sizes when the handle is made from the fd.
        let again = MapFd::from_fd(array.try_clone().unwrap().into()).unwrap();
        assert_eq!(again.value_buffer_size(), 16 * cpus);
        assert_eq!((again.key_size(), again.value_size()), (4, 12));

        // Per-CPU hash maps, with the batch commands.
        let hash = map_create_sized(&MapCreateAttr::new(MapType::PERCPU_HASH, 4, 8, 8)).unwrap();
        assert_eq!(hash.value_buffer_size(), 8 * cpus);
        let keys: Vec<u8> = (0u32..3).flat_map(u32::to_ne_bytes).collect();
        assert_size_err(
            hash.update_batch(&keys, &[0; 3 * 8], 3, 0),
            MapBuffer::Values,
            3 * 8 * cpus,
            3 * 8,
        );
        let vals: Vec<u8> = (0u64..3 * cpus as u64).flat_map(u64::to_ne_bytes).collect();
        assert_eq!(hash.update_batch(&keys, &vals, 3, 0).unwrap(), 3);
        let mut v = vec![0u8; 8 * cpus];
        hash.lookup_elem(&1u32.to_ne_bytes(), &mut v, 0).unwrap();
        assert_eq!(v, vals[8 * cpus..16 * cpus]);
        let (mut ok, mut ov, mut token) = (vec![0u8; 4 * 8], vec![0u8; 8 * cpus * 8], [0u8; 4]);
        let res = hash
            .lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut token,
                keys: &mut ok,
                values: &mut ov,
                count: 8,
                elem_flags: 0,
            })
            .unwrap();
        assert_eq!(res.count, 3);
        assert_size_err(
            hash.lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut token,
                keys: &mut ok,
                values: &mut ov[..8 * 8],
                count: 8,
                elem_flags: 0,
            }),
            MapBuffer::Values,
            8 * 8 * cpus,
            8 * 8,
        );
        Ok(())
    });
}

#[test]
fn queue_and_stack_take_no_key() {
    kernel_test(|| {
        let queue = map_create_sized(&MapCreateAttr::new(MapType::QUEUE, 0, 4, 4)).unwrap();
        assert_eq!(queue.key_size(), 0);
        for v in [7u32, 8] {
            queue.update_elem(&[], &v.to_ne_bytes(), BPF_ANY).unwrap();
        }
        // A key is refused: the map has none.
        assert_size_err(
            queue.update_elem(&0u32.to_ne_bytes(), &[0; 4], BPF_ANY),
            MapBuffer::Key,
            0,
            4,
        );
        assert_size_err(
            queue.lookup_elem(&[], &mut [0; 8], 0),
            MapBuffer::Value,
            4,
            8,
        );
        let mut out = [0u8; 4];
        queue.lookup_and_delete_elem(&[], &mut out, 0).unwrap();
        assert_eq!(u32::from_ne_bytes(out), 7);
        queue.lookup_elem(&[], &mut out, 0).unwrap(); // peek
        assert_eq!(u32::from_ne_bytes(out), 8);
        queue.lookup_and_delete_elem(&[], &mut out, 0).unwrap();
        let err = queue.lookup_and_delete_elem(&[], &mut out, 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));

        let stack = map_create_sized(&MapCreateAttr::new(MapType::STACK, 0, 8, 4)).unwrap();
        for v in [1u64, 2, 3] {
            stack.update_elem(&[], &v.to_ne_bytes(), BPF_ANY).unwrap();
        }
        let mut out = [0u8; 8];
        stack.lookup_and_delete_elem(&[], &mut out, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(out), 3);
        // Opened again from the fd: still no key.
        let again = MapFd::from_fd(stack.try_clone().unwrap().into()).unwrap();
        assert_eq!((again.key_size(), again.value_buffer_size()), (0, 8));
        again.lookup_and_delete_elem(&[], &mut out, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(out), 2);
        // No next key without keys; the kernel says so, no buffer is touched.
        assert!(again.get_next_key(None, &mut []).is_err());
        Ok(())
    });
}

#[test]
fn zero_sized_values_and_fd_maps() {
    kernel_test(|| {
        // Ring buffers have neither keys nor values: empty buffers reach the
        // kernel (which has no element commands for them), others do not.
        let page = Mmap::page_size() as u32;
        let ring = map_create_sized(&MapCreateAttr::new(MapType::RINGBUF, 0, 0, page)).unwrap();
        assert_eq!((ring.key_size(), ring.value_buffer_size()), (0, 0));
        assert!(matches!(
            ring.lookup_elem(&[], &mut [], 0),
            Err(Error::Bpf { .. })
        ));
        assert_size_err(
            ring.lookup_elem(&[], &mut [0; 1], 0),
            MapBuffer::Value,
            0,
            1,
        );
        assert_size_err(
            ring.update_elem(&[0; 4], &[], BPF_ANY),
            MapBuffer::Key,
            0,
            4,
        );

        // Bloom filters (5.16): no key, values are the members.
        if ebpf_syscall::current_kernel().unwrap() >= KernelVersion::new(5, 16, 0) {
            let bloom =
                map_create_sized(&MapCreateAttr::new(MapType::BLOOM_FILTER, 0, 4, 16)).unwrap();
            bloom
                .update_elem(&[], &5u32.to_ne_bytes(), BPF_ANY)
                .unwrap();
            bloom.lookup_elem(&[], &mut 5u32.to_ne_bytes(), 0).unwrap();
            assert_size_err(
                bloom.lookup_elem(&[], &mut [0; 8], 0),
                MapBuffer::Value,
                4,
                8,
            );
        }

        // Maps of fds take 4-byte values (an fd in, an id out).
        let prog_array =
            map_create_sized(&MapCreateAttr::new(MapType::PROG_ARRAY, 4, 4, 2)).unwrap();
        assert_eq!(prog_array.value_buffer_size(), 4);
        let prog = common::socket_filter(0);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&prog) as u32;
        prog_array
            .update_elem(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), BPF_ANY)
            .unwrap();
        let mut id = [0u8; 4];
        prog_array
            .lookup_elem(&0u32.to_ne_bytes(), &mut id, 0)
            .unwrap();
        assert_eq!(u32::from_ne_bytes(id), prog_info(&prog).unwrap().id);
        assert_size_err(
            prog_array.update_elem(&1u32.to_ne_bytes(), &u64::from(fd).to_ne_bytes(), BPF_ANY),
            MapBuffer::Value,
            4,
            8,
        );
        prog_array.delete_elem(&0u32.to_ne_bytes()).unwrap();
        Ok(())
    });
}

#[test]
fn batch_operations() {
    kernel_test(|| {
        let map = hash_map(64);
        assert_eq!(map.batch_token_size(), 4);
        let keys: Vec<u8> = (0u32..10).flat_map(u32::to_ne_bytes).collect();
        let values: Vec<u8> = (0u64..10).flat_map(|v| (v * 3).to_ne_bytes()).collect();
        // Wrong lengths for the count.
        assert_size_err(
            map.update_batch(&keys, &values, 11, 0),
            MapBuffer::Keys,
            44,
            40,
        );
        assert_size_err(
            map.update_batch(&keys, &values[..72], 10, 0),
            MapBuffer::Values,
            80,
            72,
        );
        assert_size_err(map.delete_batch(&keys[..7], 2, 0), MapBuffer::Keys, 8, 7);
        assert!(matches!(
            map.update_batch(&keys, &values, u32::MAX, 0),
            Err(Error::BufferSize { .. } | Error::InvalidArgument(_))
        ));
        let n = map.update_batch(&keys, &values, 10, 0).unwrap();
        assert_eq!(n, 10);

        let mut out_keys = vec![0u8; 4 * 64];
        let mut out_values = vec![0u8; 8 * 64];
        let mut token = [0u8; 4];
        // Tokens and buffers of the wrong size.
        let mut big_token = [0u8; 8];
        assert_size_err(
            map.lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut big_token,
                keys: &mut out_keys,
                values: &mut out_values,
                count: 64,
                elem_flags: 0,
            }),
            MapBuffer::OutBatch,
            4,
            8,
        );
        assert_size_err(
            map.lookup_batch(LookupBatch {
                in_batch: Some(&[0; 2]),
                out_batch: &mut token,
                keys: &mut out_keys,
                values: &mut out_values,
                count: 64,
                elem_flags: 0,
            }),
            MapBuffer::InBatch,
            4,
            2,
        );
        assert_size_err(
            map.lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut token,
                keys: &mut out_keys[..4 * 63],
                values: &mut out_values,
                count: 64,
                elem_flags: 0,
            }),
            MapBuffer::Keys,
            4 * 64,
            4 * 63,
        );
        assert_size_err(
            map.lookup_and_delete_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut token,
                keys: &mut out_keys,
                values: &mut out_values,
                count: 65,
                elem_flags: 0,
            }),
            MapBuffer::Keys,
            4 * 65,
            4 * 64,
        );

        let res = map
            .lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut token,
                keys: &mut out_keys,
                values: &mut out_values,
                count: 64,
                elem_flags: 0,
            })
            .unwrap();
        assert_eq!(
            res,
            BatchResult {
                count: 10,
                done: true
            }
        );
        let mut got: Vec<(u32, u64)> = (0..10)
            .map(|i| {
                let k = u32::from_ne_bytes(out_keys[i * 4..i * 4 + 4].try_into().unwrap());
                let v = u64::from_ne_bytes(out_values[i * 8..i * 8 + 8].try_into().unwrap());
                (k, v)
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got[9], (9, 27));

        // Delete three by batch, then take the rest with lookup-and-delete.
        let n = map.delete_batch(&keys[..12], 3, 0).unwrap();
        assert_eq!(n, 3);
        let mut total = 0;
        let mut in_batch: Option<[u8; 4]> = None;
        loop {
            let mut out = [0u8; 4];
            let res = map
                .lookup_and_delete_batch(LookupBatch {
                    in_batch: in_batch.as_ref().map(|b| &b[..]),
                    out_batch: &mut out,
                    keys: &mut out_keys[..16],
                    values: &mut out_values[..32],
                    count: 4,
                    elem_flags: 0,
                })
                .unwrap();
            total += res.count;
            if res.done {
                break;
            }
            in_batch = Some(out);
        }
        assert_eq!(total, 7);
        let mut k = [0u8; 4];
        let more = map.get_next_key(None, &mut k).unwrap();
        assert!(!more, "map is empty");

        // 8-byte keys make an 8-byte token.
        let wide = map_create_sized(&MapCreateAttr::new(MapType::HASH, 8, 4, 4)).unwrap();
        assert_eq!(wide.batch_token_size(), 8);

        // Arrays use a key as the token.
        let array = map_create_sized(&MapCreateAttr::new(MapType::ARRAY, 4, 8, 3)).unwrap();
        let (mut ak, mut av, mut at) = ([0u8; 4 * 2], [0u8; 8 * 2], [0u8; 4]);
        let res = array
            .lookup_batch(LookupBatch {
                in_batch: None,
                out_batch: &mut at,
                keys: &mut ak,
                values: &mut av,
                count: 2,
                elem_flags: 0,
            })
            .unwrap();
        assert_eq!(res.count, 2);
        assert_eq!(u32::from_ne_bytes(at), 1, "the token is the last key");
        Ok(())
    });
}

#[test]
fn freeze_makes_read_only() {
    kernel_test(|| {
        let map = map_create_sized(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1)).unwrap();
        map.freeze().unwrap();
        let err = map
            .update_elem(&0u32.to_ne_bytes(), &1u32.to_ne_bytes(), 0)
            .unwrap_err();
        assert_eq!(err.errno(), Some(Errno::PERM));
        assert!(
            err.to_string()
                .starts_with("BPF_MAP_UPDATE_ELEM: Operation not permitted (EPERM)")
        );
        Ok(())
    });
}

#[test]
fn pin_and_get() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let map = hash_map(4);
        let path = fs.path().join("pinned_map");
        obj_pin(&map, &path).unwrap();
        let again = obj_get(&path, 0).unwrap();
        assert_eq!(map_info(&map).unwrap().id, map_info(&again).unwrap().id);
        let ro = MapFd::from_pin(&path, BPF_F_RDONLY).unwrap();
        assert_eq!(
            (ro.key_size(), ro.value_size(), ro.max_entries()),
            (4, 8, 4)
        );
        let err = ro.update_elem(&0u32.to_ne_bytes(), &[0; 8], 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::PERM));
        let err = obj_get(fs.path().join("missing"), 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        assert!(matches!(
            obj_pin(&map, "/tmp/a\0b"),
            Err(Error::InvalidArgument(_))
        ));
        Ok(())
    });
}

#[test]
fn map_ids() {
    kernel_test(|| {
        let map = hash_map(4);
        let id = map_info(&map).unwrap().id;
        let mut seen = false;
        let mut cur = 0;
        while let Some(next) = map_get_next_id(cur).unwrap() {
            assert!(next > cur);
            seen |= next == id;
            cur = next;
        }
        assert!(seen, "map id {id} not listed");
        let fd = map_get_fd_by_id(id, 0).unwrap();
        assert_eq!(map_info(&fd).unwrap().id, id);
        let by_id = MapFd::from_id(id, 0).unwrap();
        assert_eq!((by_id.key_size(), by_id.value_size()), (4, 8));
        let (_, info) = MapFd::from_fd_with_info(fd).unwrap();
        assert_eq!(info.id, id);
        let err = map_get_fd_by_id(u32::MAX, 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        Ok(())
    });
}

#[test]
fn bad_attr_names_command() {
    kernel_test(|| {
        let err = map_create(&MapCreateAttr::new(MapType::HASH, 0, 0, 0)).unwrap_err();
        assert_eq!(err.to_string(), "BPF_MAP_CREATE: Invalid argument (EINVAL)");
        assert!(obj_name("much_too_long_for_the_kernel").is_err());
        Ok(())
    });
}

#[test]
fn memlock_not_needed_with_memcg() {
    kernel_test(|| {
        remove_memlock_rlimit().unwrap();
        let version = ebpf_syscall::current_kernel().unwrap();
        if version >= KernelVersion::new(5, 11, 0) {
            assert!(!memlock_rlimit_needed().unwrap());
        }
        Ok(())
    });
}
