//! Program types and attach types, with the kernel's numeric values.
//!
//! `ebpf-spec` may not depend on the syscall layer, so the two kernel enums it needs to describe
//! a program (`enum bpf_prog_type`, `enum bpf_attach_type`) live here.
//!
//! ```
//! use ebpf_spec::{AttachType, ProgramType};
//! assert_eq!(ProgramType::Xdp as u32, 6);
//! assert_eq!(ProgramType::from_raw(6), Some(ProgramType::Xdp));
//! assert_eq!(AttachType::TraceFentry.kernel_name(), "BPF_TRACE_FENTRY");
//! ```

use std::fmt;

/// The type of a BPF program (`enum bpf_prog_type`).
#[doc(alias = "bpf_prog_type")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u32)]
#[non_exhaustive]
pub enum ProgramType {
    /// `BPF_PROG_TYPE_UNSPEC`.
    #[doc(alias = "BPF_PROG_TYPE_UNSPEC")]
    #[default]
    Unspecified = 0,
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    #[doc(alias = "BPF_PROG_TYPE_SOCKET_FILTER")]
    SocketFilter = 1,
    /// `BPF_PROG_TYPE_KPROBE`.
    #[doc(alias = "BPF_PROG_TYPE_KPROBE")]
    Kprobe = 2,
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    #[doc(alias = "BPF_PROG_TYPE_SCHED_CLS")]
    SchedCls = 3,
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    #[doc(alias = "BPF_PROG_TYPE_SCHED_ACT")]
    SchedAct = 4,
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    #[doc(alias = "BPF_PROG_TYPE_TRACEPOINT")]
    Tracepoint = 5,
    /// `BPF_PROG_TYPE_XDP`.
    #[doc(alias = "BPF_PROG_TYPE_XDP")]
    Xdp = 6,
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    #[doc(alias = "BPF_PROG_TYPE_PERF_EVENT")]
    PerfEvent = 7,
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_SKB")]
    CgroupSkb = 8,
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_SOCK")]
    CgroupSock = 9,
    /// `BPF_PROG_TYPE_LWT_IN`.
    #[doc(alias = "BPF_PROG_TYPE_LWT_IN")]
    LwtIn = 10,
    /// `BPF_PROG_TYPE_LWT_OUT`.
    #[doc(alias = "BPF_PROG_TYPE_LWT_OUT")]
    LwtOut = 11,
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    #[doc(alias = "BPF_PROG_TYPE_LWT_XMIT")]
    LwtXmit = 12,
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    #[doc(alias = "BPF_PROG_TYPE_SOCK_OPS")]
    SockOps = 13,
    /// `BPF_PROG_TYPE_SK_SKB`.
    #[doc(alias = "BPF_PROG_TYPE_SK_SKB")]
    SkSkb = 14,
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_DEVICE")]
    CgroupDevice = 15,
    /// `BPF_PROG_TYPE_SK_MSG`.
    #[doc(alias = "BPF_PROG_TYPE_SK_MSG")]
    SkMsg = 16,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    #[doc(alias = "BPF_PROG_TYPE_RAW_TRACEPOINT")]
    RawTracepoint = 17,
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_SOCK_ADDR")]
    CgroupSockAddr = 18,
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    #[doc(alias = "BPF_PROG_TYPE_LWT_SEG6LOCAL")]
    LwtSeg6local = 19,
    /// `BPF_PROG_TYPE_LIRC_MODE2`.
    #[doc(alias = "BPF_PROG_TYPE_LIRC_MODE2")]
    LircMode2 = 20,
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    #[doc(alias = "BPF_PROG_TYPE_SK_REUSEPORT")]
    SkReuseport = 21,
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    #[doc(alias = "BPF_PROG_TYPE_FLOW_DISSECTOR")]
    FlowDissector = 22,
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_SYSCTL")]
    CgroupSysctl = 23,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    #[doc(alias = "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE")]
    RawTracepointWritable = 24,
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    #[doc(alias = "BPF_PROG_TYPE_CGROUP_SOCKOPT")]
    CgroupSockopt = 25,
    /// `BPF_PROG_TYPE_TRACING`.
    #[doc(alias = "BPF_PROG_TYPE_TRACING")]
    Tracing = 26,
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    #[doc(alias = "BPF_PROG_TYPE_STRUCT_OPS")]
    StructOps = 27,
    /// `BPF_PROG_TYPE_EXT`.
    #[doc(alias = "BPF_PROG_TYPE_EXT")]
    Ext = 28,
    /// `BPF_PROG_TYPE_LSM`.
    #[doc(alias = "BPF_PROG_TYPE_LSM")]
    Lsm = 29,
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    #[doc(alias = "BPF_PROG_TYPE_SK_LOOKUP")]
    SkLookup = 30,
    /// `BPF_PROG_TYPE_SYSCALL`.
    #[doc(alias = "BPF_PROG_TYPE_SYSCALL")]
    Syscall = 31,
    /// `BPF_PROG_TYPE_NETFILTER`.
    #[doc(alias = "BPF_PROG_TYPE_NETFILTER")]
    Netfilter = 32,
}

