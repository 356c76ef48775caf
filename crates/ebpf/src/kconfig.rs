//! `.kconfig` externs: values from the kernel configuration
//! (`/boot/config-$(uname -r)`, else `/proc/config.gz`) and from the
//! running kernel (`LINUX_KERNEL_VERSION`, `LINUX_HAS_SYSCALL_WRAPPER`),
//! encoded the way libbpf does:
//!
//! | C type | config value | stored |
//! |---|---|---|
//! | `bool` | `y` / `n` | 1 / 0 |
//! | `enum libbpf_tristate`, `char` | `y` / `m` / `n` | 1 / 2 / 0 |
//! | integer | decimal or `0x` hex | the number |
//! | `char[N]` | `"string"` | the string, NUL-padded |
//!
//! A missing value fails the load when a program reads the extern and it is not `__weak`;
//! otherwise it stays zero. An extern only unreferenced code reads (a function no program
//! calls, as the selftests write to get an extern into BTF) has unknown binding here: a
//! missing value is not an error, since nothing can observe it (libbpf reads the binding
//! from the symbol table and fails on a strong one).

use std::collections::HashMap;

use ebpf_btf::{Datasec, IntEncoding, Spec, Type, TypeId};
use ebpf_syscall::KernelConfig;

use crate::CollectionSpec;
use crate::error::{Error, Result};

/// Fills the `.kconfig` map's contents of `spec` from the running kernel.
pub(crate) fn fill(spec: &mut CollectionSpec) -> Result<()> {
    let Some(btf) = spec.btf.clone() else {
        return Ok(());
    };
    let Ok((_, ds)) = btf.type_by_name::<Datasec>(ebpf_spec::KCONFIG_SECTION) else {
        return Ok(());
    };
    // Which externs are weak: from the instructions that read them.
    let mut weak: HashMap<String, bool> = HashMap::new();
    for p in spec.programs.values() {
        for ins in p.instructions.iter() {
            if let Some(k) = ins.metadata.get::<ebpf_spec::KconfigRef>() {
                weak.insert(k.name.clone(), k.weak);
            }
        }
    }
    let mut config: Option<&KernelConfig> = None;
    let data_len = spec
        .maps
        .get(ebpf_spec::KCONFIG_SECTION)
        .and_then(|m| m.data())
        .map_or(0, <[u8]>::len);
    let mut data = vec![0u8; data_len];
    for v in &ds.vars {
        let Ok(Type::Var(var)) = btf.type_by_id(v.type_id) else {
            continue;
        };
        let name = var.name.as_str();
        let size = v.size as usize;
        let off = v.offset as usize;
        let slot = data.get_mut(off..off + size).ok_or_else(|| {
            Error::InvalidArgument(format!("kconfig '{name}' lies outside .kconfig"))
        })?;
        // Not read by any program: its binding is unknown and its value unobservable.
        let is_weak = weak.get(name).copied().unwrap_or(true);
        let value: Option<String> = match name {
            "LINUX_KERNEL_VERSION" => {
                let v = ebpf_syscall::current_kernel()
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                Some(v.code().to_string())
            }
            // libbpf probes the wrapper of bpf(2) (so does features::have_syscall_wrapper).
            "LINUX_HAS_SYSCALL_WRAPPER" => Some(
                if matches!(
                    crate::features::have_syscall_wrapper(),
                    Err(crate::features::FeatureError::NotSupported(_))
                ) {
                    "n"
                } else {
                    "y"
                }
                .to_owned(),
            ),
            // libbpf probes bpf_get_attach_cookie in a kprobe program; an
            // undecided probe (no privileges yet) counts as present.
            "LINUX_HAS_BPF_COOKIE" => Some(
                if matches!(
                    crate::features::have_bpf_cookie(),
                    Err(crate::features::FeatureError::NotSupported(_))
                ) {
                    "n"
                } else {
                    "y"
                }
                .to_owned(),
            ),
            n if n.starts_with("CONFIG_") => {
                if config.is_none() {
                    config = Some(KernelConfig::current()?);
                }
                config.and_then(|c| c.get(n).map(str::to_owned))
            }
            _ => None,
        };
        let Some(value) = value else {
            if is_weak {
                continue;
            }
            return Err(Error::NotFound {
                kind: "kconfig value",
                name: name.to_owned(),
            });
        };
        encode(&btf, var.type_id, &value, slot)
            .map_err(|e| Error::InvalidArgument(format!("kconfig '{name}' = {value}: {e}")))?;
    }
    if let Some(m) = spec.maps.get_mut(ebpf_spec::KCONFIG_SECTION) {
        if let Some(d) = m.data_mut() {
            *d = data;
        }
    }
    Ok(())
}

