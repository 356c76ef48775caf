//! What the kernel says about a link (`BPF_OBJ_GET_INFO_BY_FD`), and
//! iteration over every link in the system.
//!
//! ```no_run
//! for info in ebpf_link::links()? {
//!     let info = info?;
//!     println!("{} {} prog {}: {:?}", info.id, info.link_type, info.program_id, info.data);
//! }
//! # Ok::<(), ebpf_link::Error>(())
//! ```
//!
//! Names (`tp_name`, `target_name`, perf event names) come from
//! [`ebpf_syscall::link_info_with_names`].

use std::os::fd::AsFd;

use ebpf_syscall::{self as sys, AttachType, LinkType};
use zerocopy_free::Words;

use crate::error::{Result, sys as sysr};

/// What the kernel reports about a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The link's kernel type.
    pub link_type: LinkType,
    /// The link's id.
    pub id: u32,
    /// The id of the program it holds (0 once detached).
    pub program_id: u32,
    /// The per-type part.
    pub data: LinkInfoData,
}

/// The per-type part of [`LinkInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkInfoData {
    /// `BPF_LINK_TYPE_RAW_TRACEPOINT`.
    #[doc(alias = "BPF_LINK_TYPE_RAW_TRACEPOINT")]
    RawTracepoint {
        /// The tracepoint's name.
        name: String,
        /// The cookie (6.10).
        cookie: u64,
    },
    /// `BPF_LINK_TYPE_TRACING` (fentry, fexit, fmod_ret, freplace, LSM, tp_btf).
    #[doc(alias = "BPF_LINK_TYPE_TRACING")]
    Tracing {
        /// The attach type.
        attach_type: AttachType,
        /// The id of the target program (freplace) or BTF object.
        target_obj_id: u32,
        /// The BTF id of the target function.
        target_btf_id: u32,
    },
    /// `BPF_LINK_TYPE_CGROUP`.
    #[doc(alias = "BPF_LINK_TYPE_CGROUP")]
    Cgroup {
        /// The cgroup's id (its inode number on cgroupfs).
        cgroup_id: u64,
        /// The attach type.
        attach_type: AttachType,
    },
    /// `BPF_LINK_TYPE_ITER`.
    #[doc(alias = "BPF_LINK_TYPE_ITER")]
    Iter {
        /// The iterator's target (`task`, `bpf_map_elem`, ...).
        target_name: String,
        /// The id of the map a map iterator (`bpf_map_elem`,
        /// `bpf_sk_storage_map`, `sockmap`) walks; 0 for other iterators (5.9).
        map_id: u32,
    },
    /// `BPF_LINK_TYPE_NETNS`.
    #[doc(alias = "BPF_LINK_TYPE_NETNS")]
    Netns {
        /// The namespace's inode number.
        netns_ino: u32,
        /// The attach type.
        attach_type: AttachType,
    },
    /// `BPF_LINK_TYPE_XDP`.
    #[doc(alias = "BPF_LINK_TYPE_XDP")]
    Xdp {
        /// The interface.
        ifindex: u32,
    },
    /// `BPF_LINK_TYPE_STRUCT_OPS`.
    #[doc(alias = "BPF_LINK_TYPE_STRUCT_OPS")]
    StructOps {
        /// The struct_ops map.
        map_id: u32,
    },
    /// `BPF_LINK_TYPE_NETFILTER`.
    #[doc(alias = "BPF_LINK_TYPE_NETFILTER")]
    Netfilter {
        /// Protocol family.
        pf: u32,
        /// Hook number.
        hooknum: u32,
        /// Priority.
        priority: i32,
        /// Flags.
        flags: u32,
    },
    /// `BPF_LINK_TYPE_KPROBE_MULTI`.
    #[doc(alias = "BPF_LINK_TYPE_KPROBE_MULTI")]
    KprobeMulti {
        /// Number of functions.
        count: u32,
        /// `BPF_F_KPROBE_MULTI_RETURN`.
        flags: u32,
        /// Missed runs.
        missed: u64,
    },
    /// `BPF_LINK_TYPE_UPROBE_MULTI`.
    #[doc(alias = "BPF_LINK_TYPE_UPROBE_MULTI")]
    UprobeMulti {
        /// The probed binary, as the kernel resolved it (6.8; empty before).
        path: String,
        /// Number of offsets.
        count: u32,
        /// `BPF_F_UPROBE_MULTI_RETURN`.
        flags: u32,
        /// The process filter (0: all).
        pid: u32,
        /// Each probe's offset in the binary, reference counter offset and cookie
        /// (6.8; empty before, or if the kernel refused to list them).
        probes: Vec<UprobeMultiProbe>,
    },
    /// `BPF_LINK_TYPE_PERF_EVENT`.
    #[doc(alias = "BPF_LINK_TYPE_PERF_EVENT")]
    PerfEvent(PerfEventInfo),
    /// `BPF_LINK_TYPE_TCX`.
    #[doc(alias = "BPF_LINK_TYPE_TCX")]
    Tcx {
        /// The interface.
        ifindex: u32,
        /// `BPF_TCX_INGRESS` or `BPF_TCX_EGRESS`.
        attach_type: AttachType,
    },
    /// `BPF_LINK_TYPE_NETKIT`.
    #[doc(alias = "BPF_LINK_TYPE_NETKIT")]
    Netkit {
        /// The interface.
        ifindex: u32,
        /// `BPF_NETKIT_PRIMARY` or `BPF_NETKIT_PEER`.
        attach_type: AttachType,
    },
    /// `BPF_LINK_TYPE_SOCKMAP`.
    #[doc(alias = "BPF_LINK_TYPE_SOCKMAP")]
    Sockmap {
        /// The map.
        map_id: u32,
        /// The attach type.
        attach_type: AttachType,
    },
    /// A link type this crate does not decode.
    Other,
}

