//! XDP (`SEC("xdp")`) on an interface, in the mode the driver supports or a
//! chosen one (generic/SKB, driver, offload): through an XDP bpf_link (5.9),
//! or over rtnetlink (`IFLA_XDP`) on older kernels, with the same behaviour
//! (see [`XdpLink`]).
//!
//! The interface is looked up, and the link or netlink socket created, in
//! the calling thread's network namespace.
//!
//! ```no_run
//! use ebpf_link::xdp::{self, XdpMode, XdpOptions};
//! # fn f(prog: &ebpf::Program, newer: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = xdp::attach(prog, "eth0", XdpMode::Generic)?;
//! let q = xdp::query("eth0")?;
//! assert_eq!(q.mode(), Some(XdpMode::Generic));
//! // Swap in `newer` only if `prog` is still the program there:
//! let opts = XdpOptions { mode: XdpMode::Generic, replace: Some(prog), ..Default::default() };
//! let newer_link = xdp::attach_with(newer, "eth0", &opts)?;
//! # Ok(()) }
//! ```
//!
//! [`set`] and [`query`] are the unowned netlink calls (libbpf's
//! `bpf_xdp_attach`/`bpf_xdp_detach`/`bpf_xdp_query`), with
//! [`XdpExpect`] for `UPDATE_IF_NOEXIST` and replace-with-expected.
//!
//! # Minimum kernel version
//!
//! 4.12 over netlink (generic mode; driver mode 4.8, offload 4.15,
//! replace-with-expected 5.7); an XDP bpf_link 5.9.

mod netlink;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall::{self as sys, Errno, KernelVersion, LinkType, NotSupported};

use crate::error::{Error, Result};
use crate::iface::{Iface, Interface};
use crate::info::{LinkInfo, LinkInfoData};
use crate::link::{RawLink, sealed};
use crate::rtnetlink::Rtnl;
use crate::util::{expect_program_type, probe_link};

const KIND: &str = "XDP";

/// Where in the stack XDP runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum XdpMode {
    /// The driver's native mode if it has one, else generic.
    #[default]
    Default,
    /// Generic XDP on the `sk_buff` (`XDP_FLAGS_SKB_MODE`), any interface.
    Generic,
    /// In the driver (`XDP_FLAGS_DRV_MODE`).
    Driver,
    /// Offloaded to the NIC (`XDP_FLAGS_HW_MODE`).
    Offload,
}

impl XdpMode {
    /// The `XDP_FLAGS_*` bits.
    pub fn flags(self) -> u32 {
        match self {
            XdpMode::Default => 0,
            XdpMode::Generic => 1 << 1,
            XdpMode::Driver => 1 << 2,
            XdpMode::Offload => 1 << 3,
        }
    }

    fn describe(self) -> String {
        match self {
            XdpMode::Default => "XDP".to_owned(),
            m => format!("XDP ({} mode)", format!("{m:?}").to_lowercase()),
        }
    }
}

/// Which kernel interface [`attach_with`] uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum XdpAttachVia {
    /// An XDP bpf_link when the kernel has them (5.9), else netlink.
    #[default]
    Auto,
    /// An XDP bpf_link; `NotSupported` before 5.9.
    Link,
    /// Netlink (`IFLA_XDP`), even where bpf_links exist.
    Netlink,
}

/// Options of [`attach_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct XdpOptions<'a> {
    /// The mode.
    pub mode: XdpMode,
    /// Replace this program atomically, and only if it is still the one
    /// attached ([`Error::ProgramReplaced`] otherwise). Without it the hook
    /// must be free ([`Error::HookBusy`]). Always over netlink: a bpf_link
    /// cannot take over a program it does not hold.
    pub replace: Option<&'a Program>,
    /// bpf_link or netlink.
    pub via: XdpAttachVia,
}

/// What [`set`] requires of the hook before changing it.
#[derive(Debug, Clone, Copy, Default)]
pub enum XdpExpect<'a> {
    /// Anything: replace whatever is there.
    #[default]
    Anything,
    /// No program (`XDP_FLAGS_UPDATE_IF_NOEXIST`, 4.11).
    Nothing,
    /// This program (`XDP_FLAGS_REPLACE` with an expected fd, 5.7).
    Program(&'a Program),
}

