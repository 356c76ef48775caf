//! Real-kernel tests of the map commands, pinning and ids.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use ebpf_syscall::*;
use ebpf_test_support::{BpfFs, check_fd_leaks, skip_unless_root};

fn hash_map(max: u32) -> std::os::fd::OwnedFd {
    let mut attr = MapCreateAttr::new(MapType::HASH, 4, 8, max);
    attr.map_name = obj_name("test.hash").unwrap();
    map_create(&attr).unwrap()
}

#[test]
fn hash_map_elements() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let map = hash_map(16);
        for k in 0u32..4 {
            // SAFETY: the map has 4-byte keys and 8-byte values.
            unsafe {
                map_update_elem(
                    &map,
                    &k.to_ne_bytes(),
                    &u64::from(k * 10).to_ne_bytes(),
                    BPF_ANY,
                )
            }
            .unwrap();
        }
        let mut value = [0u8; 8];
        // SAFETY: as above.
        unsafe { map_lookup_elem(&map, &2u32.to_ne_bytes(), &mut value, 0) }.unwrap();
        assert_eq!(u64::from_ne_bytes(value), 20);

        // NOEXIST on an existing key.
        // SAFETY: as above.
        let err =
            unsafe { map_update_elem(&map, &2u32.to_ne_bytes(), &value, BPF_NOEXIST) }.unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EXIST));

        // Iterate.
        let mut keys = Vec::new();
        let mut next = [0u8; 4];
        let mut cur: Option<[u8; 4]> = None;
        // SAFETY: 4-byte keys.
        while unsafe { map_get_next_key(&map, cur.as_ref().map(|k| &k[..]), &mut next) }.unwrap() {
            keys.push(u32::from_ne_bytes(next));
            cur = Some(next);
        }
        keys.sort_unstable();
        assert_eq!(keys, [0, 1, 2, 3]);

        // Delete, then lookup fails with a message naming the command.
        // SAFETY: 4-byte keys.
        unsafe { map_delete_elem(&map, &2u32.to_ne_bytes()) }.unwrap();
        // SAFETY: as above.
        let err = unsafe { map_lookup_elem(&map, &2u32.to_ne_bytes(), &mut value, 0) }.unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        assert_eq!(
            err.to_string(),
            "BPF_MAP_LOOKUP_ELEM: No such file or directory (ENOENT)"
        );

        // Lookup and delete (hash maps: 5.14).
        // SAFETY: as above.
        unsafe { map_lookup_and_delete_elem(&map, Some(&3u32.to_ne_bytes()), &mut value, 0) }
            .unwrap();
        assert_eq!(u64::from_ne_bytes(value), 30);
        // SAFETY: as above.
        assert!(unsafe { map_lookup_elem(&map, &3u32.to_ne_bytes(), &mut value, 0) }.is_err());

        let info = map_info(&map).unwrap();
        assert_eq!(info.r#type, MapType::HASH);
        assert_eq!(
            (info.key_size, info.value_size, info.max_entries),
            (4, 8, 16)
        );
        assert_eq!(info.name(), "test.hash");
    });
}

#[test]
fn queue_pops_without_key() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let queue = map_create(&MapCreateAttr::new(MapType::QUEUE, 0, 4, 4)).unwrap();
        for v in [7u32, 8] {
            // SAFETY: queues take no key and 4-byte values.
            unsafe { map_update_elem(&queue, &[], &v.to_ne_bytes(), BPF_ANY) }.unwrap();
        }
        let mut out = [0u8; 4];
        // SAFETY: as above.
        unsafe { map_lookup_and_delete_elem(&queue, None, &mut out, 0) }.unwrap();
        assert_eq!(u32::from_ne_bytes(out), 7);
        // SAFETY: as above (peek).
        unsafe { map_lookup_elem(&queue, &[], &mut out, 0) }.unwrap();
        assert_eq!(u32::from_ne_bytes(out), 8);
    });
}

