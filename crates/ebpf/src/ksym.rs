//! `__ksym` externs: kernel variables and kernel functions (kfuncs) referenced
//! by programs, resolved against kernel BTF (typed variables, kfuncs) or
//! `/proc/kallsyms` (typeless variables), as libbpf does.
//!
//! - typed variable: `ld_imm64` with `BPF_PSEUDO_BTF_ID` of the kernel `VAR`;
//! - typeless variable: `ld_imm64` of its address from `/proc/kallsyms`;
//! - kfunc call: `BPF_PSEUDO_KFUNC_CALL` with the kernel `FUNC`'s id;
//! - a missing `__weak` variable reads as 0; a call of a missing `__weak`
//!   kfunc is poisoned (a call of an invalid helper the verifier rejects only
//!   if the program reaches it, so `bpf_ksym_exists()` guards work).

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use ebpf_asm::{Instructions, PseudoCall, PseudoLoad};
use ebpf_btf::{Func, Spec, Var};
use ebpf_spec::{KfuncRef, KsymRef};

use crate::error::{Error, Result};

/// libbpf's `POISON_CALL_KFUNC_BASE`: the helper id a call of a missing weak kfunc gets.
const POISON_CALL_KFUNC_BASE: i64 = 2_002_000_000;

/// Whether any instruction references a ksym or kfunc.
pub(crate) fn has_externs(insns: &Instructions) -> bool {
    insns
        .iter()
        .any(|i| i.metadata.get::<KsymRef>().is_some() || i.metadata.get::<KfuncRef>().is_some())
}

/// Opens the BTF object of kernel module `name` (by scanning BTF ids).
///
/// # Minimum kernel version
///
/// 5.11 (module BTF).
pub(crate) fn module_btf_fd(name: &str) -> Result<OwnedFd> {
    for id in crate::info::btf_ids() {
        let id = id?;
        let Ok(fd) = ebpf_syscall::btf_get_fd_by_id(id) else {
            continue;
        };
        let Ok((_, _, n)) = ebpf_syscall::btf_data(&fd) else {
            continue;
        };
        if n == name {
            return Ok(fd);
        }
    }
    Err(Error::NotFound {
        kind: "BTF object of kernel module",
        name: name.to_owned(),
    })
}

/// Finds a type named `name` of variant `T` in the BTF of a loaded kernel
/// module (not vmlinux): the module's name and the type's id.
pub(crate) fn find_in_modules<T: ebpf_btf::TypeVariant>(name: &str) -> Option<(String, u32)> {
    let kernel = ebpf_btf::KernelBtf::shared();
    for m in kernel.module_names().unwrap_or_default() {
        let Ok(spec) = kernel.module(&m) else {
            continue;
        };
        let first = spec.first_id();
        if let Ok((id, _)) = spec.type_by_name::<T>(name) {
            if id.0 >= first.0 {
                return Some((m, id.0));
            }
        }
    }
    None
}

/// What kernel BTF object a symbol was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Vmlinux(u32),
    /// A module: the type id and the module's BTF fd (raw, kept open by the resolver).
    Module(u32, i32),
}

/// Resolves externs, caching `/proc/kallsyms` lookups and module BTF fds.
#[derive(Debug)]
pub(crate) struct Resolver {
    target: Option<Arc<Spec>>,
    /// Whether modules of the running kernel are searched (not with a BTF override).
    modules: bool,
    kallsyms: HashMap<String, Option<u64>>,
    module_fds: HashMap<String, OwnedFd>,
}

impl Resolver {
    pub(crate) fn new(target: Option<Arc<Spec>>, modules: bool) -> Self {
        Self {
            target,
            modules,
            kallsyms: HashMap::new(),
            module_fds: HashMap::new(),
        }
    }

    /// The BTF object fd of kernel module `name`.
    fn module_fd(&mut self, name: &str) -> Result<i32> {
        if let Some(fd) = self.module_fds.get(name) {
            return Ok(fd.as_raw_fd());
        }
        let fd = module_btf_fd(name)?;
        let raw = fd.as_raw_fd();
        self.module_fds.insert(name.to_owned(), fd);
        Ok(raw)
    }

    /// Finds a `FUNC` (`func`) or `VAR` named `name` in vmlinux, then in modules.
    fn find(&mut self, name: &str, func: bool) -> Result<Option<Found>> {
        let target = self.target()?;
        let id = if func {
            target.type_by_name::<Func>(name).map(|(id, _)| id).ok()
        } else {
            target.type_by_name::<Var>(name).map(|(id, _)| id).ok()
        };
        if let Some(id) = id {
            return Ok(Some(Found::Vmlinux(id.0)));
        }
        if !self.modules {
            return Ok(None);
        }
        let found = if func {
            find_in_modules::<Func>(name)
        } else {
            find_in_modules::<Var>(name)
        };
        if let Some((m, id)) = found {
            let fd = self.module_fd(&m)?;
            return Ok(Some(Found::Module(id, fd)));
        }
        Ok(None)
    }

