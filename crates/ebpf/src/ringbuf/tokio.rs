//! The tokio adapter of [`RingBufReader`] (feature `tokio`).

use ::tokio::io::unix::AsyncFd;

use super::reader::{Record, RingBufReader};
use crate::reader_error::{ReaderError, Result};

/// A [`RingBufReader`] driven by tokio's reactor.
///
/// ```no_run
/// # async fn f(reader: ebpf::ringbuf::RingBufReader) -> Result<(), ebpf::ringbuf::ReaderError> {
/// let mut reader = ebpf::ringbuf::AsyncRingBufReader::new(reader)?;
/// loop {
///     let record = reader.next().await?;
///     println!("{} bytes", record.len());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncRingBufReader {
    inner: AsyncFd<RingBufReader>,
}

impl AsyncRingBufReader {
    /// Registers `reader` with the current tokio runtime.
    pub fn new(reader: RingBufReader) -> Result<Self> {
        let inner = crate::mem::register_async_fd(reader).map_err(|source| ReaderError::Io {
            what: "ring buffer reader: registration with tokio".into(),
            source,
        })?;
        Ok(Self { inner })
    }

    /// The reader (settings that need `&mut` have forwarding methods here,
    /// so the registered reader cannot be swapped out).
    pub fn get_ref(&self) -> &RingBufReader {
        self.inner.get_ref()
    }

    /// The next record if one is ready, without waiting.
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>> {
        self.inner.get_mut().try_next()
    }

    /// See [`RingBufReader::set_batch_commit`].
    pub fn set_batch_commit(&mut self, batch: bool) {
        self.inner.get_mut().set_batch_commit(batch);
    }

    /// See [`RingBufReader::commit`].
    pub fn commit(&mut self) {
        self.inner.get_mut().commit();
    }

    /// Unregisters and returns the reader.
    pub fn into_inner(self) -> RingBufReader {
        self.inner.into_inner()
    }

    /// Waits until a record is ready; fails with [`ReaderError::Flushed`] when
    /// a [`Flusher`](super::Flusher) woke it and no record is pending.
    pub async fn readable(&mut self) -> Result<()> {
        loop {
            if self.inner.get_mut().has_record()? {
                return Ok(());
            }
            if self.inner.get_mut().take_flush()? {
                return Err(ReaderError::Flushed {
                    ring: "async ring buffer reader".into(),
                });
            }
            let mut guard = self
                .inner
                .readable_mut()
                .await
                .map_err(|source| ReaderError::Io {
                    what: "ring buffer reader: waiting for readiness".into(),
                    source,
                })?;
            let reader = guard.get_inner_mut();
            if !reader.has_record()? {
                guard.clear_ready();
            }
        }
    }

    /// The next record, waiting for it.
    pub async fn next(&mut self) -> Result<Record<'_>> {
        self.readable().await?;
        match self.inner.get_mut().try_next()? {
            Some(record) => Ok(record),
            // `readable` found one; nothing else consumes in between.
            None => Err(ReaderError::Flushed {
                ring: "async ring buffer reader".into(),
            }),
        }
    }
}
