//! Malformed objects give typed errors, never panics: truncations, random corruption and
//! targeted edits of the committed fixtures (little-endian ELF64, patched in place).

use std::path::Path;

use ebpf_spec::{CollectionSpec, Error};
use goblin::elf::Elf;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// File offset of section header `name`.
fn shdr(bytes: &[u8], name: &str) -> usize {
    let elf = Elf::parse(bytes).expect("fixture parses");
    let i = elf
        .section_headers
        .iter()
        .position(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
        .unwrap_or_else(|| panic!("no section {name}"));
    elf.header.e_shoff as usize + i * elf.header.e_shentsize as usize
}

/// File offset of the symbol table entry `name`.
fn sym(bytes: &[u8], name: &str) -> usize {
    let elf = Elf::parse(bytes).expect("fixture parses");
    let symtab = elf
        .section_headers
        .iter()
        .find(|s| s.sh_type == goblin::elf::section_header::SHT_SYMTAB)
        .expect("symtab");
    let i = elf
        .syms
        .iter()
        .position(|s| elf.strtab.get_at(s.st_name) == Some(name))
        .unwrap_or_else(|| panic!("no symbol {name}"));
    symtab.sh_offset as usize + i * 24
}

/// File offset of relocation `index` of section `rel`.
fn rel(bytes: &[u8], rel_section: &str, index: usize) -> usize {
    let at = shdr(bytes, rel_section);
    let off = u64::from_le_bytes(bytes[at + 24..at + 32].try_into().expect("8 bytes"));
    off as usize + index * 16
}

fn open(bytes: &[u8]) -> Error {
    match CollectionSpec::from_elf(bytes) {
        Ok(_) => panic!("malformed object opened"),
        Err(e) => e,
    }
}

#[test]
fn truncated_objects() {
    for name in ["loader-el.o", "nobtf-eb.o", "core-el.o"] {
        let bytes = fixture(name);
        let mut n = 0;
        while n < bytes.len() {
            assert!(
                CollectionSpec::from_elf(&bytes[..n]).is_err(),
                "{name}: {n} bytes opened"
            );
            n += if n < 256 { 1 } else { 37 };
        }
        assert!(CollectionSpec::from_elf(&bytes).is_ok());
    }
}

#[test]
fn random_corruption_never_panics() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in ["loader-el.o", "loader-eb.o", "nobtf-el.o", "core-eb.o"] {
        let orig = fixture(name);
        for _ in 0..400 {
            let mut b = orig.clone();
            for _ in 0..=(next() % 4) {
                let at = (next() as usize) % b.len();
                b[at] = next() as u8;
            }
            // What opens decodes: its instructions were checked at open.
            if let Ok(spec) = CollectionSpec::from_elf(&b) {
                for p in spec.programs.values() {
                    assert!(!p.instructions.is_empty(), "{name}: {}", p.name);
                }
            }
        }
    }
}

/// Relocations in any order give the spec relocations in offset order give.
#[test]
fn relocations_out_of_order() {
    let orig = fixture("loader-el.o");
    let mut b = orig.clone();
    for (section, n) in [(".relsocket", 6), (".relsyscall", 7)] {
        let first = rel(&b, section, 0);
        let mut entries: Vec<Vec<u8>> = (0..n)
            .map(|i| b[first + i * 16..first + (i + 1) * 16].to_vec())
            .collect();
        entries.reverse();
        b[first..first + n * 16].copy_from_slice(&entries.concat());
    }
    assert_ne!(b, orig);
    let want = CollectionSpec::from_elf(&orig).unwrap();
    let got = CollectionSpec::from_elf(&b).unwrap();
    assert_eq!(got.programs.len(), want.programs.len());
    for (name, p) in &want.programs {
        assert_eq!(got.programs[name].instructions, p.instructions, "{name}");
    }
}

#[test]
fn bad_ld_imm64_second_half() {
    let mut b = fixture("loader-el.o");
    let at = rel(&b, ".relxdp", 0);
    // The relocation's ld_imm64: its second half given an opcode.
    let offset = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let xdp = shdr(&b, "xdp");
    let data = u64::from_le_bytes(b[xdp + 24..xdp + 32].try_into().unwrap());
    b[(data + offset + 8) as usize] = 0x07;
    let e = open(&b);
    assert!(matches!(e, Error::Instructions { .. }), "{e}");
    let text = chain(&e);
    assert!(text.starts_with("section 'xdp': "), "{text}");
    assert!(text.contains("ld_imm64"), "{text}");
}

