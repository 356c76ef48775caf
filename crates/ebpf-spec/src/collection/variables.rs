//! Reading and rewriting a [`VariableSpec`]'s bytes in the data map that
//! holds it, before load.

use crate::arena::{ARENA_SECTION, arena_map_name};
use crate::collection::CollectionSpec;
use crate::error::{Error, Result};
use crate::variable::VariableSpec;

impl CollectionSpec {
    fn variable_range(&self, name: &str) -> Result<(&VariableSpec, std::ops::Range<usize>)> {
        let var = self.variables.get(name).ok_or_else(|| Error::Variable {
            name: name.into(),
            reason: "no such variable".into(),
        })?;
        let start = var.offset as usize;
        Ok((var, start..start + var.size as usize))
    }

    /// The name of the map holding the globals of data section `section`.
    fn data_map_name<'a>(&'a self, section: &'a str) -> &'a str {
        if section == ARENA_SECTION {
            arena_map_name(&self.maps).unwrap_or(section)
        } else {
            section
        }
    }

    /// The current bytes of variable `name` (in the object's byte order).
    pub fn variable_bytes(&self, name: &str) -> Result<&[u8]> {
        let (var, range) = self.variable_range(name)?;
        self.maps
            .get(self.data_map_name(&var.section))
            .and_then(|m| m.data())
            .and_then(|d| d.get(range))
            .ok_or_else(|| Error::Variable {
                name: name.into(),
                reason: format!("section '{}' has no data map", var.section),
            })
    }

    /// Overwrites variable `name` with `value`, which must have exactly its size. Rewriting
    /// a `.rodata` constant here is what makes it a load-time constant for the verifier.
    pub fn set_variable(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let (var, range) = self.variable_range(name)?;
        if value.len() != var.size as usize {
            return Err(Error::Variable {
                name: name.into(),
                reason: format!("value has {} bytes, variable has {}", value.len(), var.size),
            });
        }
        let section = var.section.clone();
        let map = self.data_map_name(&section).to_owned();
        let data = self
            .maps
            .get_mut(&map)
            .and_then(|m| m.data_mut())
            .and_then(|d| d.get_mut(range))
            .ok_or_else(|| Error::Variable {
                name: name.into(),
                reason: format!("section '{section}' has no data map"),
            })?;
        data.copy_from_slice(value);
        Ok(())
    }
}