#[test]
fn batch_operations() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let map = hash_map(64);
        let keys: Vec<u8> = (0u32..10).flat_map(u32::to_ne_bytes).collect();
        let values: Vec<u8> = (0u64..10).flat_map(|v| (v * 3).to_ne_bytes()).collect();
        // SAFETY: 10 keys of 4 bytes and 10 values of 8 bytes.
        let n = unsafe { map_update_batch(&map, &keys, &values, 10, 0) }.unwrap();
        assert_eq!(n, 10);

        let mut out_keys = vec![0u8; 4 * 64];
        let mut out_values = vec![0u8; 8 * 64];
        let mut token = [0u8; 4];
        // SAFETY: room for 64 keys and values; the batch token holds a key (4 bytes).
        let res = unsafe {
            map_lookup_batch(
                &map,
                LookupBatch {
                    in_batch: None,
                    out_batch: &mut token,
                    keys: &mut out_keys,
                    values: &mut out_values,
                    count: 64,
                    elem_flags: 0,
                },
            )
        }
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
        // SAFETY: 3 keys of 4 bytes.
        let n = unsafe { map_delete_batch(&map, &keys[..12], 3, 0) }.unwrap();
        assert_eq!(n, 3);
        let mut total = 0;
        let mut in_batch: Option<[u8; 4]> = None;
        loop {
            let mut out = [0u8; 4];
            // SAFETY: room for 4 elements; 4-byte batch tokens.
            let res = unsafe {
                map_lookup_and_delete_batch(
                    &map,
                    LookupBatch {
                        in_batch: in_batch.as_ref().map(|b| &b[..]),
                        out_batch: &mut out,
                        keys: &mut out_keys[..16],
                        values: &mut out_values[..32],
                        count: 4,
                        elem_flags: 0,
                    },
                )
            }
            .unwrap();
            total += res.count;
            if res.done {
                break;
            }
            in_batch = Some(out);
        }
        assert_eq!(total, 7);
        let mut k = [0u8; 4];
        // SAFETY: 4-byte keys.
        let more = unsafe { map_get_next_key(&map, None, &mut k) }.unwrap();
        assert!(!more, "map is empty");
    });
}

#[test]
fn freeze_makes_read_only() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let map = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1)).unwrap();
        map_freeze(&map).unwrap();
        // SAFETY: 4-byte keys and values.
        let err = unsafe { map_update_elem(&map, &0u32.to_ne_bytes(), &1u32.to_ne_bytes(), 0) }
            .unwrap_err();
        assert_eq!(err.errno(), Some(Errno::PERM));
        assert!(
            err.to_string()
                .starts_with("BPF_MAP_UPDATE_ELEM: Operation not permitted (EPERM)")
        );
    });
}

#[test]
fn pin_and_get() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let fs = BpfFs::new().unwrap();
        let map = hash_map(4);
        let path = fs.path().join("pinned_map");
        obj_pin(&map, &path).unwrap();
        let again = obj_get(&path, 0).unwrap();
        assert_eq!(map_info(&map).unwrap().id, map_info(&again).unwrap().id);
        let ro = obj_get(&path, BPF_F_RDONLY).unwrap();
        // SAFETY: 4-byte keys and 8-byte values.
        let err = unsafe { map_update_elem(&ro, &0u32.to_ne_bytes(), &[0; 8], 0) }.unwrap_err();
        assert_eq!(err.errno(), Some(Errno::PERM));
        let err = obj_get(fs.path().join("missing"), 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        assert!(matches!(
            obj_pin(&map, "/tmp/a\0b"),
            Err(Error::InvalidArgument(_))
        ));
    });
}

#[test]
fn map_ids() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
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
        let err = map_get_fd_by_id(u32::MAX, 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
    });
}

#[test]
fn bad_attr_names_command() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        let err = map_create(&MapCreateAttr::new(MapType::HASH, 0, 0, 0)).unwrap_err();
        assert_eq!(err.to_string(), "BPF_MAP_CREATE: Invalid argument (EINVAL)");
        assert!(obj_name("much_too_long_for_the_kernel").is_err());
    });
}

#[test]
fn memlock_not_needed_with_memcg() {
    if skip_unless_root() {
        return;
    }
    check_fd_leaks(|| {
        remove_memlock_rlimit().unwrap();
        let version = KernelVersion::current().unwrap();
        if version >= KernelVersion::new(5, 11, 0) {
            assert!(!memlock_rlimit_needed().unwrap());
        }
    });
}
