//! [`Collection`]: every map, program and global variable of a
//! [`CollectionSpec`], created in the kernel.
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions};
//! let spec = CollectionSpec::from_file("testdata/loader-el.o")?;
//! let mut coll = Collection::load(&spec, CollectionOptions::default())?;
//! let prog = &coll.programs["socket_prog"];
//! prog.test_run(&TestRunOptions { data_in: vec![0; 64], ..Default::default() })?;
//! let counter = &coll.variables["counter"];
//! assert_eq!(counter.get::<u32>()?, 2);
//! let map = coll.maps.remove("hash_map").expect("hash_map");
//! # let _ = map;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Loading follows cilium/ebpf and libbpf:
//!
//! 1. `.kconfig` is filled from the kernel configuration
//!    (`/boot/config-$(uname -r)` or `/proc/config.gz`) and the running
//!    version (`LINUX_KERNEL_VERSION`).
//! 2. The object's BTF is sanitised for the running kernel and loaded.
//! 3. Maps are created (replacements and pins reused after a compatibility
//!    check; data sections mmapable), their contents written, `.rodata` and
//!    `.kconfig` frozen.
//! 4. Each program's instructions get CO-RE relocations against the kernel
//!    BTF (or [`CollectionOptions::kernel_btf`]), ksym and kfunc ids or
//!    addresses, and map fds; then it is loaded with its func and line info.
//! 5. struct_ops maps are created with the programs' fds in their function
//!    pointers (the programs were loaded against the kernel struct's member);
//!    prog arrays receive their initial values (maps of maps got theirs in 3).
//!
//! Every object created before a failure is closed (and pins it created
//! removed); the error names the object and the step.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use ebpf_btf::{LineInfo, Spec};
use ebpf_spec::{MapKey, MapValue, PinType};
use ebpf_syscall as sys;
use ebpf_syscall::{Errno, LogLevel};

use crate::error::{Error, Result};
use crate::map::{Map, MapBtf};
use crate::pin::PinGuard;
use crate::program::{LoadContext, ProgBtf, Program, ProgramOptions};
use crate::variable::{DataSection, Variable};
use crate::{CollectionSpec, MapSpec, MapType};

/// Options for [`Collection::load`].
#[derive(Debug, Default)]
pub struct CollectionOptions {
    /// Verifier log level for every program (see [`ProgramOptions::log_level`]).
    pub log_level: LogLevel,
    /// First verifier log buffer size (see [`ProgramOptions::log_size`]).
    pub log_size: u32,
    /// The kernel BTF to apply CO-RE relocations against and find attach
    /// targets and ksyms in, instead of the running kernel's
    /// (`/sys/kernel/btf/vmlinux`, parsed once per process).
    pub kernel_btf: Option<Arc<Spec>>,
    /// Existing maps to use instead of creating the maps of these names.
    /// Each must match its spec (type, key and value size, max entries, flags).
    pub map_replacements: BTreeMap<String, Map>,
    /// Directory in a bpffs where maps with `pinning = LIBBPF_PIN_BY_NAME`
    /// are pinned (and reused if already pinned there, after the same
    /// compatibility check as replacements). Without it, no map is pinned.
    pub pin_path: Option<PathBuf>,
    /// Programs not to load (besides those marked `SEC("?...")`).
    pub skip_programs: BTreeSet<String>,
    /// The target program of each freplace (or fentry/fexit on a BPF
    /// program) by program name (see [`ProgramOptions::attach_program`]).
    pub attach_programs: BTreeMap<String, Arc<Program>>,
    /// How much global data and initial map contents the spec may hold
    /// (checked before anything is copied or created; 1 GiB by default).
    pub limits: ebpf_spec::Limits,
}

