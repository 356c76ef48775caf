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

use ebpf_btf::{FuncLinkage, Kind, Spec, Type};

use crate::deferred::{FunctionCode, FunctionName};
use crate::elf::{ElfFile, STB_LOCAL, STT_FUNC, STV_DEFAULT};
use crate::error::{Error, Result};
use crate::relocate::CodeSection;

/// One function of a code section, its instructions not decoded.
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
    /// Where its instructions are (see `ProgramCode`).
    pub code: FunctionCode,
    /// The functions it calls or takes the address of, in order (with repeats).
    pub callees: Vec<&'e str>,
}

/// An object's functions, sorted by name and found by binary search: one allocation for
/// all of them, where a map allocates its nodes.
#[derive(Debug, Default)]
pub(crate) struct Functions<'e>(Vec<Function<'e>>);

impl<'e> Functions<'e> {
    /// The functions of `all` (in section order). A name taken twice is an error naming
    /// the section of its second function, for the first such function in section order.
    pub fn new(mut all: Vec<Function<'e>>) -> Result<Self> {
        // Stable: functions of one name stay in section order.
        all.sort_by(|a, b| a.name.cmp(b.name));
        let place = |f: &Function<'_>| (f.code.section, f.code.start);
        let second = all
            .windows(2)
            .filter(|w| w[0].name == w[1].name)
            .map(|w| &w[1])
            .min_by_key(|f| place(f));
        if let Some(f) = second {
            return Err(Error::DuplicateFunction {
                section: f.section.to_owned(),
                function: f.name.to_owned(),
            });
        }
        Ok(Functions(all))
    }

    /// The function named `name`.
    pub fn get(&self, name: &str) -> Option<&Function<'e>> {
        let i = self.0.binary_search_by(|f| f.name.cmp(name)).ok()?;
        self.0.get(i)
    }

    /// The programs: the functions outside `.text`, in file order (section, then offset).
    pub fn programs(&self) -> Vec<&Function<'e>> {
        let mut out: Vec<_> = self
            .0
            .iter()
            .filter(|f| f.section != crate::elf::TEXT_SECTION)
            .collect();
        out.sort_unstable_by_key(|f| (f.code.section, f.code.start));
        out
    }

    /// All functions, by name.
    pub fn iter(&self) -> std::slice::Iter<'_, Function<'e>> {
        self.0.iter()
    }

    /// All functions, by name, to edit.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Function<'e>> {
        self.0.iter_mut()
    }
}

