//! The consumer side of `BPF_MAP_TYPE_RINGBUF`.

use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ebpf_syscall::{Epoll, EventFd, MapType, Mmap};

use super::claim::Claim;
use crate::mem::{RingPages, SharedPages};
use crate::reader_error::{ReaderError, Result};

/// `BPF_RINGBUF_BUSY_BIT`: the record is reserved, not yet committed.
pub(crate) const BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`: the record was discarded.
pub(crate) const DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`: the 8-byte record header (length word, page offset word).
pub(crate) const HDR_SZ: u64 = 8;

/// The epoll token of the flush eventfd.
const WAKE_TOKEN: u64 = u64::MAX;

/// Rounds `len` bytes of payload plus the header up to the record's 8-byte
/// aligned footprint in the ring.
#[inline]
pub(crate) fn record_footprint(len: u64) -> u64 {
    (len + HDR_SZ + 7) & !7
}

/// Where the reader is, and when it tells the kernel.
#[derive(Debug)]
struct Cursor {
    /// The consumer page (read-write; only user space writes it).
    page: SharedPages,
    /// Records before this position have been handed out and released.
    cons: u64,
    /// The position last stored in the consumer page.
    published: u64,
    /// Publish only every `threshold` bytes (and whenever the ring is empty).
    batch: bool,
    threshold: u64,
}

impl Cursor {
    #[inline]
    fn advance(&mut self, next: u64) {
        self.cons = next;
        if !self.batch || self.cons - self.published >= self.threshold {
            self.publish();
        }
    }

    #[inline]
    fn publish(&mut self) {
        if self.cons != self.published {
            self.page.store_release_u64(0, self.cons);
            self.published = self.cons;
        }
    }
}

/// One mapped ring.
#[derive(Debug)]
struct Ring {
    name: String,
    /// A duplicate of the map fd, watched by the reader's epoll.
    fd: OwnedFd,
    /// The producer page followed by the data pages mapped twice (read-only).
    data: RingPages,
    cursor: Cursor,
    size: u64,
    /// The last producer position seen.
    prod: u64,
    /// This process's only consumer of the map (dropped after the mappings).
    _claim: Claim,
}

/// A located record: the ring, the record's ring position, its payload
/// length, and the consumer position after it.
#[derive(Debug, Clone, Copy)]
struct Found {
    ring: usize,
    pos: u64,
    len: usize,
    next: u64,
}

/// What a ring buffer map looks like, read with `BPF_OBJ_GET_INFO_BY_FD`,
/// and the caller's exclusive claim on it.
pub(crate) struct RingGeometry {
    pub(crate) name: String,
    pub(crate) fd: OwnedFd,
    pub(crate) page: usize,
    pub(crate) size: u64,
    pub(crate) claim: Claim,
}

/// Checks that `map` is a ring of `expected` type with a usable size, and
/// claims it for the caller (one reader or writer per map per process).
pub(crate) fn ring_geometry(
    map: BorrowedFd<'_>,
    expected: MapType,
    kind: &str,
) -> Result<RingGeometry> {
    let info = ebpf_syscall::map_info(map).map_err(ReaderError::syscall(format!(
        "{kind}: BPF_OBJ_GET_INFO_BY_FD"
    )))?;
    let map_name = if info.name().is_empty() {
        format!("id {}", info.id)
    } else {
        info.name().to_owned()
    };
    if info.r#type != expected {
        return Err(ReaderError::WrongMapType {
            name: map_name,
            found: info.r#type,
            expected,
        });
    }
    let name = format!("{kind} '{map_name}'");
    let page = Mmap::page_size();
    let size = u64::from(info.max_entries);
    if !size.is_power_of_two() || size % page as u64 != 0 {
        return Err(ReaderError::InvalidSize {
            ring: name,
            reason: format!(
                "max_entries {size} is not a power of two multiple of the page size {page}"
            ),
        });
    }
    let fd = map.try_clone_to_owned().map_err(|source| ReaderError::Io {
        what: format!("{name}: dup of the map fd"),
        source,
    })?;
    let claim = Claim::take(info.id, &name)?;
    Ok(RingGeometry {
        name,
        fd,
        page,
        size,
        claim,
    })
}

