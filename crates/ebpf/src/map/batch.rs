//! Batch operations of a [`Map`]: many elements per system call.

use ebpf_syscall::{self as sys, Errno, KernelVersion, NotSupported};

use super::{Map, UpdateFlags};
use crate::error::{Error, Result};

impl Map {
    /// Looks up to `count` entries starting at `cursor`, appending keys and
    /// values (each `value_buffer_size` bytes) to the result. Call again with
    /// the same cursor until [`BatchCursor::is_done`].
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_BATCH")]
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        count: u32,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.batch(cursor, count, false)
    }

    /// Like [`Map::lookup_batch`], deleting what it returns.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_BATCH")]
    pub fn lookup_and_delete_batch(
        &self,
        cursor: &mut BatchCursor,
        count: u32,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.batch(cursor, count, true)
    }

    fn batch(
        &self,
        cursor: &mut BatchCursor,
        count: u32,
        delete: bool,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if cursor.done || count == 0 {
            return Ok(Vec::new());
        }
        let ks = self.key_size() as usize;
        let vs = self.value_buffer_size();
        let n = count as usize;
        let mut keys = vec![0u8; ks * n];
        let mut values = vec![0u8; vs * n];
        let got = self.batch_into(cursor, &mut keys, &mut values, delete)? as usize;
        Ok((0..got)
            .map(|i| {
                (
                    keys[i * ks..(i + 1) * ks].to_vec(),
                    values[i * vs..(i + 1) * vs].to_vec(),
                )
            })
            .collect())
    }

    /// Like [`Map::lookup_batch`], but into caller buffers: up to
    /// `keys.len() / key_size` entries, keys and values (each
    /// [`Map::value_buffer_size`] bytes) concatenated. Returns how many were
    /// read; nothing is allocated per call.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_BATCH")]
    pub fn lookup_batch_into(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<u32> {
        self.batch_into(cursor, keys, values, false)
    }

    /// Like [`Map::lookup_batch_into`], deleting what it returns.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_BATCH")]
    pub fn lookup_and_delete_batch_into(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<u32> {
        self.batch_into(cursor, keys, values, true)
    }

    fn batch_into(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
        delete: bool,
    ) -> Result<u32> {
        let op = if delete {
            "lookup and delete batch"
        } else {
            "lookup batch"
        };
        let ks = (self.key_size() as usize).max(1);
        let vs = self.value_buffer_size();
        let n = keys.len() / ks;
        if keys.len() % ks != 0 || values.len() != n * vs {
            return Err(Error::map(&self.name, op)(Error::InvalidArgument(format!(
                "{} key bytes and {} value bytes are not whole entries of {ks} and {vs} bytes",
                keys.len(),
                values.len()
            ))));
        }
        let count = u32::try_from(n).map_err(|_| {
            Error::map(&self.name, op)(Error::InvalidArgument("batch too large".into()))
        })?;
        if cursor.done || count == 0 {
            return Ok(0);
        }
        // The two token buffers are reused across calls: the kernel reads the
        // previous out_batch as in_batch.
        let token_size = self.fd.batch_token_size();
        let mut out_batch = cursor
            .spare
            .take()
            .filter(|b| b.len() == token_size)
            .unwrap_or_else(|| vec![0u8; token_size]);
        let in_batch = cursor.token.take();
        let b = sys::LookupBatch {
            in_batch: in_batch.as_deref(),
            out_batch: &mut out_batch,
            keys,
            values,
            count,
            elem_flags: 0,
        };
        let res = if delete {
            self.fd.lookup_and_delete_batch(b)
        } else {
            self.fd.lookup_batch(b)
        };
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                let errno = e.errno();
                if errno == Some(Errno::INVAL)
                    || errno == Some(Errno::ENOTSUPP)
                    || errno == Some(Errno::OPNOTSUPP)
                {
                    // Not implemented for this map type (or kernel).
                    let ns = NotSupported::new(
                        format!("batch operations on {}", self.map_type),
                        KernelVersion::new(5, 6, 0),
                    );
                    if errno != Some(Errno::INVAL) {
                        return Err(Error::map(&self.name, op)(ns.into()));
                    }
                }
                return Err(self.op_err(op)(e));
            }
        };
        cursor.done = res.done;
        cursor.spare = in_batch;
        cursor.token = Some(out_batch);
        Ok(res.count)
    }

    /// Creates or updates `keys.len() / key_size` elements from the
    /// concatenated `keys` and `values`. Returns how many were written.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_UPDATE_BATCH")]
    pub fn update_batch(&self, keys: &[u8], values: &[u8], flags: UpdateFlags) -> Result<u32> {
        let n = self.batch_count(keys)?;
        if values.len() != n * self.value_buffer_size() {
            return Err(Error::map(&self.name, "update batch")(
                Error::InvalidArgument(format!(
                    "{} bytes of values for {n} keys of a map with {}-byte values",
                    values.len(),
                    self.value_buffer_size()
                )),
            ));
        }
        let count = u32::try_from(n).map_err(|_| Error::InvalidArgument("too many keys".into()))?;
        self.fd
            .update_batch(keys, values, count, flags.bits())
            .map_err(self.op_err("update batch"))
    }

    /// Deletes the elements of the concatenated `keys`. Returns how many were deleted.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_DELETE_BATCH")]
    pub fn delete_batch(&self, keys: &[u8]) -> Result<u32> {
        let n = self.batch_count(keys)?;
        let count = u32::try_from(n).map_err(|_| Error::InvalidArgument("too many keys".into()))?;
        self.fd
            .delete_batch(keys, count, 0)
            .map_err(self.op_err("delete batch"))
    }

    fn batch_count(&self, keys: &[u8]) -> Result<usize> {
        let ks = self.key_size() as usize;
        if ks == 0 || keys.len() % ks != 0 {
            return Err(Error::map(&self.name, "batch")(Error::InvalidArgument(
                format!(
                    "{} bytes of keys are not a multiple of the key size {ks}",
                    keys.len()
                ),
            )));
        }
        Ok(keys.len() / ks)
    }
}

/// The position of a batch lookup.
#[derive(Debug, Clone, Default)]
pub struct BatchCursor {
    token: Option<Vec<u8>>,
    spare: Option<Vec<u8>>,
    done: bool,
}

impl BatchCursor {
    /// A cursor at the start of the map.
    pub fn new() -> Self {
        Self::default()
    }
    /// Whether the last batch reached the end of the map.
    pub fn is_done(&self) -> bool {
        self.done
    }
}
