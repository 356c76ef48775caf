//! Subprogram linking: code sections are split into functions at their `STT_FUNC`
//! symbols, and every program gets a copy of each function it calls or takes the address
//! of, transitively, appended after its own instructions (in order of first use). The
//! `.BTF.ext` records travel with the instructions, so func info, line info and CO-RE
//! relocations stay consistent in every program.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! // socket_prog -> nested_helper (static) -> global_helper -> static_helper
//! assert_eq!(spec.programs["socket_prog"].subprograms(), ["nested_helper", "global_helper", "static_helper"]);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, VecDeque};

use ebpf_asm::Instructions;

use crate::elf::{ElfFile, STT_FUNC};
use crate::error::{Error, Result};
use crate::relocate::CodeSection;

/// One function of a code section.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    /// The symbol name.
    pub name: String,
    /// The section it is in.
    pub section: String,
    /// `STB_*` of its symbol.
    pub bind: u8,
    /// Its instructions; the first carries the symbol.
    pub insns: Instructions,
}

/// Splits a decoded, relocated section into its functions.
pub(crate) fn split_functions(elf: &ElfFile<'_>, code: CodeSection) -> Result<Vec<Function>> {
    let mut syms: Vec<_> = elf
        .symbols_in(code.index)
        .into_iter()
        .filter(|s| s.kind == STT_FUNC)
        .collect();
    syms.dedup_by_key(|s| s.value);
    if code.insns.is_empty() {
        return Ok(Vec::new());
    }
    let bad_section = |reason: String| Error::BadSection {
        section: code.name.clone(),
        reason,
    };
    match syms.first() {
        None => return Err(bad_section("code without a function symbol".into())),
        Some(first) if first.value != 0 => {
            return Err(bad_section(format!(
                "instructions before the first function '{}'",
                first.name
            )));
        }
        _ => {}
    }
    let mut starts = Vec::with_capacity(syms.len());
    for s in &syms {
        let i = code.index_at(s.value).ok_or_else(|| Error::BadSymbol {
            section: code.name.clone(),
            symbol: s.name.clone(),
            reason: format!("offset {} is not at an instruction", s.value),
        })?;
        starts.push(i);
    }
    let mut insns = code.insns.0;
    let mut out = Vec::with_capacity(syms.len());
    for (n, s) in syms.iter().enumerate().rev() {
        let start = starts[n];
        let mut body: Vec<_> = insns.drain(start..).collect();
        body[0].metadata.set_symbol(Some(s.name.clone()));
        out.push(Function {
            name: s.name.clone(),
            section: code.name.clone(),
            bind: s.bind,
            insns: Instructions(body),
        });
    }
    out.reverse();
    Ok(out)
}

/// The instructions of `program` followed by every function it needs.
pub(crate) fn link_program(
    program: &Function,
    functions: &BTreeMap<String, Function>,
) -> Result<Instructions> {
    let mut out = program.insns.clone();
    let mut linked = vec![program.name.clone()];
    let mut queue: VecDeque<String> = VecDeque::new();
    let enqueue = |insns: &Instructions, linked: &[String], queue: &mut VecDeque<String>| {
        for r in insns.function_references() {
            if !linked.iter().any(|l| l == r) && !queue.iter().any(|q| q == r) {
                queue.push_back(r.to_owned());
            }
        }
    };
    enqueue(&program.insns, &linked, &mut queue);
    while let Some(name) = queue.pop_front() {
        let f = functions.get(&name).ok_or_else(|| Error::MissingFunction {
            program: program.name.clone(),
            function: name.clone(),
        })?;
        out.0.extend(f.insns.iter().cloned());
        linked.push(name);
        enqueue(&f.insns, &linked, &mut queue);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ebpf_asm::{Register, call_func, exit, mov64};

    use super::*;
    use crate::elf::STB_GLOBAL;

    fn func(name: &str, calls: &[&str]) -> Function {
        let mut insns = vec![mov64(Register::R0, 0).with_symbol(name)];
        insns.extend(calls.iter().map(|c| call_func(*c)));
        insns.push(exit());
        Function {
            name: name.into(),
            section: ".text".into(),
            bind: STB_GLOBAL,
            insns: Instructions(insns),
        }
    }

    #[test]
    fn transitive_once_each_in_first_use_order() {
        let funcs: BTreeMap<String, Function> = [
            func("a", &["b", "c"]),
            func("b", &["c", "a"]),
            func("c", &["c"]),
            func("unused", &[]),
        ]
        .into_iter()
        .map(|f| (f.name.clone(), f))
        .collect();
        let p = func("prog", &["a"]);
        let linked = link_program(&p, &funcs).expect("link");
        let syms: Vec<_> = linked.iter().filter_map(|i| i.symbol()).collect();
        assert_eq!(syms, ["prog", "a", "b", "c"]);
        // A recursive program links nothing extra.
        let rec = func("rec", &["rec"]);
        assert_eq!(link_program(&rec, &funcs).expect("link").len(), 3);
    }

    #[test]
    fn missing_function() {
        let p = func("prog", &["nowhere"]);
        let err = link_program(&p, &BTreeMap::new()).expect_err("error");
        assert_eq!(
            err.to_string(),
            "program 'prog': function 'nowhere' not found"
        );
    }
}
