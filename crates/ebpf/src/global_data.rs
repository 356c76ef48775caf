//! [`GlobalData`]: a loaded data section (`.bss`, `.data`, `.rodata`, ...) as
//! one typed value, read and written in place through its mapping — what a
//! skeleton's `bss()` and `data()` return.
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec, GlobalData};
//! #[derive(Clone, Copy, ebpf::zerocopy::FromBytes, ebpf::zerocopy::IntoBytes,
//!          ebpf::zerocopy::Immutable, ebpf::zerocopy::KnownLayout)]
//! #[repr(C)]
//! struct Bss { total: u64, seen: u32, _pad: [u8; 4] }
//!
//! let spec = CollectionSpec::from_file("prog.o")?;
//! let coll = Collection::load(&spec, CollectionOptions::default())?;
//! let bss: GlobalData<Bss> = GlobalData::new(&coll.maps[".bss"])?;
//! println!("{}", bss.get()?.total);
//! bss.write_at(core::mem::offset_of!(Bss, seen), &0u32)?; // one variable only
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Programs change these bytes concurrently: [`GlobalData::get`] copies the
//! section (a value being written may be torn, as with a map lookup), and
//! [`GlobalData::set`] writes all of it back, so to change one variable while
//! programs run use [`GlobalData::write_at`].

use std::marker::PhantomData;

use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::map::Map;
use crate::maps::Pod;
use crate::variable::DataSection;

/// A data section of type `T`, mapped (5.5+) or read by map lookups.
#[derive(Debug)]
pub struct GlobalData<T> {
    section: DataSection,
    name: String,
    _type: PhantomData<fn() -> T>,
}

impl<T: Pod> GlobalData<T> {
    /// The data section in `map` (whose value must have `T`'s size).
    pub fn new(map: &Map) -> Result<Self> {
        if map.value_size() as usize != size_of::<T>() {
            return Err(Error::map(map.name(), "global data")(
                Error::InvalidArgument(format!(
                    "the section has {} bytes, the type {}",
                    map.value_size(),
                    size_of::<T>()
                )),
            ));
        }
        Ok(GlobalData {
            section: DataSection::new(map)?,
            name: map.name().to_owned(),
            _type: PhantomData,
        })
    }

    /// Whether writes are refused (`.rodata`: frozen at load).
    pub fn is_read_only(&self) -> bool {
        self.section.is_read_only()
    }

    /// A copy of the whole section.
    pub fn get(&self) -> Result<T> {
        self.read_at(0)
    }

    /// Overwrites the whole section.
    pub fn set(&self, value: &T) -> Result<()> {
        self.write_at(0, value)
    }

    /// Reads the section, lets `f` change it and writes it back (not atomic).
    pub fn update(&self, f: impl FnOnce(&mut T)) -> Result<()> {
        let mut v = self.get()?;
        f(&mut v);
        self.set(&v)
    }

    /// The `F` at byte `offset` (one variable: `offset_of!(T, field)`).
    pub fn read_at<F: FromBytes>(&self, offset: usize) -> Result<F> {
        self.check(offset, size_of::<F>())?;
        let mut buf = vec![0u8; size_of::<F>()];
        self.section.read(offset, &mut buf)?;
        Ok(F::read_from_bytes(&buf).unwrap_or_else(|_| F::new_zeroed()))
    }

    /// Writes `value` at byte `offset`, leaving the rest of the section alone.
    pub fn write_at<F: IntoBytes + Immutable>(&self, offset: usize, value: &F) -> Result<()> {
        self.check(offset, size_of_val(value))?;
        self.section.write(offset, value.as_bytes())
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        if offset
            .checked_add(len)
            .is_none_or(|end| end > size_of::<T>())
        {
            return Err(Error::map(&self.name, "global data")(
                Error::InvalidArgument(format!(
                    "{len} bytes at {offset} are past the section's {}",
                    size_of::<T>()
                )),
            ));
        }
        Ok(())
    }
}
