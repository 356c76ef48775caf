//! struct_ops: programs implementing the operations of a kernel struct
//! (`tcp_congestion_ops`, `bpf_dummy_ops`, ...) and the `BPF_MAP_TYPE_STRUCT_OPS`
//! map whose value is that struct with the programs in its function pointers.
//!
//! As libbpf does: each program is loaded with `attach_btf_id` = the kernel
//! struct's BTF id and `expected_attach_type` = the index of the member it
//! implements; the map is created with `btf_vmlinux_value_type_id` =
//! `struct bpf_struct_ops_<name>` and its value written member by member
//! (matched by name) into the kernel's layout, with program fds in the
//! function pointers. [`Collection::load`](crate::Collection::load) creates
//! the map and prepares that value but writes nothing: writing a legacy
//! (`.struct_ops`) map's value registers it with the kernel subsystem, so, as
//! libbpf does, registering is attaching, the link layer's job
//! (`ebpf_link::struct_ops::attach`). A map in a `?.struct_ops` section is
//! created only on request, and its programs load only for a created map
//! (libbpf 1.5).

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use ebpf_btf::{Spec, Struct, Type, TypeId};
use ebpf_spec::{CollectionSpec, MapSpec, StructOpsSpec};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::map::Map;
use crate::names::sanitize_name;
use crate::program::{Program, StructOpsTarget};

/// A struct_ops map (`BPF_MAP_TYPE_STRUCT_OPS`) and the value that registers
/// it: the kernel struct with the programs' fds in its function pointers.
/// Loading writes nothing; attaching it (`ebpf_link::struct_ops::attach`)
/// writes the value and registers the map.
///
/// # Minimum kernel version
///
/// 5.6; 6.4 for maps registered through a link (`.struct_ops.link`).
#[derive(Debug)]
pub struct StructOpsMap {
    map: Map,
    value: Vec<u8>,
    type_name: String,
}

impl StructOpsMap {
    /// The map.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        self.map.name()
    }

    /// The kernel struct it implements (`tcp_congestion_ops`, ...).
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The value to write at key 0 to register the map (the kernel's
    /// `struct bpf_struct_ops_<type>`).
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Whether the map registers through a link (`BPF_F_LINK`, from a
    /// `.struct_ops.link` section) rather than by writing its value.
    pub fn is_link(&self) -> bool {
        self.map.flags() & ebpf_spec::MAP_FLAG_LINK != 0
    }
}

impl AsFd for StructOpsMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.map.as_fd()
    }
}

fn kernel_struct<'a>(kernel: &'a Spec, name: &str) -> Result<(TypeId, &'a Struct)> {
    kernel
        .type_by_name::<Struct>(name)
        .map_err(|_| Error::NotFound {
            kind: "struct_ops type in kernel BTF",
            name: name.to_owned(),
        })
}

fn local_struct<'a>(local: &'a Spec, ops: &StructOpsSpec) -> Result<&'a Struct> {
    let id = local.underlying_type(ops.type_id)?;
    match local.type_by_id(id)? {
        Type::Struct(s) => Ok(s),
        _ => Err(Error::InvalidArgument(format!(
            "'{}' is not a struct",
            ops.type_name
        ))),
    }
}

/// The struct_ops maps of `spec` to create, and where each of their programs
/// attaches, by program name. A map in a `?.struct_ops` section is left out
/// (libbpf creates it only on request); a struct_ops type the kernel lacks
/// is an error naming it.
pub(crate) fn plan(
    spec: &CollectionSpec,
    kernel: &Spec,
) -> Result<(BTreeSet<String>, BTreeMap<String, StructOpsTarget>)> {
    let mut maps = BTreeSet::new();
    let mut out = BTreeMap::new();
    let Some(local) = spec.btf.as_deref() else {
        return Ok((maps, out));
    };
    for ms in spec.maps.values() {
        let Some(ops) = &ms.struct_ops else { continue };
        if ms.section.starts_with('?') {
            log::debug!(
                "struct_ops map '{}': not created (section '{}')",
                ms.name,
                ms.section
            );
            continue;
        }
        let ctx = |e: Error| Error::map(&ms.name, "struct_ops")(e);
        let (kid, kstruct) = kernel_struct(kernel, &ops.type_name).map_err(ctx)?;
        let lstruct = local_struct(local, ops).map_err(ctx)?;
        for (off, prog) in &ops.programs {
            let member = lstruct
                .members
                .iter()
                .find(|m| m.bit_offset == off * 8)
                .ok_or_else(|| ctx(Error::InvalidArgument(format!("no member at offset {off}"))))?;
            let index = kstruct
                .members
                .iter()
                .position(|m| m.name == member.name)
                .ok_or_else(|| {
                    ctx(Error::NotFound {
                        kind: "struct_ops member in kernel BTF",
                        name: format!("{}.{}", ops.type_name, member.name),
                    })
                })?;
            out.insert(
                prog.clone(),
                StructOpsTarget {
                    btf_id: kid.0,
                    member: u32::try_from(index).unwrap_or(u32::MAX),
                },
            );
        }
        maps.insert(ms.name.clone());
    }
    Ok((maps, out))
}

