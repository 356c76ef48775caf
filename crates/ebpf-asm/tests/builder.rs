//! The builder API as other crates use it: a program with labels, maps, helper, kfunc and
//! BPF-to-BPF calls, marshalled, disassembled and assembled back.

use ebpf_asm::Register::*;
use ebpf_asm::{
    AluOp, AtomicOp, Endianness, Error, Helper, Instructions, JumpOp, PseudoLoad, Size, Source,
    call, call_func, call_kfunc, exit, gotol, load_func, load_imm64, load_map_ptr, load_map_value,
    load_mem, may_goto, mov64, mov64_reg, store_imm, store_mem,
};

fn program() -> Instructions {
    Instructions::from(vec![
        mov64(R6, 0).with_symbol("main"),
        store_imm(R10, -4, 7, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_ptr(R1, "counters"),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "exit"),
        AtomicOp::Add.mem(R0, R6, 0, Size::DW),
        load_mem(R1, R0, 0, Size::W),
        AluOp::Add.reg32(R1, R1),
        store_mem(R10, -8, R1, Size::DW),
        load_map_value(R3, ".rodata", 16),
        load_imm64(R4, 0x1122_3344_5566_7788),
        load_func(R5, "helper"),
        call_kfunc(1234, 0),
        may_goto("exit"),
        call_func("helper"),
        gotol("exit"),
        JumpOp::Ja.label("exit"),
        mov64(R0, 0).with_symbol("exit"),
        exit(),
        AluOp::Add
            .imm(R1, 22)
            .with_symbol("helper")
            .with_source(Source::text("return x + 22;")),
        mov64_reg(R0, R1),
        exit(),
    ])
}

#[test]
fn builds_marshals_and_disassembles() {
    let prog = program();
    let symbols = prog.symbol_offsets().expect("symbols");
    assert_eq!(symbols.get("main"), Some(&0));
    assert_eq!(symbols.get("exit"), Some(&23));
    assert_eq!(symbols.get("helper"), Some(&25));
    assert_eq!(prog.function_references(), vec!["helper"]);
    assert_eq!(prog[4].reference(), Some("counters"));
    assert_eq!(prog[11].pseudo_load(), Some(PseudoLoad::MapValue));
    assert_eq!(prog[11].map_fd_and_offset(), Some((0, 16)));

    let mut resolved = prog.clone();
    resolved.resolve_references().expect("resolve");
    for order in [Endianness::Little, Endianness::Big] {
        let bytes = prog.marshal(order).expect("marshal");
        assert_eq!(bytes.len(), prog.byte_len());
        assert_eq!(
            Instructions::unmarshal(&bytes, order).expect("unmarshal"),
            resolved
        );
    }
    let text = resolved.to_string();
    let want = "       0:\tr6 = 0x0
       1:\t*(u32 *)(r10 - 0x4) = 0x7
       2:\tr2 = r10
       3:\tr2 += -0x4
       4:\tld_pseudo\tr1, 0x1, 0x0
       6:\tcall 0x1
       7:\tif r0 == 0x0 goto +0xf
       8:\tlock *(u64 *)(r0 + 0x0) += r6
       9:\tr1 = *(u32 *)(r0 + 0x0)
      10:\tw1 += w1
      11:\t*(u64 *)(r10 - 0x8) = r1
      12:\tld_pseudo\tr3, 0x2, 0x1000000000
      14:\tr4 = 0x1122334455667788 ll
      16:\tld_pseudo\tr5, 0x4, 0x8
      18:\tcall kfunc 0x4d2
      19:\tmay_goto +0x3
      20:\tcall pc+0x4
      21:\tgotol +0x1
      22:\tgoto +0x0
      23:\tr0 = 0x0
      24:\texit
      25:\tr1 += 0x16
      26:\tr0 = r1
      27:\texit
";
    assert_eq!(text, want);
    assert_eq!(ebpf_asm::parse(&text).expect("parse"), resolved);
    let annotated = format!("{prog:#}");
    assert!(
        annotated.contains("\nhelper:\n; return x + 22;\n      25:\tr1 += 0x16\n"),
        "{annotated}"
    );
    assert!(
        annotated.contains("call 0x1 <bpf_map_lookup_elem>"),
        "{annotated}"
    );
    assert!(
        annotated.contains("ld_pseudo\tr1, 0x1, 0x0 <counters>"),
        "{annotated}"
    );
    let back = ebpf_asm::parse(&annotated).expect("parse annotated");
    assert_eq!(back, resolved);
    assert_eq!(back[14].reference(), None, "a kfunc call has no label");
    assert_eq!(back[15].reference(), Some("exit"));
    assert_eq!(back[16].reference(), Some("helper"));
    assert_eq!(back.symbol_offsets().expect("symbols"), symbols);
}

#[test]
fn assembles_text_with_labels() {
    let prog = ebpf_asm::parse(
        "main:
            r0 = 0                 // decimal
            r1 = 0x10
            if r1 s> 5 goto out    ; label
            call bpf_ktime_get_ns
            call helper
            goto +1
        out:
            exit
        helper:
            w0 = -1
            exit",
    )
    .expect("parse");
    assert_eq!(prog[2].offset, 3);
    assert_eq!(prog[3].constant, i64::from(Helper::KtimeGetNs.id()));
    assert_eq!(prog[4].constant, 2);
    assert_eq!(prog[4].reference(), Some("helper"));
    assert_eq!(prog.function_references(), vec!["helper"]);
}

#[test]
fn reference_errors() {
    let unresolved = Instructions::from(vec![call_func("nowhere"), exit()]);
    let err = unresolved
        .marshal(Endianness::Little)
        .expect_err("unresolved");
    assert_eq!(
        err,
        Error::UnresolvedReference {
            index: 0,
            reference: "nowhere".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "instruction 0: unresolved reference \"nowhere\""
    );
    let mut far = vec![JumpOp::Ne.reg(R1, R2, "far")];
    far.extend(std::iter::repeat_n(mov64(R0, 0), 1 << 15));
    far.push(exit().with_symbol("far"));
    let err = Instructions::from(far)
        .marshal(Endianness::Little)
        .expect_err("too far");
    assert!(
        matches!(
            err,
            Error::OffsetOutOfRange {
                index: 0,
                bits: 16,
                distance: 32768,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn odd_symbol_names_round_trip() {
    let prog = Instructions::from(vec![
        JumpOp::Ja
            .label("my-label.1")
            .with_symbol("fn$1")
            .with_source(Source::text("two\nlines")),
        exit().with_symbol("my-label.1"),
    ]);
    let back = ebpf_asm::parse(&format!("{prog:#}")).expect("parse");
    assert_eq!(back[0].symbol(), Some("fn$1"));
    assert_eq!(back[0].reference(), Some("my-label.1"));
    assert_eq!(back[1].symbol(), Some("my-label.1"));
}