impl Ring {
    fn open(map: BorrowedFd<'_>) -> Result<Self> {
        let RingGeometry {
            name,
            fd,
            page,
            size,
            claim,
        } = ring_geometry(map, MapType::RINGBUF, "ring buffer")?;
        let usize_size = usize::try_from(size).unwrap_or(usize::MAX);
        // The consumer page is the only one user space may write.
        let consumer = SharedPages::map(&fd, page, true, 0).map_err(ReaderError::syscall(
            format!("{name}: mmap of the consumer page"),
        ))?;
        // Producer page plus the data pages twice: the kernel maps the data
        // area twice in a row, so a record that wraps is contiguous.
        let data_len = usize_size
            .checked_mul(2)
            .and_then(|d| d.checked_add(page))
            .ok_or_else(|| ReaderError::InvalidSize {
                ring: name.clone(),
                reason: format!("data size {size} is too large to map twice"),
            })?;
        let data = SharedPages::map(&fd, data_len, false, page).map_err(ReaderError::syscall(
            format!("{name}: mmap of the producer and data pages"),
        ))?;
        let data =
            RingPages::new(data, page, usize_size).map_err(|_| ReaderError::InvalidSize {
                ring: name.clone(),
                reason: format!("data area of {size} bytes does not fit its mapping"),
            })?;
        let cons = consumer.load_acquire_u64(0);
        Ok(Self {
            name,
            fd,
            data,
            cursor: Cursor {
                page: consumer,
                cons,
                published: cons,
                batch: false,
                threshold: (size / 4).max(1),
            },
            size,
            prod: cons,
            _claim: claim,
        })
    }

    /// The next committed record, skipping discarded ones; `None` when the
    /// ring is empty or the next record is still being written. Returns the
    /// record's position, payload length and the position after it.
    #[inline]
    fn peek(&mut self) -> Result<Option<(u64, usize, u64)>> {
        let view = self.data.view();
        loop {
            let cons = self.cursor.cons;
            if cons >= self.prod {
                // Acquire: the record headers up to this position are visible.
                self.prod = self.data.pages().load_acquire_u64(0);
                if cons >= self.prod {
                    return Ok(None);
                }
            }
            if cons % HDR_SZ != 0 {
                return Err(self.corrupt(cons, 0));
            }
            // Acquire: pairs with the kernel's release store of the header on commit.
            let hdr = view.header_acquire(cons);
            if hdr & BUSY_BIT != 0 {
                return Ok(None);
            }
            let len = u64::from(hdr & !(BUSY_BIT | DISCARD_BIT));
            let next = cons + record_footprint(len);
            if len + HDR_SZ > self.size || next > self.prod {
                return Err(self.corrupt(cons, len));
            }
            if hdr & DISCARD_BIT != 0 {
                self.cursor.advance(next);
                continue;
            }
            return Ok(Some((cons, len as usize, next)));
        }
    }

