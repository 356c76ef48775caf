//! [`Collection::load`]: a [`CollectionSpec`] into the kernel, one step after
//! the other, each step taking what the earlier ones made and nothing else.
//!
//! 1. **Plan** ([`plan`]): the spec for this kernel: `.kconfig` filled in,
//!    which programs and struct_ops maps load, the kernel BTF for attach
//!    targets, ksyms and struct_ops, and the CO-RE targets
//!    ([`CollectionOptions::core_btf`] or the running kernel with its modules).
//! 2. **Object BTF** ([`btf`]): sanitised for the kernel and loaded; when the
//!    kernel refuses it, once more with every optional kind sanitised, then
//!    (when no map or program needs it) without BTF, with a warning.
//! 3. **Maps** ([`maps`]): replacements and pins reused after a compatibility
//!    check, the rest created (inner map templates with their BTF), contents
//!    written; struct_ops maps wait for their programs.
//! 4. **Programs** ([`programs`]): CO-RE, ksyms and kfuncs, map fds; loaded
//!    with func and line info and a growing verifier log.
//! 5. **Finish** ([`finish`]): struct_ops maps created with their programs'
//!    fds in a value kept for attaching (loading registers nothing), prog
//!    arrays and maps of maps filled, data sections frozen, variables made.
//!
//! Every object created before a failure is closed, and every pin made is
//! removed; the error names the object and the step.

mod btf;
mod finish;
mod maps;
mod plan;
mod programs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use ebpf_btf::Spec;
use ebpf_syscall::LogLevel;

use crate::error::{Error, Result};
use crate::map::Map;
use crate::program::Program;
use crate::token::EnvToken;
use crate::{Collection, CollectionSpec};

/// Options for [`Collection::load`].
#[derive(Debug, Default)]
pub struct CollectionOptions {
    /// Verifier log level for every program (see [`ProgramOptions::log_level`](crate::ProgramOptions::log_level)).
    pub log_level: LogLevel,
    /// First verifier log buffer size (see [`ProgramOptions::log_size`](crate::ProgramOptions::log_size)).
    pub log_size: u32,
    /// The BTF to apply CO-RE relocations against instead of the running
    /// kernel's (vmlinux and module BTF), like libbpf's `btf_custom_path`:
    /// for kernels without `/sys/kernel/btf/vmlinux`. Only CO-RE uses it:
    /// attach targets, ksyms and struct_ops types always come from the
    /// running kernel.
    #[doc(alias = "btf_custom_path")]
    pub core_btf: Option<Arc<Spec>>,
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
    /// program) by program name (see [`ProgramOptions::attach_program`](crate::ProgramOptions::attach_program)).
    pub attach_programs: BTreeMap<String, Arc<Program>>,
    /// How much global data and initial map contents the spec may hold
    /// (checked before anything is copied or created; 1 GiB by default).
    pub limits: ebpf_spec::Limits,
    /// The BPF token the maps, programs and BTF are created with (and the
    /// feature probes loading runs), like libbpf's `bpf_token_path`. `None`:
    /// one from the bpffs `$LIBBPF_BPF_TOKEN_PATH` names, read at each load
    /// as libbpf does (empty: no token), else the process's default
    /// ([`crate::token::default_token`]: a delegated `/sys/fs/bpf`, else none).
    ///
    /// # Minimum kernel version
    ///
    /// 6.9.
    #[doc(alias = "bpf_token_path")]
    pub token: Option<Arc<crate::token::Token>>,
}

impl Collection {
    /// Creates the maps and loads the programs of `spec` (all of them, except
    /// those marked `?` in their section name or listed in
    /// [`CollectionOptions::skip_programs`], and struct_ops programs no
    /// struct_ops map loads). Nothing is attached or registered: struct_ops
    /// maps are registered by attaching them (`ebpf_link::struct_ops`).
    ///
    /// # Minimum kernel version
    ///
    /// Whatever the object's maps and programs need (`NotSupported` names it).
    pub fn load(spec: &CollectionSpec, mut opts: CollectionOptions) -> Result<Collection> {
        match opts.token.take() {
            Some(token) => crate::token::with_token(&token, || Self::load_with(spec, opts)),
            // Like libbpf, the variable is read at each load (not once per
            // process, as the default token for maps and programs made
            // outside a collection is): a token it asks for that cannot be
            // made is an error; an empty value means no token.
            None => match crate::token::env_token() {
                EnvToken::Disabled => crate::token::without_token(|| Self::load_with(spec, opts)),
                EnvToken::Path(path) => {
                    let token = crate::token::Token::from_path(&path)
                        .map_err(Error::from)
                        .map_err(Error::context(format!(
                            "BPF token from {}={}",
                            crate::token::TOKEN_PATH_ENV,
                            path.display()
                        )))?;
                    crate::token::with_token(&token, || Self::load_with(spec, opts))
                }
                EnvToken::Unset => Self::load_with(spec, opts),
            },
        }
    }

    fn load_with(spec: &CollectionSpec, opts: CollectionOptions) -> Result<Collection> {
        let CollectionOptions {
            log_level,
            log_size,
            core_btf,
            map_replacements,
            pin_path,
            skip_programs,
            attach_programs,
            limits,
            token: _,
        } = opts;
        let plan = plan::Plan::new(spec, &limits, core_btf, &skip_programs)?;
        let btf = btf::ObjectBtf::load(&plan)?;
        let maps = maps::Maps::create(&plan, &btf, map_replacements, pin_path)?;
        let core_targets = plan.core_target_refs();
        let programs =
            programs::Loader::new(&plan, &core_targets, &btf, &maps, log_level, log_size)
                .load_all(&attach_programs)?;
        let struct_ops = finish::struct_ops_maps(&plan, &btf, &programs)?;
        finish::fill_maps(&plan, &maps, &programs)?;
        let variables = finish::variables(&plan, &maps.created)?;
        maps.pins.keep();
        Ok(Collection {
            maps: maps.created,
            programs,
            variables,
            struct_ops,
        })
    }
}
