//! Classic tc: `SEC("tc")`/`SEC("classifier")` programs as `cls_bpf` filters
//! in direct-action mode on the `clsact` qdisc, over rtnetlink (what `tc
//! filter add dev eth0 ingress bpf da ...` does; libbpf's
//! `bpf_tc_hook_create`/`bpf_tc_attach`, aya's `SchedClassifier`).
//!
//! [`attach`] creates the interface's clsact qdisc or reuses it, adds a
//! filter at a priority and handle (chosen by the kernel when 0) for a
//! protocol (all by default), and returns a [`TcAttachment`]: dropping it
//! removes the filter, and the qdisc too when this attachment created it and
//! no filter is left on either direction. [`TcAttachment::keep`] leaves the
//! filter attached on purpose; [`detach`] removes it later by its
//! [`TcFilterId`]. [`TcAttachment::replace`] swaps the program atomically
//! (the filter never leaves the list), and [`query`] lists a direction's
//! filters with their program ids.
//!
//! ```no_run
//! use ebpf_link::tc::{self, TcDirection, TcOptions};
//! # fn f(prog: &ebpf::Program, other: &ebpf::Program) -> ebpf_link::Result<()> {
//! let mut filter = tc::attach(prog, "eth0", TcDirection::Ingress, &TcOptions::default())?;
//! println!("priority {}, handle {:#x}", filter.id().priority, filter.id().handle);
//! filter.replace(other)?; // atomic
//! for f in tc::query("eth0", TcDirection::Ingress)? {
//!     println!("{:?} program {:?}", f.name, f.program_id);
//! }
//! # Ok(()) }
//! ```
//!
//! # cls_bpf or TCX
//!
//! TCX ([`crate::tcx`], 6.6) is the successor: bpf_links that can be
//! pinned, explicit ordering, no qdisc, and programs of different owners
//! cannot remove each other's. Prefer it when the kernel has it; classic tc
//! is for the kernels before 6.6 (RHEL 8/9, Ubuntu 20.04/22.04, Debian
//! 11/12) and for tools that share the clsact hook with cls_bpf users.
//! [`attach_auto`] takes TCX when it is there and cls_bpf otherwise, and
//! says which it used. Return codes mean the same on both (`TC_ACT_OK` =
//! `TCX_PASS`, `TC_ACT_SHOT` = `TCX_DROP`, `TC_ACT_UNSPEC` = `TCX_NEXT`).
//!
//! The interface is looked up, and the netlink socket opened, in the calling
//! thread's network namespace; the attachment keeps the socket, so it can
//! be dropped from any thread.
//!
//! # Minimum kernel version
//!
//! 4.5 (clsact; direct action 4.4; program ids in queries 4.13).

mod netlink;

use std::fmt;
use std::os::fd::BorrowedFd;
use std::path::Path;

use ebpf::{Program, ProgramType};
use ebpf_syscall::{Errno, KernelVersion, NotSupported};

use crate::error::{Error, Result};
use crate::iface::{Iface, Interface};
use crate::info::LinkInfo;
use crate::link::{raw, sealed};
use crate::rtnetlink::Rtnl;
use crate::tcx::{TcxDirection, TcxLink, TcxOptions};
use crate::util::expect_program_type;

const KIND: &str = "tc";

/// `ETH_P_ALL`: every protocol (the default of [`TcOptions::protocol`]).
pub const ETH_P_ALL: u16 = 0x0003;
/// `ETH_P_IP`: IPv4.
pub const ETH_P_IP: u16 = 0x0800;
/// `ETH_P_IPV6`: IPv6.
pub const ETH_P_IPV6: u16 = 0x86DD;

/// Which filter list of the clsact qdisc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcDirection {
    /// Packets the interface receives (`ffff:fff2`).
    Ingress,
    /// Packets the interface sends (`ffff:fff3`).
    Egress,
}

impl TcDirection {
    fn name(self) -> &'static str {
        match self {
            TcDirection::Ingress => "ingress",
            TcDirection::Egress => "egress",
        }
    }
}

/// Where a filter sits: what tc calls `pref`, `handle` and `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcFilterId {
    /// The priority (`pref`): lower runs first.
    pub priority: u16,
    /// The handle within the priority.
    pub handle: u32,
    /// The `ETH_P_*` protocol the filter sees, in host byte order.
    pub protocol: u16,
}