/// The maps, programs and variables of a loaded [`CollectionSpec`].
#[derive(Debug)]
pub struct Collection {
    /// Maps by name (global data maps by section name: `.data`, `.rodata`, ...).
    pub maps: BTreeMap<String, Map>,
    /// Programs by name.
    pub programs: BTreeMap<String, Program>,
    /// Global variables by name.
    pub variables: BTreeMap<String, Variable>,
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

impl Collection {
    /// Creates the maps and loads the programs of `spec` (all of them, except
    /// those marked `?` in their section name or listed in
    /// [`CollectionOptions::skip_programs`]).
    ///
    /// # Minimum kernel version
    ///
    /// Whatever the object's maps and programs need (`NotSupported` names it).
    pub fn load(spec: &CollectionSpec, mut opts: CollectionOptions) -> Result<Collection> {
        if spec.byte_order != ebpf_asm::Endianness::NATIVE {
            return Err(Error::InvalidArgument(format!(
                "the object is in {:?} byte order, the host is {:?}",
                spec.byte_order,
                ebpf_asm::Endianness::NATIVE
            )));
        }
        spec.check_limits(&opts.limits)?;
        let mut spec = spec.clone();
        let mut pins = PinGuard::new();

        // 1. .kconfig.
        if spec.maps.contains_key(ebpf_spec::KCONFIG_SECTION) {
            crate::kconfig::fill(&mut spec).map_err(Error::context("kconfig"))?;
        }

        // 2. Object BTF.
        let btf = match &spec.btf {
            Some(b) => load_btf(b, &spec).map_err(Error::context("load object BTF"))?,
            None => None,
        };

        // 3. Maps: plain maps first, maps of maps after (their values are maps).
        let mut maps: BTreeMap<String, Map> = BTreeMap::new();
        let mut order: Vec<&MapSpec> = spec.maps.values().collect();
        order.sort_by_key(|m| m.map_type.is_map_in_map());
        for ms in order {
            if ms.struct_ops.is_some() {
                continue; // created after the programs, whose fds its value holds
            }
            let map = create_map(ms, btf.as_ref().map(|b| b.fd.as_fd()), &mut opts, &mut pins)?;
            maps.insert(ms.name.clone(), map);
        }
        if let Some(unused) = opts.map_replacements.keys().next() {
            return Err(Error::NotFound {
                kind: "map to replace (the spec has no map of that name)",
                name: unused.clone(),
            });
        }
        for ms in spec.maps.values().filter(|m| m.map_type.is_map_in_map()) {
            let outer = &maps[&ms.name];
            for entry in &ms.contents {
                let MapValue::Map(inner) = &entry.value else {
                    continue;
                };
                let inner_map = maps.get(inner).ok_or_else(|| Error::NotFound {
                    kind: "map",
                    name: inner.clone(),
                })?;
                outer
                    .set_fd(&key_bytes(&entry.key), inner_map)
                    .map_err(Error::context(format!(
                        "map '{}': set inner map '{inner}'",
                        ms.name
                    )))?;
            }
        }

        // 4. Programs.
        let kernel_btf_needed = spec.maps.values().any(|m| m.struct_ops.is_some())
            || spec.programs.values().any(|p| {
                crate::relocate::has_core_relos(&p.instructions)
                    || crate::ksym::has_externs(&p.instructions)
            });
        let target: Option<Arc<Spec>> = match (&opts.kernel_btf, kernel_btf_needed) {
            (Some(t), _) => Some(t.clone()),
            (None, true) => Some(crate::relocate::kernel_spec()?),
            (None, false) => None,
        };
        let mut prog_opts = ProgramOptions {
            log_level: opts.log_level,
            log_size: opts.log_size,
            kernel_btf: opts.kernel_btf.clone(),
            attach_program: None,
        };
        let struct_ops = match &target {
            Some(t) => crate::struct_ops::targets(&spec, t)?,
            None => BTreeMap::new(),
        };
        let mut ksyms = crate::ksym::Resolver::new(target.clone(), opts.kernel_btf.is_none());
        // CO-RE searches vmlinux first, then every loaded module's BTF (only
        // against the running kernel; an override is the whole target).
        let modules: Vec<Arc<Spec>> = if opts.kernel_btf.is_none()
            && spec
                .programs
                .values()
                .any(|p| crate::relocate::has_core_relos(&p.instructions))
        {
            crate::relocate::module_specs()?
        } else {
            Vec::new()
        };
        let core_targets: Vec<&Spec> = target
            .as_deref()
            .into_iter()
            .chain(modules.iter().map(Arc::as_ref))
            .collect();
        let mut relocator = spec
            .btf
            .as_deref()
            .map(|local| ebpf_btf::core::Relocator::new(local, &core_targets));
        let mut programs = BTreeMap::new();
        for (name, ps) in &spec.programs {
            if !ps.autoload || opts.skip_programs.contains(name) {
                continue;
            }
            if ps.program_type == crate::ProgramType::StructOps && !struct_ops.contains_key(name) {
                return Err(Error::program(name, "load")(Error::InvalidArgument(
                    "a struct_ops program must be referenced by a struct_ops map (its attach point)"
                        .into(),
                )));
            }
            let mut insns = ps.instructions.clone();
            let mut fixups = Vec::new();
            if crate::relocate::has_core_relos(&insns) {
                let (Some(relocator), false) = (relocator.as_mut(), core_targets.is_empty()) else {
                    return Err(Error::program(name, "apply CO-RE relocations")(
                        Error::InvalidArgument(
                            "CO-RE relocations need the object's BTF and kernel BTF".into(),
                        ),
                    ));
                };
                fixups = crate::relocate::apply_core(&mut insns, relocator)
                    .map_err(Error::program(name, "apply CO-RE relocations"))?;
            }
            let fd_array = ksyms
                .rewrite(&mut insns)
                .map_err(Error::program(name, "resolve externs"))?;
            let ctx = LoadContext {
                btf: btf.as_ref().map(|b| ProgBtf {
                    fd: b.fd.as_fd(),
                    strings: &b.strings,
                }),
                maps: maps.iter().map(|(n, m)| (n.clone(), m.as_fd())).collect(),
                fd_array,
                fixups,
                struct_ops: struct_ops.get(name).copied(),
            };
            prog_opts.attach_program = opts.attach_programs.get(name).cloned();
            let prog = Program::load_with(ps, insns, &prog_opts, &ctx)?;
            programs.insert(name.clone(), prog);
        }

        // struct_ops maps, whose values hold program fds.
        for ms in spec.maps.values().filter(|m| m.struct_ops.is_some()) {
            let (Some(local), Some(kernel), Some(obj_btf)) =
                (spec.btf.as_deref(), target.as_deref(), btf.as_ref())
            else {
                return Err(Error::map(&ms.name, "create")(Error::InvalidArgument(
                    "struct_ops maps need the object's BTF and kernel BTF".into(),
                )));
            };
            let map =
                crate::struct_ops::create_map(ms, obj_btf.fd.as_fd(), local, kernel, &programs)
                    .map_err(Error::map(&ms.name, "create struct_ops"))?;
            maps.insert(ms.name.clone(), map);
        }

        // 5. Prog arrays.
        for ms in spec.maps.values() {
            for entry in &ms.contents {
                let MapValue::Program(p) = &entry.value else {
                    continue;
                };
                let Some(prog) = programs.get(p) else {
                    // Not loaded (skipped): leave the slot empty.
                    continue;
                };
                maps[&ms.name]
                    .set_fd(&key_bytes(&entry.key), prog)
                    .map_err(Error::context(format!(
                        "map '{}': set program '{p}'",
                        ms.name
                    )))?;
            }
        }

        // Variables.
        let mut sections: HashMap<String, Arc<DataSection>> = HashMap::new();
        let mut variables = BTreeMap::new();
        for (name, vs) in &spec.variables {
            let Some(map) = crate::arena::section_map(&maps, &vs.section) else {
                continue;
            };
            let section = match sections.get(&vs.section) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(
                        DataSection::new(map)
                            .map_err(Error::context(format!("variable '{name}'")))?,
                    );
                    sections.insert(vs.section.clone(), s.clone());
                    s
                }
            };
            variables.insert(name.clone(), Variable::new(vs.clone(), section));
        }
        pins.keep();
        Ok(Collection {
            maps,
            programs,
            variables,
        })
    }

    /// Removes and returns map `name`.
    pub fn take_map(&mut self, name: &str) -> Result<Map> {
        self.maps.remove(name).ok_or_else(|| Error::NotFound {
            kind: "map",
            name: name.to_owned(),
        })
    }

    /// Removes and returns program `name`.
    pub fn take_program(&mut self, name: &str) -> Result<Program> {
        self.programs.remove(name).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: name.to_owned(),
        })
    }
}

