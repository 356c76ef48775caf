//! The reader of `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one perf ring per online CPU.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ebpf_syscall::perf::{
    PERF_ATTR_FLAG_WATERMARK, PERF_ATTR_FLAG_WRITE_BACKWARD, PERF_COUNT_SW_BPF_OUTPUT,
    PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE, PerfEventAttr, perf_event_enable, perf_event_open,
    perf_event_pause_output,
};
use ebpf_syscall::{Epoll, EventFd, MapType, Mmap};

use super::ring::*;
use crate::mem::SharedPages;
use crate::ringbuf::{Flusher, ReaderError, Result};

/// `offsetof(struct perf_event_mmap_page, data_head)`.
pub(super) const DATA_HEAD: usize = 1024;
/// `offsetof(struct perf_event_mmap_page, data_tail)`.
pub(super) const DATA_TAIL: usize = 1032;
/// `offsetof(struct perf_event_mmap_page, data_offset)` (4.1).
pub(super) const DATA_OFFSET: usize = 1040;
/// `offsetof(struct perf_event_mmap_page, data_size)` (4.1).
pub(super) const DATA_SIZE: usize = 1048;
/// `PERF_RECORD_LOST`.
pub(super) const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`.
pub(super) const PERF_RECORD_SAMPLE: u32 = 9;
/// `struct perf_event_header`.
pub(super) const HEADER_SIZE: usize = 8;
/// The epoll token of the flush eventfd.
pub(super) const WAKE_TOKEN: u64 = u64::MAX;

/// How a perf ring wakes its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// After every `n` samples (`wakeup_events`; at least 1).
    Events(u32),
    /// When at least this many bytes are in the ring (`wakeup_watermark`).
    Watermark(u32),
}

/// Settings of a [`PerfReader`].
///
/// ```
/// use ebpf::perf::{PerfReaderOptions, Wakeup};
/// let opts = PerfReaderOptions::default().pages_per_cpu(16).wakeup(Wakeup::Watermark(4096));
/// assert_eq!(opts.get_pages_per_cpu(), 16);
/// ```
#[derive(Debug, Clone)]
pub struct PerfReaderOptions {
    pages: usize,
    wakeup: Wakeup,
    overwritable: bool,
}

impl Default for PerfReaderOptions {
    /// 8 data pages per CPU, woken on every sample, not overwritable.
    fn default() -> Self {
        Self {
            pages: 8,
            wakeup: Wakeup::Events(1),
            overwritable: false,
        }
    }
}

impl PerfReaderOptions {
    /// Data pages per CPU: a power of two (the ring maps one more page, the metadata page).
    pub fn pages_per_cpu(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// The data pages per CPU.
    pub fn get_pages_per_cpu(&self) -> usize {
        self.pages
    }

    /// When the reader is woken.
    pub fn wakeup(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = wakeup;
        self
    }

    /// Overwritable rings (`write_backward`, mapped read-only): the kernel
    /// overwrites the oldest samples instead of losing new ones. Reads pause
    /// a ring's output while they copy its contents and return the newest
    /// sample first. Since 4.7.
    pub fn overwritable(mut self, overwritable: bool) -> Self {
        self.overwritable = overwritable;
        self
    }
}

/// What a perf record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfEvent<'a> {
    /// `PERF_RECORD_SAMPLE` with `PERF_SAMPLE_RAW`: the bytes given to
    /// `bpf_perf_event_output`, followed by the kernel's padding to keep the
    /// record 8-byte aligned (`len + 4` rounded up to 8, minus 4).
    Sample(&'a [u8]),
    /// `PERF_RECORD_LOST`: this many samples were dropped because the ring was
    /// full (or paused).
    Lost(u64),
}

/// What [`PerfReader::read_into`] copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfRecordInfo {
    /// The CPU whose ring held the record.
    pub cpu: u32,
    /// For a lost-samples record: how many were lost (the buffer is empty);
    /// 0 for a sample.
    pub lost: u64,
}

/// A perf record lent from a CPU's ring (or its scratch copy); the ring's
/// tail moves past it when it is dropped.
#[derive(Debug)]
pub struct PerfRecord<'a> {
    cpu: u32,
    event: PerfEvent<'a>,
    pages: &'a SharedPages,
    cursor: &'a mut Cursor,
    commit: Commit,
}