impl fmt::Display for TcFilterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "priority {}, handle {:#x}, protocol ",
            self.priority, self.handle
        )?;
        match self.protocol {
            ETH_P_ALL => write!(f, "all"),
            ETH_P_IP => write!(f, "ip"),
            ETH_P_IPV6 => write!(f, "ipv6"),
            p => write!(f, "{p:#06x}"),
        }
    }
}

/// A filter on a clsact direction, as [`query`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcFilter {
    /// Where it sits.
    pub id: TcFilterId,
    /// The filter kind (`bpf` for cls_bpf; `u32`, `flower`, ... for others).
    pub kind: String,
    /// The name given when it was added (`TCA_BPF_NAME`).
    pub name: Option<String>,
    /// The id of its BPF program (4.13).
    pub program_id: Option<u32>,
    /// Whether the program's return code is the action (direct action).
    pub direct_action: bool,
    /// The program's tag.
    pub tag: Option<[u8; 8]>,
}

impl fmt::Display for TcFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} filter", self.kind)?;
        if let Some(n) = &self.name {
            write!(f, " '{n}'")?;
        }
        if let Some(id) = self.program_id {
            write!(f, " (program {id})")?;
        }
        write!(f, ", {}", self.id)
    }
}

/// Options of [`attach`].
#[derive(Debug, Clone, Copy)]
pub struct TcOptions<'a> {
    /// The priority; 0 lets the kernel choose (`0xc000` for the first
    /// filter, then one less than the lowest).
    pub priority: u16,
    /// The handle; 0 lets the kernel choose (the lowest free, from 1).
    pub handle: u32,
    /// The protocol the filter sees (`ETH_P_*`, host order): [`ETH_P_ALL`]
    /// by default, [`ETH_P_IP`] for IPv4 only.
    pub protocol: u16,
    /// The filter's name (`TCA_BPF_NAME`); the program's name by default.
    pub name: Option<&'a str>,
    /// Replace a filter already at `priority` and `handle` (both must be
    /// given) atomically, instead of failing with [`Error::FilterExists`].
    pub replace: bool,
}

impl Default for TcOptions<'_> {
    fn default() -> Self {
        TcOptions {
            priority: 0,
            handle: 0,
            protocol: ETH_P_ALL,
            name: None,
            replace: false,
        }
    }
}

/// A cls_bpf filter attached by [`attach`]. Dropping it removes the filter
/// (if it still runs the program this value put there) and then the clsact
/// qdisc, if this value created it and neither direction has a filter left.
///
/// Not a bpf_link: it cannot be pinned; [`keep`](Self::keep) leaves it
/// attached instead.
///
/// # Minimum kernel version
///
/// 4.5.
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct TcAttachment {
    rtnl: Rtnl,
    iface: Iface,
    direction: TcDirection,
    id: TcFilterId,
    name: String,
    program_id: u32,
    created_qdisc: bool,
    attached: bool,
}

/// Creates the clsact qdisc on `interface`, or finds it there. Returns
/// whether it was created.
///
/// Fails with [`Error::QdiscInTheWay`] when a qdisc of another kind
/// (`ingress`) holds its place.
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "bpf_tc_hook_create")]
pub fn create_clsact<'a>(interface: impl Into<Interface<'a>>) -> Result<bool> {
    let iface = interface.into().resolve()?;
    let mut rtnl = Rtnl::open()?;
    ensure_clsact(&mut rtnl, &iface)
}

/// Deletes the clsact qdisc of `interface` with every filter on it.
/// Nothing to do when there is none; another kind of qdisc is left alone.
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "bpf_tc_hook_destroy")]
pub fn destroy_clsact<'a>(interface: impl Into<Interface<'a>>) -> Result<()> {
    let iface = interface.into().resolve()?;
    let mut rtnl = Rtnl::open()?;
    match netlink::ingress_qdisc_kind(&mut rtnl, &iface)? {
        Some(kind) if kind == netlink::CLSACT => netlink::del_clsact(&mut rtnl, &iface),
        _ => Ok(()),
    }
}