#[test]
fn not_an_object() {
    assert!(matches!(open(b""), Error::Elf(_)));
    assert!(matches!(open(b"\x7fELF\x02\x01\x01"), Error::Elf(_)));
    let mut b = fixture("loader-el.o");
    put_u16(&mut b, 18, 62); // e_machine = EM_X86_64
    let e = open(&b);
    assert!(matches!(e, Error::NotBpf { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "elf: not a bpf object: machine 62 is not EM_BPF"
    );
}

#[test]
fn section_headers_past_end_of_file() {
    // The table is copied at once in the host's byte order, read field by field in the
    // other: both refuse a table that ends past the file.
    for name in ["loader-el.o", "loader-eb.o"] {
        let mut b = fixture(name);
        let len = b.len() as u64;
        let at = 40; // e_shoff
        let v = len - 64;
        if name.ends_with("-eb.o") {
            b[at..at + 8].copy_from_slice(&v.to_be_bytes());
        } else {
            put_u64(&mut b, at, v);
        }
        let e = open(&b);
        assert!(matches!(e, Error::Elf(_)), "{name}: {e}");
    }
}

#[test]
fn section_past_end_of_file() {
    let mut b = fixture("loader-el.o");
    let at = shdr(&b, ".data");
    put_u64(&mut b, at + 24, 1 << 40); // sh_offset
    let e = open(&b);
    assert!(matches!(e, Error::SectionOutOfBounds { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("section '.data': data at offset 1099511627776 size 8 past end of file"),
        "{e}"
    );
}

#[test]
fn string_table_not_utf8() {
    let mut b = fixture("loader-el.o");
    let at = shdr(&b, ".strtab");
    let off = u64::from_le_bytes(b[at + 24..at + 32].try_into().unwrap()) as usize;
    b[off + 1] = 0xff;
    let e = open(&b);
    assert!(matches!(e, Error::Elf(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "elf: section names: invalid utf-8 at byte 1 of the string table"
    );
}

#[test]
fn unknown_relocation_type() {
    let mut b = fixture("loader-el.o");
    let at = rel(&b, ".relxdp", 0);
    let offset = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    b[at + 8] = 77; // low byte of r_info: the type
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        format!("section 'xdp': relocation 0 at offset {offset}: unknown relocation type 77")
    );
}

#[test]
fn relocation_to_missing_symbol() {
    let mut b = fixture("loader-el.o");
    let at = rel(&b, ".relxdp", 0);
    let info = (9999u64 << 32) | 1;
    put_u64(&mut b, at + 8, info);
    let e = open(&b);
    assert!(matches!(e, Error::SymbolNotFound { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "section 'xdp': relocation 0: symbol '#9999' not found"
    );
}

#[test]
fn relocation_not_at_an_instruction() {
    let mut b = fixture("loader-el.o");
    let at = rel(&b, ".relxdp", 0);
    // The relocation's own ld_imm64, moved onto its second half.
    let offset = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) + 8;
    put_u64(&mut b, at, offset);
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        format!(
            "section 'xdp': relocation 0 at offset {offset}: symbol 'jump_table': offset is not at an instruction"
        )
    );
}

#[test]
fn datasec_mismatch() {
    let mut b = fixture("loader-el.o");
    let at = sym(&b, "counter");
    put_u64(&mut b, at + 8, 100); // st_value past the end of .data
    let e = open(&b);
    assert!(matches!(e, Error::BtfMismatch { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("datasec '.data': variable 'counter' at offset 100"),
        "{e}"
    );
}

#[test]
fn static_map() {
    let mut b = fixture("loader-el.o");
    let at = sym(&b, "hash_map");
    b[at + 4] &= 0x0f; // st_info: STB_LOCAL
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        "section '.maps': map 'hash_map' is static, which is not supported"
    );
}

#[test]
fn static_program() {
    let mut b = fixture("loader-el.o");
    let at = sym(&b, "xdp_prog");
    b[at + 4] &= 0x0f;
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        "section 'xdp': program 'xdp_prog' is static, which is not supported"
    );
}

#[test]
fn legacy_maps_bad_size() {
    let mut b = fixture("nobtf-el.o");
    let at = shdr(&b, "maps");
    put_u64(&mut b, at + 32, 38); // sh_size
    let e = open(&b);
    assert!(matches!(e, Error::BadLegacyMaps { .. }), "{e}");
}

#[test]
fn legacy_maps_nonzero_trailing_fields() {
    // With one map symbol left, the section is one 40-byte definition whose last 20 bytes
    // (the other map's fields) are unknown and non-zero: libbpf refuses that too.
    let mut b = fixture("nobtf-el.o");
    let at = sym(&b, "legacy_array");
    put_u16(&mut b, at + 6, 10); // st_shndx: .bss
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        "section 'maps': map 'legacy_hash': unrecognized non-zero fields after map_flags"
    );
}

#[test]
fn code_section_size_not_a_multiple_of_8() {
    let mut b = fixture("loader-el.o");
    let at = shdr(&b, "tc");
    put_u64(&mut b, at + 32, 12);
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        "section 'tc': size 12 is not a multiple of 8"
    );
}

#[test]
fn errors_are_lowercase_and_name_their_place() {
    let e = Error::SymbolNotFound {
        section: "xdp".into(),
        index: 3,
        symbol: "foo".into(),
    };
    assert_eq!(
        e.to_string(),
        "section 'xdp': relocation 3: symbol 'foo' not found"
    );
    let e = Error::MissingFunction {
        program: "p".into(),
        function: "f".into(),
    };
    assert_eq!(e.to_string(), "program 'p': function 'f' not found");
}

#[test]
fn huge_bss_is_refused_not_allocated() {
    // Found by the fuzzer: a `.bss` has no bytes in the file, so only its size bounds it.
    let mut b = fixture("loader-el.o");
    let at = shdr(&b, ".bss");
    put_u64(&mut b, at + 32, 0xfc00_0000);
    let e = open(&b);
    assert_eq!(
        e.to_string(),
        "section '.bss': size 4227858432 exceeds the limit of 67108864 bytes"
    );
}

/// `bytes` (a little-endian ELF64 object) with `sizes.len()` more `.bss.N`
/// sections (SHT_NOBITS: no bytes in the file) of the given sizes.
fn with_bss_sections(bytes: &[u8], sizes: &[u64]) -> Vec<u8> {
    let elf = Elf::parse(bytes).expect("fixture parses");
    let (shoff, shnum) = (elf.header.e_shoff as usize, usize::from(elf.header.e_shnum));
    let shstrndx = usize::from(elf.header.e_shstrndx);
    assert_eq!(elf.header.e_shentsize, 64);
    let mut out = bytes.to_vec();
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    // A new section name table: the old one plus the new names.
    let str_hdr = shoff + shstrndx * 64;
    let (str_off, str_len) = (
        u64_at(bytes, str_hdr + 24) as usize,
        u64_at(bytes, str_hdr + 32) as usize,
    );
    let mut strtab = bytes[str_off..str_off + str_len].to_vec();
    let mut names = Vec::new();
    for i in 0..sizes.len() {
        names.push(strtab.len() as u32);
        strtab.extend_from_slice(format!(".bss.{i}\0").as_bytes());
    }
    let new_str_off = out.len();
    out.extend_from_slice(&strtab);
    // A new section header table: the old headers, then the new ones.
    out.resize(out.len().next_multiple_of(8), 0);
    let new_shoff = out.len();
    out.extend_from_slice(&bytes[shoff..shoff + shnum * 64]);
    put_u64(&mut out, new_shoff + shstrndx * 64 + 24, new_str_off as u64);
    put_u64(
        &mut out,
        new_shoff + shstrndx * 64 + 32,
        strtab.len() as u64,
    );
    for (name, size) in names.iter().zip(sizes) {
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(&name.to_le_bytes());
        h[4..8].copy_from_slice(&8u32.to_le_bytes()); // SHT_NOBITS
        h[8..16].copy_from_slice(&3u64.to_le_bytes()); // SHF_WRITE | SHF_ALLOC
        h[32..40].copy_from_slice(&size.to_le_bytes());
        h[48..56].copy_from_slice(&8u64.to_le_bytes()); // sh_addralign
        out.extend_from_slice(&h);
    }
    put_u64(&mut out, 0x28, new_shoff as u64);
    put_u16(&mut out, 0x3c, (shnum + sizes.len()) as u16);
    out
}

#[test]
fn many_large_data_sections_are_refused_before_allocation() {
    // A few KiB of file asking for 17 x 64 MiB of zeroed global data: over the
    // 1 GiB default, refused from the section headers, naming the largest.
    let base = fixture("nobtf-el.o");
    let b = with_bss_sections(&base, &[64 << 20; 17]);
    assert!(b.len() < base.len() + 4096);
    let e = open(&b);
    assert!(matches!(e, Error::DataTooLarge { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("global data and map contents need 1140850696 bytes"),
        "{text}"
    );
    assert!(text.contains("more than the limit of 1073741824"), "{text}");
    assert!(
        text.contains("'.bss.0' 67108864, '.bss.1' 67108864") && text.contains("and 14 more"),
        "{text}"
    );

    // The limit is the caller's: two such sections pass the default and fail
    // a tighter one.
    let b = with_bss_sections(&base, &[64 << 20; 2]);
    let spec = CollectionSpec::from_elf(&b).expect("within the default limit");
    assert_eq!(spec.maps[".bss.1"].value_size, 64 << 20);
    let tight = ebpf_spec::Limits {
        max_data_bytes: 100 << 20,
    };
    let e = CollectionSpec::from_elf_with(&b, &tight).unwrap_err();
    assert!(matches!(e, Error::DataTooLarge { .. }), "{e}");
}

#[test]
fn only_regular_files_are_read() {
    for path in ["/dev/zero", "/dev/null", "/"] {
        let e = CollectionSpec::from_file(path).unwrap_err();
        let text = chain(&e);
        assert!(text.contains("not a regular file"), "{path}: {text}");
    }
    let fifo = std::env::temp_dir().join(format!("ebpf-spec-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(CollectionSpec::from_file(path).map(drop));
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("a FIFO with no writer blocked the read");
    let _ = std::fs::remove_file(&fifo);
    let e = result.unwrap_err();
    let text = chain(&e);
    assert!(text.contains("not a regular file"), "{text}");
}

/// `name`'s symbol renamed to `to`'s name.
fn rename(bytes: &mut [u8], name: &str, to: &str) {
    let (at, to) = (sym(bytes, name), sym(bytes, to));
    let st_name: [u8; 4] = bytes[to..to + 4].try_into().expect("4 bytes");
    bytes[at..at + 4].copy_from_slice(&st_name);
}

#[test]
fn errors_come_in_section_order_a_repeated_name_at_its_first_repeat() {
    // loader.c's program sections in file order: xdp, socket, tc, then
    // tracepoint/syscalls/sys_enter_getpid, whose first relocation is broken here.
    let mut broken = fixture("loader-el.o");
    let r = rel(&broken, ".reltracepoint/syscalls/sys_enter_getpid", 0);
    put_u64(&mut broken, r + 8, (9999 << 32) | 1);
    let e = open(&broken);
    assert!(!matches!(e, Error::DuplicateFunction { .. }), "{e}");
    // tc_prog renamed xdp_prog: that repeat (in tc) comes before the broken section.
    let mut both = broken.clone();
    rename(&mut both, "tc_prog", "xdp_prog");
    match open(&both) {
        Error::DuplicateFunction { section, function } => {
            assert_eq!((section.as_str(), function.as_str()), ("tc", "xdp_prog"));
        }
        e => panic!("not the repeated name: {e}"),
    }
    // Renamed tp_getpid instead, the repeat is in the broken section, whose relocations
    // are read before its functions: the relocation's error comes first.
    let mut later = broken.clone();
    rename(&mut later, "tp_getpid", "xdp_prog");
    assert_eq!(open(&later).to_string(), e.to_string());
    // A static program (tc_prog made local) comes after a repeat in an earlier section.
    let mut local = fixture("loader-el.o");
    let at = sym(&local, "tc_prog") + 4;
    local[at] &= 0x0f;
    let mut repeat_first = local.clone();
    assert!(matches!(open(&local), Error::StaticProgram { .. }));
    rename(&mut repeat_first, "socket_prog_two", "xdp_prog");
    assert!(
        matches!(open(&repeat_first), Error::DuplicateFunction { section, .. } if section == "socket")
    );
    // Alone, the repeat is reported where it is.
    let mut repeat = fixture("loader-el.o");
    rename(&mut repeat, "tp_getpid", "xdp_prog");
    match open(&repeat) {
        Error::DuplicateFunction { section, function } => {
            assert_eq!(section, "tracepoint/syscalls/sys_enter_getpid");
            assert_eq!(function, "xdp_prog");
        }
        e => panic!("not the repeated name: {e}"),
    }
}

/// `e` and its causes, joined with ": ", as a user's program prints them.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
