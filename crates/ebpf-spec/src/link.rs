//! Subprogram linking: code sections are split into functions at their `STT_FUNC`
//! symbols (each covers its symbol's size), and every program gets a copy of each function
//! it calls or takes the address of, transitively, appended after its own instructions (in
//! order of first use), then its exception callback (a BTF decl tag
//! `exception_callback:NAME` on the program's `FUNC`, which `bpf_experimental.h`'s
//! `__exception_cb` writes), which nothing calls, as libbpf appends it. Static functions that
//! share a name get distinct ones (see
//! `ElfFile::function_name`). The
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

use ebpf_asm::{Instruction, Instructions};

use ebpf_btf::{FuncLinkage, Kind, Spec, Type};

use crate::elf::{ElfFile, STB_LOCAL, STT_FUNC, STV_DEFAULT};
use crate::error::{Error, Result};
use crate::relocate::CodeSection;

/// One function of a code section.
#[derive(Debug, Clone)]
pub(crate) struct Function<'e> {
    /// The symbol name (renamed if static and shared, see `ElfFile::function_name`).
    pub name: &'e str,
    /// The section it is in.
    pub section: &'e str,
    /// `STB_*` of its symbol.
    pub bind: u8,
    /// `STV_*` of its symbol.
    pub visibility: u8,
    /// Its instructions; the first carries the symbol.
    pub insns: Instructions,
    /// The indexes in `insns` of its calls to BPF functions and loads of their addresses, in
    /// order.
    pub calls: Vec<u32>,
}

/// Splits a decoded, relocated section into its functions: each `STT_FUNC` symbol covers
/// `st_size` bytes from `st_value` (to the next function symbol when its size is 0).
/// Instructions no function covers are dropped with their `.BTF.ext` records: libbpf's
/// static linker leaves the code of a weak function that a strong one overrode in place,
/// without a symbol.
pub(crate) fn split_functions<'e>(
    elf: &'e ElfFile<'_>,
    mut code: CodeSection<'e>,
) -> Result<Vec<Function<'e>>> {
    let mut syms: Vec<_> = elf
        .symbols_in(code.index)
        .iter()
        .filter(|s| s.kind == STT_FUNC)
        .collect();
    syms.dedup_by_key(|s| s.value);
    if code.insns.is_empty() {
        return Ok(Vec::new());
    }
    if syms.is_empty() {
        return Err(Error::BadSection {
            section: code.name.to_owned(),
            reason: "code without a function symbol".into(),
        });
    }
    let section_len = code.insns.len();
    let mut ranges = Vec::with_capacity(syms.len());
    for (n, s) in syms.iter().enumerate() {
        let bad = |reason: String| Error::BadSymbol {
            section: code.name.to_owned(),
            symbol: s.name.to_owned(),
            reason,
        };
        let start = code
            .index_at(s.value)
            .ok_or_else(|| bad(format!("offset {} is not at an instruction", s.value)))?;
        let end_offset = match (s.size, syms.get(n + 1)) {
            (0, Some(next)) => next.value,
            (0, None) => code.byte_len(),
            (size, _) => s.value.saturating_add(size),
        };
        let end = if end_offset == code.byte_len() {
            section_len
        } else {
            code.index_at(end_offset).ok_or_else(|| {
                bad(format!(
                    "offset {} size {} does not end at an instruction",
                    s.value, s.size
                ))
            })?
        };
        if end <= start || ranges.last().is_some_and(|&(_, prev_end)| start < prev_end) {
            return Err(bad(format!(
                "offset {} size {} overlaps another function",
                s.value, s.size
            )));
        }
        ranges.push((start, end));
    }
    // The biggest function keeps the section's allocation (a section of one small
    // function and one huge one is common in tests of the verifier).
    let biggest = (0..ranges.len())
        .max_by_key(|&i| ranges[i].1 - ranges[i].0)
        .unwrap_or(0);
    let mut insns = std::mem::take(&mut code.insns.0);
    let mut calls = code.calls;
    let mut out = Vec::with_capacity(syms.len());
    for (i, (s, &(start, end))) in syms.iter().zip(&ranges).enumerate().rev() {
        insns.truncate(end);
        let first = calls.partition_point(|&c| (c as usize) < start);
        let mut own = calls.split_off(first);
        own.retain(|&c| (c as usize) < end);
        // Functions start below `u32::MAX` (`calls` holds u32 indexes).
        let base = u32::try_from(start).unwrap_or(u32::MAX);
        own.iter_mut().for_each(|c| *c -= base);
        // Later functions are copied out; the first takes what is left. The biggest
        // instead has the instructions before it moved out, and keeps the allocation.
        let mut body = if start == 0 {
            std::mem::take(&mut insns)
        } else if i == biggest {
            let before: Vec<Instruction> = insns.drain(..start).collect();
            std::mem::replace(&mut insns, before)
        } else {
            insns.split_off(start)
        };
        let name = elf.function_name(code.index, s.value).unwrap_or(s.name);
        body[0].metadata.set_symbol(Some(name.into()));
        out.push(Function {
            name,
            section: code.name,
            bind: s.bind,
            visibility: s.visibility,
            insns: Instructions(body),
            calls: own,
        });
    }
    out.reverse();
    Ok(out)
}