/// Attaches a `BPF_PROG_TYPE_SCHED_CLS` program to the `direction` of
/// `interface` as a direct-action cls_bpf filter, creating the clsact qdisc
/// if needed.
///
/// Errors name the interface and direction: [`Error::NoSuchInterface`],
/// [`Error::QdiscInTheWay`], [`Error::FilterExists`] (that priority and
/// handle are taken, or the priority holds another kind of filter or
/// protocol), [`Error::PermissionDenied`] (no `CAP_NET_ADMIN`),
/// [`Error::WrongProgramType`]. A qdisc this call created is removed again
/// when the filter cannot be added.
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "bpf_tc_attach")]
pub fn attach<'a>(
    program: &Program,
    interface: impl Into<Interface<'a>>,
    direction: TcDirection,
    opts: &TcOptions<'_>,
) -> Result<TcAttachment> {
    let interface = interface.into();
    attach_inner(program, interface, direction, opts).map_err(Error::attach(program, || {
        format!("tc {} of interface {interface}", direction.name())
    }))
}

fn attach_inner(
    program: &Program,
    interface: Interface<'_>,
    direction: TcDirection,
    opts: &TcOptions<'_>,
) -> Result<TcAttachment> {
    expect_program_type(program, &[ProgramType::SCHED_CLS], "a tc classifier")?;
    if opts.replace && (opts.priority == 0 || opts.handle == 0) {
        return Err(Error::InvalidArgument(
            "replacing a tc filter needs its priority and handle".into(),
        ));
    }
    let program_id = program.id()?;
    let name = opts.name.unwrap_or(program.name()).to_owned();
    let iface = interface.resolve()?;
    let mut rtnl = Rtnl::open()?;
    let created_qdisc = ensure_clsact(&mut rtnl, &iface)?;
    let wanted = TcFilterId {
        priority: opts.priority,
        handle: opts.handle,
        protocol: opts.protocol,
    };
    let added = netlink::add_filter(
        &mut rtnl,
        &iface,
        direction,
        wanted,
        raw(program),
        &name,
        opts.replace,
    );
    let id = match added {
        Ok(Some(echo)) => Ok(echo.id),
        // No echo (not expected from any kernel): find the filter by program.
        Ok(None) => find_by_program(&mut rtnl, &iface, direction, wanted, program_id),
        Err(e) => Err(filter_error(&mut rtnl, &iface, direction, wanted, e)),
    };
    let mut attachment = TcAttachment {
        rtnl,
        iface,
        direction,
        id: wanted,
        name,
        program_id,
        created_qdisc,
        attached: false,
    };
    // On failure, dropping `attachment` removes a qdisc it created.
    attachment.id = id?;
    attachment.attached = true;
    Ok(attachment)
}

/// Creates clsact (returns true) or checks that the qdisc at `ffff:` is one.
fn ensure_clsact(rtnl: &mut Rtnl, iface: &Iface) -> Result<bool> {
    match netlink::add_clsact(rtnl, iface) {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == Some(Errno::EXIST) => {
            match netlink::ingress_qdisc_kind(rtnl, iface)? {
                Some(kind) if kind == netlink::CLSACT => Ok(false),
                Some(kind) => Err(Error::QdiscInTheWay {
                    interface: iface.name.clone(),
                    ifindex: iface.index,
                    kind,
                }),
                // Deleted in between: try once more.
                None => netlink::add_clsact(rtnl, iface).map(|()| true),
            }
        }
        Err(e) => Err(qdisc_error(iface, e)),
    }
}

/// Turns a refused `RTM_NEWQDISC` into the error that says why.
fn qdisc_error(iface: &Iface, e: Error) -> Error {
    match e.errno() {
        Some(Errno::NODEV) => Error::NoSuchInterface {
            interface: iface.to_string(),
        },
        // "Specified qdisc kind is unknown": no sch_ingress (clsact) here.
        Some(Errno::NOENT) => NotSupported::new("the clsact qdisc", KernelVersion::new(4, 5, 0))
            .requires_config("CONFIG_NET_SCH_INGRESS")
            .into(),
        _ => e,
    }
}

/// Turns a refused `RTM_NEWTFILTER` into the error that says why.
fn filter_error(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    id: TcFilterId,
    e: Error,
) -> Error {
    match e.errno() {
        Some(Errno::NODEV) => Error::NoSuchInterface {
            interface: iface.to_string(),
        },
        // EEXIST: that priority and handle are taken. EINVAL: the priority
        // holds another kind of filter or another protocol (or the request
        // is bad for another reason: then there is nothing at that priority).
        Some(Errno::EXIST | Errno::INVAL) if id.priority != 0 => {
            match netlink::dump_filters(rtnl, iface, direction, Some(id.priority)) {
                Ok(there) if !there.is_empty() => {
                    let existing = there
                        .iter()
                        .find(|f| f.id.handle == id.handle)
                        .unwrap_or(&there[0]);
                    Error::FilterExists {
                        interface: iface.name.clone(),
                        ifindex: iface.index,
                        hook: direction.name(),
                        priority: id.priority,
                        existing: existing.to_string(),
                    }
                }
                _ => e,
            }
        }
        // "TC classifier not found": no cls_bpf in this kernel.
        Some(Errno::NOENT) => {
            NotSupported::new("the cls_bpf classifier", KernelVersion::new(4, 1, 0))
                .requires_config("CONFIG_NET_CLS_BPF")
                .into()
        }
        _ => e,
    }
}