/// The perf event behind a `BPF_LINK_TYPE_PERF_EVENT` link (6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PerfEventInfo {
    /// A tracepoint.
    Tracepoint {
        /// `group:name`... as the kernel names it (just the event name).
        name: String,
        /// The cookie.
        cookie: u64,
    },
    /// A kprobe or kretprobe.
    Kprobe {
        /// Whether it is a kretprobe.
        retprobe: bool,
        /// The function.
        function: String,
        /// The offset in the function.
        offset: u32,
        /// The address (0 when hidden).
        addr: u64,
        /// Missed runs.
        missed: u64,
        /// The cookie.
        cookie: u64,
    },
    /// A uprobe or uretprobe.
    Uprobe {
        /// Whether it is a uretprobe.
        retprobe: bool,
        /// The binary.
        path: String,
        /// The file offset.
        offset: u32,
        /// The cookie.
        cookie: u64,
    },
    /// A hardware or software event.
    Event {
        /// The perf type.
        perf_type: u32,
        /// The config.
        config: u64,
        /// The cookie.
        cookie: u64,
    },
    /// The kernel does not say (before 6.6).
    Unspecified,
}

/// Reading the 48-byte per-type union as bytes in host order.
mod zerocopy_free {
    pub(crate) trait Words {
        fn u32_at(&self, off: usize) -> u32;
        fn u64_at(&self, off: usize) -> u64;
    }

    impl Words for [u64; 6] {
        fn u32_at(&self, off: usize) -> u32 {
            let b = self[off / 8].to_ne_bytes();
            let i = off % 8;
            u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
        }
        fn u64_at(&self, off: usize) -> u64 {
            self[off / 8]
        }
    }
}

/// One probe of a uprobe_multi link ([`LinkInfoData::UprobeMulti`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UprobeMultiProbe {
    /// Offset of the probe in the binary.
    pub offset: u64,
    /// Offset of its reference counter (semaphore), 0 for none.
    pub ref_ctr_offset: u64,
    /// What `bpf_get_attach_cookie()` returns there.
    pub cookie: u64,
}

