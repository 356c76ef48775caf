//! The values of libbpf's `__bpf_usdt_specs` map: `struct __bpf_usdt_spec`,
//! as `usdt.bpf.h` reads it.
//!
//! ```text
//! struct __bpf_usdt_spec {
//!     struct __bpf_usdt_arg_spec args[12];
//!     __u64 usdt_cookie;
//!     short arg_cnt;
//! };
//! ```
//!
//! The argument spec has two layouts, told apart by the map's value size:
//!
//! - libbpf up to 1.6 (208 bytes): `__u64 val_off; enum arg_type; short
//!   reg_off; bool arg_signed; char arg_bitshift;` (16 bytes);
//! - libbpf 1.7 and later (304 bytes), which adds base + index × scale
//!   arguments: `__u64 val_off;` then the bit-fields `arg_type:8`,
//!   `idx_reg_off:12`, `scale_bitshift:4`, `__reserved:8` (in reverse order
//!   on big-endian), which the compilers lay out over bytes 8 to 13, then
//!   `short reg_off` at 14, `arg_signed` at 16, `arg_bitshift` at 17 (24
//!   bytes).
//!
//! `val_off` is the constant, or the memory offset; `arg_bitshift` is 64 minus
//! the argument's size in bits (`usdt.bpf.h` shifts left, then back right,
//! arithmetically for signed arguments).

use super::arg::{MAX_ARGS, UsdtArg, UsdtArgLocation};

/// `enum __bpf_usdt_arg_type`.
const ARG_CONST: u8 = 0;
const ARG_REG: u8 = 1;
const ARG_REG_DEREF: u8 = 2;
const ARG_SIB: u8 = 3;

/// The layout of `struct __bpf_usdt_spec` an object was compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpecLayout {
    /// libbpf up to 1.6: 16-byte argument specs, no SIB.
    V1,
    /// libbpf 1.7 and later: 24-byte argument specs with SIB.
    V2,
}

impl SpecLayout {
    /// The layout whose `struct __bpf_usdt_spec` is `value_size` bytes.
    pub fn from_value_size(value_size: u32) -> Option<SpecLayout> {
        match value_size {
            208 => Some(SpecLayout::V1),
            304 => Some(SpecLayout::V2),
            _ => None,
        }
    }

    fn arg_size(self) -> usize {
        match self {
            SpecLayout::V1 => 16,
            SpecLayout::V2 => 24,
        }
    }

    /// The size of the whole spec.
    pub fn value_size(self) -> usize {
        match self {
            SpecLayout::V1 => 208,
            SpecLayout::V2 => 304,
        }
    }
}

/// Encodes `args` and `cookie` as a `struct __bpf_usdt_spec` of `layout` in
/// the host's byte order.
pub(crate) fn encode(args: &[UsdtArg], cookie: u64, layout: SpecLayout) -> Result<Vec<u8>, String> {
    encode_in(args, cookie, layout, cfg!(target_endian = "little"))
}