/// Creates the struct_ops map of `ms` and prepares its value, with the fds of
/// `programs` (written when the map is attached).
pub(crate) fn create_map(
    ms: &MapSpec,
    btf_fd: BorrowedFd<'_>,
    local: &Spec,
    kernel: &Spec,
    programs: &BTreeMap<String, Program>,
) -> Result<StructOpsMap> {
    let name = ms.name.as_str();
    let ops = ms
        .struct_ops
        .as_ref()
        .ok_or_else(|| Error::InvalidArgument("not a struct_ops map".into()))?;
    let value_name = format!("bpf_struct_ops_{}", ops.type_name);
    let (value_id, value) = kernel_struct(kernel, &value_name)?;
    let data_member = value
        .members
        .iter()
        .find(|m| m.name == "data")
        .ok_or_else(|| Error::InvalidArgument(format!("{value_name} has no member 'data'")))?;
    let data_off = (data_member.bit_offset / 8) as usize;
    let (_, kstruct) = kernel_struct(kernel, &ops.type_name)?;
    let lstruct = local_struct(local, ops)?;

    let mut buf = vec![0u8; value.size as usize];
    for km in &kstruct.members {
        let koff = data_off + (km.bit_offset / 8) as usize;
        let Some(lm) = lstruct.members.iter().find(|m| m.name == km.name) else {
            continue;
        };
        let loff = (lm.bit_offset / 8) as usize;
        let kty = kernel.underlying_type(km.type_id)?;
        let is_func_ptr = match kernel.type_by_id(kty)? {
            Type::Pointer(p) => {
                let t = kernel.underlying_type(p.target)?;
                matches!(kernel.type_by_id(t)?, Type::FuncProto(_))
            }
            _ => false,
        };
        if is_func_ptr {
            let Some(prog) = ops.programs.get(&u32::try_from(loff).unwrap_or(u32::MAX)) else {
                continue;
            };
            // A skipped program leaves its operation unset.
            let Some(p) = programs.get(prog) else {
                continue;
            };
            let fd = u64::from(p.as_fd_raw());
            buf.get_mut(koff..koff + 8)
                .ok_or_else(|| Error::InvalidArgument("member outside the value".into()))?
                .copy_from_slice(&fd.to_ne_bytes());
            continue;
        }
        let ksize = kernel.sizeof(km.type_id)? as usize;
        let lsize = local.sizeof(lm.type_id)? as usize;
        let src = ops.data.get(loff..loff + lsize.min(ksize)).unwrap_or(&[]);
        if src.iter().all(|b| *b == 0) {
            continue;
        }
        if lsize != ksize {
            return Err(Error::InvalidArgument(format!(
                "member '{}' has {lsize} bytes in the object, {ksize} in the kernel",
                km.name
            )));
        }
        buf[koff..koff + ksize].copy_from_slice(src);
    }

    let mut attr = sys::MapCreateAttr::new(sys::MapType::STRUCT_OPS, 4, value.size, 1);
    attr.map_flags = ms.flags;
    attr.btf_vmlinux_value_type_id = value_id.0;
    // The kernel wants the object's BTF even though the value type is vmlinux's.
    attr.btf_fd = btf_fd.as_raw_fd().unsigned_abs();
    attr.map_name = sys::obj_name(&sanitize_name(name)).unwrap_or_default();
    crate::memlock::raise_once();
    let fd = sys::map_create(&attr).map_err(|e| link_flag_error(&attr, e))?;
    let map = Map::from_fd(fd)?.with_name(name);
    Ok(StructOpsMap {
        map,
        value: buf,
        type_name: ops.type_name.clone(),
    })
}

/// `EINVAL` creating a `.struct_ops.link` map: kernels before 6.4 refuse every
/// struct_ops map flag. When the same map without `BPF_F_LINK` is accepted
/// (and closed at once), the flag is the cause: report it as not supported.
fn link_flag_error(attr: &sys::MapCreateAttr<'_>, e: sys::Error) -> Error {
    if e.errno() == Some(sys::Errno::INVAL) && attr.map_flags & ebpf_spec::MAP_FLAG_LINK != 0 {
        let mut plain = *attr;
        plain.map_flags &= !ebpf_spec::MAP_FLAG_LINK;
        if sys::map_create(&plain).is_ok() {
            return Error::NotSupported(sys::NotSupported::new(
                "struct_ops maps with BPF_F_LINK (.struct_ops.link)",
                sys::KernelVersion::new(6, 4, 0),
            ));
        }
    }
    e.into()
}

trait RawFdExt {
    fn as_fd_raw(&self) -> u32;
}

impl RawFdExt for Program {
    fn as_fd_raw(&self) -> u32 {
        // An open fd is never negative.
        std::os::fd::AsFd::as_fd(self).as_raw_fd().unsigned_abs()
    }
}