/// The XDP programs of an interface, from [`query`]; 0 where none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XdpQuery {
    /// The generic-mode program.
    pub generic: u32,
    /// The driver-mode program.
    pub driver: u32,
    /// The offloaded program.
    pub offload: u32,
}

impl XdpQuery {
    /// The program in `mode` (the only one, for [`XdpMode::Default`]).
    pub fn program(&self, mode: XdpMode) -> u32 {
        match mode {
            XdpMode::Default => self.program_id(),
            XdpMode::Generic => self.generic,
            XdpMode::Driver => self.driver,
            XdpMode::Offload => self.offload,
        }
    }

    /// The mode of the program when exactly one mode has one.
    pub fn mode(&self) -> Option<XdpMode> {
        match (self.generic, self.driver, self.offload) {
            (g, 0, 0) if g != 0 => Some(XdpMode::Generic),
            (0, d, 0) if d != 0 => Some(XdpMode::Driver),
            (0, 0, o) if o != 0 => Some(XdpMode::Offload),
            _ => None,
        }
    }

    /// The program's id when exactly one mode has one, else 0.
    pub fn program_id(&self) -> u32 {
        self.mode().map_or(0, |m| self.program(m))
    }
}

/// An XDP program attached to an interface: an XDP bpf_link, or (before
/// 5.9, or when asked) a program set over netlink that this value owns.
///
/// The two behave alike: attaching fails with [`Error::HookBusy`] when the
/// mode already runs a program; dropping the value detaches the program;
/// [`Link::update`](crate::Link::update) swaps it atomically; `detach`
/// removes it now. A netlink attachment touches the hook only while it still
/// holds the program this value put there (`XDP_FLAGS_REPLACE`), and cannot
/// be pinned: [`keep`](Self::keep) leaves it attached instead.
///
/// # Minimum kernel version
///
/// 4.12 (a bpf_link 5.9).
#[doc(alias = "BPF_LINK_TYPE_XDP")]
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct XdpLink {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Link(RawLink),
    Netlink(Owned),
}

/// A program this process set over netlink.
#[derive(Debug)]
struct Owned {
    rtnl: Rtnl,
    iface: Iface,
    /// The mode it runs in (resolved, never `Default`).
    mode: XdpMode,
    /// The program, kept open to name it as the expected one.
    program: OwnedFd,
    program_id: u32,
    attached: bool,
}

/// Attaches an XDP program to `interface` in `mode`: [`attach_with`] with
/// default options (a bpf_link when the kernel has them, else netlink).
///
/// # Minimum kernel version
///
/// 4.12 (a bpf_link 5.9).
pub fn attach<'a>(
    program: &Program,
    interface: impl Into<Interface<'a>>,
    mode: XdpMode,
) -> Result<XdpLink> {
    let opts = XdpOptions {
        mode,
        ..Default::default()
    };
    attach_with(program, interface, &opts)
}

/// Attaches an XDP program to `interface` with `opts`.
///
/// Errors name the interface and mode: [`Error::NoSuchInterface`],
/// [`Error::HookBusy`], [`Error::ProgramReplaced`],
/// [`Error::PermissionDenied`], [`Error::WrongProgramType`].
///
/// # Minimum kernel version
///
/// 4.12 (a bpf_link 5.9, replacing 5.7).
pub fn attach_with<'a>(
    program: &Program,
    interface: impl Into<Interface<'a>>,
    opts: &XdpOptions<'_>,
) -> Result<XdpLink> {
    let interface = interface.into();
    (|| {
        expect_program_type(program, &[ProgramType::XDP], "XDP")?;
        let iface = interface.resolve()?;
        let via_link = match (opts.via, opts.replace) {
            (XdpAttachVia::Link, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "an XDP bpf_link cannot replace a program: replacing goes through netlink"
                        .into(),
                ));
            }
            (XdpAttachVia::Link, None) => {
                probe_link(LinkKind::Xdp)?;
                true
            }
            (XdpAttachVia::Auto, None) => probe_link(LinkKind::Xdp).is_ok(),
            _ => false,
        };
        if via_link {
            attach_link(program, &iface, opts.mode)
        } else {
            attach_netlink(program, iface, opts)
        }
    })()
    .map_err(Error::attach(program, || {
        format!("{} of interface {interface}", opts.mode.describe())
    }))
}