fn encode_in(
    args: &[UsdtArg],
    cookie: u64,
    layout: SpecLayout,
    little: bool,
) -> Result<Vec<u8>, String> {
    if args.len() > MAX_ARGS {
        return Err(format!("more than {MAX_ARGS} arguments"));
    }
    let u64b = |v: u64| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let u16b = |v: u16| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let u32b = |v: u32| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut out = vec![0u8; layout.value_size()];
    for (i, arg) in args.iter().enumerate() {
        let (kind, val_off, reg_off, index) = match &arg.location {
            UsdtArgLocation::Constant(c) => (ARG_CONST, *c as u64, 0, None),
            UsdtArgLocation::Register(r) => (ARG_REG, 0, r.pt_regs_offset, None),
            UsdtArgLocation::Memory { base, offset } => {
                (ARG_REG_DEREF, *offset as u64, base.pt_regs_offset, None)
            }
            UsdtArgLocation::Indexed {
                base,
                index,
                scale,
                offset,
            } => (
                ARG_SIB,
                *offset as u64,
                base.pt_regs_offset,
                Some((index.pt_regs_offset, scale.trailing_zeros() as u16)),
            ),
        };
        let bitshift = 64 - 8 * arg.size;
        let a = &mut out[i * layout.arg_size()..(i + 1) * layout.arg_size()];
        a[0..8].copy_from_slice(&u64b(val_off));
        match layout {
            SpecLayout::V1 => {
                if index.is_some() {
                    return Err(format!(
                        "argument {i} is at base + index * scale, which usdt.bpf.h reads from \
                         libbpf 1.7 on (this object's is older)"
                    ));
                }
                a[8..12].copy_from_slice(&u32b(u32::from(kind)));
                a[12..14].copy_from_slice(&u16b(reg_off));
                a[14] = u8::from(arg.signed);
                a[15] = bitshift;
            }
            SpecLayout::V2 => {
                let (idx, scale) = index.unwrap_or((0, 0));
                if idx >= 1 << 12 {
                    return Err(format!(
                        "argument {i}: index register offset {idx} too large"
                    ));
                }
                if little {
                    a[8] = kind;
                    a[10..12].copy_from_slice(&(idx | scale << 12).to_le_bytes());
                } else {
                    a[10..12].copy_from_slice(&(idx << 4 | scale).to_be_bytes());
                    a[12] = kind;
                }
                a[14..16].copy_from_slice(&u16b(reg_off));
                a[16] = u8::from(arg.signed);
                a[17] = bitshift;
            }
        }
    }
    let tail = MAX_ARGS * layout.arg_size();
    out[tail..tail + 8].copy_from_slice(&u64b(cookie));
    out[tail + 8..tail + 10].copy_from_slice(&u16b(args.len() as u16));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usdt::arg::{UsdtArch, parse_args};

    fn args(s: &str) -> Vec<UsdtArg> {
        parse_args(UsdtArch::X86_64, s).unwrap()
    }

    #[test]
    fn v1_layout() {
        let v = encode_in(
            &args("-4@$-9 8@%rdx -2@-20(%rbp)"),
            0xc0ffee,
            SpecLayout::V1,
            true,
        )
        .unwrap();
        assert_eq!(v.len(), 208);
        // constant -9, signed, 32 bits: bitshift 32
        assert_eq!(
            &v[0..16],
            &[
                0xf7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 32
            ]
        );
        // rdx at pt_regs offset 96, unsigned, 64 bits
        assert_eq!(
            &v[16..32],
            &[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 96, 0, 0, 0]
        );
        // [rbp - 20], signed 16 bits
        assert_eq!(
            &v[32..48],
            &[
                0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 32, 0, 1, 48
            ]
        );
        assert_eq!(&v[192..200], &0xc0ffeeu64.to_le_bytes());
        assert_eq!(&v[200..202], &3u16.to_le_bytes());
        // Big-endian: the enum's low byte is its last.
        let be = encode_in(&args("8@%rdx"), 0, SpecLayout::V1, false).unwrap();
        assert_eq!(&be[8..16], &[0, 0, 0, 1, 0, 96, 0, 0]);
        assert!(encode_in(&args("1@(%rbp,%rax,8)"), 0, SpecLayout::V1, true).is_err());
    }

    #[test]
    fn v2_layout() {
        // The bytes clang lays libbpf 1.7's struct out as, for arg_type 3,
        // idx_reg_off 0xabc, scale_bitshift 5 and reg_off 0x1234 (checked by
        // compiling the header's struct for bpfel and bpfeb).
        let reg = |name: &str, off| crate::usdt::arg::UsdtRegister {
            name: name.into(),
            pt_regs_offset: off,
        };
        let sib = UsdtArg {
            size: 8,
            signed: false,
            location: UsdtArgLocation::Indexed {
                base: reg("a", 0x1234),
                index: reg("b", 0xabc),
                scale: 32,
                offset: 0,
            },
        };
        let le = encode_in(std::slice::from_ref(&sib), 7, SpecLayout::V2, true).unwrap();
        assert_eq!(le.len(), 304);
        assert_eq!(&le[8..18], &[3, 0, 0xbc, 0x5a, 0, 0, 0x34, 0x12, 0, 0]);
        let be = encode_in(&[sib], 7, SpecLayout::V2, false).unwrap();
        assert_eq!(&be[8..18], &[0, 0, 0xab, 0xc5, 3, 0, 0x12, 0x34, 0, 0]);
        assert_eq!(&le[288..296], &7u64.to_le_bytes());
        assert_eq!(&le[296..298], &1u16.to_le_bytes());
        let plain = encode_in(&args("-1@-3(%rsp)"), 0, SpecLayout::V2, true).unwrap();
        assert_eq!(
            &plain[0..18],
            &[
                0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 152, 0, 1, 56
            ]
        );
        assert_eq!(SpecLayout::from_value_size(208), Some(SpecLayout::V1));
        assert_eq!(SpecLayout::from_value_size(304), Some(SpecLayout::V2));
        assert_eq!(SpecLayout::from_value_size(200), None);
    }
}
