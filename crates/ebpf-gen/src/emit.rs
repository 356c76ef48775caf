//! The text of generated type definitions, at module level 1 (inside the
//! generated module), laid out as rustfmt would.

use crate::fmt::{assert_eq_line, call, const_self, doc, fn_sig, ind};

/// The derives of every struct; `Eq` is added when no float is inside.
const DERIVES: &str = "Clone, Copy, Debug, PartialEq";
const ZEROCOPY: &str = "FromBytes, IntoBytes, Immutable, KnownLayout";
/// Points zerocopy's derives at the crate re-exported by `ebpf`.
const ZEROCOPY_CRATE: &str = "#[zerocopy(crate = \"::ebpf::zerocopy\")]";

/// Module level of type definitions.
const L: usize = 1;

/// How much each type gets besides its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `Debug`/`PartialEq`, zerocopy's derives, `Default`, typed union
    /// accessors, and an assertion of the size and of every field's offset.
    Full,
    /// `Clone`/`Copy` and one size assertion: cheap to compile for thousands
    /// of types. The size assertion alone proves every offset: the fields
    /// are declared in order with all padding explicit, so the size equals
    /// the sum of the fields' sizes only if Rust inserted no padding anywhere.
    Plain,
}

/// One field of a struct.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: String,
    pub ty: String,
    pub doc: String,
    pub offset: u32,
    pub align: u32,
}

impl Field {
    /// `len` bytes of padding at `offset`.
    pub(crate) fn padding(name: String, offset: u32, len: u32) -> Field {
        Field {
            name,
            ty: format!("[u8; {len}]"),
            doc: String::new(),
            offset,
            align: 1,
        }
    }
}

/// A getter/setter pair over bitfield bits.
#[derive(Debug)]
pub(crate) struct BitfieldAccessor {
    pub getter: String,
    pub setter: String,
    /// The storage field.
    pub storage: String,
    /// First bit in the storage (in the object's bit numbering).
    pub bit: u64,
    pub width: u32,
    /// The value type.
    pub ret: String,
    pub signed: bool,
    /// For enums: the newtype's integer.
    pub enum_repr: Option<&'static str>,
    pub big_endian: bool,
    pub doc: String,
    /// The storage is a union's `raw` array (read through `as_bytes`).
    pub in_union: bool,
}

/// A generated method (group).
#[derive(Debug)]
pub(crate) enum Method {
    Bitfield(BitfieldAccessor),
    /// `field_bytes()` (up to the first NUL) and `field_str()` (lossy UTF-8).
    CharArray {
        field: String,
        bytes: String,
        string: String,
    },
    /// A union member read and written by copy.
    UnionMember {
        getter: String,
        setter: String,
        ty: String,
        offset: u32,
        doc: String,
    },
}

/// A struct to write.
#[derive(Debug)]
pub(crate) struct StructDef {
    pub name: String,
    pub c: String,
    pub size: u32,
    pub fields: Vec<Field>,
    pub methods: Vec<Method>,
    pub packed: bool,
    pub eq: bool,
    pub style: Style,
}

impl StructDef {
    pub(crate) fn new(name: &str, c: &str, size: u32) -> Self {
        StructDef {
            name: name.to_owned(),
            c: c.to_owned(),
            size,
            fields: Vec::new(),
            methods: Vec::new(),
            packed: false,
            eq: true,
            style: Style::Full,
        }
    }
}

fn header(out: &mut String, doc_text: &str, repr: &str, eq: bool, style: Style) {
    doc(out, L, doc_text);
    out.push_str(&format!("{}#[repr({repr})]\n", ind(L)));
    if style == Style::Plain {
        out.push_str(&format!("{}#[derive(Clone, Copy)]\n", ind(L)));
        return;
    }
    let eq = if eq { ", Eq" } else { "" };
    out.push_str(&format!("{}#[derive({DERIVES}{eq}, {ZEROCOPY})]\n", ind(L)));
    out.push_str(&format!("{}{ZEROCOPY_CRATE}\n", ind(L)));
}

fn default_impl(out: &mut String, name: &str) {
    let i = ind(L);
    out.push_str(&format!(
        "\n{i}impl Default for {name} {{\n{i}    fn default() -> Self {{\n{i}        FromZeros::new_zeroed()\n{i}    }}\n{i}}}\n"
    ));
}