/// Encodes `value` as type `ty` into `out`.
fn encode(btf: &Spec, ty: TypeId, value: &str, out: &mut [u8]) -> core::result::Result<(), String> {
    let id = btf.underlying_type(ty).map_err(|e| e.to_string())?;
    let t = btf.type_by_id(id).map_err(|e| e.to_string())?;
    let tristate = |v: &str| match v {
        "y" => Some(1u64),
        "m" => Some(2),
        "n" => Some(0),
        _ => None,
    };
    let num = match t {
        Type::Int(i) if i.encoding == IntEncoding::Bool => match value {
            "y" => 1,
            "n" => 0,
            _ => return Err("not a bool (y/n)".into()),
        },
        Type::Int(i) if i.encoding == IntEncoding::Char && i.size == 1 => {
            tristate(value).ok_or("not a tristate (y/m/n)")?
        }
        Type::Enum(_) => tristate(value).ok_or("not a tristate (y/m/n)")?,
        Type::Array(a) => {
            let s = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("not a string")?;
            let n = (a.nelems as usize).min(out.len());
            let bytes = s.as_bytes();
            let len = bytes.len().min(n.saturating_sub(1));
            out[..len].copy_from_slice(&bytes[..len]);
            return Ok(());
        }
        Type::Int(_) => {
            if let Some(t) = tristate(value) {
                t
            } else if let Some(h) = value.strip_prefix("0x") {
                u64::from_str_radix(h, 16).map_err(|e| e.to_string())?
            } else if let Some(n) = value.strip_prefix('-') {
                n.parse::<u64>().map_err(|e| e.to_string())?.wrapping_neg()
            } else {
                value.parse::<u64>().map_err(|e| e.to_string())?
            }
        }
        other => return Err(format!("unsupported type {:?}", other.kind())),
    };
    let bytes = num.to_ne_bytes();
    let n = out.len().min(8);
    if cfg!(target_endian = "little") {
        out[..n].copy_from_slice(&bytes[..n]);
    } else {
        out[..n].copy_from_slice(&bytes[8 - n..]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_libbpf() {
        use ebpf_btf::{Array, Builder, Int, IntEncoding, Type, TypeId};
        let int = |name: &str, size, encoding| {
            Type::Int(Int {
                name: name.into(),
                size,
                encoding,
                offset: 0,
                bits: (size * 8) as u8,
            })
        };
        let mut b = Builder::new();
        let boolean = b.add(int("_Bool", 1, IntEncoding::Bool));
        let chr = b.add(int("char", 1, IntEncoding::Char));
        let i32_ = b.add(int("int", 4, IntEncoding::Signed));
        let u64_ = b.add(int("unsigned long long", 8, IntEncoding::Unsigned));
        let arr = b.add(Type::Array(Array {
            elem: chr,
            index: i32_,
            nelems: 6,
        }));
        let btf = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
        let enc = |ty: TypeId, v: &str, n: usize| {
            let mut out = vec![0u8; n];
            encode(&btf, ty, v, &mut out).map(|()| out)
        };
        assert_eq!(enc(boolean, "y", 1).unwrap(), [1]);
        assert_eq!(enc(boolean, "n", 1).unwrap(), [0]);
        assert!(enc(boolean, "m", 1).is_err());
        assert_eq!(enc(chr, "m", 1).unwrap(), [2]);
        assert_eq!(enc(i32_, "250", 4).unwrap(), 250i32.to_ne_bytes());
        assert_eq!(enc(i32_, "-3", 4).unwrap(), (-3i32).to_ne_bytes());
        assert_eq!(enc(u64_, "0x1000", 8).unwrap(), 0x1000u64.to_ne_bytes());
        assert_eq!(enc(arr, "\"abcdefgh\"", 6).unwrap(), *b"abcde\0");
        assert!(enc(arr, "abc", 6).is_err());
    }
}
