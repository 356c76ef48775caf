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
/// The bytes the fast path of `drain_forward` reads first: the header and a
/// sample's raw size (every sample is at least this long: its raw size is
/// padded so that the record stays 8-byte aligned).
const SAMPLE_HEAD: usize = SAMPLE_RAW + 4;

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
    /// until it is empty; returns how many there were.
    ///
    /// The head is read (acquire) once per batch and the tail published
    /// (release) once at the end. Each batch is walked in segments: the bytes
    /// from the tail to the head or to the end of the ring, whichever comes
    /// first, as one window of the mapping. A record inside its segment costs
    /// one header read, one length check against the segment (which also
    /// rejects a record past the head) and the checks of its kind; only the
    /// record that does not fit (it wraps the end of the ring, or is corrupt)
    /// takes the slow path, which copies it out or reports it.
    #[inline]
    pub(super) fn drain_forward<F: FnMut(u32, PerfEvent<'_>)>(
        &mut self,
        f: &mut F,
        lost: &mut u64,
    ) -> Result<usize> {
        let size = self.size;
        let mask = size - 1;
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
            // More than a ring's worth of records comes from a corrupt `data_head`
            // (the metadata page is writable).
            if head - tail > size {
                break 'outer Err(self.corrupt(tail, head - tail));
            }
            while tail < head {
                let off = tail & mask;
                // The segment ends at the head or the end of the ring; both
                // fit `usize` (`size` fits the mapping, checked when the ring
                // was opened).
                let seg = (head - tail).min(size - off) as usize;
                let window = self.pages.window(self.data_off + off as usize, seg);
                let mut at = 0;
                while at < seg {
                    // Records are found one from another: ask for the bytes ahead.
                    window.prefetch(at);
                    // The header and a sample's raw size, inside the segment
                    // (so never past the head). A record that starts less
                    // than 16 bytes before the end of its segment takes the
                    // slow path below (the same checks, on a copy).
                    let Some(hdr) = window.get(at, SAMPLE_HEAD) else {
                        break;
                    };
                    let len = usize::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
                    let Some(rec) = window.get(at, len) else {
                        break;
                    };
                    if u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) == PERF_RECORD_SAMPLE {
                        // As `classify`: the raw bytes fit the record (which
                        // implies `len >= HEADER_SIZE`).
                        let raw = u32::from_ne_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]);
                        let end = SAMPLE_RAW as u64 + u64::from(raw);
                        if end > len as u64 {
                            tail += at as u64;
                            break 'outer Err(self.corrupt(tail, len as u64));
                        }
                        f(cpu, PerfEvent::Sample(&rec[SAMPLE_RAW..end as usize]));
                        count += 1;
                        at += len;
                        continue;
                    }
                    if len < HEADER_SIZE {
                        // The records before it were handed out: the tail moves past them.
                        tail += at as u64;
                        break 'outer Err(self.corrupt(tail, len as u64));
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
                        None => {
                            tail += at as u64;
                            break 'outer Err(self.corrupt(tail, len as u64));
                        }
                    }
                    at += len;
                }
                tail += at as u64;
                if at == seg {
                    continue;
                }
                // The record at `tail` does not fit its segment: it wraps the
                // end of the ring (copy it out), or it is corrupt.
                let len = match Self::copy_wrapped(
                    &self.pages,
                    self.data_off,
                    self.size,
                    &mut self.scratch,
                    tail,
                    head - tail,
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
        // A record longer than the ring, or past the head, comes from a
        // corrupt header or `data_head` (the metadata page is writable).
        // So does a length that is not whole 8-byte words.
        if len < HEADER_SIZE as u64 || len > avail || len > size || len % 8 != 0 {
            return Err(len);
        }
        scratch.clear();
        Self::copy_out(pages, data_off, size, tail, len as usize, scratch);
        Ok(len as usize)
    }

    /// Copies `len` bytes at ring position `pos` (which may wrap) to `out`;
    /// the caller checked `len <= size`.
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
        // Records are whole 8-byte words in a ring of 2^n pages: a header never wraps. A
        // tail that is not aligned comes after a corrupt record (`drain_forward` checks
        // lengths only where it copies).
        if tail % 8 != 0 {
            return Err(self.corrupt(tail, 0));
        }
        let off = (tail & self.mask()) as usize;
        let hdr = self.pages.bytes(self.data_off + off, HEADER_SIZE);
        let len = u64::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
        // `tail < head`. A record longer than the ring, or past the head,
        // comes from a corrupt header or `data_head` (the metadata page is
        // writable): an error, before any view of it is taken.
        // So does a length that is not whole 8-byte words (the next header would not be
        // aligned), or more than a ring's worth of records.
        if len < HEADER_SIZE as u64
            || len > self.head - tail
            || len > self.size
            || len % 8 != 0
            || self.head - tail > self.size
        {
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
        // Records are whole 8-byte words from an aligned head: a `data_head` that is not
        // aligned is corrupt (the metadata page is writable), and nothing is copied.
        while pos + HEADER_SIZE as u64 <= limit && head % 8 == 0 {
            let at = head.wrapping_add(pos);
            let off = (at & self.mask()) as usize;
            let hdr = self.pages.bytes(self.data_off + off, HEADER_SIZE);
            let len = u64::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
            // The oldest record may be partly overwritten: stop before it.
            if len < HEADER_SIZE as u64 || pos + len > limit || len % 8 != 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    /// A forward ring of one data page over a scratch file instead of a perf
    /// event, whose metadata page a test can corrupt.
    fn ring() -> PerfRing {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ebpf-perf-ring-{}-{n}", std::process::id()));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file.set_len(2 * PAGE as u64).unwrap();
        let pages = SharedPages::map(&file, 2 * PAGE, true, 0).unwrap();
        PerfRing {
            name: "perf buffer 'test' cpu 0".into(),
            cpu: 0,
            event: file.into(),
            pages,
            data_off: PAGE,
            size: PAGE as u64,
            head: 0,
            cursor: Cursor {
                tail: 0,
                backlog_pos: 0,
            },
            scratch: Vec::new(),
            overwritable: false,
            backlog: Vec::new(),
            last_head: 0,
        }
    }

    /// Writes a sample's header (`type`, `misc`, `size`) at data offset `off`.
    fn header(ring: &PerfRing, off: usize, len: u16) {
        let mut misc_size = [0u8; 4];
        misc_size[2..].copy_from_slice(&len.to_ne_bytes());
        let at = ring.data_off + off;
        ring.pages.store_relaxed_u32(at, PERF_RECORD_SAMPLE);
        ring.pages
            .store_relaxed_u32(at + 4, u32::from_ne_bytes(misc_size));
    }

    fn assert_corrupt(result: Result<impl std::fmt::Debug>) {
        match result {
            Err(ReaderError::Corrupt { .. }) => {}
            other => panic!("expected a corrupt-ring error, got {other:?}"),
        }
    }

    /// A corrupt `data_head` (far past the tail) and a record header longer
    /// than the ring: an error from every read path, never a panic in the
    /// bounds checks of `mem.rs`.
    #[test]
    fn records_longer_than_the_ring_are_corrupt() {
        for at in [0, PAGE - 8] {
            let mut r = ring();
            r.cursor.tail = at as u64;
            r.pages.store_release_u64(DATA_HEAD, u64::MAX / 2);
            header(&r, at, u16::MAX - 7);
            assert_corrupt(r.peek_forward());
            let mut lost = 0;
            assert_corrupt(r.drain_forward(&mut |_, _| {}, &mut lost));
        }
    }

    /// A record whose length is not whole 8-byte words (the next header would be
    /// misaligned and could straddle the end of the ring), or a head more than a ring
    /// ahead of the tail: corrupt, from every read path.
    #[test]
    fn misaligned_lengths_and_heads_past_a_ring_are_corrupt() {
        for len in [12u16, 20, 36] {
            let mut r = ring();
            r.pages.store_release_u64(DATA_HEAD, 64);
            header(&r, 0, len);
            assert_corrupt(r.peek_forward());
            let mut lost = 0;
            assert_corrupt(r.drain_forward(&mut |_, _| {}, &mut lost));
        }
        // A tail left unaligned (after a corrupt record the fast drain handed out).
        let mut r = ring();
        r.cursor.tail = PAGE as u64 - 4;
        r.pages.store_release_u64(DATA_HEAD, PAGE as u64 + 64);
        assert_corrupt(r.peek_forward());
        let mut r = ring();
        r.pages.store_release_u64(DATA_HEAD, 2 * PAGE as u64);
        header(&r, 0, 16);
        assert_corrupt(r.peek_forward());
        let mut lost = 0;
        assert_corrupt(r.drain_forward(&mut |_, _| {}, &mut lost));
    }

    /// A tail near the end of the counter and a head past it: no overflow.
    #[test]
    fn positions_near_the_end_of_the_counter_do_not_overflow() {
        let mut r = ring();
        r.cursor.tail = u64::MAX - 15;
        r.pages.store_release_u64(DATA_HEAD, u64::MAX);
        header(&r, (u64::MAX - 15) as usize & (PAGE - 1), 64);
        assert_corrupt(r.peek_forward());
        let mut lost = 0;
        assert_corrupt(r.drain_forward(&mut |_, _| {}, &mut lost));
    }

    /// A well-formed sample still reads (the checks above reject only corruption).
    #[test]
    fn a_valid_sample_reads() {
        let mut r = ring();
        header(&r, 0, 16);
        r.pages.store_relaxed_u32(r.data_off + 8, 4);
        r.pages.store_relaxed_u32(r.data_off + 12, 0xabcd);
        r.pages.store_release_u64(DATA_HEAD, 16);
        let mut seen = Vec::new();
        let mut lost = 0;
        let n = r
            .drain_forward(
                &mut |_, e| {
                    if let PerfEvent::Sample(s) = e {
                        seen.extend_from_slice(s);
                    }
                },
                &mut lost,
            )
            .unwrap();
        assert_eq!((n, seen), (1, 0xabcd_u32.to_ne_bytes().to_vec()));
    }

    /// Writes the 4-byte words of a record at ring position `pos` (wrapping
    /// the end of the ring); returns the position after it.
    fn record(ring: &PerfRing, pos: u64, words: &[u32]) -> u64 {
        for (i, w) in words.iter().enumerate() {
            let off = (pos + 4 * i as u64) & ring.mask();
            ring.pages
                .store_relaxed_u32(ring.data_off + off as usize, *w);
        }
        pos + 4 * words.len() as u64
    }

    /// The second word of a header: `misc` 0 and `size` `len`.
    fn misc_size(len: u16) -> u32 {
        let mut b = [0u8; 4];
        b[2..].copy_from_slice(&len.to_ne_bytes());
        u32::from_ne_bytes(b)
    }

    /// A sample of `raw` bytes (`raw + 4` a multiple of 8), each word `fill`.
    fn sample(ring: &PerfRing, pos: u64, raw: u32, fill: u32) -> u64 {
        let len = 12 + raw as u16;
        let mut words = vec![PERF_RECORD_SAMPLE, misc_size(len), raw];
        words.extend(std::iter::repeat_n(fill, raw as usize / 4));
        record(ring, pos, &words)
    }

    #[derive(Debug, PartialEq)]
    enum Seen {
        Sample(Vec<u8>),
        Lost(u64),
    }

    fn seen(event: PerfEvent<'_>) -> Seen {
        match event {
            PerfEvent::Sample(s) => Seen::Sample(s.to_vec()),
            PerfEvent::Lost(n) => Seen::Lost(n),
        }
    }

    /// What `drain_forward` hands out, the result and the published tail.
    fn drain(r: &mut PerfRing) -> (Vec<Seen>, Result<usize>, u64) {
        let mut out = Vec::new();
        let mut lost = 0;
        let result = r.drain_forward(&mut |_, e| out.push(seen(e)), &mut lost);
        (out, result, r.pages.load_acquire_u64(DATA_TAIL))
    }

    /// What the record-at-a-time path (`peek`, as `try_next` reads) hands out.
    fn drain_by_peek(r: &mut PerfRing) -> (Vec<Seen>, Result<()>, u64) {
        let mut out = Vec::new();
        let result = loop {
            match r.peek(false) {
                Ok(Some((loc, kind))) => {
                    let bytes = r.bytes(loc.src, loc.len);
                    out.push(match kind {
                        Kind::Sample(start, n) => Seen::Sample(bytes[start..start + n].to_vec()),
                        Kind::Lost(n) => Seen::Lost(n),
                        Kind::Other => unreachable!("peek skips other records"),
                    });
                    r.cursor.commit(&r.pages, loc.commit);
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        (out, result, r.pages.load_acquire_u64(DATA_TAIL))
    }

    /// Records before, across and after the end of the ring, a lost record,
    /// and short records of another kind inside a segment and right before
    /// the head: both read paths see the same records, in order.
    #[test]
    fn segments_and_the_wrapped_record_read_as_record_at_a_time() {
        let fill = |r: &mut PerfRing| {
            let start = PAGE as u64 - 40;
            r.cursor.tail = start;
            r.head = start;
            r.pages.store_release_u64(DATA_TAIL, start);
            let mut pos = sample(r, start, 4, 0x1111_1111);
            pos = record(r, pos, &[7, misc_size(8)]);
            // 24 bytes from 8 before the end: wraps (copied to scratch).
            pos = sample(r, pos, 12, 0x2222_2222);
            pos = sample(r, pos, 4, 0x3333_3333);
            pos = record(r, pos, &[PERF_RECORD_LOST, misc_size(24), 0, 0, 5, 0]);
            // Another kind, 8 bytes, last before the head.
            pos = record(r, pos, &[7, misc_size(8)]);
            r.pages.store_release_u64(DATA_HEAD, pos);
            pos
        };
        let mut r = ring();
        let end = fill(&mut r);
        let (out, result, tail) = drain(&mut r);
        let lost = if cfg!(target_endian = "little") {
            5
        } else {
            5 << 32
        };
        let expected = vec![
            Seen::Sample(0x1111_1111_u32.to_ne_bytes().to_vec()),
            Seen::Sample(0x2222_2222_u32.to_ne_bytes().repeat(3)),
            Seen::Sample(0x3333_3333_u32.to_ne_bytes().to_vec()),
            Seen::Lost(lost),
        ];
        assert_eq!(out, expected);
        assert_eq!((result.unwrap(), tail), (4, end));
        let mut r = ring();
        fill(&mut r);
        let (by_peek, result, tail) = drain_by_peek(&mut r);
        assert_eq!(by_peek, expected);
        assert!(result.is_ok());
        assert_eq!(tail, end);
    }

    /// A sample whose raw size exceeds its record, after a good one: the good
    /// one is handed out and the tail published past it, then the error.
    #[test]
    fn a_corrupt_record_stops_the_drain_after_the_records_before_it() {
        for first_at in [0, PAGE as u64 - 16] {
            let mut r = ring();
            r.cursor.tail = first_at;
            let pos = sample(&r, first_at, 4, 0xabcd);
            let bad = record(&r, pos, &[PERF_RECORD_SAMPLE, misc_size(16), 8, 0]);
            r.pages.store_release_u64(DATA_HEAD, bad + 16);
            let (out, result, tail) = drain(&mut r);
            assert_eq!(out, vec![Seen::Sample(0xabcd_u32.to_ne_bytes().to_vec())]);
            assert_corrupt(result);
            assert_eq!((tail, r.cursor.tail), (pos, pos));
        }
    }
}
