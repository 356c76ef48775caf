//! C header output, equivalent to `bpftool btf dump file F format c` (libbpf's btf_dump):
//! types in dependency order with forward declarations where a pointer breaks a cycle,
//! anonymous types inlined, bitfields and explicit padding, `__attribute__((packed))`
//! detection, enums (with `mode` attributes for odd sizes), function prototypes as
//! typedef'd function pointers, and the `preserve_access_index` pragma wrapper.
//!
//! ```
//! use ebpf_btf::{Builder, Int, IntEncoding, Member, Spec, Struct, Type};
//! let mut b = Builder::new();
//! let int = b.add(Type::Int(Int { name: "int".into(), size: 4, encoding: IntEncoding::Signed, offset: 0, bits: 32 }));
//! b.add(Type::Struct(Struct { name: "s".into(), size: 4, members: vec![
//!     Member { name: "x".into(), type_id: int, bit_offset: 0, bitfield_size: 0 }] }));
//! let spec = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
//! let mut d = ebpf_btf::format_c::CDumper::new(&spec);
//! d.dump_type(ebpf_btf::TypeId(2)).unwrap();
//! assert_eq!(d.finish(), "struct s {\n\tint x;\n};\n\n");
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::spec::{POINTER_SIZE, Spec};
use crate::types::*;

/// Recursion limit for nested definitions and declarator chains (hostile input).
const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Not,
    Doing,
    Done,
}

#[derive(Clone, Default)]
struct Aux {
    order: State,
    emit: State,
    fwd_emitted: bool,
    referenced: bool,
    name_resolved: bool,
    name: Option<Box<str>>,
}

/// Emits C declarations for the types of a [`Spec`], one top-level type at a time,
/// remembering what was already emitted (like libbpf's `btf_dump`).
#[derive(Debug)]
pub struct CDumper<'a> {
    spec: &'a Spec,
    aux: Vec<Aux>,
    type_names: HashMap<String, usize>,
    ident_names: HashMap<String, usize>,
    queue: Vec<TypeId>,
    out: String,
    max_out: usize,
    align_memo: HashMap<TypeId, Option<u32>>,
    steps: u64,
    max_steps: u64,
}

impl std::fmt::Debug for Aux {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aux")
    }
}

fn pfx(lvl: usize) -> &'static str {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t";
    &TABS[..lvl.min(TABS.len())]
}

fn too_deep(id: TypeId) -> Error {
    Error::TooDeep { id }
}

impl<'a> CDumper<'a> {
    /// A dumper for `spec` (types that fail to decode are reported when reached).
    #[must_use]
    pub fn new(spec: &'a Spec) -> Self {
        let n = spec.next_id().0 as usize;
        let mut aux = vec![Aux::default(); n];
        for id in 1..n as u32 {
            if let Ok(t) = spec.type_by_id(TypeId(id)) {
                t.for_each_ref(|r| {
                    if let Some(a) = aux.get_mut(r.0 as usize) {
                        a.referenced = true;
                    }
                });
            }
        }
        // vmlinux needs ~5 steps and ~25 bytes of output per type; anything far beyond that is
        // an exponential blow-up from hostile input (anonymous types nested by value).
        let max_out = (n * 256).max(1 << 20);
        Self {
            spec,
            aux,
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            queue: Vec::new(),
            out: String::new(),
            max_out,
            align_memo: HashMap::new(),
            steps: 0,
            max_steps: (n as u64 * 16).max(1 << 12),
        }
    }

    /// The text emitted so far.
    #[must_use]
    pub fn finish(self) -> String {
        self.out
    }