    /// Hands every committed record to `f` (skipping discarded ones) until the
    /// ring is empty or the next record is busy; publishes the consumer
    /// position every `threshold` bytes and at the end.
    ///
    /// The invariants live in locals: the producer position is read (acquire)
    /// once per batch, each record costs one acquire load of its header and
    /// two comparisons (a record no longer than the ring that starts inside it
    /// is contiguous in the double mapping, see `RingView`), and the consumer
    /// position is published (release) once per batch or quarter ring.
    #[inline]
    fn drain<F: FnMut(&[u8])>(&mut self, f: &mut F) -> Result<usize> {
        let view = self.data.view();
        let max_payload = view.max_payload();
        let threshold = self.cursor.threshold;
        let mut cons = self.cursor.cons;
        let mut count = 0;
        let result = if cons % HDR_SZ != 0 {
            Err(self.corrupt(cons, 0))
        } else {
            'outer: loop {
                // Acquire: the record headers up to this position are visible.
                let prod = self.data.pages().load_acquire_u64(0);
                if cons >= prod {
                    break Ok(());
                }
                self.prod = prod;
                while cons < prod {
                    // Publish at least every `threshold` bytes so a long drain
                    // does not starve the producers.
                    let stop = prod.min(self.cursor.published.saturating_add(threshold));
                    while cons < stop {
                        view.prefetch(cons);
                        // Acquire: pairs with the kernel's release store of the
                        // header on commit.
                        let hdr = view.header_acquire(cons);
                        if hdr & BUSY_BIT != 0 {
                            break 'outer Ok(());
                        }
                        let len = (hdr & !(BUSY_BIT | DISCARD_BIT)) as usize;
                        let next = cons + record_footprint(len as u64);
                        if len > max_payload || next > prod {
                            break 'outer Err(self.corrupt(cons, len as u64));
                        }
                        if hdr & DISCARD_BIT == 0 {
                            f(view.payload(cons, len));
                            count += 1;
                        }
                        cons = next;
                    }
                    if cons - self.cursor.published >= threshold {
                        self.cursor.cons = cons;
                        self.cursor.publish();
                    }
                }
            }
        };
        self.cursor.cons = cons;
        self.cursor.publish();
        result.map(|()| count)
    }

    #[cold]
    fn corrupt(&self, pos: u64, len: u64) -> ReaderError {
        ReaderError::Corrupt {
            ring: self.name.clone(),
            pos,
            len,
            size: self.size,
        }
    }

    fn available(&self) -> u64 {
        self.data
            .pages()
            .load_acquire_u64(0)
            .saturating_sub(self.cursor.cons)
    }
}

/// A ring buffer record lent from the mapped ring without copying.
///
/// Dereferences to the payload. Dropping it releases the record: the consumer
/// position moves past it (published to the kernel at once, or in batches
/// after [`RingBufReader::set_batch_commit`]).
#[derive(Debug)]
pub struct Record<'a> {
    data: &'a [u8],
    ring: usize,
    next: u64,
    cursor: &'a mut Cursor,
}

impl Record<'_> {
    /// The index of the ring the record came from (0 for the ring given to
    /// [`RingBufReader::new`], then in the order of [`RingBufReader::add`]).
    pub fn ring(&self) -> usize {
        self.ring
    }

    /// The payload.
    pub fn as_bytes(&self) -> &[u8] {
        self.data
    }
}

impl Deref for Record<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.data
    }
}

impl AsRef<[u8]> for Record<'_> {
    fn as_ref(&self) -> &[u8] {
        self.data
    }
}

impl Drop for Record<'_> {
    #[inline]
    fn drop(&mut self) {
        self.cursor.advance(self.next);
    }
}

/// A cloneable handle that wakes a [`RingBufReader`] (or a
/// `PerfReader`) blocked in a read from any thread: the read returns the pending records, then
/// [`ReaderError::Flushed`] once the rings are empty.
#[derive(Debug, Clone)]
pub struct Flusher {
    wake: Arc<EventFd>,
}

impl Flusher {
    pub(crate) fn new(wake: Arc<EventFd>) -> Self {
        Self { wake }
    }

    /// Wakes the reader.
    pub fn flush(&self) -> Result<()> {
        self.wake.wake().map_err(ReaderError::syscall(
            "ring buffer flush: write to the eventfd",
        ))
    }
}

/// A reader of one or more `BPF_MAP_TYPE_RINGBUF` maps.
///
/// Records are lent zero-copy ([`try_next`](Self::try_next), [`read`](Self::read),
/// [`consume`](Self::consume)) or copied ([`read_into`](Self::read_into)).
/// Blocking reads wait in epoll until a record arrives, the deadline passes
/// ([`ReaderError::Timeout`]) or a [`Flusher`] wakes them
/// ([`ReaderError::Flushed`]). The reader's fd ([`AsFd`]) is an epoll fd that
/// is readable when a ring has data, for use with any event loop.
///
/// A ring buffer has at most one reader in a process: [`new`](Self::new) or
/// [`add`](Self::add) of a map that a reader of this process already reads
/// fails with [`ReaderError::AlreadyClaimed`] (a second consumer would let the
/// kernel reuse a record while it is lent out). Share one reader between
/// threads behind a `Mutex`, or hand out copies ([`read_into`](Self::read_into)).
///
/// # Minimum kernel version
///
/// 5.8.
#[derive(Debug)]
pub struct RingBufReader {
    rings: Vec<Ring>,
    epoll: Epoll,
    wake: Arc<EventFd>,
    deadline: Option<Instant>,
    batch: bool,
    current: usize,
    flushed: bool,
    tokens: Vec<u64>,
}