/// The size and offset assertions of `name`.
fn assertions(out: &mut String, name: &str, size: u32, fields: &[(&str, u32)]) {
    let i = ind(L);
    out.push_str(&format!("\n{i}const _: () = {{\n"));
    let uses = if fields.is_empty() {
        "use ::core::mem::size_of;"
    } else {
        "use ::core::mem::{offset_of, size_of};"
    };
    out.push_str(&format!("{}{uses}\n", ind(L + 1)));
    // A long type name would push assertions past the line width: alias it.
    let longest = fields.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    let t = if name.len() + longest > 40 {
        out.push_str(&format!("{}type T = {name};\n", ind(L + 1)));
        "T"
    } else {
        name
    };
    assert_eq_line(out, L + 1, &format!("size_of::<{t}>()"), u64::from(size));
    for (f, off) in fields {
        assert_eq_line(
            out,
            L + 1,
            &format!("offset_of!({t}, {f})"),
            u64::from(*off),
        );
    }
    out.push_str(&format!("{i}}};\n"));
}

/// A struct with its `Default`, accessors and layout assertions.
pub(crate) fn structure(def: &StructDef) -> String {
    let mut out = String::new();
    let mut text = format!("`{}` ({} bytes).", def.c, def.size);
    if def.packed {
        text.push_str("\n\nPacked: C places members where Rust's alignment would not.");
    }
    let repr = if def.packed { "C, packed" } else { "C" };
    header(&mut out, &text, repr, def.eq, def.style);
    if def.fields.is_empty() {
        out.push_str(&format!("{}pub struct {} {{}}\n", ind(L), def.name));
    } else {
        out.push_str(&format!("{}pub struct {} {{\n", ind(L), def.name));
        for f in &def.fields {
            doc(&mut out, L + 1, &f.doc);
            out.push_str(&format!("{}pub {}: {},\n", ind(L + 1), f.name, f.ty));
        }
        out.push_str(&format!("{}}}\n", ind(L)));
    }
    if def.style == Style::Full {
        default_impl(&mut out, &def.name);
    }
    methods(&mut out, &def.name, &def.methods);
    let fields: Vec<(&str, u32)> = match def.style {
        Style::Full => def
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.offset))
            .collect(),
        Style::Plain => Vec::new(),
    };
    assertions(&mut out, &def.name, def.size, &fields);
    out
}

fn methods(out: &mut String, name: &str, methods: &[Method]) {
    if methods.is_empty() {
        return;
    }
    let (i1, i2) = (L + 1, L + 2);
    out.push_str(&format!("\n{}impl {name} {{\n", ind(L)));
    for (n, m) in methods.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        match m {
            Method::Bitfield(b) => bitfield(out, b),
            Method::CharArray {
                field,
                bytes,
                string,
            } => {
                doc(out, i1, &format!("`{field}` up to its first NUL byte."));
                fn_sig(out, i1, &format!("pub fn {bytes}"), &["&self"], "&[u8]");
                call(
                    out,
                    i2,
                    "::ebpf::codegen::c_str",
                    &[format!("&self.{field}")],
                    "",
                );
                out.push_str(&format!("{}}}\n\n", ind(i1)));
                doc(
                    out,
                    i1,
                    &format!(
                        "`{field}` up to its first NUL byte, as UTF-8 (invalid sequences replaced)."
                    ),
                );
                fn_sig(
                    out,
                    i1,
                    &format!("pub fn {string}"),
                    &["&self"],
                    "::std::borrow::Cow<'_, str>",
                );
                call(
                    out,
                    i2,
                    "::std::string::String::from_utf8_lossy",
                    &[format!("self.{bytes}()")],
                    "",
                );
                out.push_str(&format!("{}}}\n", ind(i1)));
            }
            Method::UnionMember {
                getter,
                setter,
                ty,
                offset,
                doc: d,
            } => {
                doc(out, i1, d);
                fn_sig(out, i1, &format!("pub fn {getter}"), &["&self"], ty);
                call(
                    out,
                    i2,
                    "::ebpf::codegen::read_at",
                    &["self.raw.as_bytes()".into(), offset.to_string()],
                    "",
                );
                out.push_str(&format!("{}}}\n\n", ind(i1)));
                doc(out, i1, &format!("Sets {d}."));
                let p = format!("value: {ty}");
                fn_sig(out, i1, &format!("pub fn {setter}"), &["&mut self", &p], "");
                call(
                    out,
                    i2,
                    "::ebpf::codegen::write_at",
                    &[
                        "self.raw.as_mut_bytes()".into(),
                        offset.to_string(),
                        "&value".into(),
                    ],
                    ";",
                );
                out.push_str(&format!("{}}}\n", ind(i1)));
            }
        }
    }
    out.push_str(&format!("{}}}\n", ind(L)));
}

