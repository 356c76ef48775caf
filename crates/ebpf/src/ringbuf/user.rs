//! The producer side of `BPF_MAP_TYPE_USER_RINGBUF`: user space writes
//! records that a BPF program drains with `bpf_user_ringbuf_drain`.

use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use ebpf_syscall::{Epoll, EpollInterest, MapType};

use super::claim::Claim;
use super::reader::{BUSY_BIT, DISCARD_BIT, HDR_SZ, RingGeometry, record_footprint, ring_geometry};
use crate::mem::SharedPages;
use crate::reader_error::{ReaderError, Result};

/// A writer of a `BPF_MAP_TYPE_USER_RINGBUF` map (the single user-space producer).
///
/// There is at most one writer per map in a process: a second
/// [`UserRingBuf::new`] of the same map fails with
/// [`ReaderError::AlreadyClaimed`] until the first is dropped (two writers
/// would each keep a producer position and reserve the same bytes). Share one
/// writer between threads behind a `Mutex` instead.
///
/// [`reserve`](Self::reserve) claims space for a record and publishes it as
/// busy; the [`UserRecord`] is written in place and then
/// [`submit`](UserRecord::submit)ted or [`discard`](UserRecord::discard)ed
/// (dropping it discards). A BPF program draining the ring stops at a busy
/// record until it is submitted.
///
/// # Minimum kernel version
///
/// 6.1.
#[derive(Debug)]
pub struct UserRingBuf {
    name: String,
    fd: OwnedFd,
    /// The consumer page (read-only: the kernel drains).
    consumer: SharedPages,
    /// The producer page followed by the data pages mapped twice (read-write).
    data: SharedPages,
    page: usize,
    size: u64,
    mask: u64,
    prod: u64,
    /// An epoll watching the map for room (`EPOLLOUT`), made by the first
    /// [`reserve_timeout`](Self::reserve_timeout) that waits.
    room: Option<Epoll>,
    /// This process's only producer of the map (dropped after the mappings).
    _claim: Claim,
}

