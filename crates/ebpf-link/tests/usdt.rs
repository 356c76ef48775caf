//! USDT probes: the notes of the committed test programs
//! (`testdata/host/`, built by `cargo xtask build-fixtures`), and, on the
//! running kernel, programs written with libbpf's own `usdt.bpf.h`
//! (`testdata/usdt.c`) attached to a running `usdt_target-x86_64` and its
//! library, reading every argument.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use ebpf::maps::HashMap;
use ebpf::{Collection, CollectionOptions, CollectionSpec};
use ebpf_link::Link;
use ebpf_link::usdt::{self, UsdtArch, UsdtArgLocation, UsdtTarget};
use ebpf_test_support::{kernel_test, skip};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

fn host_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/host")
}

fn exe(arch: &str) -> PathBuf {
    host_dir().join(format!("usdt_target-{arch}"))
}

fn lib(arch: &str) -> PathBuf {
    host_dir().join(format!("libebpf_rs_usdt-{arch}.so"))
}

/// (provider:name, arguments) of every call site of `binary`.
fn sites(binary: &PathBuf) -> Vec<(String, String)> {
    usdt::probes(binary)
        .unwrap()
        .into_iter()
        .map(|p| (format!("{}:{}", p.provider, p.name), p.arguments))
        .collect()
}