fn bitfield(out: &mut String, b: &BitfieldAccessor) {
    let (i1, i2) = (L + 1, L + 2);
    let order = if b.big_endian { "be" } else { "le" };
    let storage = if b.in_union {
        format!("self.{}.as_bytes()", b.storage)
    } else {
        format!("&self.{}", b.storage)
    };
    let storage_mut = if b.in_union {
        format!("self.{}.as_mut_bytes()", b.storage)
    } else {
        format!("&mut self.{}", b.storage)
    };
    let bits = format!("bits {}..{}", b.bit, b.bit + u64::from(b.width));
    doc(out, i1, &format!("{} ({bits} of `{}`).", b.doc, b.storage));
    fn_sig(out, i1, &format!("pub fn {}", b.getter), &["&self"], &b.ret);
    let get = if b.signed {
        "bitfield_get_signed"
    } else {
        "bitfield_get"
    };
    let args = [storage, b.bit.to_string(), b.width.to_string()];
    let (head, tail) = match b.enum_repr {
        Some(repr) => (
            format!("{}(::ebpf::codegen::{get}_{order}", b.ret),
            format!(" as {repr})"),
        ),
        None => (
            format!("::ebpf::codegen::{get}_{order}"),
            format!(" as {}", b.ret),
        ),
    };
    if let Some(repr) = b.enum_repr {
        // `Name(get(...) as repr)`: the call is the newtype's argument.
        let inner_args = args.join(", ");
        let one = format!("{}{}({}){tail}", ind(i2), head, inner_args);
        if one.len() <= crate::fmt::MAX_WIDTH && inner_args.len() <= 60 {
            out.push_str(&one);
            out.push('\n');
        } else {
            out.push_str(&format!("{}{}(\n", ind(i2), b.ret));
            call(
                out,
                i2 + 1,
                &format!("::ebpf::codegen::{get}_{order}"),
                &args,
                &format!(" as {repr}"),
            );
            out.push_str(&format!("{})\n", ind(i2)));
        }
    } else {
        call(out, i2, &head, &args, &tail);
    }
    out.push_str(&format!("{}}}\n\n", ind(i1)));
    doc(
        out,
        i1,
        &format!("Sets {} ({bits} of `{}`).", b.doc, b.storage),
    );
    let p = format!("value: {}", b.ret);
    fn_sig(
        out,
        i1,
        &format!("pub fn {}", b.setter),
        &["&mut self", &p],
        "",
    );
    let value = match b.enum_repr {
        Some(_) => "value.0 as u64".to_owned(),
        None => "value as u64".to_owned(),
    };
    call(
        out,
        i2,
        &format!("::ebpf::codegen::bitfield_set_{order}"),
        &[storage_mut, b.bit.to_string(), b.width.to_string(), value],
        ";",
    );
    out.push_str(&format!("{}}}\n", ind(i1)));
}

/// A union: storage of its size and alignment, and an accessor pair per member.
pub(crate) fn union(
    name: &str,
    c: &str,
    size: u32,
    storage: &str,
    members: &[Method],
    style: Style,
    without_accessor: usize,
) -> String {
    let mut out = String::new();
    let mut text = format!("`{c}` ({size} bytes): read and write its members with the methods.");
    if without_accessor > 0 {
        text.push_str(&format!(
            "\n\nIts members of aggregate type ({without_accessor}) have no accessor in the plain \
             style: their\nbytes are in `raw` (generate the union with `--type` for an accessor \
             per member)."
        ));
    }
    header(&mut out, &text, "C", true, style);
    out.push_str(&format!("{}pub struct {name} {{\n", ind(L)));
    doc(&mut out, L + 1, "The union's bytes.");
    out.push_str(&format!("{}pub raw: {storage},\n", ind(L + 1)));
    out.push_str(&format!("{}}}\n", ind(L)));
    if style == Style::Full {
        default_impl(&mut out, name);
    }
    methods(&mut out, name, members);
    assertions(&mut out, name, size, &[]);
    out
}