    fn target(&self) -> Result<&Spec> {
        self.target
            .as_deref()
            .ok_or_else(|| Error::InvalidArgument("kernel BTF is needed to resolve ksyms".into()))
    }

    /// The addresses of `names` in `/proc/kallsyms` (read once per batch of new names).
    fn addresses(&mut self, names: &HashSet<String>) -> Result<()> {
        let missing: HashSet<&String> = names
            .iter()
            .filter(|n| !self.kallsyms.contains_key(*n))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        const PATH: &str = "/proc/kallsyms";
        let text = std::fs::read_to_string(PATH).map_err(Error::io(PATH))?;
        let mut found: HashMap<String, u64> = HashMap::new();
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(addr), Some(_kind), Some(name)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            if missing.contains(&name.to_owned()) {
                if let Ok(a) = u64::from_str_radix(addr, 16) {
                    found.entry(name.to_owned()).or_insert(a);
                }
            }
        }
        for n in missing {
            self.kallsyms.insert(n.clone(), found.get(n).copied());
        }
        Ok(())
    }

    /// Rewrites the extern references of `insns`. Returns the module BTF fds
    /// the program's `fd_array` needs after vmlinux's slot 0 (kept open by the resolver).
    pub(crate) fn rewrite(&mut self, insns: &mut Instructions) -> Result<Vec<i32>> {
        let mut fd_array: Vec<i32> = Vec::new();
        if !has_externs(insns) {
            return Ok(fd_array);
        }
        let typeless: HashSet<String> = insns
            .iter()
            .filter_map(|i| i.metadata.get::<KsymRef>())
            .filter(|k| k.type_id.is_none())
            .map(|k| k.name.clone())
            .collect();
        if !typeless.is_empty() {
            self.addresses(&typeless)?;
        }
        for idx in 0..insns.len() {
            if let Some(k) = insns[idx].metadata.get::<KsymRef>().cloned() {
                let ins = &mut insns[idx];
                if k.type_id.is_none() {
                    match self.kallsyms.get(&k.name).copied().flatten() {
                        Some(addr) => {
                            ins.src = PseudoLoad::None.register();
                            ins.constant = addr as i64;
                        }
                        None if k.weak => {
                            ins.src = PseudoLoad::None.register();
                            ins.constant = 0;
                        }
                        None => {
                            return Err(Error::NotFound {
                                kind: "kernel symbol (typeless __ksym, in /proc/kallsyms)",
                                name: k.name,
                            });
                        }
                    }
                    continue;
                }
                let found = self.find(&k.name, false)?;
                let ins = &mut insns[idx];
                match found {
                    Some(Found::Vmlinux(id)) => {
                        ins.src = PseudoLoad::BtfId.register();
                        ins.constant = i64::from(id);
                    }
                    Some(Found::Module(id, fd)) => {
                        // The second slot's immediate holds the module's BTF fd.
                        ins.src = PseudoLoad::BtfId.register();
                        ins.constant = i64::from(id) | (i64::from(fd) << 32);
                    }
                    None if k.weak => {
                        ins.src = PseudoLoad::None.register();
                        ins.constant = 0;
                    }
                    None => {
                        return Err(Error::NotFound {
                            kind: "kernel variable (typed __ksym, in kernel BTF)",
                            name: k.name,
                        });
                    }
                }
            } else if let Some(k) = insns[idx].metadata.get::<KfuncRef>().cloned() {
                let found = self.find(&k.name, true)?;
                let ins = &mut insns[idx];
                let (id, fd_index) = match found {
                    Some(Found::Vmlinux(id)) => (Some(id), 0i16),
                    Some(Found::Module(id, fd)) => {
                        // fd_array index 0 is vmlinux; modules follow.
                        let pos = match fd_array.iter().position(|f| *f == fd) {
                            Some(p) => p,
                            None => {
                                fd_array.push(fd);
                                fd_array.len() - 1
                            }
                        };
                        let off = i16::try_from(pos + 1)
                            .map_err(|_| Error::InvalidArgument("too many module kfuncs".into()))?;
                        (Some(id), off)
                    }
                    None => (None, 0),
                };
                match (id, ins.is_load_imm64()) {
                    (Some(id), false) => {
                        ins.src = PseudoCall::Kfunc.register();
                        ins.constant = i64::from(id);
                        ins.offset = fd_index;
                    }
                    (Some(id), true) => {
                        ins.src = PseudoLoad::BtfId.register();
                        ins.constant = i64::from(id);
                    }
                    (None, _) if !k.weak => {
                        return Err(Error::NotFound {
                            kind: "kernel function (kfunc, in kernel BTF)",
                            name: k.name,
                        });
                    }
                    (None, true) => {
                        ins.src = PseudoLoad::None.register();
                        ins.constant = 0;
                    }
                    (None, false) => {
                        ins.src = PseudoCall::Helper.register();
                        ins.constant = POISON_CALL_KFUNC_BASE + idx as i64;
                        ins.offset = 0;
                    }
                }
            }
        }
        Ok(fd_array)
    }
}