fn attach_link(program: &Program, iface: &Iface, mode: XdpMode) -> Result<XdpLink> {
    let mut attr = sys::LinkCreateAttr::with_target(program, iface.index, sys::AttachType::XDP);
    attr.flags = mode.flags();
    match sys::link_create(&attr) {
        Ok(fd) => Ok(XdpLink {
            inner: Inner::Link(RawLink::from_fd(fd)),
        }),
        // "Can't replace active XDP program with BPF link".
        Err(e) if e.errno() == Some(Errno::BUSY) => Err(busy(
            iface,
            mode,
            "a bpf_link attaches only to a free hook; detach that program first",
        )),
        Err(e) => Err(crate::util::link_create_error(e, LinkKind::Xdp)),
    }
}

fn attach_netlink(program: &Program, iface: Iface, opts: &XdpOptions<'_>) -> Result<XdpLink> {
    let program_id = program.id()?;
    let fd = program
        .as_fd()
        .try_clone_to_owned()
        .map_err(Error::io("dup the program fd"))?;
    let mut rtnl = Rtnl::open()?;
    let expect = match opts.replace {
        Some(old) => XdpExpect::Program(old),
        None => XdpExpect::Nothing,
    };
    set_with(&mut rtnl, &iface, Some(program), opts.mode, expect)?;
    // Detach aims at the mode the kernel chose for `Default`.
    let mode = match opts.mode {
        XdpMode::Default => {
            let q = netlink::query(&mut rtnl, &iface)?;
            [XdpMode::Driver, XdpMode::Generic, XdpMode::Offload]
                .into_iter()
                .find(|m| q.program(*m) == program_id)
                .unwrap_or(XdpMode::Default)
        }
        m => m,
    };
    Ok(XdpLink {
        inner: Inner::Netlink(Owned {
            rtnl,
            iface,
            mode,
            program: fd,
            program_id,
            attached: true,
        }),
    })
}

/// Sets (or, with `program` `None`, removes) the XDP program of `interface`
/// in `mode` over netlink, without an owning value (the program stays
/// until removed). `expect` is what the hook must hold for the change to
/// go ahead.
///
/// # Minimum kernel version
///
/// 4.12 (`XdpExpect::Program` 5.7).
#[doc(alias = "bpf_xdp_attach")]
#[doc(alias = "bpf_xdp_detach")]
pub fn set<'a>(
    interface: impl Into<Interface<'a>>,
    program: Option<&Program>,
    mode: XdpMode,
    expect: XdpExpect<'_>,
) -> Result<()> {
    let interface = interface.into();
    (|| {
        if let Some(p) = program {
            expect_program_type(p, &[ProgramType::XDP], "XDP")?;
        }
        let iface = interface.resolve()?;
        let mut rtnl = Rtnl::open()?;
        set_with(&mut rtnl, &iface, program, mode, expect)
    })()
    .map_err(|e| match program {
        Some(p) => Error::attach(p, || {
            format!("{} of interface {interface}", mode.describe())
        })(e),
        None => Error::link("detach", KIND)(e),
    })
}