fn find_by_program(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    wanted: TcFilterId,
    program_id: u32,
) -> Result<TcFilterId> {
    let prio = (wanted.priority != 0).then_some(wanted.priority);
    netlink::dump_filters(rtnl, iface, direction, prio)?
        .into_iter()
        .find(|f| {
            f.program_id == Some(program_id) && (wanted.handle == 0 || f.id.handle == wanted.handle)
        })
        .map(|f| f.id)
        .ok_or_else(|| {
            Error::InvalidArgument("the kernel accepted the filter but does not list it".into())
        })
}

/// Lists the filters on one direction of `interface`'s clsact qdisc, in the
/// order they run (cls_bpf and any other kind). Empty without clsact.
///
/// # Minimum kernel version
///
/// 4.5 (program ids 4.13).
#[doc(alias = "bpf_tc_query")]
pub fn query<'a>(
    interface: impl Into<Interface<'a>>,
    direction: TcDirection,
) -> Result<Vec<TcFilter>> {
    let iface = interface.into().resolve()?;
    let mut rtnl = Rtnl::open()?;
    netlink::dump_filters(&mut rtnl, &iface, direction, None)
}

/// Removes the cls_bpf filter `id` from one direction of `interface` (one
/// left attached with [`TcAttachment::keep`], or by another tool).
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "bpf_tc_detach")]
pub fn detach<'a>(
    interface: impl Into<Interface<'a>>,
    direction: TcDirection,
    id: TcFilterId,
) -> Result<()> {
    let iface = interface.into().resolve()?;
    let mut rtnl = Rtnl::open()?;
    netlink::del_filter(&mut rtnl, &iface, direction, id)
}

impl TcAttachment {
    /// Where the filter sits (with the priority and handle the kernel chose).
    pub fn id(&self) -> TcFilterId {
        self.id
    }

    /// The direction.
    pub fn direction(&self) -> TcDirection {
        self.direction
    }

    /// The interface's name and index.
    pub fn interface(&self) -> (&str, u32) {
        (&self.iface.name, self.iface.index)
    }

    /// The id of the program the filter runs.
    pub fn program_id(&self) -> u32 {
        self.program_id
    }

    /// Whether attaching created the clsact qdisc (then dropping the last
    /// filter removes it).
    pub fn created_qdisc(&self) -> bool {
        self.created_qdisc
    }

    /// Replaces the filter's program with `program`, atomically: the filter
    /// keeps its priority and handle and runs either program, never none.
    ///
    /// # Minimum kernel version
    ///
    /// 4.5.
    pub fn replace(&mut self, program: &Program) -> Result<()> {
        (|| {
            if !self.attached {
                return Err(Error::InvalidArgument("the filter was detached".into()));
            }
            expect_program_type(program, &[ProgramType::SCHED_CLS], "a tc classifier")?;
            let id = program.id()?;
            netlink::add_filter(
                &mut self.rtnl,
                &self.iface,
                self.direction,
                self.id,
                raw(program),
                &self.name,
                true,
            )?;
            self.program_id = id;
            Ok(())
        })()
        .map_err(Error::link("replace the program of", KIND))
    }

    /// Leaves the filter attached after this value is gone (the clsact
    /// qdisc too) and returns where it sits, for [`detach`] later.
    pub fn keep(mut self) -> TcFilterId {
        self.attached = false;
        self.created_qdisc = false;
        self.id
    }