/// Splits a read, relocated section into its functions: each `STT_FUNC` symbol covers
/// `st_size` bytes from `st_value` (to the next function symbol when its size is 0).
/// Instructions no function covers are dropped with their `.BTF.ext` records: libbpf's
/// static linker leaves the code of a weak function that a strong one overrode in place,
/// without a symbol. `section` numbers the section in the object's `ObjectCode`.
pub(crate) fn split_functions<'e>(
    elf: &'e ElfFile<'_>,
    code: &CodeSection<'e>,
    section: u32,
) -> Result<Vec<Function<'e>>> {
    // Sized for all the section's symbols: one allocation, not a few as it grows.
    let in_section = elf.symbols_in(code.index);
    let mut syms = Vec::with_capacity(in_section.len());
    syms.extend(in_section.iter().filter(|s| s.kind == STT_FUNC));
    syms.dedup_by_key(|s| s.value);
    if code.slots.instructions() == 0 {
        return Ok(Vec::new());
    }
    if syms.is_empty() {
        return Err(Error::BadSection {
            section: code.name.to_owned(),
            reason: "code without a function symbol".into(),
        });
    }
    let section_len = code.slots.instructions();
    let mut out: Vec<Function<'e>> = Vec::with_capacity(syms.len());
    let mut calls = code.calls.iter().peekable();
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
        let prev_end = out
            .last()
            .map(|f| f.code.start as usize + f.code.len as usize);
        if end <= start || prev_end.is_some_and(|prev_end| start < prev_end) {
            return Err(bad(format!(
                "offset {} size {} overlaps another function",
                s.value, s.size
            )));
        }
        // Sections are far smaller than 4 GiB (indexes and offsets fit in `u32`).
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let mut callees = Vec::new();
        while let Some(&&(i, name)) = calls.peek() {
            if i as usize >= end {
                break;
            }
            if i as usize >= start {
                callees.push(name);
            }
            calls.next();
        }
        out.push(Function {
            name: elf.function_name(code.index, s.value).unwrap_or(s.name),
            section: code.name,
            bind: s.bind,
            visibility: s.visibility,
            code: FunctionCode {
                section,
                start: narrow(start as u64),
                len: narrow((end - start) as u64),
                start_off: narrow(s.value),
                end_off: narrow(end_offset),
                name: FunctionName::default(),
            },
            callees,
        });
    }
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
        if !btf.name_starts_with(id, PREFIX) {
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

/// Every function `program` needs, transitively, in order of first use, then its exception
/// callback `exception_cb` (a `.text` function nothing calls) and what that needs, unless
/// already linked (the program itself is not included).
pub(crate) fn link_subprograms<'a>(
    program: &'a Function<'a>,
    functions: &'a Functions<'a>,
    exception_cb: Option<&'a str>,
) -> Result<Vec<&'a Function<'a>>> {
    /// Queues the functions `f` calls or takes the address of that are not linked or queued
    /// yet, in order of first use.
    fn enqueue<'a>(f: &Function<'a>, linked: &[&'a str], queue: &mut VecDeque<&'a str>) {
        for &r in &f.callees {
            if !linked.contains(&r) && !queue.contains(&r) {
                queue.push_back(r);
            }
        }
    }
    let mut out = Vec::new();
    if program.callees.is_empty() && exception_cb.is_none() {
        // Most programs of a file call nothing: no work lists to allocate.
        return Ok(out);
    }
    let mut linked: Vec<&str> = vec![program.name];
    let mut queue: VecDeque<&str> = VecDeque::new();
    enqueue(program, &linked, &mut queue);
    let mut exception_cb = exception_cb.filter(|cb| {
        functions
            .get(cb)
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
        out.push(f);
        linked.push(name);
        enqueue(f, &linked, &mut queue);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::STB_GLOBAL;

    fn func<'a>(name: &'a str, calls: &[&'a str]) -> Function<'a> {
        Function {
            name,
            section: ".text",
            bind: STB_GLOBAL,
            visibility: crate::elf::STV_DEFAULT,
            code: FunctionCode::default(),
            callees: calls.to_vec(),
        }
    }

    /// The names of `program` and the functions linked after it.
    fn link_program<'a>(
        program: &'a Function<'a>,
        functions: &'a Functions<'a>,
        exception_cb: Option<&'a str>,
    ) -> Result<Vec<&'a str>> {
        let mut out = vec![program.name];
        out.extend(
            link_subprograms(program, functions, exception_cb)?
                .into_iter()
                .map(|f| f.name),
        );
        Ok(out)
    }

    #[test]
    fn transitive_once_each_in_first_use_order() {
        let funcs = Functions::new(vec![
            func("a", &["b", "c"]),
            func("b", &["c", "a"]),
            func("c", &["c"]),
            func("unused", &[]),
        ])
        .expect("distinct names");
        let p = func("prog", &["a"]);
        let syms = link_program(&p, &funcs, None).expect("link");
        assert_eq!(syms, ["prog", "a", "b", "c"]);
        // A recursive program links nothing extra.
        let rec = func("rec", &["rec"]);
        assert_eq!(link_program(&rec, &funcs, None).expect("link"), ["rec"]);
    }

    #[test]
    fn the_exception_callback_comes_last_with_its_callees() {
        let funcs = Functions::new(vec![
            func("a", &[]),
            func("cb", &["helper", "a"]),
            func("helper", &[]),
        ])
        .expect("distinct names");
        let p = func("prog", &["a"]);
        let linked = link_program(&p, &funcs, Some("cb")).expect("link");
        assert_eq!(linked, ["prog", "a", "cb", "helper"]);
        // Already called: linked once, where the call put it.
        let calls_cb = func("prog", &["cb"]);
        let linked = link_program(&calls_cb, &funcs, Some("cb")).expect("link");
        assert_eq!(linked, ["prog", "cb", "helper", "a"]);
        // A callback that is not a .text function is left to the verifier to refuse.
        let linked = link_program(&p, &funcs, Some("nowhere")).expect("link");
        assert_eq!(linked, ["prog", "a"]);
    }

    #[test]
    fn functions_are_found_by_name_and_a_repeat_is_reported_in_section_order() {
        let at = |name, section, number, start| {
            let mut f = func(name, &[]);
            f.section = section;
            f.code.section = number;
            f.code.start = start;
            f
        };
        let ok = Functions::new(vec![
            at("z", "s0", 0, 0),
            at("a", "s0", 0, 2),
            at("helper", ".text", 1, 0),
            at("b", "s2", 2, 0),
        ])
        .expect("ok");
        assert_eq!(
            ok.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["a", "b", "helper", "z"]
        );
        // Programs in file order, without .text's functions.
        assert_eq!(
            ok.programs().iter().map(|f| f.name).collect::<Vec<_>>(),
            ["z", "a", "b"]
        );
        assert_eq!(ok.get("z").map(|f| f.code.start), Some(0));
        assert!(ok.get("q").is_none());
        // "a" repeats at (1, 4) and "b" at (1, 0): b's repeat comes first in the file.
        let err = Functions::new(vec![
            at("a", "s0", 0, 0),
            at("b", "s0", 0, 2),
            at("b", "s1", 1, 0),
            at("a", "s1", 1, 4),
        ])
        .expect_err("a repeat");
        assert!(
            matches!(&err, Error::DuplicateFunction { section, function } if section == "s1" && function == "b"),
            "{err}"
        );
    }

    #[test]
    fn missing_function() {
        let p = func("prog", &["nowhere"]);
        let err = link_program(&p, &Functions::default(), None).expect_err("error");
        assert_eq!(
            err.to_string(),
            "program 'prog': function 'nowhere' not found"
        );
    }
}
