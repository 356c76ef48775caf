//! Step 3: the maps, created or reused (replacements, pins).

use std::collections::BTreeMap;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use ebpf_spec::PinType;
use ebpf_syscall as sys;
use ebpf_syscall::Errno;

use super::btf::ObjectBtf;
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::map::{Map, MapBtf};
use crate::pin::PinGuard;
use crate::{MapSpec, MapType};

/// The maps of the collection (all but struct_ops maps) and the pins made.
#[derive(Debug)]
pub(super) struct Maps {
    /// Maps by name.
    pub created: BTreeMap<String, Map>,
    /// Pins made so far, removed unless the load succeeds.
    pub pins: PinGuard,
}

impl Maps {
    /// Creates every map of the plan's spec but the struct_ops maps (which
    /// need their programs first): a replacement or a map pinned under
    /// `pin_path` is reused after a compatibility check, the rest created
    /// with their BTF and initial contents, and pinned when asked.
    pub fn create(
        plan: &Plan<'_>,
        btf: &ObjectBtf,
        mut replacements: BTreeMap<String, Map>,
        pin_path: Option<PathBuf>,
    ) -> Result<Maps> {
        let mut maps = Maps {
            created: BTreeMap::new(),
            pins: PinGuard::new(),
        };
        for ms in plan.spec.maps.values().filter(|m| m.struct_ops.is_none()) {
            let map = match replacements.remove(&ms.name) {
                Some(m) => check_compat(ms, m)?,
                None => maps.create_one(ms, btf.fd(), pin_path.as_ref())?,
            };
            maps.created.insert(ms.name.clone(), map);
        }
        if let Some(unused) = replacements.keys().next() {
            return Err(Error::NotFound {
                kind: "map to replace (the spec has no map of that name)",
                name: unused.clone(),
            });
        }
        Ok(maps)
    }

    /// Opens `ms`'s pin under `pin_dir`, or creates the map (and pins it).
    fn create_one(
        &mut self,
        ms: &MapSpec,
        btf: Option<BorrowedFd<'_>>,
        pin_dir: Option<&PathBuf>,
    ) -> Result<Map> {
        let name = ms.name.as_str();
        let pin = match (ms.pinning, pin_dir) {
            // One path component: a name from the object never leaves the directory.
            (PinType::ByName, Some(dir)) => {
                Some(crate::pin::join_name(dir, name).map_err(Error::map(name, "pin"))?)
            }
            _ => None,
        };
        if let Some(path) = pin.as_ref().filter(|p| p.exists()) {
            let m = Map::from_pin(path)?;
            return check_compat(ms, m)
                .map_err(Error::context(format!("pinned at {}", path.display())));
        }
        // Also without a value type: a map of maps' inner template needs the fd.
        let map_btf = btf.map(|fd| MapBtf {
            fd,
            key: ms.key_type.map_or(0, |k| k.0),
            value: ms.value_type.map_or(0, |v| v.0),
        });
        let mut spec = ms.clone();
        let data = is_data_section(ms);
        if data {
            spec.flags |= sys::BPF_F_MMAPABLE;
        }
        let map = match Map::create_with(&spec, map_btf, None) {
            Ok(m) => m,
            Err(e) if data && e.errno() == Some(Errno::INVAL) => {
                // Kernels before 5.5 lack BPF_F_MMAPABLE.
                spec.flags &= !sys::BPF_F_MMAPABLE;
                Map::create_with(&spec, map_btf, None)?
            }
            Err(e) => return Err(e),
        };
        map.init_contents(&spec)
            .map_err(Error::map(name, "write contents"))?;
        if spec.freeze {
            map.freeze()?;
        }
        let mut map = map;
        if let Some(path) = pin {
            map.pin(&path)?;
            self.pins.record(path);
        }
        Ok(map)
    }
}

/// Whether `m` holds global data (`.data*`, `.rodata*`, `.bss*`, `.kconfig`).
fn is_data_section(m: &MapSpec) -> bool {
    m.map_type == MapType::ARRAY
        && m.max_entries == 1
        && m.key_size == 4
        && (m.name.starts_with(".data")
            || m.name.starts_with(".rodata")
            || m.name.starts_with(".bss")
            || m.name == ebpf_spec::KCONFIG_SECTION)
}

/// What differs between an existing map and its spec (empty if compatible).
fn compat_diff(spec: &MapSpec, map: &Map) -> Vec<String> {
    let mut diff = Vec::new();
    if spec.map_type != map.map_type() {
        diff.push(format!("type {} != {}", map.map_type(), spec.map_type));
    }
    // Ring buffers are created without keys and values, and rounded up in size.
    let ring = matches!(spec.map_type, MapType::RINGBUF | MapType::USER_RINGBUF);
    if !ring && spec.key_size != map.key_size() {
        diff.push(format!("key size {} != {}", map.key_size(), spec.key_size));
    }
    if !ring && spec.value_size != map.value_size() {
        diff.push(format!(
            "value size {} != {}",
            map.value_size(),
            spec.value_size
        ));
    }
    // Perf event arrays get one entry per possible CPU by default.
    let max = if spec.map_type == MapType::PERF_EVENT_ARRAY
        && (spec.max_entries == 0 || spec.max_entries > map.max_entries())
    {
        map.max_entries()
    } else {
        spec.max_entries
    };
    if max != map.max_entries() && !ring {
        diff.push(format!("max entries {} != {}", map.max_entries(), max));
    }
    // BPF_F_MMAPABLE and BPF_F_RDONLY_PROG may be added by the loader.
    let ignore = sys::BPF_F_MMAPABLE | sys::BPF_F_RDONLY_PROG;
    if spec.flags & !ignore != map.flags() & !ignore {
        diff.push(format!("flags {:#x} != {:#x}", map.flags(), spec.flags));
    }
    diff
}

/// `map` if it matches `spec`.
fn check_compat(spec: &MapSpec, map: Map) -> Result<Map> {
    let diff = compat_diff(spec, &map);
    if diff.is_empty() {
        Ok(map)
    } else {
        Err(Error::IncompatibleMap {
            name: spec.name.clone(),
            diff: diff.join(", "),
        })
    }
}