#[test]
fn notes_of_the_x86_64_programs() {
    let probes = usdt::probes(exe("x86_64")).unwrap();
    assert!(probes.iter().all(|p| p.arch == UsdtArch::X86_64));
    assert_eq!(
        sites(&exe("x86_64")),
        [
            (
                "ebpf_rs:args",
                "-4@$42 -8@%rax -2@-2(%rsp) 1@%cl -1@-3(%rsp) 8@%rdx"
            ),
            ("ebpf_rs:natural", "-4@$1 -8@-8(%rsp) -8@-16(%rsp)"),
            ("ebpf_rs:natural", "-4@$2 -8@-24(%rsp) -8@-32(%rsp)"),
            ("ebpf_rs:sema", "-4@$1 2@-2(%rsp)"),
            ("ebpf_rs:indexed", "-4@$1 -8@-40(%rsp,%rax,8) -8@%rdi"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // Each probe of the executable has a semaphore, in .probes (a writable
    // segment), given as a file offset; the library's have none.
    for p in &probes {
        assert_ne!(p.semaphore, 0, "{p:?}");
        assert_ne!(p.semaphore_offset, 0, "{p:?}");
        assert!(p.offset > 0 && p.offset < p.address, "{p:?}");
    }
    // The two natural call sites share a semaphore.
    assert_eq!(probes[1].semaphore, probes[2].semaphore);
    assert_eq!(
        probes[4].args().unwrap()[1].to_string(),
        "s64 at [rsp + rax*8-40]"
    );
    let args = probes[0].args().unwrap();
    let kinds: Vec<String> = args.iter().map(ToString::to_string).collect();
    assert_eq!(
        kinds,
        [
            "s32 = 42",
            "s64 in rax",
            "s16 at [rsp-2]",
            "u8 in cl",
            "s8 at [rsp-3]",
            "u64 in rdx"
        ]
    );
    let lib_probes = usdt::probes(lib("x86_64")).unwrap();
    assert_eq!(
        sites(&lib("x86_64")),
        [(
            "ebpf_rs_lib:lib_args".to_owned(),
            "-4@$-7 8@%rcx -4@-4(%rsp)".to_owned()
        )]
    );
    assert_eq!(lib_probes[0].semaphore, 0);
    assert!(matches!(
        lib_probes[0].args().unwrap()[2].location,
        UsdtArgLocation::Memory { offset: -4, .. }
    ));
}

#[test]
fn notes_of_the_arm64_programs() {
    assert_eq!(
        sites(&exe("aarch64")),
        [
            ("ebpf_rs:args", "-4@42 -8@x8 -2@[x12] 1@x11 -1@[x10] 8@x9"),
            ("ebpf_rs:natural", "-4@1 -8@[x11] -8@[x10]"),
            ("ebpf_rs:natural", "-4@2 -8@[x9] -8@[x8]"),
            ("ebpf_rs:sema", "-4@1 2@[x8]"),
            ("ebpf_rs:indexed", "-4@1 -8@[x9] -8@x8"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let probes = usdt::probes(exe("aarch64")).unwrap();
    assert!(probes.iter().all(|p| p.arch == UsdtArch::Aarch64));
    let kinds: Vec<String> = probes[0]
        .args()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        kinds,
        [
            "s32 = 42",
            "s64 in x8",
            "s16 at [x12+0]",
            "u8 in x11",
            "s8 at [x10+0]",
            "u64 in x9"
        ]
    );
    assert_eq!(
        sites(&lib("aarch64")),
        [(
            "ebpf_rs_lib:lib_args".to_owned(),
            "-4@-7 8@x9 -4@[x8]".to_owned()
        )]
    );
}

/// The running `usdt_target-x86_64`: fires every probe once per byte sent.
struct Target {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Target {
    fn start() -> Target {
        let mut child = Command::new(exe("x86_64"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut target = Target { child, out };
        // One round before anything attaches: by then the dynamic loader has
        // mapped the library, where kernels without BPF cookies (before 5.15)
        // need its call sites' addresses in this process.
        target.fire(0);
        target
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fires every probe with values derived from `b`; the semaphores of
    /// ebpf_rs:args and ebpf_rs:sema the program saw.
    fn fire(&mut self, b: u8) -> (u16, u16) {
        self.child.stdin.as_mut().unwrap().write_all(&[b]).unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 4, "{line:?}");
        assert_eq!((f[0], f[1]), ("fired", b.to_string().as_str()), "{line:?}");
        (f[2].parse().unwrap(), f[3].parse().unwrap())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// `struct record_key` and `struct record` of testdata/usdt.c.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
struct RecordKey {
    cookie: u64,
    first: i64,
}

#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
struct Record {
    hits: u64,
    arg_cnt: i64,
    args: [i64; 12],
    errors: [i32; 12],
}

fn load(spec: &CollectionSpec) -> ebpf_link::Result<Collection> {
    Ok(Collection::load(spec, CollectionOptions::default())?)
}

/// testdata/usdt.c against the host's usdt.bpf.h (libbpf 1.1, the struct
/// layout of libbpf up to 1.6).
const LIBBPF_1_1: &str = "usdt";
/// The same against libbpf 1.7's (another layout, base + index * scale).
const LIBBPF_1_7: &str = "usdt_libbpf17";

fn fixture(name: &str) -> CollectionSpec {
    let path = format!("{}/../../testdata/{name}-el.o", env!("CARGO_MANIFEST_DIR"));
    CollectionSpec::from_file(path).unwrap()
}

fn x86_64_only() -> bool {
    if cfg!(target_arch = "x86_64") {
        return true;
    }
    skip("the USDT test programs run on x86-64 (the arm64 ones are only parsed)");
    false
}

/// The record of the attachment with `cookie` whose first argument is `first`.
fn record(records: &HashMap<RecordKey, Record>, cookie: u64, first: i64) -> Record {
    records
        .get(&RecordKey { cookie, first })
        .unwrap()
        .unwrap_or_else(|| panic!("no record for cookie {cookie}, first argument {first}"))
}

/// The arguments a record holds: `bpf_usdt_arg` succeeded for each of the
/// `arg_cnt` arguments, and failed with -ENOENT past them.
fn args_of(r: &Record) -> Vec<i64> {
    let n = usize::try_from(r.arg_cnt).unwrap();
    assert!(r.errors[..n].iter().all(|&e| e == 0), "{r:?}");
    assert!(r.errors[n..].iter().all(|&e| e == -2), "{r:?}");
    r.args[..n].to_vec()
}

/// Attaches the fixture's `record_usdt` (through `usdt.bpf.h`'s
/// `bpf_usdt_arg`) to every probe of a running target, each with its own
/// USDT cookie, and checks every argument it read.
fn arguments_of_every_kind(spec: &CollectionSpec, multi: bool) -> ebpf_test_support::TestResult {
    let mut coll = load(spec)?;
    let records: HashMap<RecordKey, Record> = coll.take_map("records")?.try_into()?;
    let prog = coll.take_program("record_usdt")?;
    assert_eq!(
        prog.attach_type() == Some(ebpf::AttachType::TRACE_UPROBE_MULTI),
        multi,
        "{:?}",
        prog.attach_type()
    );
    let mut target = Target::start();
    let pid = target.pid();
    let probe = |binary: PathBuf, provider: &str, name: &str, cookie| UsdtTarget {
        pid: Some(pid),
        cookie,
        ..UsdtTarget::new(binary, provider, name)
    };
    let mut links = vec![
        usdt::attach(&prog, &probe(exe("x86_64"), "ebpf_rs", "args", 1))?,
        usdt::attach(&prog, &probe(exe("x86_64"), "ebpf_rs", "natural", 2))?,
        usdt::attach(&prog, &probe(exe("x86_64"), "ebpf_rs", "sema", 3))?,
        usdt::attach(&prog, &probe(lib("x86_64"), "ebpf_rs_lib", "lib_args", 4))?,
    ];
    // Base + index * scale: libbpf 1.7's usdt.bpf.h reads it, 1.1's cannot.
    let indexed = usdt::attach(&prog, &probe(exe("x86_64"), "ebpf_rs", "indexed", 5));
    let sib = spec.maps[usdt::SPECS_MAP].value_size == 304;
    match indexed {
        Ok(link) if sib => links.push(link),
        Err(e) if !sib => assert!(
            ebpf_link::ErrorChain(&e).to_string().contains("libbpf 1.7"),
            "{e}"
        ),
        other => panic!("indexed argument with SIB {sib}: {other:?}"),
    }
    assert_eq!(links[1].call_sites(), 2);
    assert_eq!(links[1].specs(), 2, "two argument strings");
    for l in &links {
        assert_eq!(l.multi().is_some(), multi);
        assert_eq!(l.uprobes().len(), if multi { 0 } else { l.call_sites() });
    }

    // The kernel raised the semaphores of the attached probes.
    let b = b'g';
    assert_eq!(target.fire(b), (1, 1));
    let b = i64::from(b);
    let r = record(&records, 1, 42);
    assert_eq!(r.hits, 1);
    assert_eq!(
        args_of(&r),
        [
            42,                                    // -4@$42
            b * 1000 + 7,                          // -8@%rax
            -b,                                    // -2@-2(%rsp)
            b + 100,                               // 1@%cl
            -b,                                    // -1@-3(%rsp)
            (0xfeed_face_0000_0000u64 as i64) + b, // 8@%rdx
        ]
    );
    assert_eq!(args_of(&record(&records, 2, 1)), [1, b, -b]);
    assert_eq!(args_of(&record(&records, 2, 2)), [2, b * 2, -b * 2]);
    // Fired only because the semaphore was up: its value is the argument.
    assert_eq!(args_of(&record(&records, 3, 1)), [1, 1]);
    // The shared library: -4@$-7 8@%rcx -4@-4(%rsp).
    assert_eq!(args_of(&record(&records, 4, -7)), [-7, b * 3, -b]);
    if sib {
        // -4@$1 -8@-40(%rsp,%rax,8) -8@%rdi: table[b & 3] of { 10, 20, 30, 40 }.
        assert_eq!(args_of(&record(&records, 5, 1)), [1, 40, b & 3]);
    }

    // Detached: the semaphores are down and nothing more is recorded.
    drop(links);
    assert_eq!(target.fire(b'h'), (0, 0));
    assert_eq!(record(&records, 1, 42).hits, 1);
    assert_eq!(records.iter().count(), if sib { 6 } else { 5 });
    Ok(())
}

#[test]
fn usdt_arguments_of_every_kind() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        // On 6.6 and later, Collection::load makes it a uprobe_multi program.
        let multi = ebpf::features::have_link_kind(ebpf::features::LinkKind::UprobeMulti).is_ok();
        arguments_of_every_kind(&fixture(LIBBPF_1_1), multi)
    });
}

#[test]
fn usdt_arguments_with_libbpf_1_7_headers() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        let multi = ebpf::features::have_link_kind(ebpf::features::LinkKind::UprobeMulti).is_ok();
        arguments_of_every_kind(&fixture(LIBBPF_1_7), multi)
    });
}

#[test]
fn usdt_with_one_uprobe_per_call_site() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        // Without the usdt section flag the program loads as a plain uprobe
        // program: one perf-event uprobe per call site.
        let mut spec = fixture(LIBBPF_1_7);
        let p = spec.programs.get_mut("record_usdt").unwrap();
        p.section_flags = ebpf_spec::SectionFlags::default();
        arguments_of_every_kind(&spec, false)
    });
}

#[test]
fn usdt_auto_attach_with_bpf_usdt() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        let spec = fixture(LIBBPF_1_1);
        let coll = load(&spec)?;
        let prog = &coll.programs["args_typed"];
        // usdt/../../testdata/host/usdt_target-x86_64:ebpf_rs:args, relative
        // to this crate's directory, where tests run.
        let link = ebpf_link::attach_spec(&spec.programs["args_typed"], prog)?;
        assert_eq!(link.kind(), "usdt");
        let mut target = Target::start();
        assert_eq!(target.fire(b'A').0, 1);
        let seen = coll.variables["args_seen"].bytes()?;
        let field = |i: usize| i64::from_ne_bytes(seen[i * 8..i * 8 + 8].try_into().unwrap());
        let b = i64::from(b'A');
        // Its start-up round (Target::start) fired the probe too.
        assert_eq!(field(0), 2, "hits");
        assert_eq!(
            (1..7).map(field).collect::<Vec<_>>(),
            [
                42,
                b * 1000 + 7,
                -b,
                b + 100,
                -b,
                (0xfeed_face_0000_0000u64 as i64) + b
            ]
        );
        drop(link);
        assert_eq!(target.fire(b'B').0, 0);
        Ok(())
    });
}

