//! A program's instructions kept as the object's raw bytes until first use, as libbpf keeps
//! them until load: opening an object reads and checks every code section (its
//! instructions, relocations, `.BTF.ext` records, functions and calls), and decodes only the
//! instructions that relocations and calls inside the section change. A program's [`Instructions`] are then a deferred
//! list ([`ebpf_asm::InstructionSource`]), made on first access from its own function and
//! the functions it calls: their bytes decoded, the relocated instructions put in place,
//! `.BTF.ext` rows attached, each function's symbol set. What the list is made of was
//! checked at open, so making it cannot fail, and gives what decoding every section at open
//! gave.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let p = &spec.programs["socket_prog"];
//! assert!(!p.instructions.is_decoded());
//! assert_eq!(p.instructions[0].symbol(), Some("socket_prog"));
//! assert!(p.instructions.is_decoded());
//! # Ok(()) }
//! ```

use std::sync::Arc;

use ebpf_asm::{Endianness, Instruction, InstructionSource, Instructions};

use crate::ext_rows::SectionTable;
use crate::relocate::CodeSection;
use crate::slots::Slots;

/// Where a function's instructions are in its section.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FunctionCode {
    /// The section, numbered in its [`ObjectCode`].
    pub section: u32,
    /// The index of its first instruction in the section.
    pub start: u32,
    /// Its number of instructions.
    pub len: u32,
    /// Its first byte in the section.
    pub start_off: u32,
    /// The byte after its last.
    pub end_off: u32,
    /// Its name.
    pub name: FunctionName,
}

/// A code section as programs are made from it.
#[derive(Debug)]
struct SectionCode {
    /// A copy of the section's bytes.
    data: Box<[u8]>,
    /// Where its instructions start.
    slots: Slots,
    /// The relocated instructions by index, in order.
    patches: Vec<(u32, Instruction)>,
    /// Its `.BTF.ext` rows.
    rows: Option<SectionTable>,
}

/// The code of an object, shared by its programs' deferred instruction lists.
#[derive(Debug)]
pub(crate) struct ObjectCode {
    order: Endianness,
    sections: Vec<SectionCode>,
    /// The functions' names, one after another; [`FunctionName`]s index it.
    names: String,
}

/// A function's place in [`ObjectCode::names`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FunctionName {
    start: u32,
    len: u32,
}

impl ObjectCode {
    /// Code of byte order `order`, no section yet.
    pub fn new(order: Endianness) -> ObjectCode {
        ObjectCode {
            order,
            sections: Vec::new(),
            names: String::new(),
        }
    }

    /// The number the next section added gets.
    pub fn next_section(&self) -> u32 {
        // Objects have far fewer than 4 billion sections.
        u32::try_from(self.sections.len()).unwrap_or(u32::MAX)
    }

    /// Adds `code` (read, relocated and its calls resolved) with its rows `rows`, numbered
    /// [`next_section`](Self::next_section).
    pub fn add_section(&mut self, code: CodeSection<'_>, rows: Option<SectionTable>) {
        self.sections.push(SectionCode {
            data: code.data.into(),
            slots: code.slots,
            patches: code.patches,
            rows,
        });
    }

    /// Makes room for `bytes` more bytes of names.
    pub fn reserve_names(&mut self, bytes: usize) {
        self.names.reserve_exact(bytes);
    }

    /// Keeps function name `name`.
    pub fn add_name(&mut self, name: &str) -> FunctionName {
        // Objects are far smaller than 4 GiB.
        let start = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push_str(name);
        FunctionName {
            start,
            len: u32::try_from(name.len()).unwrap_or(0),
        }
    }

    /// The name `name` keeps.
    fn name(&self, name: FunctionName) -> &str {
        let start = name.start as usize;
        self.names
            .get(start..start + name.len as usize)
            .unwrap_or_default()
    }

    /// The relocated instructions of `f`, by index in its section.
    pub fn patches(&self, f: &FunctionCode) -> &[(u32, Instruction)] {
        let Some(s) = self.sections.get(f.section as usize) else {
            return &[];
        };
        let lo = s.patches.partition_point(|(i, _)| *i < f.start);
        let hi = s.patches.partition_point(|(i, _)| *i < f.start + f.len);
        s.patches.get(lo..hi.max(lo)).unwrap_or_default()
    }

    /// Appends the instructions of `f`, named `name`, to `out`.
    fn append(&self, f: &FunctionCode, out: &mut Vec<Instruction>) {
        let name = f.name;
        let Some(s) = self.sections.get(f.section as usize) else {
            return;
        };
        let base = out.len();
        let bytes = s
            .data
            .get(f.start_off as usize..f.end_off as usize)
            .unwrap_or_default();
        // The section was checked when it was read (`read_section`).
        match Instructions::unmarshal_into(bytes, self.order, out) {
            Ok(()) => {}
            Err(e) => {
                // Cannot happen: a bug if it does, reported, not a panic in a release build.
                debug_assert!(false, "function '{}': {e}", self.name(name));
                log::error!("function '{}': {e}", self.name(name));
                out.truncate(base);
                return;
            }
        }
        let body = &mut out[base..];
        for (i, ins) in self.patches(f) {
            if let Some(slot) = body.get_mut((i - f.start) as usize) {
                *slot = ins.clone();
            }
        }
        if let Some(rows) = &s.rows {
            rows.attach(body, (f.start_off, f.end_off), f.start as usize, &s.slots);
        }
        if let Some(first) = body.first_mut() {
            first.metadata.set_symbol(Some(Arc::from(self.name(name))));
        }
    }
}

/// One program's instructions: its function, then the functions it needs, in link order
/// (most programs need none: then nothing is allocated for them).
#[derive(Debug)]
pub(crate) struct ProgramCode {
    pub object: Arc<ObjectCode>,
    pub main: FunctionCode,
    pub callees: Vec<FunctionCode>,
}

impl InstructionSource for ProgramCode {
    fn instructions(&self) -> Vec<Instruction> {
        let functions = std::iter::once(&self.main).chain(&self.callees);
        let len = functions.clone().map(|f| f.len as usize).sum();
        let mut out = Vec::with_capacity(len);
        for f in functions {
            self.object.append(f, &mut out);
        }
        out
    }
}
