//! `.BTF.ext` parsing on hand-built blobs in both byte orders.

mod common;

use common::*;
use ebpf_btf::*;

struct W {
    big: bool,
    b: Vec<u8>,
}

impl W {
    fn u32(&mut self, v: u32) -> &mut Self {
        let bytes = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&bytes);
        self
    }
}

struct Fixture {
    btf: Vec<u8>,
    ext: Vec<u8>,
}

fn fixture(endian: Endian, with_core: bool) -> Fixture {
    fixture_padded(endian, with_core, 0)
}

/// The fixture with `pad` more bytes in every record (a newer format's trailing fields,
/// which a reader skips).
fn fixture_padded(endian: Endian, with_core: bool, pad: u32) -> Fixture {
    let mut b = all_kinds();
    let sec = b.add_string("kprobe/do_foo");
    let text = b.add_string(".text");
    let file = b.add_string("/src/prog.c");
    let line = b.add_string("\treturn x + 1;");
    let acc = b.add_string("0:1");
    let acc0 = b.add_string("0");
    let btf = b
        .marshal(MarshalOptions {
            endian: Some(endian),
        })
        .unwrap();
    let big = endian == Endian::Big;
    let padding = |w: &mut W| {
        for _ in 0..pad / 4 {
            w.u32(0xdead_beef);
        }
    };
    let mut func = W { big, b: vec![] };
    func.u32(8 + pad).u32(sec).u32(1).u32(0).u32(19);
    padding(&mut func);
    func.u32(text).u32(2).u32(16).u32(19);
    padding(&mut func);
    func.u32(0).u32(19);
    padding(&mut func);
    let mut lines = W { big, b: vec![] };
    lines.u32(16 + pad).u32(sec).u32(2);
    lines.u32(8).u32(file).u32(line).u32(42 << 10 | 5);
    padding(&mut lines);
    lines.u32(0).u32(file).u32(line).u32(41 << 10 | 1);
    padding(&mut lines);
    let mut core = W { big, b: vec![] };
    core.u32(16 + pad).u32(sec).u32(2);
    core.u32(24).u32(9).u32(acc).u32(0);
    padding(&mut core);
    core.u32(16).u32(11).u32(acc0).u32(11);
    padding(&mut core);
    let hdr_len = if with_core { 32 } else { 24 };
    let mut h = W { big, b: vec![] };
    let magic: [u8; 2] = if big { [0xeb, 0x9f] } else { [0x9f, 0xeb] };
    h.b.extend_from_slice(&magic);
    h.b.extend_from_slice(&[1, 0]);
    let (fl, ll, cl) = (
        func.b.len() as u32,
        lines.b.len() as u32,
        core.b.len() as u32,
    );
    h.u32(hdr_len).u32(0).u32(fl).u32(fl).u32(ll);
    if with_core {
        h.u32(fl + ll).u32(cl);
    }
    h.b.extend_from_slice(&func.b);
    h.b.extend_from_slice(&lines.b);
    if with_core {
        h.b.extend_from_slice(&core.b);
    }
    Fixture { btf, ext: h.b }
}

fn describe(info: &ExtInfo) -> String {
    let mut s = String::new();
    for (name, sec) in &info.sections {
        s += &format!("section {name}\n");
        for f in &sec.func_info {
            s += &format!("  func insn_off={} type_id={}\n", f.insn_off, f.type_id);
        }
        for l in &sec.line_info {
            s += &format!(
                "  line insn_off={} {}:{}:{} {:?}\n",
                l.insn_off, l.file_name, l.line_num, l.column, l.line
            );
        }
        for r in &sec.core_relos {
            s += &format!(
                "  core insn_off={} type_id={} access={} kind={}\n",
                r.insn_off,
                r.type_id,
                r.access,
                r.kind.name()
            );
        }
    }
    s
}

#[test]
fn parse_both_orders_golden() {
    let le = fixture(Endian::Little, true);
    let be = fixture(Endian::Big, true);
    let spec_le = Spec::parse(&le.btf).unwrap();
    let spec_be = Spec::parse(&be.btf).unwrap();
    let a = ExtInfo::parse(&le.ext, &spec_le).unwrap();
    let b = ExtInfo::parse(&be.ext, &spec_be).unwrap();
    assert_eq!(a, b);
    let sec = a.section("kprobe/do_foo").unwrap();
    assert_eq!(sec.line_info[0].insn_off, 0);
    assert_eq!(sec.line_info[1].line_num, 42);
    assert_eq!(sec.core_relos[0].kind, CoreReloKind::EnumvalValue);
    assert_eq!(sec.core_relos[1].accessor().unwrap(), vec![0, 1]);
    assert_eq!(a.section(".text").unwrap().func_info.len(), 2);
    golden("ext_info.txt", &describe(&a));
}