#[test]
fn usdt_from_a_pinned_program_finds_its_maps_by_id() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        let mut coll = load(&fixture(LIBBPF_1_1))?;
        let records: HashMap<RecordKey, Record> = coll.take_map("records")?.try_into()?;
        let fs = ebpf_test_support::BpfFs::new()?;
        coll.programs
            .get_mut("record_usdt")
            .unwrap()
            .pin(fs.path().join("record_usdt"))?;
        // Opened from the pin, the program has no maps kept with it: the
        // usdt.bpf.h maps are found among the program's map ids.
        let prog = ebpf::Program::from_pin(fs.path().join("record_usdt"))?;
        assert!(prog.attach_map(usdt::SPECS_MAP).is_none());
        drop(coll);
        let mut target = Target::start();
        let probe = UsdtTarget {
            pid: Some(target.pid()),
            cookie: 9,
            ..UsdtTarget::new(lib("x86_64"), "ebpf_rs_lib", "lib_args")
        };
        let link = usdt::attach(&prog, &probe)?;
        target.fire(b'z');
        let b = i64::from(b'z');
        assert_eq!(args_of(&record(&records, 9, -7)), [-7, b * 3, -b]);
        drop(link);
        Ok(())
    });
}

#[test]
fn usdt_errors() {
    kernel_test(|| {
        if !x86_64_only() {
            return Ok(());
        }
        let coll = load(&fixture(LIBBPF_1_1))?;
        let prog = &coll.programs["record_usdt"];
        let err =
            usdt::attach(prog, &UsdtTarget::new(exe("x86_64"), "ebpf_rs", "nope")).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("no USDT probe ebpf_rs:nope in "),
            "{err}"
        );
        let err =
            usdt::attach(prog, &UsdtTarget::new(exe("aarch64"), "ebpf_rs", "args")).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("is an arm64 binary"),
            "{err}"
        );
        let args = UsdtTarget::new(exe("x86_64"), "ebpf_rs", "args");
        let mut link = usdt::attach(prog, &args)?;
        let err = link.pin(std::path::Path::new("/sys/fs/bpf/x")).unwrap_err();
        assert!(matches!(err, ebpf_link::Error::Unsupported { .. }), "{err}");
        // The same call sites again: with BPF cookies each uprobe carries its
        // own spec id; without them (before 5.15) the spec id is looked up by
        // the call site's address in __bpf_usdt_ip_to_spec_id, which holds
        // one per address (libbpf refuses this too).
        let cookies = ebpf::features::have_bpf_cookie().is_ok();
        match usdt::attach(prog, &args) {
            Ok(second) if cookies => drop(second),
            Err(e) if !cookies => {
                assert!(
                    ebpf_link::ErrorChain(&e)
                        .to_string()
                        .contains("already probes address"),
                    "{e}"
                );
            }
            other => panic!("a second attachment, BPF cookies: {cookies}: {other:?}"),
        }
        link.detach()?;
        assert_eq!(link.call_sites(), 0);
        // Detached, it gave its addresses back.
        drop(usdt::attach(prog, &args)?);
        // A library in every process: without BPF cookies the addresses of
        // its call sites differ per process, so it takes a pid.
        let every = usdt::attach(
            prog,
            &UsdtTarget::new(lib("x86_64"), "ebpf_rs_lib", "lib_args"),
        );
        match every {
            Ok(l) if cookies => drop(l),
            Err(e) if !cookies => {
                let ns = e.not_supported().unwrap_or_else(|| panic!("{e}"));
                assert_eq!(ns.min_kernel, ebpf::KernelVersion::new(5, 15, 0), "{e}");
            }
            other => panic!("a library in every process, BPF cookies: {cookies}: {other:?}"),
        }
        Ok(())
    });
}