/// An enum as an open newtype: any value the kernel writes is valid.
/// `values`: (Rust name, C name, literal) of each enumerator.
pub(crate) fn enumeration(
    name: &str,
    c: &str,
    repr: &str,
    values: &[(String, String, String)],
    style: Style,
) -> String {
    let mut out = String::new();
    let (i, i1, i2, i3) = (ind(L), L + 1, L + 2, L + 3);
    doc(
        &mut out,
        L,
        &format!("`{c}`: its enumerators are associated constants; other values are valid too."),
    );
    out.push_str(&format!("{i}#[repr(transparent)]\n"));
    // Too long for one line: rustfmt's layout.
    match style {
        Style::Full => {
            out.push_str(&format!(
                "{i}#[derive(\n{i}    Clone, Copy, Default, PartialEq, Eq, Hash, {ZEROCOPY},\n{i})]\n"
            ));
            out.push_str(&format!("{i}{ZEROCOPY_CRATE}\n"));
        }
        Style::Plain => {
            out.push_str(&format!(
                "{i}#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]\n"
            ));
        }
    }
    out.push_str(&format!("{i}pub struct {name}(pub {repr});\n\n"));
    out.push_str(&format!("{i}impl {name} {{\n"));
    for (n, cn, v) in values {
        doc(&mut out, i1, &format!("`{cn}`"));
        const_self(&mut out, i1, n, v);
    }
    if !values.is_empty() {
        out.push('\n');
    }
    doc(
        &mut out,
        i1,
        "The name of this value's enumerator, if it has one.",
    );
    fn_sig(
        &mut out,
        i1,
        "pub fn name",
        &["self"],
        "Option<&'static str>",
    );
    let mut seen = std::collections::HashSet::new();
    let arms: Vec<&(String, String, String)> = values
        .iter()
        .filter(|(_, _, v)| seen.insert(v.clone()))
        .collect();
    if arms.is_empty() {
        out.push_str(&format!("{}None\n", ind(i2)));
    } else {
        out.push_str(&format!("{}Some(match self.0 {{\n", ind(i2)));
        for (_, cn, v) in arms {
            out.push_str(&format!("{}{v} => \"{cn}\",\n", ind(i3)));
        }
        out.push_str(&format!("{}_ => return None,\n", ind(i3)));
        out.push_str(&format!("{}}})\n", ind(i2)));
    }
    out.push_str(&format!("{}}}\n{i}}}\n\n", ind(i1)));
    out.push_str(&format!("{i}impl ::core::fmt::Debug for {name} {{\n"));
    out.push_str(&format!(
        "{}fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{\n",
        ind(i1)
    ));
    out.push_str(&format!("{}match self.name() {{\n", ind(i2)));
    out.push_str(&format!("{}Some(name) => f.write_str(name),\n", ind(i3)));
    out.push_str(&format!(
        "{}None => write!(f, \"{name}({{}})\", self.0),\n",
        ind(i3)
    ));
    out.push_str(&format!("{}}}\n{}}}\n{i}}}\n", ind(i2), ind(i1)));
    out
}

/// A type kept as bytes, with the reason.
pub(crate) fn opaque(name: &str, c: &str, size: u32, reason: &str, style: Style) -> String {
    let mut out = String::new();
    header(
        &mut out,
        &format!("`{c}` ({size} bytes), kept as bytes: {reason}."),
        "C",
        true,
        style,
    );
    out.push_str(&format!("{}pub struct {name} {{\n", ind(L)));
    doc(&mut out, L + 1, "The value's bytes.");
    out.push_str(&format!("{}pub bytes: [u8; {size}],\n", ind(L + 1)));
    out.push_str(&format!("{}}}\n", ind(L)));
    let fields: &[(&str, u32)] = match style {
        Style::Full => {
            default_impl(&mut out, name);
            &[("bytes", 0)]
        }
        Style::Plain => &[],
    };
    assertions(&mut out, name, size, fields);
    out
}