impl UserRingBuf {
    /// A writer of the user ring buffer map `map`.
    ///
    /// Fails with [`ReaderError::WrongMapType`] for other map types.
    pub fn new(map: impl AsFd) -> Result<Self> {
        let RingGeometry {
            name,
            fd,
            page,
            size,
            claim,
        } = ring_geometry(map.as_fd(), MapType::USER_RINGBUF, "user ring buffer")?;
        let data_len = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_mul(2))
            .and_then(|d| d.checked_add(page))
            .ok_or_else(|| ReaderError::InvalidSize {
                ring: name.clone(),
                reason: format!("data size {size} is too large to map twice"),
            })?;
        // The kernel refuses a writable mapping of the consumer page.
        let consumer = SharedPages::map(&fd, page, false, 0).map_err(ReaderError::syscall(
            format!("{name}: mmap of the consumer page"),
        ))?;
        let data = SharedPages::map(&fd, data_len, true, page).map_err(ReaderError::syscall(
            format!("{name}: mmap of the producer and data pages"),
        ))?;
        let prod = data.load_acquire_u64(0);
        Ok(Self {
            name,
            fd,
            consumer,
            data,
            page,
            size,
            mask: size - 1,
            prod,
            room: None,
            _claim: claim,
        })
    }

    /// The largest payload a record can have.
    pub fn max_record_len(&self) -> usize {
        (self.size - HDR_SZ) as usize
    }

    /// Bytes free for new records (headers and padding included).
    pub fn free_bytes(&self) -> u64 {
        self.size.saturating_sub(self.pending_bytes())
    }

    /// Bytes written and not yet drained by the kernel.
    pub fn pending_bytes(&self) -> u64 {
        // Acquire: the kernel has finished reading what it released. Wrapping
        // (and saturating above): the kernel never moves the consumer past the
        // producer, but the numbers must not panic if it did.
        self.prod
            .wrapping_sub(self.consumer.load_acquire_u64(0))
            .min(self.size)
    }

    /// Reserves a record of `len` payload bytes (zero-filled is not
    /// guaranteed: the space holds older data).
    ///
    /// Fails with [`ReaderError::RecordTooLarge`] if it can never fit and
    /// [`ReaderError::Full`] if the kernel has not drained enough yet.
    pub fn reserve(&mut self, len: usize) -> Result<UserRecord<'_>> {
        let max = self.max_record_len();
        if len > max || len >= DISCARD_BIT as usize {
            return Err(ReaderError::RecordTooLarge {
                ring: self.name.clone(),
                len,
                max,
            });
        }
        let total = record_footprint(len as u64);
        let free = self.free_bytes();
        if total > free {
            return Err(ReaderError::Full {
                ring: self.name.clone(),
                needed: total,
                free,
            });
        }
        let hdr = self.page + (self.prod & self.mask) as usize;
        // The header is written before the producer position is published
        // (release below), so the kernel sees a busy record, never garbage.
        self.data.store_relaxed_u32(hdr, len as u32 | BUSY_BIT);
        self.data.store_relaxed_u32(hdr + 4, 0);
        self.prod += total;
        self.data.store_release_u64(0, self.prod);
        Ok(UserRecord {
            pages: &mut self.data,
            hdr,
            len,
            done: false,
        })
    }

    /// Like [`reserve`](Self::reserve), but when the ring is full waits (in
    /// epoll for `EPOLLOUT` on the map, which the kernel signals after a BPF
    /// program drained records) up to `timeout` for room; then fails with
    /// [`ReaderError::Timeout`].
    pub fn reserve_timeout(&mut self, len: usize, timeout: Duration) -> Result<UserRecord<'_>> {
        let start = Instant::now();
        let deadline = start + timeout;
        loop {
            if self.reserve_fits(len) != Some(false) {
                // Fits, or never fits (then `reserve` says why).
                return self.reserve(len);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ReaderError::Timeout {
                    ring: self.name.clone(),
                    waited: now - start,
                });
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            self.wait_for_room(wait)?;
            // The map polls writable as soon as any byte is free: do not spin
            // while the room is still too small.
            if self.reserve_fits(len) == Some(false) {
                let left = deadline.saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_micros(200)));
            }
        }
    }

    /// Waits up to `timeout` until the map polls writable (any byte free).
    /// An interrupted wait (`EINTR`) returns early.
    fn wait_for_room(&mut self, timeout: Duration) -> Result<()> {
        let epoll = match self.room.take() {
            Some(epoll) => epoll,
            None => {
                let epoll = Epoll::new().map_err(ReaderError::syscall(format!(
                    "{}: epoll_create1",
                    self.name
                )))?;
                epoll
                    .add_with(&self.fd, 0, EpollInterest::WRITABLE)
                    .map_err(ReaderError::syscall(format!(
                        "{}: epoll_ctl of the map",
                        self.name
                    )))?;
                epoll
            }
        };
        let mut ready = [0u64; 1];
        let res = epoll.wait(&mut ready, Some(timeout));
        self.room = Some(epoll);
        // The error text is built only on failure: this runs once per wait.
        res.map(drop)
            .map_err(|e| ReaderError::syscall(format!("{}: epoll_wait for room", self.name))(e))
    }

    /// Whether a record of `len` bytes fits now (`None`: never fits).
    fn reserve_fits(&self, len: usize) -> Option<bool> {
        if len > self.max_record_len() {
            return None;
        }
        Some(record_footprint(len as u64) <= self.free_bytes())
    }

    /// Reserves, copies `payload` and submits.
    pub fn write(&mut self, payload: &[u8]) -> Result<()> {
        let mut record = self.reserve(payload.len())?;
        record.copy_from_slice(payload);
        record.submit();
        Ok(())
    }
}

/// A reserved user ring buffer record, written in place; dereferences to its
/// payload. Dropping it without [`submit`](Self::submit) discards it.
#[derive(Debug)]
pub struct UserRecord<'a> {
    pages: &'a mut SharedPages,
    hdr: usize,
    len: usize,
    done: bool,
}

impl UserRecord<'_> {
    fn finish(&mut self, flags: u32) {
        if !self.done {
            self.done = true;
            // Release: the payload writes are visible before the busy bit clears.
            self.pages
                .store_release_u32(self.hdr, self.len as u32 | flags);
        }
    }

    /// Commits the record: the kernel may drain it.
    pub fn submit(mut self) {
        self.finish(0);
    }

    /// Discards the record: the kernel skips it.
    pub fn discard(mut self) {
        self.finish(DISCARD_BIT);
    }
}

impl Deref for UserRecord<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.pages.bytes(self.hdr + HDR_SZ as usize, self.len)
    }
}

impl DerefMut for UserRecord<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.pages.bytes_mut(self.hdr + HDR_SZ as usize, self.len)
    }
}

impl Drop for UserRecord<'_> {
    fn drop(&mut self) {
        self.finish(DISCARD_BIT);
    }
}