impl RingBufReader {
    /// A reader of the ring buffer map `map` (which the reader does not need
    /// afterwards: it keeps its own descriptor).
    ///
    /// Fails with [`ReaderError::WrongMapType`] for other map types.
    pub fn new(map: impl AsFd) -> Result<Self> {
        let epoll =
            Epoll::new().map_err(ReaderError::syscall("ring buffer reader: epoll_create1"))?;
        let wake = EventFd::new().map_err(ReaderError::syscall("ring buffer reader: eventfd"))?;
        epoll.add(&wake, WAKE_TOKEN).map_err(ReaderError::syscall(
            "ring buffer reader: epoll_ctl of the eventfd",
        ))?;
        let mut reader = Self {
            rings: Vec::new(),
            epoll,
            wake: Arc::new(wake),
            deadline: None,
            batch: false,
            current: 0,
            flushed: false,
            tokens: vec![0; 8],
        };
        reader.add(map)?;
        Ok(reader)
    }

    /// Adds another ring buffer map; returns its ring index (see [`Record::ring`]).
    pub fn add(&mut self, map: impl AsFd) -> Result<usize> {
        let mut ring = Ring::open(map.as_fd())?;
        ring.cursor.batch = self.batch;
        let index = self.rings.len();
        self.epoll
            .add(&ring.fd, index as u64)
            .map_err(ReaderError::syscall(format!("{}: epoll_ctl", ring.name)))?;
        self.rings.push(ring);
        if self.tokens.len() < self.rings.len() + 1 {
            self.tokens.resize(self.rings.len() + 1, 0);
        }
        Ok(index)
    }

    /// How many rings the reader polls.
    pub fn ring_count(&self) -> usize {
        self.rings.len()
    }

    /// The data size (the map's `max_entries`) of ring `ring`.
    pub fn ring_size(&self, ring: usize) -> Option<u64> {
        self.rings.get(ring).map(|r| r.size)
    }

    /// Sets the deadline of blocking reads (`None`: wait forever). A deadline
    /// in the past makes blocking reads non-blocking.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Batch commit: publish the consumer position only when a quarter of a
    /// ring was consumed, when the ring is found empty, before waiting, and on
    /// [`commit`](Self::commit), instead of after every record. Saves a
    /// shared-cache-line store per record; the kernel sees freed space later.
    pub fn set_batch_commit(&mut self, batch: bool) {
        self.batch = batch;
        for ring in &mut self.rings {
            ring.cursor.batch = batch;
            if !batch {
                ring.cursor.publish();
            }
        }
    }

    /// Publishes the consumer position of every ring (with batch commit).
    pub fn commit(&mut self) {
        for ring in &mut self.rings {
            ring.cursor.publish();
        }
    }

    /// Bytes written by producers and not yet consumed, over all rings
    /// (headers, padding, discarded and in-progress records included).
    pub fn available_bytes(&self) -> u64 {
        self.rings.iter().map(Ring::available).sum()
    }

    /// [`available_bytes`](Self::available_bytes) of ring `ring`.
    pub fn ring_available_bytes(&self, ring: usize) -> Option<u64> {
        self.rings.get(ring).map(Ring::available)
    }

    /// A handle that wakes a blocked read from another thread.
    pub fn flusher(&self) -> Flusher {
        Flusher {
            wake: Arc::clone(&self.wake),
        }
    }