/// Marks the BTF `FUNC` of every global or weak subprogram with hidden visibility static, as
/// libbpf does: the verifier then checks it in its callers' context instead of on its own
/// (libbpf's `usdt.bpf.h` helpers are `__weak __hidden` and verify only that way).
pub(crate) fn mark_hidden_subprograms_static<'e>(
    btf: &mut Spec,
    subprograms: impl Iterator<Item = (&'e str, u8, u8)>,
) -> Result<()> {
    for (name, bind, visibility) in subprograms {
        if bind == STB_LOCAL || visibility == STV_DEFAULT {
            continue;
        }
        // Names and linkages are read from the records: no func is decoded to be found.
        let func = btf.ids_of_kind(Kind::Func).find(|&id| {
            btf.type_name(id).is_ok_and(|n| n == name)
                && btf.func_linkage(id).is_ok_and(|l| l == FuncLinkage::Global)
        });
        if let Some(id) = func {
            btf.set_func_linkage(id, FuncLinkage::Static)
                .map_err(|source| Error::Btf {
                    section: ".BTF".into(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// The exception callback of each program that names exactly one: program → callback,
/// from the BTF decl tags `exception_callback:NAME` on a global `FUNC`. A program that
/// names several gets none (the verifier refuses it), as in libbpf.
pub(crate) fn exception_callbacks(btf: &Spec) -> BTreeMap<String, String> {
    const PREFIX: &str = "exception_callback:";
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in btf.ids_of_kind(Kind::DeclTag) {
        // Most objects tag many things, few with a callback: the value is read undecoded.
        if !btf.type_name(id).is_ok_and(|v| v.starts_with(PREFIX)) {
            continue;
        }
        let Ok(Type::DeclTag(tag)) = btf.type_by_id(id) else {
            continue;
        };
        let Some(callback) = tag.value.strip_prefix(PREFIX) else {
            continue;
        };
        if tag.component_idx != -1 || callback.is_empty() {
            continue;
        }
        if let Ok(Type::Func(f)) = btf.type_by_id(tag.target) {
            if f.linkage == FuncLinkage::Global {
                found
                    .entry(f.name.clone())
                    .or_default()
                    .push(callback.to_owned());
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(prog, mut cbs)| (cbs.len() == 1).then(|| (prog, cbs.remove(0))))
        .collect()
}

/// The instructions of `program` followed by every function it needs.
#[cfg(test)]
pub(crate) fn link_program(
    program: &Function<'_>,
    functions: &BTreeMap<&str, Function<'_>>,
    exception_cb: Option<&str>,
) -> Result<Instructions> {
    let mut out = program.insns.clone();
    out.0
        .extend(link_subprograms(program, functions, exception_cb)?);
    Ok(out)
}

/// Copies of every function `program` needs, transitively, in order of first use, then its
/// exception callback `exception_cb` (a `.text` function nothing calls) and what that needs,
/// unless already linked (the program's own instructions are not included, so callers can
/// move them instead).
pub(crate) fn link_subprograms<'a>(
    program: &'a Function<'a>,
    functions: &'a BTreeMap<&'a str, Function<'a>>,
    exception_cb: Option<&'a str>,
) -> Result<Vec<Instruction>> {
    /// Queues the functions `f` calls or takes the address of that are not linked or queued
    /// yet, in order of first use (`Instructions::function_references`, from the calls
    /// found when the section was read instead of a look at every instruction).
    fn enqueue<'a>(f: &'a Function<'a>, linked: &[&'a str], queue: &mut VecDeque<&'a str>) {
        let refs = f
            .calls
            .iter()
            .filter_map(|&i| f.insns.get(i as usize)?.reference());
        for r in refs {
            if !linked.contains(&r) && !queue.contains(&r) {
                queue.push_back(r);
            }
        }
    }
    let mut out = Vec::new();
    if program.calls.is_empty() && exception_cb.is_none() {
        // Most programs of a file call nothing: no work lists to allocate.
        return Ok(out);
    }
    let mut linked: Vec<&str> = vec![program.name];
    let mut queue: VecDeque<&str> = VecDeque::new();
    enqueue(program, &linked, &mut queue);
    let mut exception_cb = exception_cb.filter(|cb| {
        functions
            .get(*cb)
            .is_some_and(|f| f.section == crate::elf::TEXT_SECTION)
    });
    loop {
        let Some(name) = queue.pop_front() else {
            // Calls are done: then the exception callback, if nothing called it.
            match exception_cb.take() {
                Some(cb) if !linked.contains(&cb) => queue.push_back(cb),
                Some(_) => {}
                None => break,
            }
            continue;
        };
        let f = functions.get(name).ok_or_else(|| Error::MissingFunction {
            program: program.name.to_owned(),
            function: name.to_owned(),
        })?;
        out.extend(f.insns.iter().cloned());
        linked.push(name);
        enqueue(f, &linked, &mut queue);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ebpf_asm::{Register, call_func, exit, mov64};

    use super::*;
    use crate::elf::STB_GLOBAL;

    fn func<'a>(name: &'a str, calls: &[&str]) -> Function<'a> {
        let mut insns = vec![mov64(Register::R0, 0).with_symbol(name)];
        insns.extend(calls.iter().map(|c| call_func(*c)));
        insns.push(exit());
        Function {
            name,
            section: ".text",
            bind: STB_GLOBAL,
            visibility: crate::elf::STV_DEFAULT,
            insns: Instructions(insns),
            calls: (1..=calls.len() as u32).collect(),
        }
    }

    #[test]
    fn transitive_once_each_in_first_use_order() {
        let funcs: BTreeMap<&str, Function<'_>> = [
            func("a", &["b", "c"]),
            func("b", &["c", "a"]),
            func("c", &["c"]),
            func("unused", &[]),
        ]
        .into_iter()
        .map(|f| (f.name, f))
        .collect();
        let p = func("prog", &["a"]);
        let linked = link_program(&p, &funcs, None).expect("link");
        let syms: Vec<_> = linked.iter().filter_map(|i| i.symbol()).collect();
        assert_eq!(syms, ["prog", "a", "b", "c"]);
        // A recursive program links nothing extra.
        let rec = func("rec", &["rec"]);
        assert_eq!(link_program(&rec, &funcs, None).expect("link").len(), 3);
    }

    #[test]
    fn the_exception_callback_comes_last_with_its_callees() {
        let funcs: BTreeMap<&str, Function<'_>> = [
            func("a", &[]),
            func("cb", &["helper", "a"]),
            func("helper", &[]),
        ]
        .into_iter()
        .map(|f| (f.name, f))
        .collect();
        let p = func("prog", &["a"]);
        let syms = |insns: Instructions| {
            insns
                .iter()
                .filter_map(|i| i.symbol().map(str::to_owned))
                .collect::<Vec<_>>()
        };
        let linked = link_program(&p, &funcs, Some("cb")).expect("link");
        assert_eq!(syms(linked), ["prog", "a", "cb", "helper"]);
        // Already called: linked once, where the call put it.
        let calls_cb = func("prog", &["cb"]);
        let linked = link_program(&calls_cb, &funcs, Some("cb")).expect("link");
        assert_eq!(syms(linked), ["prog", "cb", "helper", "a"]);
        // A callback that is not a .text function is left to the verifier to refuse.
        let linked = link_program(&p, &funcs, Some("nowhere")).expect("link");
        assert_eq!(syms(linked), ["prog", "a"]);
    }

    #[test]
    fn missing_function() {
        let p = func("prog", &["nowhere"]);
        let err = link_program(&p, &BTreeMap::new(), None).expect_err("error");
        assert_eq!(
            err.to_string(),
            "program 'prog': function 'nowhere' not found"
        );
    }
}
