//! [`Program`]: a verified BPF program in the kernel, loaded from a
//! [`ProgramSpec`] or raw instructions, with pinning, info and test runs.
//!
//! ```no_run
//! use ebpf::{Program, ProgramType, TestRunOptions};
//! use ebpf_asm::{Register, exit, mov64};
//! let prog = Program::load_raw(
//!     ProgramType::SOCKET_FILTER,
//!     vec![mov64(Register::R0, 7), exit()].into(),
//!     "GPL",
//! )?;
//! let res = prog.test_run(&TestRunOptions { data_in: vec![0; 64], ..Default::default() })?;
//! assert_eq!(res.retval, 7);
//! # Ok::<(), ebpf::Error>(())
//! ```
//!
//! Most programs come from a [`Collection`](crate::Collection), which also
//! creates the maps they use, fills in externs and applies CO-RE.
//! [`Program::load`] loads a single spec whose instructions reference no maps
//! or externs.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ebpf_asm::{Endianness, Instructions};
use ebpf_btf::FuncInfo;
use ebpf_spec::{SectionFlags, SmolStr};
use ebpf_syscall as sys;
use ebpf_syscall::{Errno, KernelVersion, LogLevel, NotSupported, ProgLoadAttr, VerifierLog};

use crate::error::{Error, Result, VerifierError};
use crate::info::ProgramInfo;
use crate::names::sanitize_name;
use crate::{AttachType, ProgramSpec, ProgramType};

mod target;

/// Options for loading a program.
#[derive(Debug, Clone, Default)]
pub struct ProgramOptions {
    /// Verifier log level for every load (`LogLevel::NONE`: a log is fetched
    /// only when the load fails, at `BRANCH` level). With a level set, the
    /// log of a successful load is kept ([`Program::verifier_log`]).
    pub log_level: LogLevel,
    /// The size in bytes of the first verifier log buffer (0: 64 KiB); it
    /// grows until the log fits, so a small start costs only retries.
    pub log_size: u32,
    /// The program whose function a freplace program (`SEC("freplace/<function>")`)
    /// replaces, or an fentry/fexit program traces, instead of a kernel
    /// function. The function is looked up by name in its BTF, so it must
    /// have been loaded with BTF (from an object, through a
    /// [`Collection`](crate::Collection)).
    ///
    /// # Minimum kernel version
    ///
    /// 5.5 (fentry/fexit of a program); 5.6 (freplace).
    pub attach_program: Option<Arc<Program>>,
}

/// Input of [`Program::test_run`].
#[derive(Debug, Clone, Default)]
pub struct TestRunOptions {
    /// The packet (or other input).
    pub data_in: Vec<u8>,
    /// Size of the buffer for the output packet (0: none).
    pub data_out_size: usize,
    /// The context (e.g. a `struct __sk_buff`; 5.2).
    pub ctx_in: Vec<u8>,
    /// Size of the buffer for the output context (0: none; 5.2).
    pub ctx_out_size: usize,
    /// How many times to run (0 means 1).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU to run on, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
}

/// Output of [`Program::test_run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value.
    pub retval: u32,
    /// Average duration of one run, in nanoseconds.
    pub duration_ns: u32,
    /// The output packet (truncated to `data_out_size`).
    pub data_out: Vec<u8>,
    /// The output context (truncated to `ctx_out_size`).
    pub ctx_out: Vec<u8>,
}

/// A program in the kernel. Closed when dropped (the kernel frees it when no
/// link, pin, prog array or other fd holds it).
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    // The spec's strings, cloned without allocating for a program and its duplicates.
    name: SmolStr,
    program_type: ProgramType,
    attach_type: Option<AttachType>,
    attach_target: Option<SmolStr>,
    section_name: Option<SmolStr>,
    log: Option<VerifierLog>,
    pinned: Option<PathBuf>,
    /// Maps of the collection that attaching fills (see [`Program::attach_map`]).
    attach_maps: Vec<Arc<crate::Map>>,
}