#[test]
fn longer_records_read_like_the_struct() {
    for endian in [Endian::Little, Endian::Big] {
        let exact = fixture(endian, true);
        let spec = Spec::parse(&exact.btf).unwrap();
        let want = ExtInfo::parse(&exact.ext, &spec).unwrap();
        let want_raw = RawExtInfo::parse(&exact.ext, &spec).unwrap();
        for pad in [4, 8, 12] {
            let longer = fixture_padded(endian, true, pad);
            assert_eq!(ExtInfo::parse(&longer.ext, &spec).unwrap(), want, "{pad}");
            assert_eq!(
                RawExtInfo::parse(&longer.ext, &spec).unwrap(),
                want_raw,
                "{pad}"
            );
        }
    }
}

#[test]
fn header_without_core_relos() {
    let f = fixture(Endian::Little, false);
    let spec = Spec::parse(&f.btf).unwrap();
    let info = ExtInfo::parse(&f.ext, &spec).unwrap();
    assert!(info.sections.values().all(|s| s.core_relos.is_empty()));
}

#[test]
fn mismatched_order_and_bad_records() {
    let le = fixture(Endian::Little, true);
    let be = fixture(Endian::Big, true);
    let spec_le = Spec::parse(&le.btf).unwrap();
    assert!(ExtInfo::parse(&be.ext, &spec_le).is_err());
    // func_info pointing at a non-FUNC type.
    let mut ext = le.ext.clone();
    ext[32 + 16..32 + 20].copy_from_slice(&1u32.to_le_bytes());
    let e = ExtInfo::parse(&ext, &spec_le).unwrap_err();
    assert!(e.to_string().contains("is not a func"), "{e}");
    // Absurd num_info.
    let mut ext = le.ext.clone();
    ext[32 + 8..32 + 12].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    assert!(matches!(
        ExtInfo::parse(&ext, &spec_le),
        Err(Error::BadExt {
            field: "num_info",
            ..
        })
    ));
    // Every truncation fails cleanly or parses a prefix-consistent header.
    for n in 0..le.ext.len() {
        let _ = ExtInfo::parse(&le.ext[..n], &spec_le);
    }
}

#[test]
fn a_core_relocation_needs_an_accessor_string_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        let f = fixture(endian, true);
        let spec = Spec::parse(&f.btf).unwrap();
        let u32_at = |b: &[u8], at: usize| {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            match endian {
                Endian::Little => u32::from_le_bytes(w),
                Endian::Big => u32::from_be_bytes(w),
            }
        };
        // The first record's access_str_off: after the header, the core block's record
        // size, section name and count, and the record's insn_off and type_id.
        let at = 32 + u32_at(&f.ext, 24) as usize + 12 + 8;
        let with_access = |off: u32| {
            let mut ext = f.ext.clone();
            let w = match endian {
                Endian::Little => off.to_le_bytes(),
                Endian::Big => off.to_be_bytes(),
            };
            ext[at..at + 4].copy_from_slice(&w);
            RawExtInfo::parse(&ext, &spec)
        };
        let table = spec.strings().as_bytes();
        let find = |s: &str| {
            let needle = [s.as_bytes(), &[0]].concat();
            let i = table
                .windows(needle.len())
                .position(|w| w == needle)
                .unwrap();
            u32::try_from(i).unwrap()
        };
        let ok = with_access(find("0:1")).unwrap();
        assert_eq!(ok.sections["kprobe/do_foo"].core_relos.len(), 2);
        for (off, what) in [
            (find("kprobe/do_foo"), "invalid accessor \"kprobe/do_foo\""),
            (0, "invalid accessor \"\""),
            (find("1") + 1, "invalid accessor \"\""),
            (u32::try_from(table.len()).unwrap() + 5, "access_str_off"),
        ] {
            let e = with_access(off).unwrap_err();
            assert!(
                matches!(
                    &e,
                    Error::BadExt {
                        field: "access_str_off",
                        ..
                    }
                ),
                "{endian:?} {off}: {e}"
            );
            assert!(e.to_string().contains(what), "{endian:?} {off}: {e}");
        }
    }
}

