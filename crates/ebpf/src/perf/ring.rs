//! One CPU's perf ring: the mapping, the positions shared with the kernel,
//! and the records read from it (normal and overwritable rings).

use std::os::fd::OwnedFd;

use ebpf_syscall::perf::perf_event_pause_output;

use super::reader::*;
use crate::mem::SharedPages;
use crate::ringbuf::{ReaderError, Result};

/// Where a record's bytes are: in the mapping, in the ring's scratch buffer
/// (a record that wraps the end), or in the backlog of an overwritable ring.
#[derive(Debug, Clone, Copy)]
pub(super) enum Src {
    Mapped(usize),
    Scratch,
    Backlog(usize),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Commit {
    Tail(u64),
    Backlog(usize),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub(super) src: Src,
    pub(super) len: usize,
    pub(super) commit: Commit,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub(super) ring: usize,
    pub(super) loc: Loc,
    /// What `peek` classified the record as (a sample or a lost record).
    pub(super) kind: Kind,
}

#[derive(Debug)]
pub(super) struct Cursor {
    pub(super) tail: u64,
    pub(super) backlog_pos: usize,
}

impl Cursor {
    #[inline]
    pub(super) fn commit(&mut self, pages: &SharedPages, commit: Commit) {
        match commit {
            Commit::Tail(next) => {
                self.tail = next;
                // Release: the record is read before the kernel may overwrite it.
                pages.store_release_u64(DATA_TAIL, next);
            }
            Commit::Backlog(next) => self.backlog_pos = next,
        }
    }
}

#[derive(Debug)]
pub(super) struct PerfRing {
    pub(super) name: String,
    pub(super) cpu: u32,
    pub(super) event: OwnedFd,
    /// The metadata page followed by the data pages.
    pub(super) pages: SharedPages,
    pub(super) data_off: usize,
    pub(super) size: u64,
    pub(super) head: u64,
    pub(super) cursor: Cursor,
    pub(super) scratch: Vec<u8>,
    pub(super) overwritable: bool,
    pub(super) backlog: Vec<u8>,
    pub(super) last_head: u64,
}

/// The kind of a record, from its bytes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Sample(usize, usize),
    Lost(u64),
    Other,
}

/// The offset of a sample's raw bytes: header, then the `u32` raw size.
const SAMPLE_RAW: usize = HEADER_SIZE + 4;

/// Classifies a whole record (header included); `None` if it is malformed.
#[inline(always)]
pub(super) fn classify(rec: &[u8]) -> Option<Kind> {
    let word = |at: usize| -> Option<[u8; 4]> { rec.get(at..at + 4)?.try_into().ok() };
    match u32::from_ne_bytes(word(0)?) {
        PERF_RECORD_SAMPLE => {
            // header, u32 raw size, raw bytes
            let raw = u32::from_ne_bytes(word(HEADER_SIZE)?) as usize;
            // `word` checked `rec.len() >= SAMPLE_RAW`.
            (raw <= rec.len() - SAMPLE_RAW).then_some(Kind::Sample(SAMPLE_RAW, raw))
        }
        // header, u64 id, u64 lost
        PERF_RECORD_LOST => {
            let lost: [u8; 8] = rec.get(16..24)?.try_into().ok()?;
            Some(Kind::Lost(u64::from_ne_bytes(lost)))
        }
        _ => Some(Kind::Other),
    }
}

/// The event of a whole record (header included): `Some(None)` for a kind
/// the reader skips, `None` if it is malformed.
#[inline(always)]
#[expect(
    clippy::option_option,
    reason = "malformed, skipped or an event: private, matched right away"
)]
pub(super) fn event_of(rec: &[u8]) -> Option<Option<PerfEvent<'_>>> {
    Some(match classify(rec)? {
        Kind::Sample(start, n) => Some(PerfEvent::Sample(&rec[start..start + n])),
        Kind::Lost(n) => Some(PerfEvent::Lost(n)),
        Kind::Other => None,
    })
}

impl PerfRing {
    pub(super) fn mask(&self) -> u64 {
        self.size - 1
    }

    #[cold]
    pub(super) fn corrupt(&self, pos: u64, len: u64) -> ReaderError {
        ReaderError::Corrupt {
            ring: self.name.clone(),
            pos,
            len,
            size: self.size,
        }
    }