fn key_bytes(k: &MapKey) -> Vec<u8> {
    match k {
        MapKey::Index(i) => i.to_ne_bytes().to_vec(),
        MapKey::Bytes(b) => b.clone(),
    }
}

/// The object's BTF loaded in the kernel, with the string offsets of line info.
#[derive(Debug)]
struct LoadedBtf {
    fd: OwnedFd,
    strings: HashMap<Arc<str>, u32>,
}

/// Sanitises, marshals and loads the object's BTF, with the strings of the
/// programs' line info.
fn load_btf(btf: &Spec, spec: &CollectionSpec) -> Result<Option<LoadedBtf>> {
    let lines = spec.programs.values().flat_map(|p| {
        p.instructions
            .iter()
            .filter_map(|ins| ins.metadata.get::<LineInfo>())
            .flat_map(|li| [li.file_name.clone(), li.line.clone()])
    });
    let (fd, strings) = load_btf_with_strings(btf, lines)?;
    Ok(Some(LoadedBtf { fd, strings }))
}

/// Sanitises `btf` for the running kernel, adds `strings` (returning their
/// offsets) and loads it (`BPF_BTF_LOAD`).
pub(crate) fn load_btf_with_strings(
    btf: &Spec,
    strings: impl Iterator<Item = Arc<str>>,
) -> Result<(OwnedFd, HashMap<Arc<str>, u32>)> {
    let features = crate::features::btf_sanitize_features();
    let mut builder = ebpf_btf::sanitize::sanitize(btf, &features)?;
    fixup_externs(&mut builder);
    let mut offsets = HashMap::new();
    for s in strings {
        offsets
            .entry(s)
            .or_insert_with_key(|s| builder.add_string(s));
    }
    let bytes = builder.marshal(ebpf_btf::MarshalOptions::default())?;
    let mut attr = sys::BtfLoadAttr::default();
    attr.set_btf(&bytes)?;
    match sys::btf_load(&attr) {
        Ok(fd) => Ok((fd, offsets)),
        Err(e) if e.errno() == Some(Errno::PERM) => Err(Error::PermissionDenied {
            what: "BPF_BTF_LOAD".into(),
            errno: Errno::PERM,
            hint: ebpf_syscall::eperm_hint(None),
        }),
        Err(_) => {
            // Fetch the BTF checker's log for the error.
            let (fd, _) = sys::btf_load_with_log(&attr, LogLevel::BRANCH)?;
            Ok((fd, offsets))
        }
    }
}