/// The maps that attaching a program fills, kept with the programs that use
/// them by [`Collection::load`](crate::Collection::load): libbpf's
/// `usdt.bpf.h` maps, written by `ebpf_link::usdt`.
pub const ATTACH_MAPS: [&str; 2] = ["__bpf_usdt_specs", "__bpf_usdt_ip_to_spec_id"];

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// BTF of the object, loaded in the kernel, for func and line info.
#[derive(Debug)]
pub(crate) struct ProgBtf<'a> {
    pub fd: BorrowedFd<'a>,
    /// Where line info file names and lines are in the loaded string table.
    pub strings: &'a crate::object_btf::LineStrings,
}

/// Where a struct_ops program attaches: the kernel struct and the member index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StructOpsTarget {
    /// The kernel struct's BTF id.
    pub btf_id: u32,
    /// The index of the member the program implements.
    pub member: u32,
}

/// Everything besides the spec that loading needs.
#[derive(Debug, Default)]
pub(crate) struct LoadContext<'a> {
    pub btf: Option<ProgBtf<'a>>,
    /// Map fds by name (maps and data sections).
    pub maps: HashMap<String, BorrowedFd<'a>>,
    /// Module BTF fds referenced by kfunc calls (`fd_array`, index 1..).
    pub fd_array: Vec<i32>,
    /// The CO-RE fixups applied to the instructions (to explain a verifier failure).
    pub fixups: Vec<ebpf_btf::core::Fixup>,
    /// For struct_ops programs: the kernel struct and member implemented.
    pub struct_ops: Option<StructOpsTarget>,
}

impl Program {
    /// Loads `spec`. Its instructions may call BPF functions linked into it,
    /// but reference no maps, globals or externs (load those through a
    /// [`Collection`](crate::Collection)). Func and line info are not sent:
    /// the spec carries no BTF.
    ///
    /// # Minimum kernel version
    ///
    /// 3.19; each program type has its own.
    #[doc(alias = "BPF_PROG_LOAD")]
    pub fn load(spec: &ProgramSpec, opts: &ProgramOptions) -> Result<Program> {
        if crate::relocate::has_core_relos(&spec.instructions) {
            return Err(Error::program(&spec.name, "load")(Error::InvalidArgument(
                "the program has CO-RE relocations, which need the object's BTF: load it through a Collection"
                    .into(),
            )));
        }
        Self::load_with(
            spec,
            spec.instructions.clone(),
            opts,
            &LoadContext::default(),
        )
    }

    /// Loads raw instructions as a program of `program_type` named `raw`: the same as
    /// [`load`](Program::load) of [`ProgramSpec::with_type`], so the program keeps the
    /// expected attach type its type implies when there is only one (a `CgroupDevice`
    /// program attaches to a cgroup without naming one).
    ///
    /// # Minimum kernel version
    ///
    /// 3.19; each program type has its own.
    pub fn load_raw(
        program_type: ProgramType,
        instructions: Instructions,
        license: &str,
    ) -> Result<Program> {
        let spec = ProgramSpec::with_type("raw", program_type, instructions).license(license);
        Self::load(&spec, &ProgramOptions::default())
    }

    /// Loads `insns` (the spec's, already rewritten for externs and CO-RE)
    /// with the context's maps and BTF.
    pub(crate) fn load_with(
        spec: &ProgramSpec,
        mut insns: Instructions,
        opts: &ProgramOptions,
        ctx: &LoadContext<'_>,
    ) -> Result<Program> {
        let name = spec.name.as_str();
        Self::load_inner(spec, &mut insns, opts, ctx).map_err(Error::program(name, "load"))
    }