impl<'a> PerfRecord<'a> {
    /// The CPU whose ring held the record.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// The record.
    pub fn event(&self) -> PerfEvent<'_> {
        self.event
    }

    /// The raw sample, if this is a sample.
    pub fn sample(&self) -> Option<&[u8]> {
        match self.event {
            PerfEvent::Sample(s) => Some(s),
            PerfEvent::Lost(_) => None,
        }
    }

    /// How many samples were lost, if this is a lost-samples record.
    pub fn lost(&self) -> Option<u64> {
        match self.event {
            PerfEvent::Lost(n) => Some(n),
            PerfEvent::Sample(_) => None,
        }
    }
}

impl Drop for PerfRecord<'_> {
    fn drop(&mut self) {
        self.cursor.commit(self.pages, self.commit);
    }
}

/// A reader of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: opens a
/// `PERF_COUNT_SW_BPF_OUTPUT` event with a mapped ring on every online CPU,
/// stores each in the map at its CPU's index, and reads the samples that
/// `bpf_perf_event_output` writes, and the lost-sample counts.
///
/// Like [`RingBufReader`](crate::ringbuf::RingBufReader): zero-copy
/// [`try_next`](Self::try_next)/[`read`](Self::read), copying
/// [`read_into`](Self::read_into), epoll deadlines, a [`Flusher`], and
/// [`AsFd`] (the epoll fd) for event loops. Records that wrap the end of a
/// ring are copied to a per-CPU scratch buffer. Dropping the reader removes
/// its events from the map.
///
/// # Minimum kernel version
///
/// 4.3 (`PERF_COUNT_SW_BPF_OUTPUT`); pause 4.7; overwritable rings 4.7.
#[derive(Debug)]
pub struct PerfReader {
    name: String,
    map: OwnedFd,
    rings: Vec<PerfRing>,
    epoll: Epoll,
    wake: Arc<EventFd>,
    deadline: Option<Instant>,
    current: usize,
    flushed: bool,
    paused: bool,
    lost: u64,
    tokens: Vec<u64>,
}

impl PerfReader {
    /// A reader of `map` with default [`PerfReaderOptions`].
    pub fn new(map: impl AsFd) -> Result<Self> {
        Self::with_options(map, PerfReaderOptions::default())
    }

