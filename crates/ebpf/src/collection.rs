//! [`Collection`]: every map, program and global variable of a
//! [`CollectionSpec`](crate::CollectionSpec), created in the kernel.
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions};
//! let spec = CollectionSpec::from_file("testdata/loader-el.o")?;
//! let mut coll = Collection::load(&spec, CollectionOptions::default())?;
//! let prog = &coll.programs["socket_prog"];
//! prog.test_run(&TestRunOptions { data_in: vec![0; 64], ..Default::default() })?;
//! let counter = &coll.variables["counter"];
//! assert_eq!(counter.get::<u32>()?, 2);
//! let map = coll.maps.remove("hash_map").expect("hash_map");
//! # let _ = map;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! How loading works, step by step: [`Collection::load`] (the `loader` module).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::map::Map;
use crate::program::Program;
use crate::struct_ops::StructOpsMap;
use crate::variable::Variable;

/// The maps, programs and variables of a loaded [`CollectionSpec`](crate::CollectionSpec).
#[derive(Debug)]
pub struct Collection {
    /// Maps by name (global data maps by section name: `.data`, `.rodata`, ...).
    pub maps: BTreeMap<String, Map>,
    /// Programs by name.
    pub programs: BTreeMap<String, Program>,
    /// Global variables by name.
    pub variables: BTreeMap<String, Variable>,
    /// struct_ops maps by name, created but not registered: attach one
    /// (`ebpf_link::struct_ops::attach`) to register it.
    pub struct_ops: BTreeMap<String, StructOpsMap>,
}

impl Collection {
    /// Removes and returns map `name`.
    pub fn take_map(&mut self, name: &str) -> Result<Map> {
        self.maps.remove(name).ok_or_else(|| Error::NotFound {
            kind: "map",
            name: name.to_owned(),
        })
    }

    /// Removes and returns program `name`.
    pub fn take_program(&mut self, name: &str) -> Result<Program> {
        self.programs.remove(name).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: name.to_owned(),
        })
    }

    /// Removes and returns struct_ops map `name`.
    pub fn take_struct_ops(&mut self, name: &str) -> Result<StructOpsMap> {
        self.struct_ops.remove(name).ok_or_else(|| Error::NotFound {
            kind: "struct_ops map",
            name: name.to_owned(),
        })
    }
}