/// The kernel rejects extern variables and functions in datasecs; like
/// libbpf, `.kconfig` variables become allocated globals, `.ksyms`
/// entries become 4-byte dummy `int` variables and kfuncs global functions.
fn fixup_externs(b: &mut ebpf_btf::Builder) {
    use ebpf_btf::{Int, IntEncoding, Type, TypeId, Var, VarLinkage};
    let first = b.types().len();
    let mut int_id: Option<TypeId> = None;
    let mut ksyms: Option<TypeId> = None;
    for i in 0..first {
        let id = TypeId(u32::try_from(i + 1).unwrap_or(u32::MAX));
        match b.get_mut(id) {
            Some(Type::Var(v)) if v.linkage == VarLinkage::Extern => v.linkage = VarLinkage::Global,
            Some(Type::Datasec(d)) if d.name == ebpf_spec::KSYMS_SECTION => ksyms = Some(id),
            Some(Type::Int(n)) if n.name == "int" && n.size == 4 && int_id.is_none() => {
                int_id = Some(id)
            }
            _ => {}
        }
    }
    let Some(ksyms) = ksyms else { return };
    let int_id = int_id.unwrap_or_else(|| {
        b.add(Type::Int(Int {
            name: "int".into(),
            size: 4,
            encoding: IntEncoding::Signed,
            offset: 0,
            bits: 32,
        }))
    });
    let dummy = b.add(Type::Var(Var {
        name: "dummy_ksym".into(),
        type_id: int_id,
        linkage: VarLinkage::Global,
    }));
    let vars: Vec<TypeId> = match b.get(ksyms) {
        Some(Type::Datasec(d)) => d.vars.iter().map(|v| v.type_id).collect(),
        _ => return,
    };
    let mut new_ids = Vec::with_capacity(vars.len());
    for id in vars {
        match b.get_mut(id) {
            Some(Type::Var(v)) => {
                v.type_id = int_id;
                v.linkage = VarLinkage::Global;
                new_ids.push(id);
            }
            Some(Type::Func(f)) => {
                // A kfunc: the kernel takes only static and global functions,
                // whose parameters have names.
                f.linkage = ebpf_btf::FuncLinkage::Global;
                let proto = f.proto;
                if let Some(Type::FuncProto(p)) = b.get_mut(proto) {
                    let unnamed = p.params.iter_mut().filter(|p| p.name.is_empty());
                    unnamed.for_each(|p| "dummy_ksym".clone_into(&mut p.name));
                }
                new_ids.push(dummy);
            }
            _ => new_ids.push(dummy),
        }
    }
    if let Some(Type::Datasec(d)) = b.get_mut(ksyms) {
        let mut off = 0;
        for (v, id) in d.vars.iter_mut().zip(new_ids) {
            v.type_id = id;
            v.offset = off;
            v.size = 4;
            off += 4;
        }
        d.size = off;
    }
}

