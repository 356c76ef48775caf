//! How much data a [`CollectionSpec`] holds, checked against [`Limits`].

use crate::collection::CollectionSpec;
use crate::error::Result;
use crate::limits::{Limits, check_total, map_bytes};

impl CollectionSpec {
    /// The bytes of global data and initial map contents this spec holds, the
    /// memory loading it writes into maps: for each map the larger of its
    /// contents (keys and values) and, for a global data map, its value size.
    #[must_use]
    pub fn data_bytes(&self) -> u64 {
        self.maps
            .values()
            .map(map_bytes)
            .fold(0, u64::saturating_add)
    }

    /// Fails with [`Error::DataTooLarge`](crate::Error::DataTooLarge), naming the largest maps, if
    /// [`data_bytes`](Self::data_bytes) is over `limits`.
    pub fn check_limits(&self, limits: &Limits) -> Result<()> {
        check_total(
            self.maps.values().map(|m| (m.name.as_str(), map_bytes(m))),
            limits,
        )
    }
}