/// How a program is attached (`enum bpf_attach_type`), given at load time as the expected
/// attach type.
///
/// The kernel's value 0 is [`AttachType::CgroupInetIngress`]; "no expected attach type" is
/// spelled `Option::<AttachType>::None` in this crate.
#[doc(alias = "bpf_attach_type")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
#[non_exhaustive]
pub enum AttachType {
    /// `BPF_CGROUP_INET_INGRESS`.
    #[doc(alias = "BPF_CGROUP_INET_INGRESS")]
    CgroupInetIngress = 0,
    /// `BPF_CGROUP_INET_EGRESS`.
    #[doc(alias = "BPF_CGROUP_INET_EGRESS")]
    CgroupInetEgress = 1,
    /// `BPF_CGROUP_INET_SOCK_CREATE`.
    #[doc(alias = "BPF_CGROUP_INET_SOCK_CREATE")]
    CgroupInetSockCreate = 2,
    /// `BPF_CGROUP_SOCK_OPS`.
    #[doc(alias = "BPF_CGROUP_SOCK_OPS")]
    CgroupSockOps = 3,
    /// `BPF_SK_SKB_STREAM_PARSER`.
    #[doc(alias = "BPF_SK_SKB_STREAM_PARSER")]
    SkSkbStreamParser = 4,
    /// `BPF_SK_SKB_STREAM_VERDICT`.
    #[doc(alias = "BPF_SK_SKB_STREAM_VERDICT")]
    SkSkbStreamVerdict = 5,
    /// `BPF_CGROUP_DEVICE`.
    #[doc(alias = "BPF_CGROUP_DEVICE")]
    CgroupDevice = 6,
    /// `BPF_SK_MSG_VERDICT`.
    #[doc(alias = "BPF_SK_MSG_VERDICT")]
    SkMsgVerdict = 7,
    /// `BPF_CGROUP_INET4_BIND`.
    #[doc(alias = "BPF_CGROUP_INET4_BIND")]
    CgroupInet4Bind = 8,
    /// `BPF_CGROUP_INET6_BIND`.
    #[doc(alias = "BPF_CGROUP_INET6_BIND")]
    CgroupInet6Bind = 9,
    /// `BPF_CGROUP_INET4_CONNECT`.
    #[doc(alias = "BPF_CGROUP_INET4_CONNECT")]
    CgroupInet4Connect = 10,
    /// `BPF_CGROUP_INET6_CONNECT`.
    #[doc(alias = "BPF_CGROUP_INET6_CONNECT")]
    CgroupInet6Connect = 11,
    /// `BPF_CGROUP_INET4_POST_BIND`.
    #[doc(alias = "BPF_CGROUP_INET4_POST_BIND")]
    CgroupInet4PostBind = 12,
    /// `BPF_CGROUP_INET6_POST_BIND`.
    #[doc(alias = "BPF_CGROUP_INET6_POST_BIND")]
    CgroupInet6PostBind = 13,
    /// `BPF_CGROUP_UDP4_SENDMSG`.
    #[doc(alias = "BPF_CGROUP_UDP4_SENDMSG")]
    CgroupUdp4Sendmsg = 14,
    /// `BPF_CGROUP_UDP6_SENDMSG`.
    #[doc(alias = "BPF_CGROUP_UDP6_SENDMSG")]
    CgroupUdp6Sendmsg = 15,
    /// `BPF_LIRC_MODE2`.
    #[doc(alias = "BPF_LIRC_MODE2")]
    LircMode2 = 16,
    /// `BPF_FLOW_DISSECTOR`.
    #[doc(alias = "BPF_FLOW_DISSECTOR")]
    FlowDissector = 17,
    /// `BPF_CGROUP_SYSCTL`.
    #[doc(alias = "BPF_CGROUP_SYSCTL")]
    CgroupSysctl = 18,
    /// `BPF_CGROUP_UDP4_RECVMSG`.
    #[doc(alias = "BPF_CGROUP_UDP4_RECVMSG")]
    CgroupUdp4Recvmsg = 19,
    /// `BPF_CGROUP_UDP6_RECVMSG`.
    #[doc(alias = "BPF_CGROUP_UDP6_RECVMSG")]
    CgroupUdp6Recvmsg = 20,
    /// `BPF_CGROUP_GETSOCKOPT`.
    #[doc(alias = "BPF_CGROUP_GETSOCKOPT")]
    CgroupGetsockopt = 21,
    /// `BPF_CGROUP_SETSOCKOPT`.
    #[doc(alias = "BPF_CGROUP_SETSOCKOPT")]
    CgroupSetsockopt = 22,
    /// `BPF_TRACE_RAW_TP`.
    #[doc(alias = "BPF_TRACE_RAW_TP")]
    TraceRawTp = 23,
    /// `BPF_TRACE_FENTRY`.
    #[doc(alias = "BPF_TRACE_FENTRY")]
    TraceFentry = 24,
    /// `BPF_TRACE_FEXIT`.
    #[doc(alias = "BPF_TRACE_FEXIT")]
    TraceFexit = 25,
    /// `BPF_MODIFY_RETURN`.
    #[doc(alias = "BPF_MODIFY_RETURN")]
    ModifyReturn = 26,
    /// `BPF_LSM_MAC`.
    #[doc(alias = "BPF_LSM_MAC")]
    LsmMac = 27,
    /// `BPF_TRACE_ITER`.
    #[doc(alias = "BPF_TRACE_ITER")]
    TraceIter = 28,
    /// `BPF_CGROUP_INET4_GETPEERNAME`.
    #[doc(alias = "BPF_CGROUP_INET4_GETPEERNAME")]
    CgroupInet4Getpeername = 29,
    /// `BPF_CGROUP_INET6_GETPEERNAME`.
    #[doc(alias = "BPF_CGROUP_INET6_GETPEERNAME")]
    CgroupInet6Getpeername = 30,
    /// `BPF_CGROUP_INET4_GETSOCKNAME`.
    #[doc(alias = "BPF_CGROUP_INET4_GETSOCKNAME")]
    CgroupInet4Getsockname = 31,
    /// `BPF_CGROUP_INET6_GETSOCKNAME`.
    #[doc(alias = "BPF_CGROUP_INET6_GETSOCKNAME")]
    CgroupInet6Getsockname = 32,
    /// `BPF_XDP_DEVMAP`.
    #[doc(alias = "BPF_XDP_DEVMAP")]
    XdpDevmap = 33,
    /// `BPF_CGROUP_INET_SOCK_RELEASE`.
    #[doc(alias = "BPF_CGROUP_INET_SOCK_RELEASE")]
    CgroupInetSockRelease = 34,
    /// `BPF_XDP_CPUMAP`.
    #[doc(alias = "BPF_XDP_CPUMAP")]
    XdpCpumap = 35,
    /// `BPF_SK_LOOKUP`.
    #[doc(alias = "BPF_SK_LOOKUP")]
    SkLookup = 36,
    /// `BPF_XDP`.
    #[doc(alias = "BPF_XDP")]
    Xdp = 37,
    /// `BPF_SK_SKB_VERDICT`.
    #[doc(alias = "BPF_SK_SKB_VERDICT")]
    SkSkbVerdict = 38,
    /// `BPF_SK_REUSEPORT_SELECT`.
    #[doc(alias = "BPF_SK_REUSEPORT_SELECT")]
    SkReuseportSelect = 39,
    /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`.
    #[doc(alias = "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE")]
    SkReuseportSelectOrMigrate = 40,
    /// `BPF_PERF_EVENT`.
    #[doc(alias = "BPF_PERF_EVENT")]
    PerfEvent = 41,
    /// `BPF_TRACE_KPROBE_MULTI`.
    #[doc(alias = "BPF_TRACE_KPROBE_MULTI")]
    TraceKprobeMulti = 42,
    /// `BPF_LSM_CGROUP`.
    #[doc(alias = "BPF_LSM_CGROUP")]
    LsmCgroup = 43,
    /// `BPF_STRUCT_OPS`.
    #[doc(alias = "BPF_STRUCT_OPS")]
    StructOps = 44,
    /// `BPF_NETFILTER`.
    #[doc(alias = "BPF_NETFILTER")]
    Netfilter = 45,
    /// `BPF_TCX_INGRESS`.
    #[doc(alias = "BPF_TCX_INGRESS")]
    TcxIngress = 46,
    /// `BPF_TCX_EGRESS`.
    #[doc(alias = "BPF_TCX_EGRESS")]
    TcxEgress = 47,
    /// `BPF_TRACE_UPROBE_MULTI`.
    #[doc(alias = "BPF_TRACE_UPROBE_MULTI")]
    TraceUprobeMulti = 48,
    /// `BPF_CGROUP_UNIX_CONNECT`.
    #[doc(alias = "BPF_CGROUP_UNIX_CONNECT")]
    CgroupUnixConnect = 49,
    /// `BPF_CGROUP_UNIX_SENDMSG`.
    #[doc(alias = "BPF_CGROUP_UNIX_SENDMSG")]
    CgroupUnixSendmsg = 50,
    /// `BPF_CGROUP_UNIX_RECVMSG`.
    #[doc(alias = "BPF_CGROUP_UNIX_RECVMSG")]
    CgroupUnixRecvmsg = 51,
    /// `BPF_CGROUP_UNIX_GETPEERNAME`.
    #[doc(alias = "BPF_CGROUP_UNIX_GETPEERNAME")]
    CgroupUnixGetpeername = 52,
    /// `BPF_CGROUP_UNIX_GETSOCKNAME`.
    #[doc(alias = "BPF_CGROUP_UNIX_GETSOCKNAME")]
    CgroupUnixGetsockname = 53,
    /// `BPF_NETKIT_PRIMARY`.
    #[doc(alias = "BPF_NETKIT_PRIMARY")]
    NetkitPrimary = 54,
    /// `BPF_NETKIT_PEER`.
    #[doc(alias = "BPF_NETKIT_PEER")]
    NetkitPeer = 55,
    /// `BPF_TRACE_KPROBE_SESSION`.
    #[doc(alias = "BPF_TRACE_KPROBE_SESSION")]
    TraceKprobeSession = 56,
    /// `BPF_TRACE_UPROBE_SESSION`.
    #[doc(alias = "BPF_TRACE_UPROBE_SESSION")]
    TraceUprobeSession = 57,
    /// `BPF_TRACE_FSESSION`.
    #[doc(alias = "BPF_TRACE_FSESSION")]
    TraceFsession = 58,
}

impl ProgramType {
    /// Every value, in numeric order.
    pub const ALL: &'static [ProgramType] = &[
        ProgramType::Unspecified,
        ProgramType::SocketFilter,
        ProgramType::Kprobe,
        ProgramType::SchedCls,
        ProgramType::SchedAct,
        ProgramType::Tracepoint,
        ProgramType::Xdp,
        ProgramType::PerfEvent,
        ProgramType::CgroupSkb,
        ProgramType::CgroupSock,
        ProgramType::LwtIn,
        ProgramType::LwtOut,
        ProgramType::LwtXmit,
        ProgramType::SockOps,
        ProgramType::SkSkb,
        ProgramType::CgroupDevice,
        ProgramType::SkMsg,
        ProgramType::RawTracepoint,
        ProgramType::CgroupSockAddr,
        ProgramType::LwtSeg6local,
        ProgramType::LircMode2,
        ProgramType::SkReuseport,
        ProgramType::FlowDissector,
        ProgramType::CgroupSysctl,
        ProgramType::RawTracepointWritable,
        ProgramType::CgroupSockopt,
        ProgramType::Tracing,
        ProgramType::StructOps,
        ProgramType::Ext,
        ProgramType::Lsm,
        ProgramType::SkLookup,
        ProgramType::Syscall,
        ProgramType::Netfilter,
    ];

    /// The value with the kernel's number `raw`, if this crate knows it.
    pub const fn from_raw(raw: u32) -> Option<ProgramType> {
        match raw {
            0 => Some(ProgramType::Unspecified),
            1 => Some(ProgramType::SocketFilter),
            2 => Some(ProgramType::Kprobe),
            3 => Some(ProgramType::SchedCls),
            4 => Some(ProgramType::SchedAct),
            5 => Some(ProgramType::Tracepoint),
            6 => Some(ProgramType::Xdp),
            7 => Some(ProgramType::PerfEvent),
            8 => Some(ProgramType::CgroupSkb),
            9 => Some(ProgramType::CgroupSock),
            10 => Some(ProgramType::LwtIn),
            11 => Some(ProgramType::LwtOut),
            12 => Some(ProgramType::LwtXmit),
            13 => Some(ProgramType::SockOps),
            14 => Some(ProgramType::SkSkb),
            15 => Some(ProgramType::CgroupDevice),
            16 => Some(ProgramType::SkMsg),
            17 => Some(ProgramType::RawTracepoint),
            18 => Some(ProgramType::CgroupSockAddr),
            19 => Some(ProgramType::LwtSeg6local),
            20 => Some(ProgramType::LircMode2),
            21 => Some(ProgramType::SkReuseport),
            22 => Some(ProgramType::FlowDissector),
            23 => Some(ProgramType::CgroupSysctl),
            24 => Some(ProgramType::RawTracepointWritable),
            25 => Some(ProgramType::CgroupSockopt),
            26 => Some(ProgramType::Tracing),
            27 => Some(ProgramType::StructOps),
            28 => Some(ProgramType::Ext),
            29 => Some(ProgramType::Lsm),
            30 => Some(ProgramType::SkLookup),
            31 => Some(ProgramType::Syscall),
            32 => Some(ProgramType::Netfilter),
            _ => None,
        }
    }

    /// The kernel's number.
    pub const fn as_raw(self) -> u32 {
        self as u32
    }

    /// The kernel's name, e.g. `BPF_PROG_TYPE_SOCKET_FILTER`.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            ProgramType::Unspecified => "BPF_PROG_TYPE_UNSPEC",
            ProgramType::SocketFilter => "BPF_PROG_TYPE_SOCKET_FILTER",
            ProgramType::Kprobe => "BPF_PROG_TYPE_KPROBE",
            ProgramType::SchedCls => "BPF_PROG_TYPE_SCHED_CLS",
            ProgramType::SchedAct => "BPF_PROG_TYPE_SCHED_ACT",
            ProgramType::Tracepoint => "BPF_PROG_TYPE_TRACEPOINT",
            ProgramType::Xdp => "BPF_PROG_TYPE_XDP",
            ProgramType::PerfEvent => "BPF_PROG_TYPE_PERF_EVENT",
            ProgramType::CgroupSkb => "BPF_PROG_TYPE_CGROUP_SKB",
            ProgramType::CgroupSock => "BPF_PROG_TYPE_CGROUP_SOCK",
            ProgramType::LwtIn => "BPF_PROG_TYPE_LWT_IN",
            ProgramType::LwtOut => "BPF_PROG_TYPE_LWT_OUT",
            ProgramType::LwtXmit => "BPF_PROG_TYPE_LWT_XMIT",
            ProgramType::SockOps => "BPF_PROG_TYPE_SOCK_OPS",
            ProgramType::SkSkb => "BPF_PROG_TYPE_SK_SKB",
            ProgramType::CgroupDevice => "BPF_PROG_TYPE_CGROUP_DEVICE",
            ProgramType::SkMsg => "BPF_PROG_TYPE_SK_MSG",
            ProgramType::RawTracepoint => "BPF_PROG_TYPE_RAW_TRACEPOINT",
            ProgramType::CgroupSockAddr => "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
            ProgramType::LwtSeg6local => "BPF_PROG_TYPE_LWT_SEG6LOCAL",
            ProgramType::LircMode2 => "BPF_PROG_TYPE_LIRC_MODE2",
            ProgramType::SkReuseport => "BPF_PROG_TYPE_SK_REUSEPORT",
            ProgramType::FlowDissector => "BPF_PROG_TYPE_FLOW_DISSECTOR",
            ProgramType::CgroupSysctl => "BPF_PROG_TYPE_CGROUP_SYSCTL",
            ProgramType::RawTracepointWritable => "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
            ProgramType::CgroupSockopt => "BPF_PROG_TYPE_CGROUP_SOCKOPT",
            ProgramType::Tracing => "BPF_PROG_TYPE_TRACING",
            ProgramType::StructOps => "BPF_PROG_TYPE_STRUCT_OPS",
            ProgramType::Ext => "BPF_PROG_TYPE_EXT",
            ProgramType::Lsm => "BPF_PROG_TYPE_LSM",
            ProgramType::SkLookup => "BPF_PROG_TYPE_SK_LOOKUP",
            ProgramType::Syscall => "BPF_PROG_TYPE_SYSCALL",
            ProgramType::Netfilter => "BPF_PROG_TYPE_NETFILTER",
        }
    }
}

impl fmt::Display for ProgramType {
    /// The kernel's name without its prefix, in lower case (`socket_filter`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kernel_name()["BPF_PROG_TYPE_".len()..].to_ascii_lowercase())
    }
}

impl AttachType {
    /// Every value, in numeric order.
    pub const ALL: &'static [AttachType] = &[
        AttachType::CgroupInetIngress,
        AttachType::CgroupInetEgress,
        AttachType::CgroupInetSockCreate,
        AttachType::CgroupSockOps,
        AttachType::SkSkbStreamParser,
        AttachType::SkSkbStreamVerdict,
        AttachType::CgroupDevice,
        AttachType::SkMsgVerdict,
        AttachType::CgroupInet4Bind,
        AttachType::CgroupInet6Bind,
        AttachType::CgroupInet4Connect,
        AttachType::CgroupInet6Connect,
        AttachType::CgroupInet4PostBind,
        AttachType::CgroupInet6PostBind,
        AttachType::CgroupUdp4Sendmsg,
        AttachType::CgroupUdp6Sendmsg,
        AttachType::LircMode2,
        AttachType::FlowDissector,
        AttachType::CgroupSysctl,
        AttachType::CgroupUdp4Recvmsg,
        AttachType::CgroupUdp6Recvmsg,
        AttachType::CgroupGetsockopt,
        AttachType::CgroupSetsockopt,
        AttachType::TraceRawTp,
        AttachType::TraceFentry,
        AttachType::TraceFexit,
        AttachType::ModifyReturn,
        AttachType::LsmMac,
        AttachType::TraceIter,
        AttachType::CgroupInet4Getpeername,
        AttachType::CgroupInet6Getpeername,
        AttachType::CgroupInet4Getsockname,
        AttachType::CgroupInet6Getsockname,
        AttachType::XdpDevmap,
        AttachType::CgroupInetSockRelease,
        AttachType::XdpCpumap,
        AttachType::SkLookup,
        AttachType::Xdp,
        AttachType::SkSkbVerdict,
        AttachType::SkReuseportSelect,
        AttachType::SkReuseportSelectOrMigrate,
        AttachType::PerfEvent,
        AttachType::TraceKprobeMulti,
        AttachType::LsmCgroup,
        AttachType::StructOps,
        AttachType::Netfilter,
        AttachType::TcxIngress,
        AttachType::TcxEgress,
        AttachType::TraceUprobeMulti,
        AttachType::CgroupUnixConnect,
        AttachType::CgroupUnixSendmsg,
        AttachType::CgroupUnixRecvmsg,
        AttachType::CgroupUnixGetpeername,
        AttachType::CgroupUnixGetsockname,
        AttachType::NetkitPrimary,
        AttachType::NetkitPeer,
        AttachType::TraceKprobeSession,
        AttachType::TraceUprobeSession,
        AttachType::TraceFsession,
    ];

    /// The value with the kernel's number `raw`, if this crate knows it.
    pub const fn from_raw(raw: u32) -> Option<AttachType> {
        match raw {
            0 => Some(AttachType::CgroupInetIngress),
            1 => Some(AttachType::CgroupInetEgress),
            2 => Some(AttachType::CgroupInetSockCreate),
            3 => Some(AttachType::CgroupSockOps),
            4 => Some(AttachType::SkSkbStreamParser),
            5 => Some(AttachType::SkSkbStreamVerdict),
            6 => Some(AttachType::CgroupDevice),
            7 => Some(AttachType::SkMsgVerdict),
            8 => Some(AttachType::CgroupInet4Bind),
            9 => Some(AttachType::CgroupInet6Bind),
            10 => Some(AttachType::CgroupInet4Connect),
            11 => Some(AttachType::CgroupInet6Connect),
            12 => Some(AttachType::CgroupInet4PostBind),
            13 => Some(AttachType::CgroupInet6PostBind),
            14 => Some(AttachType::CgroupUdp4Sendmsg),
            15 => Some(AttachType::CgroupUdp6Sendmsg),
            16 => Some(AttachType::LircMode2),
            17 => Some(AttachType::FlowDissector),
            18 => Some(AttachType::CgroupSysctl),
            19 => Some(AttachType::CgroupUdp4Recvmsg),
            20 => Some(AttachType::CgroupUdp6Recvmsg),
            21 => Some(AttachType::CgroupGetsockopt),
            22 => Some(AttachType::CgroupSetsockopt),
            23 => Some(AttachType::TraceRawTp),
            24 => Some(AttachType::TraceFentry),
            25 => Some(AttachType::TraceFexit),
            26 => Some(AttachType::ModifyReturn),
            27 => Some(AttachType::LsmMac),
            28 => Some(AttachType::TraceIter),
            29 => Some(AttachType::CgroupInet4Getpeername),
            30 => Some(AttachType::CgroupInet6Getpeername),
            31 => Some(AttachType::CgroupInet4Getsockname),
            32 => Some(AttachType::CgroupInet6Getsockname),
            33 => Some(AttachType::XdpDevmap),
            34 => Some(AttachType::CgroupInetSockRelease),
            35 => Some(AttachType::XdpCpumap),
            36 => Some(AttachType::SkLookup),
            37 => Some(AttachType::Xdp),
            38 => Some(AttachType::SkSkbVerdict),
            39 => Some(AttachType::SkReuseportSelect),
            40 => Some(AttachType::SkReuseportSelectOrMigrate),
            41 => Some(AttachType::PerfEvent),
            42 => Some(AttachType::TraceKprobeMulti),
            43 => Some(AttachType::LsmCgroup),
            44 => Some(AttachType::StructOps),
            45 => Some(AttachType::Netfilter),
            46 => Some(AttachType::TcxIngress),
            47 => Some(AttachType::TcxEgress),
            48 => Some(AttachType::TraceUprobeMulti),
            49 => Some(AttachType::CgroupUnixConnect),
            50 => Some(AttachType::CgroupUnixSendmsg),
            51 => Some(AttachType::CgroupUnixRecvmsg),
            52 => Some(AttachType::CgroupUnixGetpeername),
            53 => Some(AttachType::CgroupUnixGetsockname),
            54 => Some(AttachType::NetkitPrimary),
            55 => Some(AttachType::NetkitPeer),
            56 => Some(AttachType::TraceKprobeSession),
            57 => Some(AttachType::TraceUprobeSession),
            58 => Some(AttachType::TraceFsession),
            _ => None,
        }
    }

    /// The kernel's number.
    pub const fn as_raw(self) -> u32 {
        self as u32
    }

    /// The kernel's name, e.g. `BPF_CGROUP_INET_EGRESS`.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            AttachType::CgroupInetIngress => "BPF_CGROUP_INET_INGRESS",
            AttachType::CgroupInetEgress => "BPF_CGROUP_INET_EGRESS",
            AttachType::CgroupInetSockCreate => "BPF_CGROUP_INET_SOCK_CREATE",
            AttachType::CgroupSockOps => "BPF_CGROUP_SOCK_OPS",
            AttachType::SkSkbStreamParser => "BPF_SK_SKB_STREAM_PARSER",
            AttachType::SkSkbStreamVerdict => "BPF_SK_SKB_STREAM_VERDICT",
            AttachType::CgroupDevice => "BPF_CGROUP_DEVICE",
            AttachType::SkMsgVerdict => "BPF_SK_MSG_VERDICT",
            AttachType::CgroupInet4Bind => "BPF_CGROUP_INET4_BIND",
            AttachType::CgroupInet6Bind => "BPF_CGROUP_INET6_BIND",
            AttachType::CgroupInet4Connect => "BPF_CGROUP_INET4_CONNECT",
            AttachType::CgroupInet6Connect => "BPF_CGROUP_INET6_CONNECT",
            AttachType::CgroupInet4PostBind => "BPF_CGROUP_INET4_POST_BIND",
            AttachType::CgroupInet6PostBind => "BPF_CGROUP_INET6_POST_BIND",
            AttachType::CgroupUdp4Sendmsg => "BPF_CGROUP_UDP4_SENDMSG",
            AttachType::CgroupUdp6Sendmsg => "BPF_CGROUP_UDP6_SENDMSG",
            AttachType::LircMode2 => "BPF_LIRC_MODE2",
            AttachType::FlowDissector => "BPF_FLOW_DISSECTOR",
            AttachType::CgroupSysctl => "BPF_CGROUP_SYSCTL",
            AttachType::CgroupUdp4Recvmsg => "BPF_CGROUP_UDP4_RECVMSG",
            AttachType::CgroupUdp6Recvmsg => "BPF_CGROUP_UDP6_RECVMSG",
            AttachType::CgroupGetsockopt => "BPF_CGROUP_GETSOCKOPT",
            AttachType::CgroupSetsockopt => "BPF_CGROUP_SETSOCKOPT",
            AttachType::TraceRawTp => "BPF_TRACE_RAW_TP",
            AttachType::TraceFentry => "BPF_TRACE_FENTRY",
            AttachType::TraceFexit => "BPF_TRACE_FEXIT",
            AttachType::ModifyReturn => "BPF_MODIFY_RETURN",
            AttachType::LsmMac => "BPF_LSM_MAC",
            AttachType::TraceIter => "BPF_TRACE_ITER",
            AttachType::CgroupInet4Getpeername => "BPF_CGROUP_INET4_GETPEERNAME",
            AttachType::CgroupInet6Getpeername => "BPF_CGROUP_INET6_GETPEERNAME",
            AttachType::CgroupInet4Getsockname => "BPF_CGROUP_INET4_GETSOCKNAME",
            AttachType::CgroupInet6Getsockname => "BPF_CGROUP_INET6_GETSOCKNAME",
            AttachType::XdpDevmap => "BPF_XDP_DEVMAP",
            AttachType::CgroupInetSockRelease => "BPF_CGROUP_INET_SOCK_RELEASE",
            AttachType::XdpCpumap => "BPF_XDP_CPUMAP",
            AttachType::SkLookup => "BPF_SK_LOOKUP",
            AttachType::Xdp => "BPF_XDP",
            AttachType::SkSkbVerdict => "BPF_SK_SKB_VERDICT",
            AttachType::SkReuseportSelect => "BPF_SK_REUSEPORT_SELECT",
            AttachType::SkReuseportSelectOrMigrate => "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
            AttachType::PerfEvent => "BPF_PERF_EVENT",
            AttachType::TraceKprobeMulti => "BPF_TRACE_KPROBE_MULTI",
            AttachType::LsmCgroup => "BPF_LSM_CGROUP",
            AttachType::StructOps => "BPF_STRUCT_OPS",
            AttachType::Netfilter => "BPF_NETFILTER",
            AttachType::TcxIngress => "BPF_TCX_INGRESS",
            AttachType::TcxEgress => "BPF_TCX_EGRESS",
            AttachType::TraceUprobeMulti => "BPF_TRACE_UPROBE_MULTI",
            AttachType::CgroupUnixConnect => "BPF_CGROUP_UNIX_CONNECT",
            AttachType::CgroupUnixSendmsg => "BPF_CGROUP_UNIX_SENDMSG",
            AttachType::CgroupUnixRecvmsg => "BPF_CGROUP_UNIX_RECVMSG",
            AttachType::CgroupUnixGetpeername => "BPF_CGROUP_UNIX_GETPEERNAME",
            AttachType::CgroupUnixGetsockname => "BPF_CGROUP_UNIX_GETSOCKNAME",
            AttachType::NetkitPrimary => "BPF_NETKIT_PRIMARY",
            AttachType::NetkitPeer => "BPF_NETKIT_PEER",
            AttachType::TraceKprobeSession => "BPF_TRACE_KPROBE_SESSION",
            AttachType::TraceUprobeSession => "BPF_TRACE_UPROBE_SESSION",
            AttachType::TraceFsession => "BPF_TRACE_FSESSION",
        }
    }
}

impl fmt::Display for AttachType {
    /// The kernel's name without its prefix, in lower case (`cgroup_inet_egress`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kernel_name()["BPF_".len()..].to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for (i, t) in ProgramType::ALL.iter().enumerate() {
            assert_eq!(t.as_raw() as usize, i);
            assert_eq!(ProgramType::from_raw(t.as_raw()), Some(*t));
        }
        for (i, t) in AttachType::ALL.iter().enumerate() {
            assert_eq!(t.as_raw() as usize, i);
            assert_eq!(AttachType::from_raw(t.as_raw()), Some(*t));
        }
        assert_eq!(ProgramType::from_raw(10_000), None);
        assert_eq!(ProgramType::Netfilter as u32, 32);
        assert_eq!(AttachType::TraceFsession as u32, 58);
        assert_eq!(ProgramType::CgroupSockAddr.to_string(), "cgroup_sock_addr");
        assert_eq!(AttachType::Xdp.to_string(), "xdp");
    }
}