    /// The next record of any ring, without blocking; `None` if none is ready.
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>> {
        match self.find()? {
            Some(found) => Ok(Some(self.lend(found))),
            None => Ok(None),
        }
    }

    /// The next record, waiting until the deadline ([`set_deadline`](Self::set_deadline)).
    pub fn read(&mut self) -> Result<Record<'_>> {
        let found = self.wait(self.deadline)?;
        Ok(self.lend(found))
    }

    /// The next record, waiting at most `timeout` (ignores the deadline).
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<Record<'_>> {
        let found = self.wait(Some(Instant::now() + timeout))?;
        Ok(self.lend(found))
    }

    /// Copies the next record into `buf` (replacing its contents), waiting
    /// until the deadline; returns the ring index.
    pub fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<usize> {
        let record = self.read()?;
        buf.clear();
        buf.extend_from_slice(&record);
        Ok(record.ring())
    }

    /// Calls `f(ring, payload)` for every record ready now, without
    /// blocking, and returns how many there were. Positions are published once
    /// per ring when it is drained (and every quarter ring), whatever the batch
    /// setting.
    pub fn consume(&mut self, mut f: impl FnMut(usize, &[u8])) -> Result<usize> {
        let mut count = 0;
        for (index, ring) in self.rings.iter_mut().enumerate() {
            count += ring.drain(&mut |bytes: &[u8]| f(index, bytes))?;
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
        let pending = self.wake.clear().map_err(ReaderError::syscall(
            "ring buffer reader: read of the eventfd",
        ))? > 0;
        let flushed = pending || self.flushed;
        self.flushed = false;
        Ok(flushed)
    }

    #[inline]
    fn lend(&mut self, found: Found) -> Record<'_> {
        let ring = &mut self.rings[found.ring];
        Record {
            data: ring.data.view().payload(found.pos, found.len),
            ring: found.ring,
            next: found.next,
            cursor: &mut ring.cursor,
        }
    }

    #[inline]
    fn find(&mut self) -> Result<Option<Found>> {
        let n = self.rings.len();
        // From the current ring round all of them (no division per call).
        let mut index = self.current;
        for _ in 0..n {
            if index >= n {
                index = 0;
            }
            let ring = &mut self.rings[index];
            if let Some((pos, len, next)) = ring.peek()? {
                self.current = index;
                return Ok(Some(Found {
                    ring: index,
                    pos,
                    len,
                    next,
                }));
            }
            // Drained: let the kernel reuse the space (and wake us again).
            ring.cursor.publish();
            index += 1;
        }
        Ok(None)
    }

    fn name(&self) -> String {
        match self.rings.as_slice() {
            [one] => one.name.clone(),
            rings => format!("ring buffer reader of {} rings", rings.len()),
        }
    }

    fn wait(&mut self, deadline: Option<Instant>) -> Result<Found> {
        let start = Instant::now();
        loop {
            if let Some(found) = self.find()? {
                return Ok(found);
            }
            if self.flushed {
                self.flushed = false;
                return Err(ReaderError::Flushed { ring: self.name() });
            }
            let timeout = match deadline {
                None => None,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(ReaderError::Timeout {
                            ring: self.name(),
                            waited: now - start,
                        });
                    }
                    // Round up so the wait does not end a little early and spin.
                    Some((d - now).max(Duration::from_millis(1)))
                }
            };
            let ready = self
                .epoll
                .wait(&mut self.tokens, timeout)
                .map_err(ReaderError::syscall("ring buffer reader: epoll_wait"))?;
            if self.tokens[..ready].contains(&WAKE_TOKEN) {
                self.wake.clear().map_err(ReaderError::syscall(
                    "ring buffer reader: read of the eventfd",
                ))?;
                self.flushed = true;
            }
        }
    }
}

impl AsFd for RingBufReader {
    /// The epoll fd: readable when a ring has data (or a flush is pending).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

#[cfg(feature = "tokio")]
impl crate::mem::AsyncFdOwner for RingBufReader {}

impl AsRawFd for RingBufReader {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_fd().as_raw_fd()
    }
}