    /// Removes the filter now (if it still runs this value's program), and
    /// the qdisc if this value created it and it has no filter left.
    fn remove(&mut self) -> Result<()> {
        if std::mem::take(&mut self.attached) {
            let current =
                netlink::get_filter(&mut self.rtnl, &self.iface, self.direction, self.id)?;
            match current {
                Some(f) if f.program_id.is_none_or(|id| id == self.program_id) => {
                    netlink::del_filter(&mut self.rtnl, &self.iface, self.direction, self.id)?;
                }
                Some(f) => log::info!(
                    "tc {} of {}: {} was replaced by someone else ({f}); leaving it",
                    self.direction.name(),
                    self.iface,
                    self.id
                ),
                None => {}
            }
        }
        if std::mem::take(&mut self.created_qdisc) {
            let mut unused = true;
            for d in [TcDirection::Ingress, TcDirection::Egress] {
                unused &= netlink::dump_filters(&mut self.rtnl, &self.iface, d, None)?.is_empty();
            }
            if unused {
                netlink::del_clsact(&mut self.rtnl, &self.iface)?;
            }
        }
        Ok(())
    }
}

impl Drop for TcAttachment {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            log::warn!(
                "detach tc {} filter on {}: {e}",
                self.direction.name(),
                self.iface
            );
        }
    }
}

impl sealed::Sealed for TcAttachment {}

impl crate::Link for TcAttachment {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    fn pin(&mut self, _path: &Path) -> Result<()> {
        Err(Error::Unsupported {
            op: "pin",
            kind: KIND,
            why: "a cls_bpf filter lives on its interface, not in a bpffs: TcAttachment::keep leaves it attached",
        })
    }
    fn unpin(&mut self) -> Result<()> {
        Ok(())
    }
    fn pinned_path(&self) -> Option<&Path> {
        None
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        self.replace(program)
    }
    fn detach(&mut self) -> Result<()> {
        self.remove().map_err(Error::link("detach", KIND))
    }
    fn info(&self) -> Result<LinkInfo> {
        Err(Error::Unsupported {
            op: "info",
            kind: KIND,
            why: "a cls_bpf filter is not a bpf_link: tc::query lists it",
        })
    }
}

/// What [`attach_auto`] attached: a TCX link, or a cls_bpf filter on a
/// kernel without TCX.
#[derive(Debug)]
pub enum TcAuto {
    /// A TCX link (6.6).
    Tcx(TcxLink),
    /// A cls_bpf filter on clsact.
    ClsBpf(TcAttachment),
}

impl TcAuto {
    /// `"tcx"` or `"cls_bpf"`.
    pub fn mechanism(&self) -> &'static str {
        match self {
            TcAuto::Tcx(_) => "tcx",
            TcAuto::ClsBpf(_) => "cls_bpf",
        }
    }

    fn link(&self) -> &dyn crate::Link {
        match self {
            TcAuto::Tcx(l) => l,
            TcAuto::ClsBpf(a) => a,
        }
    }

    fn link_mut(&mut self) -> &mut dyn crate::Link {
        match self {
            TcAuto::Tcx(l) => l,
            TcAuto::ClsBpf(a) => a,
        }
    }
}

/// Attaches a `BPF_PROG_TYPE_SCHED_CLS` program to `direction` of
/// `interface` with TCX (appended after the programs there) when the kernel
/// has it, else as a cls_bpf filter with default [`TcOptions`].
/// [`TcAuto::mechanism`] says which was used.
///
/// # Minimum kernel version
///
/// 4.5 (TCX from 6.6).
pub fn attach_auto<'a>(
    program: &Program,
    interface: impl Into<Interface<'a>>,
    direction: TcDirection,
) -> Result<TcAuto> {
    let interface = interface.into();
    let tcx = match direction {
        TcDirection::Ingress => TcxDirection::Ingress,
        TcDirection::Egress => TcxDirection::Egress,
    };
    if crate::util::probe_link(ebpf::features::LinkKind::Tcx).is_ok() {
        let iface = interface.resolve().map_err(Error::attach(program, || {
            format!("tcx {} of interface {interface}", direction.name())
        }))?;
        return crate::tcx::attach(program, iface.index, tcx, &TcxOptions::default())
            .map(TcAuto::Tcx);
    }
    attach(program, interface, direction, &TcOptions::default()).map(TcAuto::ClsBpf)
}

impl sealed::Sealed for TcAuto {}

impl crate::Link for TcAuto {
    fn kind(&self) -> &'static str {
        self.link().kind()
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.link().fd()
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        self.link_mut().pin(path)
    }
    fn unpin(&mut self) -> Result<()> {
        self.link_mut().unpin()
    }
    fn pinned_path(&self) -> Option<&Path> {
        self.link().pinned_path()
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        self.link_mut().update(program)
    }
    fn detach(&mut self) -> Result<()> {
        self.link_mut().detach()
    }
    fn info(&self) -> Result<LinkInfo> {
        self.link().info()
    }
}
