//! Readers of `BPF_MAP_TYPE_RINGBUF` and a writer of `BPF_MAP_TYPE_USER_RINGBUF`.
//!
//! A BPF ring buffer is one ring shared by all CPUs: BPF programs reserve,
//! write and commit (or discard) variable-length records; user space consumes
//! them in order. [`RingBufReader`] maps the ring (the data pages twice in a
//! row, so a record that wraps the end is still contiguous) and lends each
//! record as `&[u8]` without copying; the consumer position moves past a
//! record when its [`Record`] is dropped. One reader can poll several rings
//! ([`RingBufReader::add`]); blocking reads wait in epoll with a deadline and
//! can be woken by a [`Flusher`] from another thread. The reader is an
//! [`AsFd`](std::os::fd::AsFd) (an epoll fd), so any event loop can wait for
//! it; with the `tokio` feature, `AsyncRingBufReader` does so for tokio.
//!
//! [`RingBuf<T>`] reads typed records (a generated skeleton's ring buffers).
//!
//! [`UserRingBuf`] is the other direction: user space produces records that a
//! BPF program drains with `bpf_user_ringbuf_drain`.
//!
//! ```no_run
//! use std::time::Duration;
//! use ebpf::ringbuf::RingBufReader;
//! use ebpf_syscall::{map_create, MapCreateAttr, MapType};
//!
//! let map = map_create(&MapCreateAttr::new(MapType::RINGBUF, 0, 0, 64 * 1024))?;
//! let mut reader = RingBufReader::new(&map)?;
//! // Zero-copy: the record borrows the ring until it is dropped.
//! match reader.read_timeout(Duration::from_millis(100)) {
//!     Ok(record) => println!("{} bytes from ring {}", record.len(), record.ring()),
//!     Err(e) if e.is_timeout() => println!("nothing yet"),
//!     Err(e) => return Err(e.into()),
//! }
//! // Batch: everything ready now, one consumer-position store per ring.
//! let n = reader.consume(|_ring, bytes| drop(bytes))?;
//! # let _ = n;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Minimum kernel version
//!
//! `BPF_MAP_TYPE_RINGBUF` 5.8; `BPF_MAP_TYPE_USER_RINGBUF` 6.1.

mod claim;
mod reader;
#[cfg(feature = "tokio")]
mod tokio;
mod typed;
mod user;

pub use crate::reader_error::{ReaderError, Result};
pub use reader::{Flusher, Record, RingBufReader};
#[cfg(feature = "tokio")]
pub use tokio::AsyncRingBufReader;
pub use typed::RingBuf;
pub use user::{UserRecord, UserRingBuf};