/// `RTM_SETLINK` with `IFLA_XDP`, its refusals turned into errors that
/// say why.
fn set_with(
    rtnl: &mut Rtnl,
    iface: &Iface,
    program: Option<&Program>,
    mode: XdpMode,
    expect: XdpExpect<'_>,
) -> Result<()> {
    let fd = program.map_or(-1, |p| p.as_fd().as_raw_fd());
    let (flags, expected) = match expect {
        XdpExpect::Anything => (mode.flags(), None),
        XdpExpect::Nothing => (mode.flags() | netlink::UPDATE_IF_NOEXIST, None),
        XdpExpect::Program(p) => {
            expect_program_type(p, &[ProgramType::XDP], "XDP")?;
            (mode.flags() | netlink::REPLACE, Some(p.as_fd().as_raw_fd()))
        }
    };
    let Err(e) = netlink::set(rtnl, iface, fd, flags, expected) else {
        return Ok(());
    };
    let mut found = || netlink::query(rtnl, iface).map_or(0, |q| q.program(mode));
    Err(match (e.errno(), expect) {
        (Some(Errno::NODEV), _) => Error::NoSuchInterface {
            interface: iface.to_string(),
        },
        (Some(Errno::BUSY), XdpExpect::Nothing) if !held_by_link(&e) => busy_with(
            iface,
            mode,
            found(),
            "UPDATE_IF_NOEXIST: it must not replace a program",
        ),
        (Some(Errno::BUSY), _) => busy_with(
            iface,
            mode,
            found(),
            "an XDP bpf_link holds it: update or detach that link instead",
        ),
        (Some(Errno::EXIST), XdpExpect::Program(p)) if !is_mode_conflict(&e) => {
            Error::ProgramReplaced {
                interface: iface.name.clone(),
                ifindex: iface.index,
                hook: mode.describe(),
                expected: p.id().unwrap_or(0),
                found: found(),
            }
        }
        // Before 5.7 the kernel knows no XDP_FLAGS_REPLACE.
        (Some(Errno::INVAL), XdpExpect::Program(_)) if !crate::util::kernel_at_least(5, 7) => {
            NotSupported::new(
                "replacing an expected XDP program (XDP_FLAGS_REPLACE)",
                KernelVersion::new(5, 7, 0),
            )
            .into()
        }
        _ => e,
    })
}

fn held_by_link(e: &Error) -> bool {
    matches!(e, Error::Netlink { message: Some(m), .. } if m.contains("link"))
}

fn is_mode_conflict(e: &Error) -> bool {
    matches!(e, Error::Netlink { message: Some(m), .. } if m.contains("same time") || m.contains("upper device"))
}

fn busy(iface: &Iface, mode: XdpMode, why: &'static str) -> Error {
    let found = Rtnl::open()
        .and_then(|mut r| netlink::query(&mut r, iface))
        .map_or(0, |q| q.program(mode));
    busy_with(iface, mode, found, why)
}

fn busy_with(iface: &Iface, mode: XdpMode, program_id: u32, why: &'static str) -> Error {
    Error::HookBusy {
        interface: iface.name.clone(),
        ifindex: iface.index,
        hook: mode.describe(),
        program_id,
        why,
    }
}

/// The XDP programs of `interface`, by mode (`RTM_GETLINK`); programs held
/// by bpf_links included.
///
/// # Minimum kernel version
///
/// 4.12 (per-mode ids 4.19).
#[doc(alias = "bpf_xdp_query")]
pub fn query<'a>(interface: impl Into<Interface<'a>>) -> Result<XdpQuery> {
    let iface = interface.into().resolve()?;
    let mut rtnl = Rtnl::open()?;
    netlink::query(&mut rtnl, &iface)
}

impl XdpLink {
    /// Opens an XDP bpf_link pinned at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.9.
    #[doc(alias = "BPF_OBJ_GET")]
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self> {
        let link = RawLink::from_pin(path)?.expect_type(&[LinkType::XDP], KIND)?;
        Ok(XdpLink {
            inner: Inner::Link(link),
        })
    }

    /// Whether this is an XDP bpf_link (rather than a netlink attachment).
    pub fn is_bpf_link(&self) -> bool {
        matches!(self.inner, Inner::Link(_))
    }

    /// The bpf_link's kernel id.
    pub fn id(&self) -> Result<u32> {
        match &self.inner {
            Inner::Link(l) => l.id(),
            Inner::Netlink(_) => Err(not_a_link("id")),
        }
    }

    /// Leaves a netlink attachment attached after this value is gone. A
    /// bpf_link is kept with [`pin`](crate::Link::pin) instead.
    pub fn keep(mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Netlink(o) => {
                o.attached = false;
                Ok(())
            }
            Inner::Link(_) => Err(Error::Unsupported {
                op: "keep",
                kind: KIND,
                why: "a bpf_link detaches when its last fd closes: pin it to keep it",
            }),
        }
    }
}

fn not_a_link(op: &'static str) -> Error {
    Error::Unsupported {
        op,
        kind: KIND,
        why: "an XDP program attached over netlink is not a bpf_link",
    }
}