    fn load_inner(
        spec: &ProgramSpec,
        insns: &mut Instructions,
        opts: &ProgramOptions,
        ctx: &LoadContext<'_>,
    ) -> Result<Program> {
        if spec.program_type == ProgramType::UNSPEC {
            return Err(Error::InvalidArgument(format!(
                "no program type (section '{}' names none this crate knows)",
                spec.section_name
            )));
        }
        if spec.byte_order != Endianness::NATIVE {
            return Err(Error::InvalidArgument(format!(
                "the program is in {:?} byte order, the host is {:?}",
                spec.byte_order,
                Endianness::NATIVE
            )));
        }
        // Map references.
        for (i, ins) in insns.iter_mut().enumerate() {
            if !matches!(
                ins.pseudo_load(),
                Some(ebpf_asm::PseudoLoad::MapFd | ebpf_asm::PseudoLoad::MapValue)
            ) {
                continue;
            }
            let Some(r) = ins.reference() else { continue };
            let fd = ctx.maps.get(r).ok_or_else(|| Error::NotFound {
                kind: "map",
                name: format!("{r} (referenced by instruction {i})"),
            })?;
            ins.set_map_fd(fd.as_raw_fd());
        }
        // Func and line info, by slot offset.
        let mut func_info = Vec::new();
        let mut line_info = Vec::new();
        if let Some(btf) = &ctx.btf {
            let mut last_line: Option<u32> = None;
            for (slot, ins) in insns.iter_offsets() {
                let off = u32::try_from(slot)
                    .map_err(|_| Error::InvalidArgument("program too large".into()))?;
                if let Some(fi) = ins.metadata.get::<FuncInfo>() {
                    func_info.extend_from_slice(&off.to_ne_bytes());
                    func_info.extend_from_slice(&fi.type_id.0.to_ne_bytes());
                }
                if let Some(li) = crate::object_btf::LineRef::of(&ins.metadata) {
                    if last_line == Some(off) {
                        continue;
                    }
                    let (file, line) = btf.strings.offsets(li);
                    line_info.extend_from_slice(&off.to_ne_bytes());
                    line_info.extend_from_slice(&file.to_ne_bytes());
                    line_info.extend_from_slice(&line.to_ne_bytes());
                    line_info.extend_from_slice(&li.line_col().to_ne_bytes());
                    last_line = Some(off);
                }
            }
        }
        let bytes = insns.marshal(Endianness::NATIVE)?;
        let license = CString::new(spec.license.as_str())
            .map_err(|_| Error::InvalidArgument("license contains a NUL byte".into()))?;

        let mut attr = ProgLoadAttr::new(sys::ProgramType(spec.program_type.as_raw()), &license);
        attr.set_insns(&bytes)?;
        attr.prog_flags = spec.flags;
        attr.kern_version = if spec.kernel_version != 0 {
            spec.kernel_version
        } else {
            ebpf_syscall::current_kernel().map_or(0, KernelVersion::code)
        };
        attr.prog_name = sys::obj_name(&sanitize_name(&spec.name)).unwrap_or_default();
        // An optional expected attach type (libbpf's SEC_EXP_ATTACH_OPT) is left out
        // on kernels before 4.17, which have no such field.
        let optional = spec.section_flags.contains(SectionFlags::EXP_ATTACH_OPT)
            && ebpf_syscall::current_kernel().is_ok_and(|v| v < KernelVersion::new(4, 17, 0));
        if let (Some(at), false) = (spec.attach_type, optional) {
            attr.expected_attach_type = sys::AttachType(at.as_raw());
        }
        if let Some(btf) = &ctx.btf {
            if !func_info.is_empty() {
                attr.prog_btf_fd = btf.fd.as_raw_fd() as u32;
                attr.set_func_info(&func_info, 8)?;
                if !line_info.is_empty() {
                    attr.set_line_info(&line_info, 16)?;
                }
            }
        }
        let mut fd_array = Vec::new();
        if !ctx.fd_array.is_empty() {
            // Index 0 is vmlinux (unused); module BTF fds follow.
            fd_array.push(0);
            fd_array.extend_from_slice(&ctx.fd_array);
            attr.set_fd_array(&fd_array)?;
        }
        // Attach target in kernel BTF for tracing, LSM, iterators and struct_ops,
        // or in a program's BTF for freplace (a module's BTF fd stays open
        // until the load is done).
        let _target_fd: Option<target::TargetFd<'_>>;
        if let Some(t) = ctx.struct_ops {
            attr.attach_btf_id = t.btf_id;
            attr.expected_attach_type = sys::AttachType(t.member);
        } else if let Some((target_id, fd)) = target::resolve(spec, opts)? {
            attr.attach_btf_id = target_id;
            if let Some(fd) = &fd {
                attr.attach_prog_fd = fd.as_raw_fd().unsigned_abs();
            }
            _target_fd = fd;
        }

        let log_opts = sys::LogOptions {
            level: opts.log_level,
            size: opts.log_size,
        };
        crate::memlock::raise_once();
        let result = sys::prog_load_with_log(&attr, log_opts);
        let (fd, log) = result.map_err(|e| load_error(spec, e, &ctx.fixups))?;
        Ok(Program {
            fd,
            name: spec.name.clone(),
            program_type: spec.program_type,
            attach_type: spec.attach_type,
            attach_target: spec.attach_target.clone(),
            section_name: Some(spec.section_name.clone()).filter(|s| !s.is_empty()),
            log,
            pinned: None,
            attach_maps: Vec::new(),
        })
    }

