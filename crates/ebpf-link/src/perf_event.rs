//! perf_event programs (`SEC("perf_event")`) on software or hardware
//! events, sampling by period or frequency.
//!
//! ```no_run
//! use ebpf_link::perf_event::{self, PerfEvent, PerfEventOptions, Sampling};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let opts = PerfEventOptions {
//!     event: PerfEvent::Software(0), // PERF_COUNT_SW_CPU_CLOCK
//!     sampling: Sampling::Frequency(99),
//!     pid: None,
//!     cpu: Some(0),
//!     ..Default::default()
//! };
//! let link = perf_event::attach(prog, &opts)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.9; a bpf_link 5.15.

use ebpf::{Program, ProgramType};
use ebpf_syscall::perf::{self, PerfEventAttr};

use crate::error::{Error, Result, sys as sysr};
use crate::perf_attach::{PerfAttachment, perf_link};
use crate::util::expect_program_type;

perf_link! {
    /// A perf_event program attached to a perf event.
    ///
    /// # Minimum kernel version
    ///
    /// 4.9; a bpf_link (`BPF_LINK_TYPE_PERF_EVENT`) from 5.15.
    #[doc(alias = "BPF_LINK_TYPE_PERF_EVENT")]
    PerfEventLink, "perf_event"
}

/// The event.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum PerfEvent {
    /// `PERF_TYPE_SOFTWARE` with this `PERF_COUNT_SW_*` config.
    Software(u64),
    /// `PERF_TYPE_HARDWARE` with this `PERF_COUNT_HW_*` config.
    Hardware(u64),
    /// Any PMU type and config.
    Raw {
        /// The PMU type.
        perf_type: u32,
        /// The config.
        config: u64,
    },
}

impl Default for PerfEvent {
    fn default() -> Self {
        PerfEvent::Software(perf::PERF_COUNT_SW_CPU_CLOCK)
    }
}

/// How often the program runs.
#[derive(Debug, Clone, Copy)]
pub enum Sampling {
    /// Every this many events.
    Period(u64),
    /// This many times per second.
    Frequency(u64),
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::Frequency(99)
    }
}

/// Options of [`attach`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PerfEventOptions {
    /// The event.
    pub event: PerfEvent,
    /// The sampling.
    pub sampling: Sampling,
    /// Only this process (`None`: all; then `cpu` must be given).
    pub pid: Option<u32>,
    /// Only this CPU (`None`: all CPUs the process runs on).
    pub cpu: Option<u32>,
    /// Count child threads too.
    pub inherit: bool,
    /// The value `bpf_get_attach_cookie()` returns (5.15).
    pub cookie: u64,
}

/// Opens the event of `opts` and attaches a perf_event program to it.
///
/// # Minimum kernel version
///
/// 4.9.
pub fn attach(program: &Program, opts: &PerfEventOptions) -> Result<PerfEventLink> {
    (|| {
        expect_program_type(program, &[ProgramType::PERF_EVENT], "a perf event")?;
        let (t, config) = match opts.event {
            PerfEvent::Software(c) => (perf::PERF_TYPE_SOFTWARE, c),
            PerfEvent::Hardware(c) => (perf::PERF_TYPE_HARDWARE, c),
            PerfEvent::Raw { perf_type, config } => (perf_type, config),
        };
        let mut attr = PerfEventAttr::new(t, config);
        match opts.sampling {
            Sampling::Period(p) => attr.sample_period = p,
            Sampling::Frequency(f) => {
                attr.sample_period = f;
                attr.flags |= perf::PERF_ATTR_FLAG_FREQ;
            }
        }
        if opts.inherit {
            attr.flags |= perf::PERF_ATTR_FLAG_INHERIT;
        }
        let pid = opts.pid.map_or(-1, |p| p as i32);
        let cpu = opts.cpu.map_or(-1, |c| c as i32);
        if pid == -1 && cpu == -1 {
            return Err(Error::InvalidArgument(
                "a perf event for every process needs a CPU".into(),
            ));
        }
        let event = sysr(perf::perf_event_open(&attr, pid, cpu, None, 0))?;
        Ok(PerfEventLink {
            inner: PerfAttachment::attach(program, event, opts.cookie)?,
            tracefs: None,
        })
    })()
    .map_err(Error::attach(program, || {
        format!("perf event {:?}", opts.event)
    }))
}
