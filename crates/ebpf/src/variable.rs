//! [`Variable`]: a global variable of a loaded [`Collection`](crate::Collection),
//! read and written in place — through a memory mapping when the data section
//! map is mmapable (kernels 5.5+) or an arena, else by map lookup and update.
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec};
//! let spec = CollectionSpec::from_file("testdata/loader-el.o")?;
//! let coll = Collection::load(&spec, CollectionOptions::default())?;
//! let counter = &coll.variables["counter"];
//! counter.set(&5u32)?;
//! assert_eq!(counter.get::<u32>()?, 5);
//! assert!(coll.variables["const_limit"].is_read_only());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Constants (`.rodata`, `.kconfig`) are frozen before programs load, so the
//! verifier can use their values: they are read-only here. To change a
//! constant, edit the spec before loading
//! ([`CollectionSpec::set_variable`](ebpf_spec::CollectionSpec::set_variable)).

use std::sync::Arc;

use ebpf_spec::VariableSpec;
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::map::{Map, UpdateFlags};
use crate::mem::MappedValue;

/// A data section map shared by its variables.
#[derive(Debug)]
pub(crate) struct DataSection {
    /// The map's name, for errors.
    name: String,
    access: Access,
    read_only: bool,
}

/// How a data section's value is reached.
#[derive(Debug)]
enum Access {
    /// Through a memory mapping of the value (which keeps the map alive: no
    /// second fd is needed).
    Mapped(MappedValue),
    /// Through a second handle on the map: an arena (mapped by its `Map`),
    /// or lookups and updates of a map that is not mmapable.
    Map(Map),
}

impl DataSection {
    pub(crate) fn new(map: &Map) -> Result<Self> {
        let read_only = map.flags() & ebpf_syscall::BPF_F_RDONLY_PROG != 0
            || map.name().starts_with(".rodata")
            || map.name() == ebpf_spec::KCONFIG_SECTION;
        // An arena is mapped by its `Map` (shared by the clone).
        let arena = map.map_type() == crate::MapType::ARENA;
        let access = if map.flags() & ebpf_syscall::BPF_F_MMAPABLE != 0 && !arena {
            Access::Mapped(
                MappedValue::map(map, map.value_size() as usize, !read_only)
                    .map_err(Error::map(map.name(), "mmap"))?,
            )
        } else {
            Access::Map(map.try_clone()?)
        };
        Ok(Self {
            name: map.name().to_owned(),
            access,
            read_only,
        })
    }

    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn is_mmapped(&self) -> bool {
        match &self.access {
            Access::Mapped(_) => true,
            Access::Map(map) => map.arena.is_some(),
        }
    }

    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> Result<()> {
        let map = match &self.access {
            Access::Mapped(m) => return m.read(off, out),
            Access::Map(map) if map.arena.is_some() => return map.arena()?.read(off, out),
            Access::Map(map) => map,
        };
        let value = map
            .lookup(&0u32.to_ne_bytes())?
            .ok_or_else(|| Error::InvalidArgument("data section has no value".into()))?;
        let src = value
            .get(off..off + out.len())
            .ok_or_else(|| Error::InvalidArgument("variable outside its section".into()))?;
        out.copy_from_slice(src);
        Ok(())
    }

    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result<()> {
        if self.read_only {
            return Err(Error::InvalidArgument(format!(
                "section '{}' is read-only (constants are frozen at load; set them in the spec)",
                self.name
            )));
        }
        let map = match &self.access {
            // A section that is not read-only is mapped writable.
            Access::Mapped(m) => return m.write(off, data),
            Access::Map(map) if map.arena.is_some() => return map.arena()?.write(off, data),
            Access::Map(map) => map,
        };
        let key = 0u32.to_ne_bytes();
        let mut value = map
            .lookup(&key)?
            .ok_or_else(|| Error::InvalidArgument("data section has no value".into()))?;
        value
            .get_mut(off..off + data.len())
            .ok_or_else(|| Error::InvalidArgument("variable outside its section".into()))?
            .copy_from_slice(data);
        map.update(&key, &value, UpdateFlags::ANY)
    }
}

/// A global variable in the kernel.
#[derive(Debug, Clone)]
pub struct Variable {
    spec: VariableSpec,
    section: Arc<DataSection>,
}

impl Variable {
    pub(crate) fn new(spec: VariableSpec, section: Arc<DataSection>) -> Self {
        Self { spec, section }
    }

    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
    /// The data section holding it (`.data`, `.bss`, ...).
    pub fn section(&self) -> &str {
        &self.spec.section
    }
    /// Byte offset in the section.
    pub fn offset(&self) -> u32 {
        self.spec.offset
    }
    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.spec.size
    }
    /// The variable's type in the object's BTF.
    pub fn type_id(&self) -> Option<ebpf_btf::TypeId> {
        self.spec.type_id
    }
    /// Whether writes are refused (`.rodata`, `.kconfig`).
    pub fn is_read_only(&self) -> bool {
        self.section.read_only
    }
    /// Whether the variable is accessed through a memory mapping.
    pub fn is_mmapped(&self) -> bool {
        self.section.is_mmapped()
    }

    fn err(&self, op: &'static str) -> impl FnOnce(Error) -> Error + '_ {
        move |e| Error::Context {
            what: format!("variable '{}': {op}", self.spec.name),
            source: Box::new(e),
        }
    }

    /// Copies the current value into `out` (exactly [`Variable::size`] bytes).
    pub fn read(&self, out: &mut [u8]) -> Result<()> {
        if out.len() != self.spec.size as usize {
            return Err(self.err("read")(Error::InvalidArgument(format!(
                "buffer has {} bytes, variable has {}",
                out.len(),
                self.spec.size
            ))));
        }
        self.section
            .read(self.spec.offset as usize, out)
            .map_err(self.err("read"))
    }

    /// The current value.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.spec.size as usize];
        self.read(&mut out)?;
        Ok(out)
    }

    /// Overwrites the value (exactly [`Variable::size`] bytes).
    pub fn write(&self, value: &[u8]) -> Result<()> {
        if value.len() != self.spec.size as usize {
            return Err(self.err("write")(Error::InvalidArgument(format!(
                "value has {} bytes, variable has {}",
                value.len(),
                self.spec.size
            ))));
        }
        self.section
            .write(self.spec.offset as usize, value)
            .map_err(self.err("write"))
    }

    /// The value as a `T` of the variable's size.
    pub fn get<T: FromBytes>(&self) -> Result<T> {
        let bytes = self.bytes()?;
        T::read_from_bytes(&bytes).map_err(|_| {
            self.err("read")(Error::InvalidArgument(format!(
                "type has {} bytes, variable has {}",
                core::mem::size_of::<T>(),
                self.spec.size
            )))
        })
    }

    /// Sets the value from a `T` of the variable's size.
    pub fn set<T: IntoBytes + Immutable + ?Sized>(&self, value: &T) -> Result<()> {
        self.write(value.as_bytes())
    }
}
