//! [`Builder`]: a program assembled instruction by instruction, with labels placed on the
//! next instruction emitted.
//!
//! Code generators (device filters, rule lists) emit one block per rule and jump to the
//! next block by name before they know what its first instruction will be; the builder
//! holds the label until that instruction arrives.
//!
//! ```
//! use ebpf_asm::{Builder, JumpOp, Register::*, exit, mov64};
//!
//! let mut b = Builder::new();
//! for (i, minor) in [3, 5].into_iter().enumerate() {
//!     b.label(format!("rule-{i}"))
//!         .push(JumpOp::Ne.imm(R2, minor, format!("rule-{}", i + 1)))
//!         .push(mov64(R0, 1))
//!         .push(exit());
//! }
//! b.label("rule-2").push(mov64(R0, 0)).push(exit());
//! let prog = b.build()?;
//! assert_eq!(prog[3].symbol(), Some("rule-1"));
//! # Ok::<(), ebpf_asm::Error>(())
//! ```

use crate::{Error, Instruction, Instructions, Result};

/// Assembles [`Instructions`] one at a time; [`label`](Builder::label) names the next
/// instruction emitted (its symbol, the target of jumps to that name).
///
/// Mistakes are kept until [`build`](Builder::build), so calls chain: a label followed by
/// another label, by an instruction that already has a symbol, or by nothing is
/// [`Error::DanglingLabel`]; two instructions with one symbol are
/// [`Error::DuplicateSymbol`].
#[derive(Debug, Clone, Default)]
pub struct Builder {
    insns: Vec<Instruction>,
    pending: Option<String>,
    error: Option<Error>,
}

impl Builder {
    /// An empty program.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Labels the next instruction emitted with `name`.
    pub fn label(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        if let Some(label) = self.pending.take() {
            self.fail(label, format!("label {name:?}"));
        }
        self.pending = Some(name);
        self
    }

    /// Appends `ins`, labelled with the pending label if there is one.
    pub fn push(&mut self, ins: Instruction) -> &mut Builder {
        let ins = match (self.pending.take(), ins.symbol()) {
            (None, _) => ins,
            (Some(label), None) => ins.with_symbol(label),
            (Some(label), Some(own)) => {
                let followed_by = format!("an instruction already labelled {own:?}");
                self.fail(label, followed_by);
                ins
            }
        };
        self.insns.push(ins);
        self
    }

    /// Appends every instruction of `insns`; the pending label goes to the first.
    pub fn extend(&mut self, insns: impl IntoIterator<Item = Instruction>) -> &mut Builder {
        for ins in insns {
            self.push(ins);
        }
        self
    }

    /// The number of instructions emitted so far.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether no instruction has been emitted yet.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The program; the first mistake made while building it, if any.
    pub fn build(mut self) -> Result<Instructions> {
        if let Some(label) = self.pending.take() {
            self.fail(label, "the end of the program".into());
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        let insns = Instructions::from(self.insns);
        insns.symbol_offsets()?;
        Ok(insns)
    }

    fn fail(&mut self, label: String, followed_by: String) {
        self.error
            .get_or_insert(Error::DanglingLabel { label, followed_by });
    }
}

impl Extend<Instruction> for Builder {
    fn extend<I: IntoIterator<Item = Instruction>>(&mut self, iter: I) {
        Builder::extend(self, iter);
    }
}

impl Instructions {
    /// A [`Builder`], to assemble a program with labels placed on the next instruction.
    pub fn builder() -> Builder {
        Builder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Register::*;
    use crate::{Endianness, JumpOp, exit, mov64};

    #[test]
    fn label_goes_to_the_next_instruction() {
        let mut b = Builder::new();
        b.push(JumpOp::Eq.imm(R1, 0, "out"))
            .push(mov64(R0, 1))
            .label("out")
            .extend([mov64(R0, 0), exit()]);
        assert_eq!(b.len(), 4);
        let prog = b.build().unwrap();
        assert_eq!(prog[2].symbol(), Some("out"));
        assert_eq!(prog[3].symbol(), None);
        let bytes = prog.marshal(Endianness::Little).unwrap();
        let back = Instructions::unmarshal(&bytes, Endianness::Little).unwrap();
        assert_eq!(back[0].offset, 1);
    }

    #[test]
    fn dangling_labels_are_errors() {
        let mut b = Builder::new();
        b.push(exit()).label("end");
        let err = b.build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "label \"end\" labels no instruction: the end of the program comes next"
        );

        let mut b = Builder::new();
        b.label("a").label("b").push(exit());
        assert!(matches!(
            b.build(),
            Err(Error::DanglingLabel { label, followed_by }) if label == "a" && followed_by == "label \"b\""
        ));

        let mut b = Builder::new();
        b.label("a").push(exit().with_symbol("b"));
        assert!(matches!(b.build(), Err(Error::DanglingLabel { .. })));
    }

    #[test]
    fn duplicate_labels_are_errors() {
        let mut b = Instructions::builder();
        b.label("a").push(mov64(R0, 0)).label("a").push(exit());
        assert!(matches!(b.build(), Err(Error::DuplicateSymbol { .. })));
    }
}