impl LinkInfo {
    /// Reads the info of the link `fd`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    #[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
    pub fn of(fd: impl AsFd) -> Result<LinkInfo> {
        let fd = fd.as_fd();
        let (raw, name) = match sys::link_info_with_names(fd) {
            Ok(named) => (named.info, named.name.unwrap_or_default()),
            // Older kernels reject names for some types: keep the numbers.
            Err(_) => (sysr(sys::link_info(fd))?, String::new()),
        };
        let d = &raw.data;
        let at = |off| AttachType(d.u32_at(off));
        let data = match raw.r#type {
            LinkType::RAW_TRACEPOINT => LinkInfoData::RawTracepoint {
                name,
                cookie: d.u64_at(16),
            },
            LinkType::TRACING => LinkInfoData::Tracing {
                attach_type: at(0),
                target_obj_id: d.u32_at(4),
                target_btf_id: d.u32_at(8),
            },
            LinkType::CGROUP => LinkInfoData::Cgroup {
                cgroup_id: d.u64_at(0),
                attach_type: at(8),
            },
            LinkType::ITER => LinkInfoData::Iter {
                target_name: name,
                map_id: raw.iter_map_id().unwrap_or(0),
            },
            LinkType::NETNS => LinkInfoData::Netns {
                netns_ino: d.u32_at(0),
                attach_type: at(4),
            },
            LinkType::XDP => LinkInfoData::Xdp {
                ifindex: d.u32_at(0),
            },
            LinkType::STRUCT_OPS => LinkInfoData::StructOps {
                map_id: d.u32_at(0),
            },
            LinkType::NETFILTER => LinkInfoData::Netfilter {
                pf: d.u32_at(0),
                hooknum: d.u32_at(4),
                priority: d.u32_at(8) as i32,
                flags: d.u32_at(12),
            },
            LinkType::KPROBE_MULTI => LinkInfoData::KprobeMulti {
                count: d.u32_at(8),
                flags: d.u32_at(12),
                missed: d.u64_at(16),
            },
            LinkType::UPROBE_MULTI => LinkInfoData::UprobeMulti {
                path: name,
                count: d.u32_at(36),
                flags: d.u32_at(40),
                pid: d.u32_at(44),
                probes: sys::uprobe_multi_arrays(fd).map_or_else(
                    |_| Vec::new(),
                    |a| {
                        let per = a.offsets.iter().zip(&a.ref_ctr_offsets).zip(&a.cookies);
                        per.map(|((&offset, &ref_ctr_offset), &cookie)| UprobeMultiProbe {
                            offset,
                            ref_ctr_offset,
                            cookie,
                        })
                        .collect()
                    },
                ),
            },
            LinkType::PERF_EVENT => LinkInfoData::PerfEvent(match d.u32_at(0) {
                t @ (1 | 2) => PerfEventInfo::Uprobe {
                    retprobe: t == 2,
                    path: name,
                    offset: d.u32_at(20),
                    cookie: d.u64_at(24),
                },
                t @ (3 | 4) => PerfEventInfo::Kprobe {
                    retprobe: t == 4,
                    function: name,
                    offset: d.u32_at(20),
                    addr: d.u64_at(24),
                    missed: d.u64_at(32),
                    cookie: d.u64_at(40),
                },
                5 => PerfEventInfo::Tracepoint {
                    name,
                    cookie: d.u64_at(24),
                },
                6 => PerfEventInfo::Event {
                    config: d.u64_at(8),
                    perf_type: d.u32_at(16),
                    cookie: d.u64_at(24),
                },
                _ => PerfEventInfo::Unspecified,
            }),
            LinkType::TCX => LinkInfoData::Tcx {
                ifindex: d.u32_at(0),
                attach_type: at(4),
            },
            LinkType::NETKIT => LinkInfoData::Netkit {
                ifindex: d.u32_at(0),
                attach_type: at(4),
            },
            LinkType::SOCKMAP => LinkInfoData::Sockmap {
                map_id: d.u32_at(0),
                attach_type: at(4),
            },
            _ => LinkInfoData::Other,
        };
        Ok(LinkInfo {
            link_type: raw.r#type,
            id: raw.id,
            program_id: raw.prog_id,
            data,
        })
    }
}

/// The ids of every link in the system, in increasing order
/// (`BPF_LINK_GET_NEXT_ID`).
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_LINK_GET_NEXT_ID")]
#[derive(Debug, Default)]
pub struct LinkIds {
    next: u32,
    done: bool,
}

impl Iterator for LinkIds {
    type Item = Result<u32>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match sys::link_get_next_id(self.next) {
            Ok(Some(id)) => {
                self.next = id;
                Some(Ok(id))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.into()))
            }
        }
    }
}

/// Every link id in the system.
pub fn link_ids() -> LinkIds {
    LinkIds::default()
}

/// The info of every link in the system (links that disappear while
/// iterating are skipped).
///
/// # Minimum kernel version
///
/// 5.8.
pub fn links() -> Result<impl Iterator<Item = Result<LinkInfo>>> {
    Ok(link_ids().filter_map(|id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        match sys::link_get_fd_by_id(id) {
            Ok(fd) => Some(LinkInfo::of(&fd)),
            Err(e) if e.errno() == Some(sys::Errno::NOENT) => None,
            Err(e) => Some(Err(e.into())),
        }
    }))
}