#[test]
fn kernel_encoding() {
    let f = fixture(Endian::Little, true);
    let spec = Spec::parse(&f.btf).unwrap();
    let info = ExtInfo::parse(&f.ext, &spec).unwrap();
    let sec = info.section("kprobe/do_foo").unwrap();
    let fi = ext_info::marshal_func_info(&sec.func_info, 0, Endian::Little);
    assert_eq!(
        fi,
        [0u32, 19]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    );
    let li = ext_info::marshal_line_info(&sec.line_info, 0, Endian::Big);
    assert_eq!(li.len(), 32);
    assert_eq!(&li[16..20], &1u32.to_be_bytes());
    assert_eq!(
        u32::from_be_bytes([li[28], li[29], li[30], li[31]]),
        42 << 10 | 5
    );
}

/// A `.BTF.ext` of `n` line infos in one section (no func info, no CO-RE relocations),
/// each `(insn_off, file_name_off, line_off, line_col)` from `record`, over a `.BTF` whose
/// string table holds `line` (non-ASCII if asked); also the offsets of the file name and
/// line strings.
fn many_lines(
    endian: Endian,
    n: u32,
    line: &str,
    record: impl Fn(u32, u32, u32) -> [u32; 4],
) -> Fixture {
    let mut b = all_kinds();
    let sec = b.add_string("tracepoint/foo");
    let file = b.add_string("/src/many.c");
    let line = b.add_string(line);
    let btf = b
        .marshal(MarshalOptions {
            endian: Some(endian),
        })
        .unwrap();
    let big = endian == Endian::Big;
    let mut lines = W { big, b: vec![] };
    lines.u32(16).u32(sec).u32(n);
    for i in 0..n {
        for v in record(i, file, line) {
            lines.u32(v);
        }
    }
    let mut h = W { big, b: vec![] };
    let magic: [u8; 2] = if big { [0xeb, 0x9f] } else { [0x9f, 0xeb] };
    h.b.extend_from_slice(&magic);
    h.b.extend_from_slice(&[1, 0]);
    h.u32(24).u32(0).u32(0).u32(0).u32(lines.b.len() as u32);
    h.b.extend_from_slice(&lines.b);
    Fixture { btf, ext: h.b }
}

#[test]
fn a_long_line_info_block_is_checked_like_a_short_one_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        for line in ["\treturn x + 1;", "\treturn \u{e9}t\u{e9};"] {
            let ascii = line.is_ascii();
            // 40 records: more than the block size checked by the offsets' maxima.
            let good = many_lines(endian, 40, line, |i, f, l| [8 * i, f, l, (i + 1) << 10]);
            let spec = Spec::parse(&good.btf).unwrap();
            let raw = RawExtInfo::parse(&good.ext, &spec).unwrap();
            let got = &raw.sections["tracepoint/foo"].line_info;
            assert_eq!(got.len(), 40, "{endian:?} ascii={ascii}");
            assert_eq!(got[39].insn_off, 8 * 39);
            let full = ExtInfo::parse(&good.ext, &spec).unwrap();
            assert_eq!(
                full.sections["tracepoint/foo"].line_info[3].line.as_ref(),
                line
            );
            let len = u32::try_from(spec.strings().as_bytes().len()).unwrap();
            // One bad offset among many is found and named, whichever the field.
            for (field, bad) in [("line_off", len + 3), ("file_name_off", len)] {
                let f = many_lines(endian, 40, line, |i, f, l| {
                    let (mut f, mut l) = (f, l);
                    if i == 37 {
                        if field == "line_off" {
                            l = bad;
                        } else {
                            f = bad;
                        }
                    }
                    [8 * i, f, l, 1 << 10]
                });
                let e = RawExtInfo::parse(&f.ext, &spec).unwrap_err();
                // The reason is the string table's own, as a short block gives it.
                let why = spec.string_at(bad).unwrap_err().to_string();
                assert!(
                    matches!(&e, Error::BadExt { field: got, reason, .. } if *got == field && *reason == why),
                    "{endian:?} ascii={ascii} {field}: {e}"
                );
            }
            if !ascii {
                // Inside the table but not at a character: refused like any bad string.
                let mid = spec
                    .strings()
                    .as_bytes()
                    .iter()
                    .position(|&c| c == 0xa9)
                    .map(|p| u32::try_from(p).unwrap())
                    .unwrap();
                let f = many_lines(endian, 40, line, |i, f, l| {
                    [8 * i, f, if i == 20 { mid } else { l }, 1 << 10]
                });
                let e = RawExtInfo::parse(&f.ext, &spec).unwrap_err();
                let why = spec.string_at(mid).unwrap_err().to_string();
                assert!(
                    matches!(
                        &e,
                        Error::BadExt {
                            field: "line_off",
                            reason,
                            ..
                        } if *reason == why
                    ),
                    "{endian:?}: {e}"
                );
            }
        }
    }
}
