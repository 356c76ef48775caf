//! The generated skeletons, loaded for real (as root; skipped visibly otherwise).

use std::time::Duration;

use ebpf::TestRunOptions;
use ebpf::UpdateFlags;
use ebpf_gen_test::r#gen::{Color, Flex, GenSkel, PackedRec, Value, Wide};
use ebpf_gen_test::syscount::SyscountSkel;
use ebpf_test_support::kernel_test;

/// Every generated type has the size of its BTF type.
#[test]
fn generated_sizes_equal_btf_sizes() {
    use ebpf_gen_test::r#gen::{Bss, Config, Data, Event, Flags, Rodata};
    let skel = GenSkel::open().expect("open");
    let btf = skel.spec.btf.clone().expect("btf");
    let size = |name: &str| {
        let ids = btf.types_by_name(name);
        assert_eq!(ids.len(), 1, "{name}");
        btf.sizeof(ids[0]).expect("sizeof") as usize
    };
    assert_eq!(size_of::<Event>(), size("event"));
    assert_eq!(size_of::<Flags>(), size("flags"));
    assert_eq!(size_of::<Value>(), size("value"));
    assert_eq!(size_of::<PackedRec>(), size("packed_rec"));
    assert_eq!(size_of::<Flex>(), size("flex"));
    assert_eq!(size_of::<Config>(), size("config"));
    assert_eq!(size_of::<Color>(), size("color"));
    assert_eq!(size_of::<Wide>(), size("wide"));
    assert_eq!(size_of::<Rodata>(), size(".rodata"));
    assert_eq!(size_of::<Bss>(), size(".bss"));
    assert_eq!(size_of::<Data>(), size(".data"));
    for m in skel.spec.maps.values() {
        if let Some(v) = m.value_type {
            assert_eq!(btf.sizeof(v).expect("sizeof"), m.value_size, "{}", m.name);
        }
    }
    // Initial values come from the object.
    assert_eq!(skel.rodata().offset_value, 10);
    assert_eq!(skel.rodata().cfg.label_str(), "none");
    assert_eq!(skel.data().last_result, 7);
}

/// Values set with `rodata_mut()` reach the program; its ring buffer records,
/// `.bss` and `.data` decode with the generated types.
#[test]
fn rodata_reaches_the_program_and_records_decode() {
    kernel_test(|| {
        let mut skel = GenSkel::open()?;
        skel.rodata_mut().cfg.enabled = 1;
        skel.rodata_mut().cfg.multiplier = 3;
        skel.rodata_mut().offset_value = 14;
        let mut obj = skel.load()?;
        let run = obj.progs.compute.test_run(&TestRunOptions {
            data_in: vec![0; 64],
            ..Default::default()
        })?;
        assert_eq!(run.retval, 42, "14 * 3 from .rodata");

        let e = obj.maps.events.read_timeout(Duration::from_secs(5))?;
        assert_eq!((e.pid, e.type_), (42, 3));
        assert_eq!(e.flags.kind(), 5);
        assert_eq!(e.flags.delta(), -3);
        assert_eq!(e.flags.color(), Color::BLUE);
        assert_eq!(e.flags.big(), 0x12_3456_78ab);
        assert_eq!(e.value.halves().lo, 0x1122_3344);
        assert_eq!(e.value.halves().hi, 0x5566_7788);
        assert_eq!(e.value.u(), 0x5566_7788_1122_3344);
        assert_eq!((e.anon_1.a, e.anon_1.b), (1, 2));
        assert_eq!(e.num.as_u32(), 42);
        assert_eq!(e.color, Color::GREEN);
        assert_eq!(format!("{:?}", e.color), "GREEN");
        assert_eq!(e.wide, Wide::WIDE_BIG);
        assert_eq!(e.comm_str(), "gen");
        assert_eq!(e.ts, 1);

        let bss = obj.bss().get()?;
        let (runs, tag, len) = (bss.runs, bss.rec.tag, bss.rec.len);
        assert_eq!((runs, tag, len), (1, 9, 42));
        assert_eq!(obj.data().get()?.last_result, 42);
        obj.data()
            .set(&ebpf_gen_test::r#gen::Data { last_result: 5 })?;
        assert_eq!(obj.data().get()?.last_result, 5);
        assert!(obj.rodata().is_read_only());
        assert_eq!(obj.rodata().get()?.offset_value, 14);

        // Maps keyed and valued by generated types.
        let key = PackedRec { tag: 1, len: 2 };
        let mut value = Value::default();
        value.set_i(-7);
        obj.maps.by_rec.insert(&key, &value, UpdateFlags::ANY)?;
        assert_eq!(obj.maps.by_rec.get(&key)?.map(|v| v.i()), Some(-7));
        obj.maps.flexes.set(1, &Flex { n: 3, items: [] })?;
        assert_eq!(obj.maps.flexes.get(1)?.n, 3);
        let mut flags = ebpf_gen_test::r#gen::Flags::default();
        flags.set_big(99);
        obj.maps
            .per_cpu_flags
            .set(0, &vec![flags; ebpf::possible_cpus()?])?;
        assert_eq!(obj.maps.per_cpu_flags.get(0)?[0].big(), 99);
        Ok(())
    });
}

/// `attach_all()` attaches the tracepoint; the typed hash map sees this process.
#[test]
fn syscount_attaches_and_counts() {
    kernel_test(|| {
        let obj = SyscountSkel::open()?.load()?;
        let links = obj.attach_all()?;
        assert!(links.count_syscalls.is_some());
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let me = std::process::id();
        let mut seen = 0;
        for entry in obj.maps.counts.iter() {
            let (key, n) = entry?;
            if key.pid == me {
                seen += n;
            }
        }
        assert!(seen > 0, "no system calls counted for pid {me}");
        drop(links);
        Ok(())
    });
}
