//! Step 5: struct_ops maps, the contents that are fds, and variables.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ebpf_spec::{MapKey, MapValue};

use super::btf::ObjectBtf;
use super::maps::Maps;
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::program::Program;
use crate::struct_ops::StructOpsMap;
use crate::variable::{DataSection, Variable};

/// Creates the plan's struct_ops maps with their value prepared (nothing is
/// registered: attaching a map does that).
pub(super) fn struct_ops_maps(
    plan: &Plan<'_>,
    btf: &ObjectBtf,
    programs: &BTreeMap<String, Program>,
) -> Result<BTreeMap<String, StructOpsMap>> {
    let mut out = BTreeMap::new();
    for name in &plan.struct_ops {
        let ms = &plan.spec.maps[name];
        let (Some(local), Some(kernel), Some(obj_btf)) =
            (plan.spec.btf.as_deref(), plan.kernel.as_deref(), btf.fd())
        else {
            return Err(Error::map(name, "create")(Error::InvalidArgument(
                "struct_ops maps need the object's BTF and kernel BTF".into(),
            )));
        };
        let map = crate::struct_ops::create_map(ms, obj_btf, local, kernel, programs)
            .map_err(Error::map(name, "create struct_ops"))?;
        out.insert(name.clone(), map);
    }
    Ok(out)
}

/// Writes the contents that are fds: inner maps of maps of maps and
/// programs of prog arrays (a program that was not loaded leaves its slot
/// empty).
pub(super) fn fill_maps(
    plan: &Plan<'_>,
    maps: &Maps,
    programs: &BTreeMap<String, Program>,
) -> Result<()> {
    for ms in plan.spec.maps.values() {
        for entry in &ms.contents {
            let key = key_bytes(&entry.key);
            let res = match &entry.value {
                MapValue::Map(inner) => {
                    let inner_map = maps.created.get(inner).ok_or_else(|| Error::NotFound {
                        kind: "map",
                        name: inner.clone(),
                    })?;
                    maps.created[&ms.name]
                        .set_fd(&key, inner_map)
                        .map_err(Error::context(format!(
                            "map '{}': set inner map '{inner}'",
                            ms.name
                        )))
                }
                MapValue::Program(p) => match programs.get(p) {
                    Some(prog) => {
                        maps.created[&ms.name]
                            .set_fd(&key, prog)
                            .map_err(Error::context(format!(
                                "map '{}': set program '{p}'",
                                ms.name
                            )))
                    }
                    None => Ok(()),
                },
                MapValue::Bytes(_) => Ok(()),
            };
            res?;
        }
    }
    Ok(())
}

fn key_bytes(k: &MapKey) -> Vec<u8> {
    match k {
        MapKey::Index(i) => i.to_ne_bytes().to_vec(),
        MapKey::Bytes(b) => b.clone(),
    }
}

/// The global variables of the spec, each over its data section's map
/// (shared by the variables of one section).
pub(super) fn variables(
    plan: &Plan<'_>,
    maps: &BTreeMap<String, Map>,
) -> Result<BTreeMap<String, Variable>> {
    let mut sections: HashMap<String, Arc<DataSection>> = HashMap::new();
    let mut variables = BTreeMap::new();
    for (name, vs) in &plan.spec.variables {
        let Some(map) = section_map(maps, &vs.section) else {
            continue;
        };
        let section = match sections.get(&vs.section) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(
                    DataSection::new(map).map_err(Error::context(format!("variable '{name}'")))?,
                );
                sections.insert(vs.section.clone(), s.clone());
                s
            }
        };
        variables.insert(name.clone(), Variable::new(vs.clone(), section));
    }
    Ok(variables)
}

/// The map holding the globals of data section `section`: the map of that
/// name, or the arena map for [`ebpf_spec::ARENA_SECTION`].
fn section_map<'a>(maps: &'a BTreeMap<String, Map>, section: &str) -> Option<&'a Map> {
    if section == ebpf_spec::ARENA_SECTION {
        maps.values()
            .find(|m| m.map_type() == crate::MapType::ARENA)
    } else {
        maps.get(section)
    }
}