    /// A reader of `map`.
    ///
    /// Fails with [`ReaderError::WrongMapType`] for other map types and
    /// [`ReaderError::InvalidSize`] when `max_entries` does not cover the
    /// possible CPUs or the page count is not a power of two.
    pub fn with_options(map: impl AsFd, options: PerfReaderOptions) -> Result<Self> {
        let map = map.as_fd();
        let info = ebpf_syscall::map_info(map).map_err(ReaderError::syscall(
            "perf event array: BPF_OBJ_GET_INFO_BY_FD",
        ))?;
        let map_name = if info.name().is_empty() {
            format!("id {}", info.id)
        } else {
            info.name().to_owned()
        };
        if info.r#type != MapType::PERF_EVENT_ARRAY {
            return Err(ReaderError::WrongMapType {
                name: map_name,
                found: info.r#type,
                expected: MapType::PERF_EVENT_ARRAY,
            });
        }
        let name = format!("perf buffer '{map_name}'");
        let possible = ebpf_syscall::read_cpu_list("possible")
            .map_err(ReaderError::syscall(format!("{name}: possible CPUs")))?;
        let needed = possible.iter().max().map_or(0, |&m| m + 1);
        if info.max_entries < needed {
            return Err(ReaderError::InvalidSize {
                ring: name,
                reason: format!(
                    "max_entries {} does not cover the {needed} possible CPUs",
                    info.max_entries
                ),
            });
        }
        if !options.pages.is_power_of_two() {
            return Err(ReaderError::InvalidSize {
                ring: name,
                reason: format!("{} data pages per CPU is not a power of two", options.pages),
            });
        }
        let online = ebpf_syscall::read_cpu_list("online")
            .map_err(ReaderError::syscall(format!("{name}: online CPUs")))?;
        let map = map.try_clone_to_owned().map_err(|source| ReaderError::Io {
            what: format!("{name}: dup of the map fd"),
            source,
        })?;
        let epoll = Epoll::new().map_err(ReaderError::syscall(format!("{name}: epoll_create1")))?;
        let wake = EventFd::new().map_err(ReaderError::syscall(format!("{name}: eventfd")))?;
        epoll
            .add(&wake, WAKE_TOKEN)
            .map_err(ReaderError::syscall(format!(
                "{name}: epoll_ctl of the eventfd"
            )))?;
        let mut reader = Self {
            name,
            map,
            rings: Vec::with_capacity(online.len()),
            epoll,
            wake: Arc::new(wake),
            deadline: None,
            current: 0,
            flushed: false,
            paused: false,
            lost: 0,
            tokens: vec![0; online.len() + 1],
        };
        // On error, dropping `reader` removes the events stored so far.
        for cpu in online {
            let ring = reader.open_ring(cpu, &options)?;
            let index = reader.rings.len() as u64;
            reader
                .epoll
                .add(&ring.event, index)
                .map_err(ReaderError::syscall(format!("{}: epoll_ctl", ring.name)))?;
            let event_fd = ring.event.as_raw_fd() as u32;
            reader.rings.push(ring);
            fd_array_set(&reader.map, cpu, event_fd).map_err(ReaderError::syscall(format!(
                "{} cpu {cpu}: store of the event in the map",
                reader.name
            )))?;
        }
        Ok(reader)
    }

    fn open_ring(&self, cpu: u32, options: &PerfReaderOptions) -> Result<PerfRing> {
        let name = format!("{} cpu {cpu}", self.name);
        let mut attr = PerfEventAttr::new(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT);
        attr.sample_type = PERF_SAMPLE_RAW;
        attr.sample_period = 1;
        match options.wakeup {
            Wakeup::Events(n) => attr.wakeup_events = n.max(1),
            Wakeup::Watermark(bytes) => {
                attr.flags |= PERF_ATTR_FLAG_WATERMARK;
                attr.wakeup_events = bytes.max(1);
            }
        }
        if options.overwritable {
            attr.flags |= PERF_ATTR_FLAG_WRITE_BACKWARD;
        }
        let cpu_arg = i32::try_from(cpu).unwrap_or(i32::MAX);
        let event = perf_event_open(&attr, -1, cpu_arg, None, 0).map_err(|e| {
            if e.errno() == Some(ebpf_syscall::Errno::NOENT) {
                // The software event is unknown before 4.3.
                ReaderError::NotSupported(ebpf_syscall::NotSupported::new(
                    "PERF_COUNT_SW_BPF_OUTPUT",
                    ebpf_syscall::KernelVersion::new(4, 3, 0),
                ))
            } else {
                ReaderError::syscall(format!("{name}: perf_event_open"))(e)
            }
        })?;
        let page = Mmap::page_size();
        let len = options
            .pages
            .checked_add(1)
            .and_then(|p| p.checked_mul(page))
            .ok_or_else(|| ReaderError::InvalidSize {
                ring: name.clone(),
                reason: format!("{} pages are too many to map", options.pages),
            })?;
        // Writable: the kernel honours data_tail and never overwrites unread
        // data. Read-only: the ring overwrites (with write_backward).
        let pages = SharedPages::map(&event, len, !options.overwritable, 0)
            .map_err(ReaderError::syscall(format!("{name}: mmap of {len} bytes")))?;
        let mut data_off = pages.load_acquire_u64(DATA_OFFSET) as usize;
        let mut size = pages.load_acquire_u64(DATA_SIZE);
        if data_off == 0 || size == 0 {
            // Before 4.1: data follows the metadata page.
            data_off = page;
            size = (options.pages * page) as u64;
        }
        if !size.is_power_of_two()
            || size < HEADER_SIZE as u64
            || data_off.saturating_add(size as usize) > len
        {
            return Err(ReaderError::InvalidSize {
                ring: name,
                reason: format!(
                    "data area of {size} bytes at {data_off:#x} does not fit the mapping of {len} bytes"
                ),
            });
        }
        perf_event_enable(&event).map_err(ReaderError::syscall(format!("{name}: enable")))?;
        let head = pages.load_acquire_u64(DATA_HEAD);
        let tail = if options.overwritable {
            0
        } else {
            pages.load_acquire_u64(DATA_TAIL)
        };
        Ok(PerfRing {
            name,
            cpu,
            event,
            pages,
            data_off,
            size,
            head,
            cursor: Cursor {
                tail,
                backlog_pos: 0,
            },
            scratch: Vec::new(),
            overwritable: options.overwritable,
            backlog: Vec::new(),
            last_head: head,
        })
    }

    /// The CPUs with a ring, in ring order.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// Sets the deadline of blocking reads (`None`: wait forever; a deadline
    /// in the past makes them non-blocking).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The total of the lost-sample records handed out so far.
    pub fn lost_samples(&self) -> u64 {
        self.lost
    }

    /// Bytes written and not yet read over all rings (for overwritable rings:
    /// not yet copied out, at most the ring size).
    pub fn available_bytes(&self) -> u64 {
        self.rings
            .iter()
            .map(|r| {
                let head = r.pages.load_acquire_u64(DATA_HEAD);
                if r.overwritable {
                    r.last_head.wrapping_sub(head).min(r.size)
                        + (r.backlog.len() - r.cursor.backlog_pos.min(r.backlog.len())) as u64
                } else {
                    head.saturating_sub(r.cursor.tail)
                }
            })
            .sum()
    }

    /// A handle that wakes a blocked read from another thread.
    pub fn flusher(&self) -> Flusher {
        Flusher::new(Arc::clone(&self.wake))
    }

    /// Pauses the output of every ring (`PERF_EVENT_IOC_PAUSE_OUTPUT`): BPF
    /// programs' samples are dropped and counted as lost until
    /// [`resume`](Self::resume). Records already written stay readable.
    pub fn pause(&mut self) -> Result<()> {
        self.set_paused(true)
    }

    /// Resumes the output of every ring.
    pub fn resume(&mut self) -> Result<()> {
        self.set_paused(false)
    }

    fn set_paused(&mut self, pause: bool) -> Result<()> {
        for ring in &self.rings {
            perf_event_pause_output(&ring.event, pause).map_err(ReaderError::syscall(format!(
                "{}: {}",
                ring.name,
                if pause {
                    "pause output"
                } else {
                    "resume output"
                }
            )))?;
        }
        self.paused = pause;
        Ok(())
    }

    /// The next record of any CPU, without blocking.
    pub fn try_next(&mut self) -> Result<Option<PerfRecord<'_>>> {
        match self.find()? {
            Some(found) => Ok(Some(self.lend(found))),
            None => Ok(None),
        }
    }

    /// The next record, waiting until the deadline.
    pub fn read(&mut self) -> Result<PerfRecord<'_>> {
        let found = self.wait(self.deadline)?;
        Ok(self.lend(found))
    }

    /// The next record, waiting at most `timeout` (ignores the deadline).
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<PerfRecord<'_>> {
        let found = self.wait(Some(Instant::now() + timeout))?;
        Ok(self.lend(found))
    }

    /// Copies the next sample into `buf` (emptied for a lost-samples record),
    /// waiting until the deadline.
    pub fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<PerfRecordInfo> {
        let record = self.read()?;
        buf.clear();
        let lost = match record.event {
            PerfEvent::Sample(s) => {
                buf.extend_from_slice(s);
                0
            }
            PerfEvent::Lost(n) => n,
        };
        Ok(PerfRecordInfo {
            cpu: record.cpu,
            lost,
        })
    }

    /// Calls `f(cpu, event)` for every record ready now, without blocking;
    /// returns how many there were. Each ring's tail is published once, when
    /// it is drained.
    pub fn consume(&mut self, mut f: impl FnMut(u32, PerfEvent<'_>)) -> Result<usize> {
        let mut count = 0;
        let paused = self.paused;
        for ring in &mut self.rings {
            if !ring.overwritable {
                count += ring.drain_forward(&mut f, &mut self.lost)?;
                continue;
            }
            let result = loop {
                let (loc, kind) = match ring.peek(paused) {
                    Ok(Some(found)) => found,
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                };
                let event = match kind {
                    Kind::Sample(start, n) => {
                        PerfEvent::Sample(&ring.bytes(loc.src, loc.len)[start..start + n])
                    }
                    Kind::Lost(n) => PerfEvent::Lost(n),
                    // `peek` returns only samples and lost records.
                    Kind::Other => break Ok(()),
                };
                if let PerfEvent::Lost(n) = event {
                    self.lost += n;
                }
                f(ring.cpu, event);
                count += 1;
                if let Commit::Backlog(next) = loc.commit {
                    ring.cursor.backlog_pos = next;
                }
            };
            result?;
        }
        Ok(count)
    }

    /// Whether a record is ready now (a non-blocking check; releases nothing).
    pub fn has_record(&mut self) -> Result<bool> {
        Ok(self.find()?.is_some())
    }

    /// Resets the flush eventfd and reports whether a flush was pending
    /// (for event loops that watch [`AsFd`] themselves).
    pub fn take_flush(&mut self) -> Result<bool> {
        let pending = self.wake.clear().map_err(ReaderError::syscall(format!(
            "{}: read of the eventfd",
            self.name
        )))? > 0;
        let flushed = pending || self.flushed;
        self.flushed = false;
        Ok(flushed)
    }

    fn lend(&mut self, found: Found) -> PerfRecord<'_> {
        let PerfRing {
            cpu,
            pages,
            cursor,
            scratch,
            backlog,
            ..
        } = &mut self.rings[found.ring];
        let len = found.loc.len;
        let whole: &[u8] = match found.loc.src {
            Src::Mapped(off) => pages.bytes(off, len),
            Src::Scratch => &scratch[..len],
            Src::Backlog(off) => &backlog[off..off + len],
        };
        // Classified by `peek`, which skips other kinds.
        let event = match found.kind {
            Kind::Sample(start, n) => PerfEvent::Sample(&whole[start..start + n]),
            Kind::Lost(n) => {
                self.lost += n;
                PerfEvent::Lost(n)
            }
            Kind::Other => PerfEvent::Lost(0),
        };
        PerfRecord {
            cpu: *cpu,
            event,
            pages,
            cursor,
            commit: found.loc.commit,
        }
    }

    fn find(&mut self) -> Result<Option<Found>> {
        let n = self.rings.len();
        // From the current ring round all of them (no division per call).
        let mut index = self.current;
        for _ in 0..n {
            if index >= n {
                index = 0;
            }
            if let Some((loc, kind)) = self.rings[index].peek(self.paused)? {
                self.current = index;
                return Ok(Some(Found {
                    ring: index,
                    loc,
                    kind,
                }));
            }
            index += 1;
        }
        Ok(None)
    }

    fn wait(&mut self, deadline: Option<Instant>) -> Result<Found> {
        let start = Instant::now();
        loop {
            if let Some(found) = self.find()? {
                return Ok(found);
            }
            if self.flushed {
                self.flushed = false;
                return Err(ReaderError::Flushed {
                    ring: self.name.clone(),
                });
            }
            let timeout = match deadline {
                None => None,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(ReaderError::Timeout {
                            ring: self.name.clone(),
                            waited: now - start,
                        });
                    }
                    Some((d - now).max(Duration::from_millis(1)))
                }
            };
            let ready = self
                .epoll
                .wait(&mut self.tokens, timeout)
                .map_err(ReaderError::syscall(format!("{}: epoll_wait", self.name)))?;
            if self.tokens[..ready].contains(&WAKE_TOKEN) {
                self.wake.clear().map_err(ReaderError::syscall(format!(
                    "{}: read of the eventfd",
                    self.name
                )))?;
                self.flushed = true;
            }
        }
    }
}

