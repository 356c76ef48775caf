//! The reader of `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (`bpf_perf_event_output`).
//!
//! Each online CPU gets a `PERF_COUNT_SW_BPF_OUTPUT` perf event with its own
//! mapped ring (one metadata page plus 2^n data pages), stored in the perf
//! event array at the CPU's index; BPF programs write raw samples to the
//! current CPU's ring. [`PerfReader`] polls all rings with epoll, lends
//! samples zero-copy (a sample that wraps the ring end is copied into a
//! per-CPU scratch buffer), reports lost samples ([`PerfEvent::Lost`]), and
//! supports watermarks ([`Wakeup`]), overwritable rings and pause/resume.
//! With the `tokio` feature, `AsyncPerfReader` waits for records on tokio.
//! New code should prefer the BPF ring buffer ([`crate::ringbuf`]): one ring
//! for all CPUs, ordered, variable-length reservations.
//!
//! ```no_run
//! use std::time::Duration;
//! use ebpf::perf::{PerfEvent, PerfReader, PerfReaderOptions};
//! use ebpf_syscall::{map_create, MapCreateAttr, MapType};
//!
//! let cpus = 256; // at least the number of possible CPUs
//! let map = map_create(&MapCreateAttr::new(MapType::PERF_EVENT_ARRAY, 4, 4, cpus))?;
//! let mut reader = PerfReader::with_options(&map, PerfReaderOptions::default().pages_per_cpu(16))?;
//! let record = reader.read_timeout(Duration::from_secs(1))?;
//! match record.event() {
//!     PerfEvent::Sample(bytes) => println!("cpu {}: {} bytes", record.cpu(), bytes.len()),
//!     PerfEvent::Lost(n) => println!("cpu {}: lost {n} samples", record.cpu()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Minimum kernel version
//!
//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY` with `PERF_COUNT_SW_BPF_OUTPUT` 4.3;
//! pause and overwritable rings 4.7.

mod reader;
mod ring;
#[cfg(feature = "tokio")]
mod tokio;

pub use crate::ringbuf::{Flusher, ReaderError, Result};
pub use reader::{PerfEvent, PerfReader, PerfReaderOptions, PerfRecord, PerfRecordInfo, Wakeup};
#[cfg(feature = "tokio")]
pub use tokio::AsyncPerfReader;