    /// Wraps a program fd, reading its type and name from the kernel.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    pub fn from_fd(fd: OwnedFd) -> Result<Program> {
        let info = sys::prog_info(&fd)?;
        // A type from a newer kernel than this crate knows is kept as its number.
        let program_type = info.r#type;
        Ok(Program {
            name: SmolStr::new(info.name()),
            program_type,
            attach_type: None,
            attach_target: None,
            section_name: None,
            log: None,
            pinned: None,
            attach_maps: Vec::new(),
            fd,
        })
    }

    /// Opens the program pinned at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 4.4.
    #[doc(alias = "BPF_OBJ_GET")]
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Program> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let fd = sys::obj_get(path, 0)
            .map_err(Error::from)
            .map_err(Error::program(&name, "open pin"))?;
        let mut p = Self::from_fd(fd).map_err(Error::program(&name, "open pin"))?;
        p.pinned = Some(path.to_owned());
        Ok(p)
    }

    /// Opens the program with kernel id `id`.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    #[doc(alias = "BPF_PROG_GET_FD_BY_ID")]
    pub fn from_id(id: u32) -> Result<Program> {
        Self::from_fd(sys::prog_get_fd_by_id(id)?)
    }

    /// A second handle on the same program (`dup`).
    pub fn try_clone(&self) -> Result<Program> {
        let fd = self
            .fd
            .try_clone()
            .map_err(Error::io(format!("dup of program '{}'", self.name)))?;
        Ok(Program {
            fd,
            name: self.name.clone(),
            program_type: self.program_type,
            attach_type: self.attach_type,
            attach_target: self.attach_target.clone(),
            section_name: self.section_name.clone(),
            log: self.log.clone(),
            pinned: self.pinned.clone(),
            attach_maps: self.attach_maps.clone(),
        })
    }

    /// Records where the program is pinned (for programs opened from a pin).
    pub(crate) fn with_pinned(mut self, path: &Path) -> Program {
        self.pinned = Some(path.to_owned());
        self
    }

    /// Keeps `maps` (of the collection this program was loaded from) for
    /// [`Program::attach_map`].
    pub(crate) fn with_attach_maps(mut self, maps: Vec<Arc<crate::Map>>) -> Program {
        self.attach_maps = maps;
        self
    }

    /// A map this program references that attaching it fills, by its name in
    /// the object: one of [`ATTACH_MAPS`] (libbpf's `usdt.bpf.h`
    /// `__bpf_usdt_specs` and `__bpf_usdt_ip_to_spec_id`, which
    /// `ebpf_link::usdt` writes). Set by
    /// [`Collection::load`](crate::Collection::load), which keeps a second
    /// handle on each such map with every program that uses it; `None` for
    /// programs loaded otherwise.
    pub fn attach_map(&self, name: &str) -> Option<&crate::Map> {
        self.attach_maps
            .iter()
            .find(|m| m.name() == name)
            .map(Arc::as_ref)
    }

    /// The name (the function's, or as the kernel reports it).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The program type.
    pub fn program_type(&self) -> ProgramType {
        self.program_type
    }
    /// The expected attach type it was loaded with.
    pub fn attach_type(&self) -> Option<AttachType> {
        self.attach_type
    }
    /// The attach target named by the section (function, tracepoint, ...).
    pub fn attach_target(&self) -> Option<&str> {
        self.attach_target.as_deref()
    }
    /// The ELF section the program came from (`SEC("...")`), for auto-attach.
    pub fn section_name(&self) -> Option<&str> {
        self.section_name.as_deref()
    }
    /// The verifier log of the load, when a log level was requested.
    pub fn verifier_log(&self) -> Option<&VerifierLog> {
        self.log.as_ref()
    }
    /// The path this program was pinned at or opened from.
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    /// Pins the program at `path` in a bpffs.
    ///
    /// # Minimum kernel version
    ///
    /// 4.4.
    #[doc(alias = "BPF_OBJ_PIN")]
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if self.pinned.as_deref() == Some(path) {
            return Ok(());
        }
        crate::pin::pin(&self.fd, path).map_err(Error::program(&self.name, "pin"))?;
        self.pinned = Some(path.to_owned());
        Ok(())
    }

    /// Removes the pin made by [`Program::pin`] (or the one it was opened from).
    pub fn unpin(&mut self) -> Result<()> {
        if let Some(p) = self.pinned.take() {
            crate::pin::unpin(&p).map_err(Error::program(&self.name, "unpin"))?;
        }
        Ok(())
    }

    /// What the kernel reports about the program (id, tag, sizes, ...).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    #[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
    pub fn info(&self) -> Result<ProgramInfo> {
        let info = sys::prog_info(&self.fd)
            .map_err(Error::from)
            .map_err(Error::program(&self.name, "info"))?;
        Ok(ProgramInfo::from_raw(&info))
    }

    /// The kernel id.
    pub fn id(&self) -> Result<u32> {
        Ok(self.info()?.id)
    }

    /// Ids of the maps the program uses.
    ///
    /// # Minimum kernel version
    ///
    /// 4.15.
    pub fn map_ids(&self) -> Result<Vec<u32>> {
        sys::prog_map_ids(&self.fd)
            .map_err(Error::from)
            .map_err(Error::program(&self.name, "map ids"))
    }

    /// The instructions as the verifier rewrote them (empty when the kernel
    /// hides them: `kernel.kptr_restrict`, lockdown).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    pub fn xlated_instructions(&self) -> Result<Instructions> {
        let bytes = sys::prog_xlated_insns(&self.fd)
            .map_err(Error::from)
            .map_err(Error::program(&self.name, "xlated instructions"))?;
        Ok(Instructions::unmarshal(&bytes, Endianness::NATIVE)?)
    }

    /// Runs the program in the kernel on the given input
    /// (`BPF_PROG_TEST_RUN`).
    ///
    /// # Minimum kernel version
    ///
    /// 4.12; which program types can run grew over time.
    #[doc(alias = "BPF_PROG_TEST_RUN")]
    #[doc(alias = "BPF_PROG_RUN")]
    pub fn test_run(&self, opts: &TestRunOptions) -> Result<TestRunResult> {
        let mut data_out = vec![0u8; opts.data_out_size];
        let mut ctx_out = vec![0u8; opts.ctx_out_size];
        let r = self
            .test_run_raw(opts, &mut data_out, &mut ctx_out)
            .map_err(Error::program(&self.name, "test run"))?;
        data_out.truncate((r.data_size_out as usize).min(opts.data_out_size));
        ctx_out.truncate((r.ctx_size_out as usize).min(opts.ctx_out_size));
        Ok(TestRunResult {
            retval: r.retval,
            duration_ns: r.duration,
            data_out,
            ctx_out,
        })
    }
}