impl AsFd for PerfReader {
    /// The epoll fd: readable when a ring was woken (or a flush is pending).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

#[cfg(feature = "tokio")]
impl crate::mem::AsyncFdOwner for PerfReader {}

impl AsRawFd for PerfReader {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_fd().as_raw_fd()
    }
}

impl Drop for PerfReader {
    fn drop(&mut self) {
        for ring in &self.rings {
            // Best effort: the entries also go when the map's last fd closes.
            if let Err(e) = fd_array_delete(&self.map, ring.cpu) {
                log::debug!(
                    "{}: removing the event from the map: {}",
                    ring.name,
                    ebpf_syscall::ErrorChain(&e)
                );
            }
        }
    }
}

/// The perf event array `map` as a size-checked handle, after checking it has
/// the 4-byte keys and values of an fd array.
fn fd_array(map: impl AsFd) -> ebpf_syscall::Result<ebpf_syscall::MapFd> {
    let handle = ebpf_syscall::MapFd::from_fd(map.as_fd().try_clone_to_owned().map_err(|e| {
        ebpf_syscall::Error::InvalidArgument(format!("duplicate the map fd: {e}"))
    })?)?;
    if handle.key_size() != 4 || handle.value_size() != 4 {
        return Err(ebpf_syscall::Error::InvalidArgument(format!(
            "the map has {}-byte keys and {}-byte values, expected 4 and 4",
            handle.key_size(),
            handle.value_size()
        )));
    }
    Ok(handle)
}

/// Stores `value` (a file descriptor number) at `index` of a perf event array.
fn fd_array_set(map: impl AsFd, index: u32, value: u32) -> ebpf_syscall::Result<()> {
    fd_array(map)?.update_elem(&index.to_ne_bytes(), &value.to_ne_bytes(), 0)
}

/// Deletes `index` of a perf event array.
fn fd_array_delete(map: impl AsFd, index: u32) -> ebpf_syscall::Result<()> {
    fd_array(map)?.delete_elem(&index.to_ne_bytes())
}