    /// Hands every sample and lost record of a forward (writable) ring to `f`
    /// until it is empty; returns how many there were. The head is read
    /// (acquire) once per batch and the tail published (release) once at the
    /// end; a record that does not wrap the end of the ring costs one header
    /// read and one bounds-checked slice of the mapping.
    #[inline]
    pub(super) fn drain_forward<F: FnMut(u32, PerfEvent<'_>)>(
        &mut self,
        f: &mut F,
        lost: &mut u64,
    ) -> Result<usize> {
        // `size` fits the mapping (checked when the ring was opened).
        let size = self.size as usize;
        let mask = self.size - 1;
        let window = self.pages.window(self.data_off, size);
        let cpu = self.cpu;
        let start_tail = self.cursor.tail;
        let mut tail = start_tail;
        let mut count = 0;
        let result = 'outer: loop {
            // Acquire: the records before the head are visible.
            let head = self.pages.load_acquire_u64(DATA_HEAD);
            self.head = head;
            if tail >= head {
                break Ok(());
            }
            while tail < head {
                let off = (tail & mask) as usize;
                let avail = head - tail;
                // Records are 8-byte aligned in a ring of 2^n pages, so a
                // header wraps only in a corrupt ring (handled below).
                if let Some(hdr) = window.get(off, HEADER_SIZE) {
                    let len = u16::from_ne_bytes([hdr[6], hdr[7]]);
                    if let Some(rec) = window.get(off, usize::from(len)) {
                        if len < HEADER_SIZE as u16 || u64::from(len) > avail {
                            break 'outer Err(self.corrupt(tail, u64::from(len)));
                        }
                        match event_of(rec) {
                            Some(Some(event)) => {
                                if let PerfEvent::Lost(n) = event {
                                    *lost += n;
                                }
                                f(cpu, event);
                                count += 1;
                            }
                            Some(None) => {}
                            None => break 'outer Err(self.corrupt(tail, u64::from(len))),
                        }
                        tail += u64::from(len);
                        continue;
                    }
                }
                // The record wraps the end of the ring: copy it out.
                let len = match Self::copy_wrapped(
                    &self.pages,
                    self.data_off,
                    self.size,
                    &mut self.scratch,
                    tail,
                    avail,
                ) {
                    Ok(len) => len,
                    Err(len) => break 'outer Err(self.corrupt(tail, len)),
                };
                match event_of(&self.scratch[..len]) {
                    Some(Some(event)) => {
                        if let PerfEvent::Lost(n) = event {
                            *lost += n;
                        }
                        f(cpu, event);
                        count += 1;
                    }
                    Some(None) => {}
                    None => break 'outer Err(self.corrupt(tail, len as u64)),
                }
                tail += len as u64;
            }
        };
        if tail != start_tail {
            self.cursor.tail = tail;
            // Release: the records are read before the kernel may overwrite them.
            self.pages.store_release_u64(DATA_TAIL, tail);
        }
        result.map(|()| count)
    }

    /// Copies the record at `tail` that wraps the end of the ring (at most
    /// `avail` bytes are written) into `scratch`; returns its length, or the
    /// length of a corrupt record as the error.
    #[cold]
    #[inline(never)]
    pub(super) fn copy_wrapped(
        pages: &SharedPages,
        data_off: usize,
        size: u64,
        scratch: &mut Vec<u8>,
        tail: u64,
        avail: u64,
    ) -> std::result::Result<usize, u64> {
        scratch.clear();
        Self::copy_out(pages, data_off, size, tail, HEADER_SIZE, scratch);
        let len = u64::from(u16::from_ne_bytes([scratch[6], scratch[7]]));
        if len < HEADER_SIZE as u64 || len > avail {
            return Err(len);
        }
        scratch.clear();
        Self::copy_out(pages, data_off, size, tail, len as usize, scratch);
        Ok(len as usize)
    }

    /// Copies `len` bytes at ring position `pos` (which may wrap) to `out`.
    pub(super) fn copy_out(
        pages: &SharedPages,
        data_off: usize,
        size: u64,
        pos: u64,
        len: usize,
        out: &mut Vec<u8>,
    ) {
        let off = (pos & (size - 1)) as usize;
        let first = len.min(size as usize - off);
        out.extend_from_slice(pages.bytes(data_off + off, first));
        out.extend_from_slice(pages.bytes(data_off, len - first));
    }

    #[inline]
    pub(super) fn bytes(&self, src: Src, len: usize) -> &[u8] {
        match src {
            Src::Mapped(off) => self.pages.bytes(off, len),
            Src::Scratch => &self.scratch[..len],
            Src::Backlog(off) => &self.backlog[off..off + len],
        }
    }

    /// The next sample or lost record and its kind (never `Kind::Other`:
    /// other record types are skipped).
    #[inline]
    pub(super) fn peek(&mut self, paused: bool) -> Result<Option<(Loc, Kind)>> {
        loop {
            let loc = if self.overwritable {
                match self.peek_backlog(paused)? {
                    Some(loc) => loc,
                    None => return Ok(None),
                }
            } else {
                match self.peek_forward()? {
                    Some(loc) => loc,
                    None => return Ok(None),
                }
            };
            match classify(self.bytes(loc.src, loc.len)) {
                Some(Kind::Other) => {
                    self.cursor.commit(&self.pages, loc.commit);
                }
                Some(kind) => return Ok(Some((loc, kind))),
                None => {
                    let pos = match loc.commit {
                        Commit::Tail(next) => next - loc.len as u64,
                        Commit::Backlog(_) => self.last_head,
                    };
                    return Err(self.corrupt(pos, loc.len as u64));
                }
            }
        }
    }

    #[inline]
    pub(super) fn peek_forward(&mut self) -> Result<Option<Loc>> {
        let tail = self.cursor.tail;
        if tail >= self.head {
            // Acquire: the records before the head are visible.
            self.head = self.pages.load_acquire_u64(DATA_HEAD);
            if tail >= self.head {
                return Ok(None);
            }
        }
        let off = (tail & self.mask()) as usize;
        // Records are 8-byte aligned in a ring of 2^n pages: a header never wraps.
        let hdr = self.pages.bytes(self.data_off + off, HEADER_SIZE);
        let len = u64::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
        if len < HEADER_SIZE as u64 || tail + len > self.head {
            return Err(self.corrupt(tail, len));
        }
        let len = len as usize;
        let src = if off + len <= self.size as usize {
            Src::Mapped(self.data_off + off)
        } else {
            self.scratch.clear();
            Self::copy_out(
                &self.pages,
                self.data_off,
                self.size,
                tail,
                len,
                &mut self.scratch,
            );
            Src::Scratch
        };
        Ok(Some(Loc {
            src,
            len,
            commit: Commit::Tail(tail + len as u64),
        }))
    }

    pub(super) fn peek_backlog(&mut self, paused: bool) -> Result<Option<Loc>> {
        if self.cursor.backlog_pos >= self.backlog.len() {
            if self.pages.load_acquire_u64(DATA_HEAD) == self.last_head {
                return Ok(None);
            }
            self.snapshot(paused)?;
        }
        let pos = self.cursor.backlog_pos;
        if pos + HEADER_SIZE > self.backlog.len() {
            return Ok(None);
        }
        let len = usize::from(u16::from_ne_bytes([
            self.backlog[pos + 6],
            self.backlog[pos + 7],
        ]));
        Ok(Some(Loc {
            src: Src::Backlog(pos),
            len,
            commit: Commit::Backlog(pos + len),
        }))
    }

    /// Copies the records written since the last snapshot of an overwritable
    /// ring, newest first, with its output paused.
    pub(super) fn snapshot(&mut self, paused: bool) -> Result<()> {
        perf_event_pause_output(&self.event, true)
            .map_err(ReaderError::syscall(format!("{}: pause output", self.name)))?;
        let head = self.pages.load_acquire_u64(DATA_HEAD);
        // The kernel writes backward: head decreases; new data is [head, last_head).
        let limit = self.last_head.wrapping_sub(head).min(self.size);
        self.backlog.clear();
        self.cursor.backlog_pos = 0;
        let mut pos = 0u64;
        while pos + HEADER_SIZE as u64 <= limit {
            let at = head.wrapping_add(pos);
            let off = (at & self.mask()) as usize;
            let hdr = self.pages.bytes(self.data_off + off, HEADER_SIZE);
            let len = u64::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
            // The oldest record may be partly overwritten: stop before it.
            if len < HEADER_SIZE as u64 || pos + len > limit {
                break;
            }
            Self::copy_out(
                &self.pages,
                self.data_off,
                self.size,
                at,
                len as usize,
                &mut self.backlog,
            );
            pos += len;
        }
        self.last_head = head;
        if !paused {
            perf_event_pause_output(&self.event, false).map_err(ReaderError::syscall(format!(
                "{}: resume output",
                self.name
            )))?;
        }
        Ok(())
    }
}
