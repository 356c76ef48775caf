//! The tokio adapter of [`PerfReader`] (feature `tokio`).

use super::reader::{PerfReader, PerfRecord};
use crate::ringbuf::{ReaderError, Result};

/// A [`PerfReader`] driven by tokio's reactor.
///
/// ```no_run
/// # async fn f(reader: ebpf::perf::PerfReader) -> Result<(), ebpf::perf::ReaderError> {
/// let mut reader = ebpf::perf::AsyncPerfReader::new(reader)?;
/// loop {
///     let record = reader.next().await?;
///     println!("cpu {}: {:?}", record.cpu(), record.event());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncPerfReader {
    inner: ::tokio::io::unix::AsyncFd<PerfReader>,
}

impl AsyncPerfReader {
    /// Registers `reader` with the current tokio runtime.
    pub fn new(reader: PerfReader) -> Result<Self> {
        let inner = crate::mem::register_async_fd(reader).map_err(|source| ReaderError::Io {
            what: "perf reader: registration with tokio".into(),
            source,
        })?;
        Ok(Self { inner })
    }

    /// The reader (settings that need `&mut` have forwarding methods here,
    /// so the registered reader cannot be swapped out).
    pub fn get_ref(&self) -> &PerfReader {
        self.inner.get_ref()
    }

    /// Unregisters and returns the reader.
    pub fn into_inner(self) -> PerfReader {
        self.inner.into_inner()
    }

    /// The next record if one is ready, without waiting.
    pub fn try_next(&mut self) -> Result<Option<PerfRecord<'_>>> {
        self.inner.get_mut().try_next()
    }

    /// See [`PerfReader::pause`].
    pub fn pause(&mut self) -> Result<()> {
        self.inner.get_mut().pause()
    }

    /// See [`PerfReader::resume`].
    pub fn resume(&mut self) -> Result<()> {
        self.inner.get_mut().resume()
    }

    /// Waits until a record is ready; fails with [`ReaderError::Flushed`] when
    /// a [`Flusher`](crate::ringbuf::Flusher) woke it and no record is pending.
    pub async fn readable(&mut self) -> Result<()> {
        loop {
            if self.inner.get_mut().has_record()? {
                return Ok(());
            }
            if self.inner.get_mut().take_flush()? {
                return Err(ReaderError::Flushed {
                    ring: "async perf reader".into(),
                });
            }
            let mut guard = self
                .inner
                .readable_mut()
                .await
                .map_err(|source| ReaderError::Io {
                    what: "perf reader: waiting for readiness".into(),
                    source,
                })?;
            if !guard.get_inner_mut().has_record()? {
                guard.clear_ready();
            }
        }
    }

    /// The next record, waiting for it.
    pub async fn next(&mut self) -> Result<PerfRecord<'_>> {
        self.readable().await?;
        match self.inner.get_mut().try_next()? {
            Some(record) => Ok(record),
            // `readable` found one; nothing else consumes in between.
            None => Err(ReaderError::Flushed {
                ring: "async perf reader".into(),
            }),
        }
    }
}