/// What differs between an existing map and its spec (empty if compatible).
pub(crate) fn compat_diff(spec: &MapSpec, map: &Map) -> Vec<String> {
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
    // BPF_F_RDONLY_PROG and BPF_F_MMAPABLE may be added by the loader.
    let ignore = sys::BPF_F_MMAPABLE | sys::BPF_F_RDONLY_PROG;
    if spec.flags & !ignore != map.flags() & !ignore {
        diff.push(format!("flags {:#x} != {:#x}", map.flags(), spec.flags));
    }
    diff
}

fn check_compat(spec: &MapSpec, map: &Map) -> Result<()> {
    let diff = compat_diff(spec, map);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(Error::IncompatibleMap {
            name: spec.name.clone(),
            diff: diff.join(", "),
        })
    }
}

/// Creates (or reuses) one map of the collection.
fn create_map(
    ms: &MapSpec,
    btf: Option<std::os::fd::BorrowedFd<'_>>,
    opts: &mut CollectionOptions,
    pins: &mut PinGuard,
) -> Result<Map> {
    let name = ms.name.as_str();
    if let Some(m) = opts.map_replacements.remove(name) {
        check_compat(ms, &m)?;
        return Ok(m);
    }
    let pin_path = match (ms.pinning, &opts.pin_path) {
        (PinType::ByName, Some(dir)) => {
            Some(crate::pin::join_name(dir, name).map_err(Error::map(name, "pin"))?)
        }
        _ => None,
    };
    if let Some(path) = &pin_path {
        if path.exists() {
            let m = Map::from_pin(path)?;
            check_compat(ms, &m)
                .map_err(Error::context(format!("pinned at {}", path.display())))?;
            return Ok(m);
        }
    }
    let map_btf = match (btf, ms.value_type) {
        (Some(fd), Some(v)) => Some(MapBtf {
            fd,
            key: ms.key_type.map_or(0, |k| k.0),
            value: v.0,
        }),
        _ => None,
    };
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
    if let Some(path) = pin_path {
        map.pin(&path)?;
        pins.record(path);
    }
    Ok(map)
}