    fn ty(&self, id: TypeId) -> Result<&'a Type> {
        self.spec.type_by_id(id)
    }

    fn check_size(&mut self, id: TypeId) -> Result<()> {
        self.steps += 1;
        if self.out.len() > self.max_out || self.steps > self.max_steps {
            return Err(Error::BadType {
                id,
                field: "c output".into(),
                reason: "output too large (anonymous type blow-up?)",
            });
        }
        Ok(())
    }

    /// Emits `id` and, first, everything its definition needs.
    pub fn dump_type(&mut self, id: TypeId) -> Result<()> {
        if id.0 as usize >= self.aux.len() {
            return Err(Error::TypeIdOutOfRange {
                id,
                count: self.aux.len() as u32,
            });
        }
        self.queue.clear();
        self.order(id, false, 0)?;
        let q = std::mem::take(&mut self.queue);
        for &qid in &q {
            self.emit(qid, TypeId::VOID, 0)?;
        }
        self.queue = q;
        Ok(())
    }

    /// Topological ordering; returns whether the type is a "strong" dependency.
    fn order(&mut self, id: TypeId, through_ptr: bool, depth: usize) -> Result<bool> {
        if depth > MAX_DEPTH {
            return Err(too_deep(id));
        }
        self.check_size(id)?;
        if id.0 == 0 {
            return Ok(false);
        }
        let t = self.ty(id)?;
        let i = id.0 as usize;
        match self.aux[i].order {
            State::Not => {}
            State::Doing => {
                if matches!(t, Type::Struct(_) | Type::Union(_))
                    && through_ptr
                    && !t.name().is_empty()
                {
                    return Ok(false);
                }
                return Err(Error::BadType {
                    id,
                    field: "c order".into(),
                    reason: "unsatisfiable type cycle",
                });
            }
            State::Done => return Ok(true),
        }
        Ok(match t {
            Type::Int(_) | Type::Float(_) => {
                self.aux[i].order = State::Done;
                false
            }
            Type::Pointer(p) => {
                let r = self.order(p.target, true, depth + 1)?;
                self.aux[i].order = State::Done;
                r
            }
            Type::Array(a) => self.order(a.elem, false, depth + 1)?,
            Type::Struct(s) | Type::Union(s) => {
                if through_ptr && !s.name.is_empty() {
                    return Ok(false);
                }
                self.aux[i].order = State::Doing;
                for m in &s.members {
                    self.order(m.type_id, false, depth + 1)?;
                }
                if !s.name.is_empty() {
                    self.queue.push(id);
                }
                self.aux[i].order = State::Done;
                true
            }
            Type::Enum(_) | Type::Enum64(_) | Type::Fwd(_) => {
                if !t.name().is_empty() || !self.aux[i].referenced {
                    self.queue.push(id);
                }
                self.aux[i].order = State::Done;
                true
            }
            Type::Typedef(td) => {
                let strong = self.order(td.target, through_ptr, depth + 1)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.queue.push(id);
                self.aux[i].order = State::Done;
                true
            }
            Type::Volatile(q) | Type::Const(q) | Type::Restrict(q) => {
                self.order(q.target, through_ptr, depth + 1)?
            }
            Type::TypeTag(tt) => self.order(tt.target, through_ptr, depth + 1)?,
            Type::FuncProto(p) => {
                let mut strong = self.order(p.ret, through_ptr, depth + 1)?;
                for q in &p.params {
                    strong |= self.order(q.type_id, through_ptr, depth + 1)?;
                }
                strong
            }
            Type::Func(_) | Type::Var(_) | Type::Datasec(_) | Type::DeclTag(_) | Type::Void => {
                self.aux[i].order = State::Done;
                false
            }
        })
    }

    fn emit(&mut self, id: TypeId, cont: TypeId, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep(id));
        }
        self.check_size(id)?;
        let i = id.0 as usize;
        if id.0 == 0 || self.aux[i].emit == State::Done {
            return Ok(());
        }
        let top = cont.0 == 0;
        let t = self.ty(id)?;
        if self.aux[i].emit == State::Doing {
            if self.aux[i].fwd_emitted {
                return Ok(());
            }
            match t {
                Type::Struct(s) | Type::Union(s) => {
                    if id == cont || s.name.is_empty() {
                        return Ok(());
                    }
                    self.struct_fwd(id, t);
                    self.out.push_str(";\n\n");
                    self.aux[i].fwd_emitted = true;
                }
                Type::Typedef(td) => {
                    if !self.blacklisted(td) {
                        self.typedef_def(id, td, 0)?;
                        self.out.push_str(";\n\n");
                    }
                    self.aux[i].fwd_emitted = true;
                }
                _ => {}
            }
            return Ok(());
        }
        match t {
            Type::Int(_) => self.aux[i].emit = State::Done,
            Type::Enum(e) | Type::Enum64(e) => {
                if top {
                    self.enum_def(id, t, e, 0);
                    self.out.push_str(";\n\n");
                }
                self.aux[i].emit = State::Done;
            }
            Type::Pointer(p) => self.emit(p.target, cont, depth + 1)?,
            Type::Volatile(q) | Type::Const(q) | Type::Restrict(q) => {
                self.emit(q.target, cont, depth + 1)?
            }
            Type::TypeTag(tt) => self.emit(tt.target, cont, depth + 1)?,
            Type::Array(a) => self.emit(a.elem, cont, depth + 1)?,
            Type::Fwd(f) => {
                self.fwd_def(id, f);
                self.out.push_str(";\n\n");
                self.aux[i].emit = State::Done;
            }
            Type::Typedef(td) => {
                self.aux[i].emit = State::Doing;
                self.emit(td.target, id, depth + 1)?;
                if !self.aux[i].fwd_emitted && !self.blacklisted(td) {
                    self.typedef_def(id, td, 0)?;
                    self.out.push_str(";\n\n");
                }
                self.aux[i].emit = State::Done;
            }
            Type::Struct(s) | Type::Union(s) => {
                self.aux[i].emit = State::Doing;
                if top || s.name.is_empty() {
                    let new_cont = if s.name.is_empty() { cont } else { id };
                    for m in &s.members {
                        self.emit(m.type_id, new_cont, depth + 1)?;
                    }
                } else if !self.aux[i].fwd_emitted && id != cont {
                    self.struct_fwd(id, t);
                    self.out.push_str(";\n\n");
                    self.aux[i].fwd_emitted = true;
                }
                if top {
                    self.struct_def(id, t, s, 0, depth)?;
                    self.out.push_str(";\n\n");
                    self.aux[i].emit = State::Done;
                } else {
                    self.aux[i].emit = State::Not;
                }
            }
            Type::FuncProto(p) => {
                self.emit(p.ret, cont, depth + 1)?;
                for q in &p.params {
                    self.emit(q.type_id, cont, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn blacklisted(&self, td: &Typedef) -> bool {
        td.name == "__builtin_va_list"
    }

    fn resolve_name(&mut self, id: TypeId, t: &Type, ident: bool) -> String {
        let name = t.name();
        if name.is_empty() {
            return String::new();
        }
        let i = id.0 as usize;
        if self.aux[i].name_resolved {
            return self.aux[i].name.as_deref().unwrap_or(name).to_owned();
        }
        self.aux[i].name_resolved = true;
        if matches!(t, Type::Fwd(_)) || matches!(t, Type::Enum(e) if e.values.is_empty()) {
            return name.to_owned();
        }
        let map = if ident {
            &mut self.ident_names
        } else {
            &mut self.type_names
        };
        let cnt = map.entry(name.to_owned()).or_insert(0);
        *cnt += 1;
        if *cnt > 1 {
            let n = format!("{name}___{cnt}");
            self.aux[i].name = Some(n.clone().into());
            return n;
        }
        name.to_owned()
    }

    fn struct_fwd(&mut self, id: TypeId, t: &Type) {
        let kw = if matches!(t, Type::Union(_)) {
            "union"
        } else {
            "struct"
        };
        let n = self.resolve_name(id, t, false);
        let _ = write!(self.out, "{kw} {n}");
    }

    fn fwd_def(&mut self, id: TypeId, f: &Fwd) {
        let kw = if f.kind == FwdKind::Union {
            "union"
        } else {
            "struct"
        };
        let _ = id;
        let _ = write!(self.out, "{kw} {}", f.name);
    }

    fn typedef_def(&mut self, id: TypeId, td: &Typedef, lvl: usize) -> Result<()> {
        let t = self.ty(id)?;
        let name = self.resolve_name(id, t, true);
        if td.target.0 == 0 && name == "__gnuc_va_list" {
            self.out
                .push_str("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.push_str("typedef ");
        self.type_decl(td.target, &name, lvl, 0)
    }

    fn enum_def(&mut self, id: TypeId, t: &Type, e: &Enum, lvl: usize) {
        let n = self.resolve_name(id, t, false);
        let _ = write!(self.out, "enum{}{n}", if n.is_empty() { "" } else { " " });
        if e.values.is_empty() {
            return;
        }
        self.out.push_str(" {");
        let is64 = matches!(t, Type::Enum64(_));
        for v in &e.values {
            let cnt = {
                let c = self.ident_names.entry(v.name.clone()).or_insert(0);
                *c += 1;
                *c
            };
            let _ = write!(self.out, "\n{}{}", pfx(lvl + 1), v.name);
            if cnt > 1 {
                let _ = write!(self.out, "___{cnt}");
            }
            let _ = match (is64, e.signed) {
                (false, true) => write!(self.out, " = {},", v.value as i64 as i32),
                (false, false) => write!(self.out, " = {},", v.value as u32),
                (true, true) => write!(self.out, " = {}LL,", v.value as i64),
                (true, false) => write!(self.out, " = {}ULL,", v.value),
            };
        }
        let _ = write!(self.out, "\n{}}}", pfx(lvl));
        if e.size == 1 {
            self.out.push_str(" __attribute__((mode(byte)))");
        } else if e.size == 8 && POINTER_SIZE == 8 {
            let needs_word = !is64 || e.values.iter().all(|v| v.value >> 32 == 0);
            if needs_word {
                self.out.push_str(" __attribute__((mode(word)))");
            }
        }
    }

    fn align(&mut self, id: TypeId) -> u32 {
        self.spec
            .alignof_memo(id, &mut self.align_memo)
            .unwrap_or(0)
    }

    fn is_packed(&mut self, s: &Struct) -> bool {
        let mut max_align = 1;
        for m in &s.members {
            let a = self.align(m.type_id);
            if a != 0 && m.bitfield_size == 0 && m.bit_offset % (8 * a) != 0 {
                return true;
            }
            max_align = max_align.max(a);
        }
        s.size % max_align != 0
    }

    fn bit_padding(
        &mut self,
        id: TypeId,
        cur: u64,
        next: u64,
        next_align: u32,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<()> {
        const PADS: [(&str, u64); 4] = [
            ("long", POINTER_SIZE as u64 * 8),
            ("int", 32),
            ("short", 16),
            ("char", 8),
        ];
        let mut cur = cur;
        if cur >= next {
            return Ok(());
        }
        let roundup = |x: u64, y: u64| x.div_ceil(y) * y;
        let (mut pad_type, mut pad_bits) = PADS[3];
        let mut new_off = 0;
        for &(name, bits) in &PADS {
            pad_type = name;
            pad_bits = bits;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            let na = u64::from(next_align.max(1)) * 8;
            if in_bitfield
                || (new_off == next && roundup(cur, na) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                let _ = write!(
                    self.out,
                    "\n{}{pad_type}: {};",
                    pfx(lvl),
                    if in_bitfield { new_off - cur } else { 0 }
                );
            }
            cur = new_off;
        }
        while cur != next {
            if self.out.len() > self.max_out {
                return Err(Error::BadType {
                    id,
                    field: "c output".into(),
                    reason: "output too large (padding)",
                });
            }
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                let _ = write!(self.out, "\n{}{pad_type}: {pad_bits};", pfx(lvl));
                cur += bits;
                continue;
            }
            for &(name, pb) in PADS.iter().rev() {
                pad_type = name;
                pad_bits = pb;
                if pb < bits {
                    continue;
                }
                let _ = write!(self.out, "\n{}{name}: {bits};", pfx(lvl));
                cur += bits;
                break;
            }
        }
        Ok(())
    }

    fn struct_def(
        &mut self,
        id: TypeId,
        t: &Type,
        s: &Struct,
        lvl: usize,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep(id));
        }
        self.check_size(id)?;
        let is_struct = matches!(t, Type::Struct(_));
        let packed = is_struct && self.is_packed(s);
        let align = if packed { 1 } else { self.align(id) };
        let n = self.resolve_name(id, t, false);
        let _ = write!(
            self.out,
            "{}{}{n} {{",
            if is_struct { "struct" } else { "union" },
            if n.is_empty() { "" } else { " " }
        );
        let mut off: u64 = 0;
        let mut prev_bitfield = false;
        for m in &s.members {
            let m_off = u64::from(m.bit_offset);
            let m_align = if packed { 1 } else { self.align(m.type_id) };
            let in_bitfield = prev_bitfield && m.bitfield_size != 0;
            self.bit_padding(id, off, m_off, m_align, in_bitfield, lvl + 1)?;
            let _ = write!(self.out, "\n{}", pfx(lvl + 1));
            self.type_decl(m.type_id, &m.name, lvl + 1, depth + 1)?;
            if m.bitfield_size != 0 {
                let _ = write!(self.out, ": {}", m.bitfield_size);
                off = m_off + u64::from(m.bitfield_size);
                prev_bitfield = true;
            } else {
                let sz = self.spec.sizeof(m.type_id).unwrap_or(0);
                off = m_off + u64::from(sz) * 8;
                prev_bitfield = false;
            }
            self.out.push(';');
        }
        if is_struct {
            self.bit_padding(id, off, u64::from(s.size) * 8, align, false, lvl + 1)?;
        }
        if !s.members.is_empty() || s.size != 0 {
            let _ = write!(self.out, "\n{}}}", pfx(lvl));
        } else {
            self.out.push('}');
        }
        if packed {
            self.out.push_str(" __attribute__((packed))");
        }
        Ok(())
    }

    /// Emits a declaration of `name` with type `id` (C declarator syntax).
    fn type_decl(&mut self, id: TypeId, name: &str, lvl: usize, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep(id));
        }
        self.check_size(id)?;
        let mut stack: Vec<TypeId> = Vec::new();
        let mut cur = id;
        loop {
            if stack.len() > MAX_DEPTH {
                return Err(too_deep(id));
            }
            stack.push(cur);
            if cur.0 == 0 {
                break;
            }
            match self.ty(cur)? {
                Type::Pointer(Pointer { target })
                | Type::Volatile(Qualifier { target })
                | Type::Const(Qualifier { target })
                | Type::Restrict(Qualifier { target })
                | Type::TypeTag(TypeTag { target, .. }) => cur = *target,
                Type::FuncProto(p) => cur = p.ret,
                Type::Array(a) => cur = a.elem,
                _ => break,
            }
        }
        self.type_chain(&mut stack, name, lvl, depth)
    }

    fn emit_mods(&mut self, stack: &mut Vec<TypeId>) -> Result<()> {
        while let Some(&id) = stack.last() {
            let m = match self.ty(id)? {
                Type::Volatile(_) => "volatile ",
                Type::Const(_) => "const ",
                Type::Restrict(_) => "restrict ",
                _ => return Ok(()),
            };
            self.out.push_str(m);
            stack.pop();
        }
        Ok(())
    }

    fn drop_mods(&mut self, stack: &mut Vec<TypeId>) -> Result<()> {
        while let Some(&id) = stack.last() {
            if !self.ty(id)?.is_qualifier() {
                return Ok(());
            }
            stack.pop();
        }
        Ok(())
    }

    fn emit_name(&mut self, name: &str, last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        self.out.push_str(name);
    }

    fn type_chain(
        &mut self,
        stack: &mut Vec<TypeId>,
        fname: &str,
        lvl: usize,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id: stack.first().copied().unwrap_or_default(),
            });
        }
        let mut last_was_ptr = true;
        while let Some(id) = stack.pop() {
            if id.0 == 0 {
                self.emit_mods(stack)?;
                self.out.push_str("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id)?;
            match t {
                Type::Int(_) | Type::Float(_) => {
                    self.emit_mods(stack)?;
                    self.out.push_str(t.name());
                }
                Type::Struct(s) | Type::Union(s) => {
                    self.emit_mods(stack)?;
                    if s.name.is_empty() {
                        self.struct_def(id, t, s, lvl, depth + 1)?;
                    } else {
                        self.struct_fwd(id, t);
                    }
                }
                Type::Enum(e) | Type::Enum64(e) => {
                    self.emit_mods(stack)?;
                    if e.name.is_empty() {
                        self.enum_def(id, t, e, lvl);
                    } else {
                        let n = self.resolve_name(id, t, false);
                        let _ = write!(self.out, "enum {n}");
                    }
                }
                Type::Fwd(f) => {
                    self.emit_mods(stack)?;
                    self.fwd_def(id, f);
                }
                Type::Typedef(_) => {
                    self.emit_mods(stack)?;
                    let n = self.resolve_name(id, t, true);
                    self.out.push_str(&n);
                }
                Type::Pointer(_) => self.out.push_str(if last_was_ptr { "*" } else { " *" }),
                Type::Volatile(_) => self.out.push_str(" volatile"),
                Type::Const(_) => self.out.push_str(" const"),
                Type::Restrict(_) => self.out.push_str(" restrict"),
                Type::TypeTag(tt) => {
                    self.emit_mods(stack)?;
                    let _ = write!(self.out, " __attribute__((btf_type_tag(\"{}\")))", tt.value);
                }
                Type::Array(a) => {
                    self.drop_mods(stack)?;
                    let Some(&next) = stack.last() else {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{}]", a.nelems);
                        return Ok(());
                    };
                    let multidim = matches!(self.ty(next)?, Type::Array(_));
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.push(' ');
                    }
                    if !multidim {
                        self.out.push('(');
                    }
                    self.type_chain(stack, fname, lvl, depth + 1)?;
                    if !multidim {
                        self.out.push(')');
                    }
                    let _ = write!(self.out, "[{}]", a.nelems);
                    return Ok(());
                }
                Type::FuncProto(p) => {
                    self.drop_mods(stack)?;
                    if stack.is_empty() {
                        self.emit_name(fname, last_was_ptr);
                    } else {
                        self.out.push_str(" (");
                        self.type_chain(stack, fname, lvl, depth + 1)?;
                        self.out.push(')');
                    }
                    self.out.push('(');
                    if p.params.is_empty() {
                        self.out.push_str("void)");
                        return Ok(());
                    }
                    for (i, q) in p.params.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.type_decl(q.type_id, &q.name, lvl, depth + 1)?;
                    }
                    if p.variadic {
                        self.out.push_str(", ...");
                    }
                    self.out.push(')');
                    return Ok(());
                }
                _ => {
                    return Err(Error::BadType {
                        id,
                        field: "c declarator".into(),
                        reason: "unexpected kind in declaration",
                    });
                }
            }
            last_was_ptr = matches!(t, Type::Pointer(_));
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }
}

/// The whole spec as a C header, like `bpftool btf dump file F format c`.
pub fn dump_c(spec: &Spec) -> Result<String> {
    dump_c_types(spec, spec.ids())
}

/// A C header with the types `ids`, each preceded by the definitions it needs
/// (a forward declaration where a pointer suffices), like bpftool's
/// `btf dump file F root_id ID format c`; a type needed twice is emitted once.
pub fn dump_c_types(spec: &Spec, ids: impl IntoIterator<Item = TypeId>) -> Result<String> {
    let mut d = CDumper::new(spec);
    d.out.push_str(
        "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n",
    );
    for id in ids {
        d.dump_type(id)?;
    }
    d.out.push_str(
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n",
    );
    Ok(d.finish())
}
