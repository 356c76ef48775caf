//! [`RingBuf<T>`]: a ring buffer map whose records are `T`s (what a
//! skeleton's `maps.events` is for `__type(value, struct event)`).

use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use zerocopy::FromBytes;

use super::{ReaderError, Record, Result, RingBufReader};
use crate::map::Map;

/// A `BPF_MAP_TYPE_RINGBUF` map read as records of type `T` (decoded from
/// each record's first `size_of::<T>()` bytes; a shorter record is an error
/// that names its size).
///
/// ```no_run
/// use std::time::Duration;
/// use ebpf::ringbuf::RingBuf;
/// # #[derive(Debug, ebpf::zerocopy::FromBytes)] #[repr(C)] struct Event { pid: u32 }
/// # let mut coll = ebpf::Collection::load(&ebpf::CollectionSpec::from_file("x.o")?, Default::default())?;
/// let mut events: RingBuf<Event> = coll.take_map("events")?.try_into()?;
/// match events.read_timeout(Duration::from_secs(1)) {
///     Ok(e) => println!("{e:?}"),
///     Err(e) if e.is_timeout() => {}
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Minimum kernel version
///
/// 5.8.
#[derive(Debug)]
pub struct RingBuf<T> {
    reader: RingBufReader,
    map: Map,
    _type: PhantomData<fn() -> T>,
}

impl<T> TryFrom<Map> for RingBuf<T> {
    type Error = crate::Error;

    fn try_from(map: Map) -> crate::Result<Self> {
        let reader = RingBufReader::new(&map)?;
        Ok(RingBuf {
            reader,
            map,
            _type: PhantomData,
        })
    }
}

impl<T: FromBytes> RingBuf<T> {
    /// The next record, without blocking; `None` if none is ready.
    pub fn try_next(&mut self) -> Result<Option<T>> {
        let map = &self.map;
        match self.reader.try_next()? {
            Some(r) => Ok(Some(decode_in(map, &r)?)),
            None => Ok(None),
        }
    }

    /// The next record, waiting until the reader's deadline
    /// ([`RingBufReader::set_deadline`], none by default).
    pub fn read(&mut self) -> Result<T> {
        let r = self.reader.read()?;
        decode_in(&self.map, &r)
    }

    /// The next record, waiting at most `timeout` (a timeout is an error whose
    /// [`is_timeout`](ReaderError::is_timeout) is true).
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<T> {
        let r = self.reader.read_timeout(timeout)?;
        decode_in(&self.map, &r)
    }

    /// Calls `f` with every record ready now; returns how many there were.
    /// A record too short for `T` stops the drain with an error.
    pub fn consume(&mut self, mut f: impl FnMut(T)) -> Result<usize> {
        let mut bad = None;
        let map = &self.map;
        let n = self.reader.consume(|_, bytes| {
            if bad.is_some() {
                return;
            }
            match T::read_from_prefix(bytes) {
                Ok((v, _)) => f(v),
                Err(_) => bad = Some(short(map, bytes.len(), size_of::<T>())),
            }
        })?;
        match bad {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// The untyped reader (deadlines, batch commit, a [`Flusher`](super::Flusher)).
    pub fn reader_mut(&mut self) -> &mut RingBufReader {
        &mut self.reader
    }

    /// The map.
    pub fn map(&self) -> &Map {
        &self.map
    }
}

fn short(map: &Map, len: usize, want: usize) -> ReaderError {
    ReaderError::InvalidSize {
        ring: format!("ring buffer '{}'", map.name()),
        reason: format!("a record of {len} bytes is shorter than its type's {want}"),
    }
}

fn decode_in<T: FromBytes>(map: &Map, record: &Record<'_>) -> Result<T> {
    T::read_from_prefix(record)
        .map(|(v, _)| v)
        .map_err(|_| short(map, record.len(), size_of::<T>()))
}

/// The reader's epoll fd: readable when a record is ready.
impl<T> AsFd for RingBuf<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}
