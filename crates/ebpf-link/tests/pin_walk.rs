//! Walking a bpffs: maps, programs and links pinned in a tree come back
//! opened, each with its kind.

mod common;

use std::hint::black_box;

use common::*;
use ebpf::pin_walk::{self, Pinned, PinnedKind};
use ebpf_link::uprobe::{self, UprobeOptions};
use ebpf_link::{Link, RawLink};
use ebpf_test_support::{BpfFs, kernel_test};

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn ebpf_rs_pin_walk_target(x: u64) -> u64 {
    black_box(x).wrapping_add(9)
}

#[test]
fn walk_finds_maps_programs_and_links() {
    kernel_test(|| {
        let fs = BpfFs::new()?;
        let root = fs.path();
        std::fs::create_dir(root.join("maps"))?;
        std::fs::create_dir(root.join("maps/inner"))?;
        let mut map = counter();
        map.pin(root.join("maps/counter"))?;
        let mut prog = counting_program("uprobe", &map, Some(pid()), 0);
        prog.pin(root.join("prog"))?;
        let exe = std::env::current_exe()?;
        // Referenced, so that the linker keeps the symbol.
        let f: extern "C" fn(u64) -> u64 = black_box(ebpf_rs_pin_walk_target);
        black_box(f(1));
        let mut link = uprobe::attach(
            &prog,
            &exe,
            "ebpf_rs_pin_walk_target",
            &UprobeOptions::default(),
        )?;
        link.pin(&root.join("link"))?;

        let entries: Vec<_> = pin_walk::walk(root)?.collect::<ebpf::Result<_>>()?;
        // bpf_preload's maps.debug and progs.debug (CONFIG_BPF_PRELOAD) hold no object.
        let seen: Vec<(String, usize, Option<PinnedKind>)> = entries
            .iter()
            .filter(|e| e.is_dir || e.object.is_some())
            .map(|e| {
                let rel = e.path.strip_prefix(root).unwrap().display().to_string();
                (rel, e.depth, e.object.as_ref().map(Pinned::kind))
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("link".to_owned(), 1, Some(PinnedKind::Link)),
                ("maps".to_owned(), 1, None),
                ("maps/counter".to_owned(), 2, Some(PinnedKind::Map)),
                ("maps/inner".to_owned(), 2, None),
                ("prog".to_owned(), 1, Some(PinnedKind::Program)),
            ]
        );
        for e in entries {
            match e.object {
                Some(Pinned::Map(m)) => {
                    assert_eq!(m.id()?, map.id()?);
                    assert_eq!(m.pinned_path(), Some(e.path.as_path()));
                }
                Some(Pinned::Program(p)) => assert_eq!(p.id()?, prog.id()?),
                Some(Pinned::Link(l)) => {
                    assert_eq!(l.link_type(), ebpf_syscall::LinkType::PERF_EVENT);
                    assert_eq!(l.program_id(), prog.id()?);
                    // The link layer takes it over, pin and all.
                    let mut raw = RawLink::from_pinned(l);
                    assert_eq!(raw.pinned_path(), Some(e.path.as_path()));
                    raw.unpin()?;
                }
                Some(other) => panic!("{other:?}"),
                None => {}
            }
        }
        assert!(!root.join("link").exists());
        // One object by path, and what is not a bpffs.
        assert!(matches!(
            pin_walk::open(root.join("prog"))?,
            Pinned::Program(_)
        ));
        let err = pin_walk::walk(std::env::temp_dir()).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("is not a directory of a BPF filesystem"),
            "{err}"
        );
        let err = pin_walk::open(root.join("nothing")).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .starts_with("open pinned "),
            "{err}"
        );
        drop(link);
        Ok(())
    });
}
