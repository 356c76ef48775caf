//! Typed queues and stacks: values without keys.

use std::marker::PhantomData;

use super::{Pod, decode, typed_view};
use crate::error::Result;
use crate::{Map, UpdateFlags};

macro_rules! value_only_map {
    ($(#[$doc:meta])* $ty:ident, $view:literal, [$($t:ident),+], $order:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty<V> {
            map: Map,
            _types: PhantomData<V>,
        }

        typed_view!($ty<V>, $view, [$($t),+], 0, size_of::<V>());

        impl<V: Pod> $ty<V> {
            /// Adds `value`; with [`UpdateFlags::EXIST`] a full map drops its
            #[doc = $order]
            /// value to make room, otherwise a full map is an error.
            #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
            pub fn push(&self, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map
                    .update(&[], zerocopy::IntoBytes::as_bytes(value), flags)
            }

            /// Removes and returns the next value, if any.
            #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_ELEM")]
            pub fn pop(&self) -> Result<Option<V>> {
                Ok(self.map.lookup_and_delete(&[])?.map(|v| decode::<V>(&v)))
            }

            /// The next value, if any, without removing it.
            #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
            pub fn peek(&self) -> Result<Option<V>> {
                Ok(self.map.lookup(&[])?.map(|v| decode::<V>(&v)))
            }
        }
    };
}

value_only_map!(
    /// A `BPF_MAP_TYPE_QUEUE` map of `V` values: first in, first out.
    ///
    /// # Minimum kernel version
    ///
    /// 4.20.
    #[doc(alias = "BPF_MAP_TYPE_QUEUE")]
    Queue,
    "queue",
    [QUEUE],
    " oldest"
);

value_only_map!(
    /// A `BPF_MAP_TYPE_STACK` map of `V` values: last in, first out.
    ///
    /// # Minimum kernel version
    ///
    /// 4.20.
    #[doc(alias = "BPF_MAP_TYPE_STACK")]
    Stack,
    "stack",
    [STACK],
    " oldest"
);
