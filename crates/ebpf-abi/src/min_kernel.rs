//! The one table of minimum kernels: the first mainline release with each map and program
//! type, from the kernel's history.
//!
//! A version is a lower bound, not an answer: distribution kernels backport types and
//! configurations leave them out. The loader asks its cached feature probes whether the
//! running kernel has a type and uses these numbers only to word the "not supported" error.

use crate::{KernelVersion, MapType, ProgramType};

const fn v(major: u32, minor: u32) -> KernelVersion {
    KernelVersion::new(major, minor, 0)
}

impl MapType {
    /// The first mainline kernel with this map type, if this crate knows the type
    /// (`UNSPEC` has none).
    ///
    /// ```
    /// use ebpf_abi::{KernelVersion, MapType};
    /// assert_eq!(MapType::RINGBUF.min_kernel(), Some(KernelVersion::new(5, 8, 0)));
    /// assert_eq!(MapType(1000).min_kernel(), None);
    /// ```
    pub const fn min_kernel(self) -> Option<KernelVersion> {
        Some(match self {
            Self::HASH | Self::ARRAY => v(3, 19),
            Self::PROG_ARRAY => v(4, 2),
            Self::PERF_EVENT_ARRAY => v(4, 3),
            Self::PERCPU_HASH | Self::PERCPU_ARRAY | Self::STACK_TRACE => v(4, 6),
            Self::CGROUP_ARRAY => v(4, 8),
            Self::LRU_HASH | Self::LRU_PERCPU_HASH => v(4, 10),
            Self::LPM_TRIE => v(4, 11),
            Self::ARRAY_OF_MAPS | Self::HASH_OF_MAPS => v(4, 12),
            Self::DEVMAP | Self::SOCKMAP => v(4, 14),
            Self::CPUMAP => v(4, 15),
            Self::XSKMAP | Self::SOCKHASH => v(4, 18),
            Self::CGROUP_STORAGE | Self::REUSEPORT_SOCKARRAY => v(4, 19),
            Self::PERCPU_CGROUP_STORAGE | Self::QUEUE | Self::STACK => v(4, 20),
            Self::SK_STORAGE => v(5, 2),
            Self::DEVMAP_HASH => v(5, 4),
            Self::STRUCT_OPS => v(5, 6),
            Self::RINGBUF => v(5, 8),
            Self::INODE_STORAGE => v(5, 10),
            Self::TASK_STORAGE => v(5, 11),
            Self::BLOOM_FILTER => v(5, 16),
            Self::USER_RINGBUF => v(6, 1),
            Self::CGRP_STORAGE => v(6, 2),
            Self::ARENA => v(6, 9),
            Self::INSN_ARRAY => v(6, 19),
            _ => return None,
        })
    }
}

impl ProgramType {
    /// The first mainline kernel with this program type, if this crate knows the type
    /// (`UNSPEC` has none).
    ///
    /// ```
    /// use ebpf_abi::{KernelVersion, ProgramType};
    /// assert_eq!(ProgramType::XDP.min_kernel(), Some(KernelVersion::new(4, 8, 0)));
    /// ```
    pub const fn min_kernel(self) -> Option<KernelVersion> {
        Some(match self {
            Self::SOCKET_FILTER => v(3, 19),
            Self::KPROBE | Self::SCHED_CLS | Self::SCHED_ACT => v(4, 1),
            Self::TRACEPOINT => v(4, 7),
            Self::XDP => v(4, 8),
            Self::PERF_EVENT => v(4, 9),
            Self::CGROUP_SKB
            | Self::CGROUP_SOCK
            | Self::LWT_IN
            | Self::LWT_OUT
            | Self::LWT_XMIT => v(4, 10),
            Self::SOCK_OPS => v(4, 13),
            Self::SK_SKB => v(4, 14),
            Self::CGROUP_DEVICE => v(4, 15),
            Self::SK_MSG | Self::RAW_TRACEPOINT | Self::CGROUP_SOCK_ADDR => v(4, 17),
            Self::LWT_SEG6LOCAL | Self::LIRC_MODE2 => v(4, 18),
            Self::SK_REUSEPORT => v(4, 19),
            Self::FLOW_DISSECTOR => v(4, 20),
            Self::CGROUP_SYSCTL | Self::RAW_TRACEPOINT_WRITABLE => v(5, 2),
            Self::CGROUP_SOCKOPT => v(5, 3),
            Self::TRACING => v(5, 5),
            Self::STRUCT_OPS | Self::EXT => v(5, 6),
            Self::LSM => v(5, 7),
            Self::SK_LOOKUP => v(5, 9),
            Self::SYSCALL => v(5, 14),
            Self::NETFILTER => v(6, 4),
            _ => return None,
        })
    }

    /// The kernel configuration option this program type needs besides a new enough kernel.
    pub const fn kernel_config(self) -> Option<&'static str> {
        match self {
            Self::LIRC_MODE2 => Some("CONFIG_BPF_LIRC_MODE2"),
            Self::LSM => Some("CONFIG_BPF_LSM"),
            Self::KPROBE | Self::TRACEPOINT | Self::PERF_EVENT => Some("CONFIG_BPF_EVENTS"),
            Self::NETFILTER => Some("CONFIG_NETFILTER_BPF_LINK"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_type_but_unspec_has_a_minimum_kernel() {
        for t in MapType::ALL {
            assert_eq!(t.min_kernel().is_none(), *t == MapType::UNSPEC, "{t}");
        }
        for t in ProgramType::ALL {
            assert_eq!(t.min_kernel().is_none(), *t == ProgramType::UNSPEC, "{t}");
        }
    }

    #[test]
    fn minimum_kernels_grow_with_the_numbers() {
        // Types are numbered in the order they were merged, so the table never goes back.
        fn check<T: core::fmt::Display>(all: &[T], min: impl Fn(&T) -> Option<KernelVersion>) {
            let mut last = v(0, 0);
            for t in all {
                if let Some(m) = min(t) {
                    assert!(m >= last, "{t}: {m} is older than an earlier type's {last}");
                    last = m;
                }
            }
        }
        check(MapType::ALL, |t| t.min_kernel());
        check(ProgramType::ALL, |t| t.min_kernel());
    }
}
