//! Rust names for C names: types in `UpperCamelCase` (leading underscores kept,
//! so `__sk_buff` and `sk_buff` stay apart), fields and methods as in C with
//! Rust keywords given a trailing underscore (`type` → `type_`), and every
//! collision resolved by a numeric suffix in the order names are claimed,
//! which is the order of the BTF: the same object always gives the same names.

use std::collections::HashSet;

/// Rust keywords (strict, reserved and edition-dependent) and names that
/// cannot be raw identifiers.
const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Type names the generated code uses itself, which BTF types may not take.
pub(crate) const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Box",
    "Vec",
    "String",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "FromBytes",
    "FromZeros",
    "IntoBytes",
    "Immutable",
    "KnownLayout",
    "Self",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
    "usize",
    "isize",
];

/// `name` as a field, method or constant name: unchanged unless it is a Rust
/// keyword, which gets a trailing underscore.
pub(crate) fn value_name(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}

/// `name` in `UpperCamelCase`, keeping leading underscores: `task_struct` →
/// `TaskStruct`, `__sk_buff` → `__SkBuff`, `.data.foo` → `DataFoo`.
pub(crate) fn camel(name: &str) -> String {
    let lead = name.len() - name.trim_start_matches('_').len();
    let mut out = String::with_capacity(name.len());
    out.push_str(&name[..lead]);
    for part in name[lead..].split(['_', '.', '-']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() || out.chars().all(|c| c == '_') {
        out.push_str("Anon");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `name` in `snake_case` for a field or method built from a C name that may
/// hold dots (`.rodata.cfg` → `rodata_cfg`).
pub(crate) fn snake(name: &str) -> String {
    let s: String = name
        .trim_start_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("_{s}")
    } else {
        s
    };
    value_name(&s)
}

/// A namespace: each name handed out once, collisions suffixed `2`, `3`, ...
#[derive(Debug, Default)]
pub(crate) struct Namespace {
    used: HashSet<String>,
}

impl Namespace {
    /// A namespace in which `reserved` are already taken.
    pub(crate) fn with_reserved(reserved: &[&str]) -> Self {
        Namespace {
            used: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// `base` if free, else the first free `base2`, `base3`, ... (`base_2` when
    /// `base` ends in a digit).
    pub(crate) fn claim(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let sep = if base.ends_with(|c: char| c.is_ascii_digit()) || base.ends_with('_') {
            "_"
        } else {
            ""
        };
        let base = base.trim_end_matches('_');
        for n in 2.. {
            let candidate = format!("{base}{sep}{n}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded range always yields a free name")
    }

    /// Marks `name` as taken.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("task_struct"), "TaskStruct");
        assert_eq!(camel("__sk_buff"), "__SkBuff");
        assert_eq!(camel(".data.foo"), "DataFoo");
        assert_eq!(camel(".rodata"), "Rodata");
        assert_eq!(camel("XDP_md"), "XDPMd");
        assert_eq!(value_name("type"), "type_");
        assert_eq!(value_name("pid"), "pid");
        assert_eq!(snake(".rodata.cfg"), "rodata_cfg");
        let mut ns = Namespace::with_reserved(RESERVED_TYPES);
        assert_eq!(ns.claim("Event"), "Event");
        assert_eq!(ns.claim("Event"), "Event2");
        assert_eq!(ns.claim("Option"), "Option2");
        assert_eq!(ns.claim("Ipv4"), "Ipv4");
        assert_eq!(ns.claim("Ipv4"), "Ipv4_2");
        assert_eq!(ns.claim("type_"), "type_");
        assert_eq!(ns.claim("type_"), "type_2");
    }
}