impl Owned {
    /// The expected fd and flags that aim a change at this value's program
    /// (from 5.7; before, the program is checked by id first).
    fn replace_flags(&mut self) -> Result<(u32, Option<i32>)> {
        if crate::util::kernel_at_least(5, 7) {
            return Ok((
                self.mode.flags() | netlink::REPLACE,
                Some(self.program.as_raw_fd()),
            ));
        }
        let found = netlink::query(&mut self.rtnl, &self.iface)?.program(self.mode);
        if found != self.program_id {
            return Err(Error::ProgramReplaced {
                interface: self.iface.name.clone(),
                ifindex: self.iface.index,
                hook: self.mode.describe(),
                expected: self.program_id,
                found,
            });
        }
        Ok((self.mode.flags(), None))
    }

    fn update(&mut self, program: &Program) -> Result<()> {
        expect_program_type(program, &[ProgramType::XDP], "XDP")?;
        if !self.attached {
            return Err(Error::InvalidArgument("the program was detached".into()));
        }
        let id = program.id()?;
        let fd = program
            .as_fd()
            .try_clone_to_owned()
            .map_err(Error::io("dup the program fd"))?;
        let (flags, expected) = self.replace_flags()?;
        self.set(program.as_fd().as_raw_fd(), flags, expected)?;
        self.program = fd;
        self.program_id = id;
        Ok(())
    }

    fn detach(&mut self) -> Result<()> {
        if !self.attached {
            return Ok(());
        }
        let (flags, expected) = self.replace_flags()?;
        self.set(-1, flags, expected)?;
        self.attached = false;
        Ok(())
    }

    fn set(&mut self, fd: i32, flags: u32, expected: Option<i32>) -> Result<()> {
        netlink::set(&mut self.rtnl, &self.iface, fd, flags, expected).map_err(|e| {
            if e.errno() == Some(Errno::EXIST) && expected.is_some() && !is_mode_conflict(&e) {
                Error::ProgramReplaced {
                    interface: self.iface.name.clone(),
                    ifindex: self.iface.index,
                    hook: self.mode.describe(),
                    expected: self.program_id,
                    found: netlink::query(&mut self.rtnl, &self.iface)
                        .map_or(0, |q| q.program(self.mode)),
                }
            } else {
                e
            }
        })
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        match self.detach() {
            Ok(()) => {}
            Err(Error::ProgramReplaced { found, .. }) => log::info!(
                "{} of {}: program {} was replaced by {found}; leaving it",
                self.mode.describe(),
                self.iface,
                self.program_id
            ),
            Err(e) => log::warn!(
                "detach {} of {}: {}",
                self.mode.describe(),
                self.iface,
                sys::ErrorChain(&e)
            ),
        }
    }
}

impl sealed::Sealed for XdpLink {}

impl crate::Link for XdpLink {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.inner {
            Inner::Link(l) => Some(l.as_fd()),
            Inner::Netlink(_) => None,
        }
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.pin_at(path),
            Inner::Netlink(_) => Err(Error::Unsupported {
                op: "pin",
                kind: KIND,
                why: "an XDP program attached over netlink (no XDP bpf_link before 5.9) lives on its \
                      interface: XdpLink::keep leaves it attached",
            }),
        }
        .map_err(Error::link("pin", KIND))
    }
    fn unpin(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.unpin_now().map_err(Error::link("unpin", KIND)),
            Inner::Netlink(_) => Ok(()),
        }
    }
    fn pinned_path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Link(l) => crate::Link::pinned_path(l),
            Inner::Netlink(_) => None,
        }
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.update_prog(program),
            Inner::Netlink(o) => o.update(program),
        }
        .map_err(Error::link("update", KIND))
    }
    fn detach(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.detach_now(),
            Inner::Netlink(o) => o.detach(),
        }
        .map_err(Error::link("detach", KIND))
    }
    /// A netlink attachment reports link id 0 and the program it holds now.
    fn info(&self) -> Result<LinkInfo> {
        match &self.inner {
            Inner::Link(l) => l.info_now(),
            Inner::Netlink(o) => Ok(LinkInfo {
                link_type: LinkType::XDP,
                id: 0,
                program_id: if o.attached { o.program_id } else { 0 },
                data: LinkInfoData::Xdp {
                    ifindex: o.iface.index,
                },
            }),
        }
        .map_err(Error::link("info", KIND))
    }
}
