//! Per-CPU maps: one value per possible CPU, each in an 8-byte-aligned slot.

use zerocopy::{FromBytes, Immutable, IntoBytes};

use super::{Map, UpdateFlags};
use crate::error::{Error, Result};

impl Map {
    /// Each CPU's value of `key` (per-CPU maps), or `None` if absent.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        self.require_per_cpu("lookup_percpu")?;
        let Some(buf) = self.lookup(key)? else {
            return Ok(None);
        };
        let size = self.value_size() as usize;
        let stride = size.next_multiple_of(8);
        Ok(Some(
            buf.chunks(stride).map(|c| c[..size].to_vec()).collect(),
        ))
    }

    /// Typed per-CPU lookup.
    pub fn get_percpu<K, V>(&self, key: &K) -> Result<Option<Vec<V>>>
    where
        K: IntoBytes + Immutable + ?Sized,
        V: FromBytes,
    {
        let Some(vals) = self.lookup_percpu(key.as_bytes())? else {
            return Ok(None);
        };
        vals.iter()
            .map(|v| {
                V::read_from_bytes(v).map_err(|_| {
                    Error::map(&self.name, "lookup")(Error::InvalidArgument(format!(
                        "value type has {} bytes, map values have {}",
                        core::mem::size_of::<V>(),
                        v.len()
                    )))
                })
            })
            .collect::<Result<Vec<V>>>()
            .map(Some)
    }

    /// Sets each CPU's value of `key`: `values` has one value per possible CPU.
    pub fn update_percpu<T: AsRef<[u8]>>(
        &self,
        key: &[u8],
        values: &[T],
        flags: UpdateFlags,
    ) -> Result<()> {
        self.require_per_cpu("update_percpu")?;
        let cpus = self.cpus();
        if values.len() != cpus {
            return Err(Error::map(&self.name, "update")(Error::InvalidArgument(
                format!(
                    "{} values given, the map has one per possible CPU ({cpus})",
                    values.len(),
                ),
            )));
        }
        let value_size = self.value_size();
        let stride = (value_size as usize).next_multiple_of(8);
        let mut buf = vec![0u8; self.value_buffer_size()];
        for (i, v) in values.iter().enumerate() {
            let v = v.as_ref();
            if v.len() != value_size as usize {
                return Err(Error::map(&self.name, "update")(Error::InvalidArgument(
                    format!(
                        "value of CPU {i} has {} bytes, map has {value_size}",
                        v.len(),
                    ),
                )));
            }
            buf[i * stride..i * stride + v.len()].copy_from_slice(v);
        }
        self.update(key, &buf, flags)
    }

    fn require_per_cpu(&self, op: &'static str) -> Result<()> {
        if self.is_per_cpu() {
            Ok(())
        } else {
            Err(Error::map(&self.name, op)(Error::InvalidArgument(format!(
                "{} is not a per-CPU map",
                self.map_type
            ))))
        }
    }
}