impl Program {
    fn test_run_raw(
        &self,
        opts: &TestRunOptions,
        data_out: &mut [u8],
        ctx_out: &mut [u8],
    ) -> Result<sys::TestRunResult> {
        let mut attr = sys::ProgTestRunAttr::new(&self.fd);
        if !opts.data_in.is_empty() {
            attr.set_data_in(&opts.data_in)?;
        }
        if !data_out.is_empty() {
            attr.set_data_out(data_out)?;
        }
        if !opts.ctx_in.is_empty() {
            attr.set_ctx_in(&opts.ctx_in)?;
        }
        if !ctx_out.is_empty() {
            attr.set_ctx_out(ctx_out)?;
        }
        attr.repeat = opts.repeat;
        attr.flags = opts.flags;
        attr.cpu = opts.cpu;
        sys::prog_test_run(attr).map_err(|e| {
            let errno = e.errno();
            if errno == Some(Errno::ENOTSUPP) || errno == Some(Errno::OPNOTSUPP) {
                Error::NotSupported(NotSupported::new(
                    format!("BPF_PROG_TEST_RUN for {} programs", self.program_type),
                    test_run_min_kernel(self.program_type),
                ))
            } else {
                Error::from(e)
            }
        })
    }
}

/// The first kernel that can test-run programs of type `t`.
fn test_run_min_kernel(t: ProgramType) -> KernelVersion {
    let (a, b) = match t {
        ProgramType::SOCKET_FILTER
        | ProgramType::SCHED_CLS
        | ProgramType::SCHED_ACT
        | ProgramType::XDP => (4, 12),
        ProgramType::CGROUP_SKB
        | ProgramType::LWT_IN
        | ProgramType::LWT_OUT
        | ProgramType::LWT_XMIT => (4, 12),
        ProgramType::FLOW_DISSECTOR => (5, 0),
        ProgramType::RAW_TRACEPOINT => (5, 10),
        ProgramType::TRACING => (5, 10),
        ProgramType::SK_LOOKUP => (5, 10),
        ProgramType::SYSCALL => (5, 14),
        ProgramType::NETFILTER => (6, 4),
        ProgramType::STRUCT_OPS => (5, 6),
        _ => (99, 0),
    };
    KernelVersion::new(a, b, 0)
}

