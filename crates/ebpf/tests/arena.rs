//! BPF arenas (`testdata/arena.c`): the arena map is created and mapped at its
//! `map_extra` address (or where the kernel chooses), the object's `__arena`
//! globals are copied in before the program loads, and user space sees what
//! the program writes (globals and a page from `bpf_arena_alloc_pages`), and
//! the program what user space writes.
//!
//! The tests share one fixed arena address, so they run one after the other.

use std::sync::{Mutex, MutexGuard};

use ebpf::features::have_map_type;
use ebpf::{Collection, CollectionOptions, CollectionSpec, MapType, TestRunOptions};
use ebpf_syscall::Errno;
use ebpf_test_support::{kernel_test, skip, skip_if_not_supported};

/// The fixture's `map_extra`.
const ARENA_ADDR: u64 = 1 << 44;
const MAGIC: u64 = 0x1122_3344_5566_7788;

static SERIAL: Mutex<()> = Mutex::new(());

fn spec() -> CollectionSpec {
    CollectionSpec::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/arena-el.o"
    ))
    .unwrap()
}

/// Takes the fixed arena address for the test, or gives `None` (after
/// printing the skip) if arena maps are not supported.
fn setup() -> Option<MutexGuard<'static, ()>> {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    supported().then_some(serial)
}

/// Whether arena maps are supported (prints the skip if not).
fn supported() -> bool {
    match have_map_type(ebpf_syscall::MapType::ARENA) {
        Ok(()) => true,
        Err(e) if e.is_not_supported() => {
            skip_if_not_supported::<(), _>(Err(e));
            false
        }
        Err(e) if e.errno() == Some(Errno::PERM) => {
            skip(format!("arena maps refused by policy: {e}"));
            false
        }
        Err(e) => panic!("probe: {e}"),
    }
}

fn run(c: &Collection) {
    let r = c.programs["arena_prog"]
        .test_run(&TestRunOptions::default())
        .unwrap();
    assert_eq!(r.retval, 0, "bpf_arena_alloc_pages failed");
}

/// Loads the fixture (with `map_extra` set to `addr`) and checks the program
/// and user space see each other's writes.
fn load_and_run(addr: u64) {
    let mut spec = spec();
    spec.maps.get_mut("arena").unwrap().map_extra = addr;
    let c = Collection::load(&spec, CollectionOptions::default()).unwrap();
    let arena = c.maps["arena"].arena().unwrap();
    assert_eq!(arena.len(), 4 * ebpf_syscall::Mmap::page_size());
    if addr != 0 {
        assert_eq!(arena.address(), addr);
    }
    let v = &c.variables;
    assert!(v["arena_magic"].is_mmapped());
    assert_eq!(v["arena_magic"].section(), ebpf_spec::ARENA_SECTION);

    // The initial data was copied in at load.
    assert_eq!(v["arena_magic"].get::<u64>().unwrap(), MAGIC);
    assert_eq!(arena.get::<u64>(0).unwrap(), MAGIC);
    assert_eq!(v["arena_table"].get::<[u32; 4]>().unwrap(), [1, 2, 3, 4]);
    assert_eq!(v["arena_runs"].get::<u32>().unwrap(), 0);

    // The program's writes are visible through the mapping.
    run(&c);
    assert_eq!(v["arena_runs"].get::<u32>().unwrap(), 1);
    assert_eq!(v["arena_sum"].get::<u64>().unwrap(), MAGIC + 10);
    assert_eq!(v["arena_table"].get::<[u32; 4]>().unwrap(), [10, 2, 3, 4]);
    let off = v["arena_table"].offset() as usize;
    assert_eq!(arena.get::<u32>(off).unwrap(), 10);
    // The page bpf_arena_alloc_pages gave the program is in the mapping.
    let page = v["arena_page"].get::<u64>().unwrap();
    let page_off = arena
        .offset_of(page)
        .unwrap_or_else(|| panic!("page {page:#x} outside the arena at {:#x}", arena.address()));
    assert_eq!(page_off % ebpf_syscall::Mmap::page_size(), 0);
    assert!(page_off > 0, "the first page holds the globals");
    assert_eq!(arena.get::<[u64; 2]>(page_off).unwrap(), [0xfeed, 1]);

    // The program sees user space's writes (through the variable and the arena).
    v["arena_magic"].set(&5u64).unwrap();
    arena.set(off + 4, &100u32).unwrap();
    run(&c);
    assert_eq!(v["arena_runs"].get::<u32>().unwrap(), 2);
    assert_eq!(v["arena_sum"].get::<u64>().unwrap(), 5 + 10 + 100 + 3 + 4);
    let second = arena.offset_of(v["arena_page"].get::<u64>().unwrap());
    let second = second.expect("second page inside the arena");
    assert_ne!(second, page_off);
    assert_eq!(arena.get::<[u64; 2]>(second).unwrap(), [0xfeed, 2]);

    // Out-of-range accesses are errors, not faults.
    assert!(arena.get::<u64>(arena.len() - 4).is_err());
    assert!(
        arena
            .offset_of(arena.address() + arena.len() as u64)
            .is_none()
    );
    // A second handle shares the mapping.
    let clone = c.maps["arena"].try_clone().unwrap();
    assert_eq!(clone.arena().unwrap().address(), arena.address());
}

#[test]
fn arena_globals_and_pages() {
    kernel_test(|| {
        let Some(_serial) = setup() else {
            return Ok(());
        };
        load_and_run(ARENA_ADDR);
        // The address is free again once the collection is gone.
        load_and_run(ARENA_ADDR);
        Ok(())
    });
}

#[test]
fn arena_at_a_kernel_chosen_address() {
    kernel_test(|| {
        let Some(_serial) = setup() else {
            return Ok(());
        };
        load_and_run(0);
        Ok(())
    });
}

#[test]
fn arena_address_taken() {
    kernel_test(|| {
        let Some(_serial) = setup() else {
            return Ok(());
        };
        let first = Collection::load(&spec(), CollectionOptions::default()).unwrap();
        assert_eq!(first.maps["arena"].arena().unwrap().address(), ARENA_ADDR);
        // A second arena at the same address fails rather than replacing the
        // first one's mapping.
        let e = Collection::load(&spec(), CollectionOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("map 'arena'"),
            "{e}"
        );
        assert_eq!(e.errno(), Some(Errno::EXIST), "{e}");
        assert_eq!(first.variables["arena_magic"].get::<u64>().unwrap(), MAGIC);
        Ok(())
    });
}

#[test]
fn not_an_arena() {
    kernel_test(|| {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let m = ebpf::Map::create(&ebpf::MapSpec::new("plain", MapType::ARRAY, 4, 4, 1)).unwrap();
        let e = m.arena().unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("is not an arena"),
            "{e}"
        );
        Ok(())
    });
}