/// Whether programs of this type/attach type are ones lockdown refuses.
fn tracing_kind(spec: &ProgramSpec) -> Option<&'static str> {
    match (spec.program_type, spec.attach_type) {
        (ProgramType::TRACING, Some(AttachType::TRACE_FENTRY)) => Some("fentry"),
        (ProgramType::TRACING, Some(AttachType::TRACE_FEXIT)) => Some("fexit"),
        (ProgramType::TRACING, Some(AttachType::MODIFY_RETURN)) => Some("fmod_ret"),
        (ProgramType::TRACING, Some(AttachType::TRACE_ITER)) => Some("iterator"),
        (ProgramType::TRACING, _) => Some("tracing"),
        (ProgramType::LSM, _) => Some("LSM"),
        (ProgramType::KPROBE, _) => Some("kprobe"),
        (ProgramType::EXT, _) => Some("freplace"),
        (ProgramType::STRUCT_OPS, _) => Some("struct_ops"),
        (ProgramType::PERF_EVENT | ProgramType::TRACEPOINT | ProgramType::RAW_TRACEPOINT, _) => {
            Some("tracing")
        }
        _ => None,
    }
}

/// Turns a failed `BPF_PROG_LOAD` into the error that says why.
fn load_error(spec: &ProgramSpec, e: sys::Error, fixups: &[ebpf_btf::core::Fixup]) -> Error {
    let errno = e.errno();
    if errno == Some(Errno::PERM) {
        let kind = tracing_kind(spec);
        return Error::PermissionDenied {
            what: format!("BPF_PROG_LOAD of a {} program", spec.program_type),
            errno: Errno::PERM,
            hint: ebpf_syscall::eperm_hint(kind),
        };
    }
    if errno == Some(Errno::INVAL) || errno == Some(Errno::TOOBIG) {
        // Whether the kernel has the type at all is the cached probe's answer, not a
        // comparison of version numbers (distributions backport program types).
        if let Err(crate::features::FeatureError::NotSupported(ns)) =
            crate::features::have_prog_type(spec.program_type)
        {
            return Error::NotSupported(ns);
        }
    }
    match e {
        // No log: the attributes were refused before verification.
        sys::Error::Load { cmd, errno, log } if log.is_empty() => Error::Context {
            what: format!(
                "the kernel refused the program's attributes (type {}, expected attach type {}, flags {:#x})",
                spec.program_type,
                spec.attach_type
                    .map_or_else(|| "none".to_owned(), |t| t.to_string()),
                spec.flags
            ),
            source: Box::new(Error::Syscall(sys::Error::Bpf { cmd, errno })),
        },
        sys::Error::Load { errno, log, .. } => Error::Verifier(Box::new(VerifierError {
            errno,
            poisoned_relocation: crate::relocate::diagnose(&log, fixups),
            log,
        })),
        other => Error::from(other),
    }
}
