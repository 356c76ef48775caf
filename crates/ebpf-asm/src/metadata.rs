//! Metadata carried on an instruction without changing its encoding.
//!
//! A [`Metadata`] is one pointer wide and cloning it is one reference-count increment;
//! setting a field copies the shared part on write. Besides the symbol, the reference and the
//! source line it has an extension slot: a map keyed by type, so other crates (BTF func info,
//! line info, CO-RE relocations) can attach their own records.
//!
//! ```
//! use ebpf_asm::{Metadata, mov64, Register};
//!
//! #[derive(Debug, PartialEq)]
//! struct FuncInfo(u32);
//!
//! let ins = mov64(Register::R0, 0).with_symbol("main");
//! let mut ins2 = ins.clone();
//! ins2.metadata.insert(FuncInfo(7));
//! assert_eq!(ins2.metadata.get::<FuncInfo>(), Some(&FuncInfo(7)));
//! assert_eq!(ins.metadata.get::<FuncInfo>(), None);
//! assert_eq!(ins2.symbol(), Some("main"));
//! ```

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use crate::row_table::RowTable;
use crate::source::Source;

#[derive(Clone, Default)]
struct Inner {
    symbol: Option<Arc<str>>,
    reference: Option<Arc<str>>,
    source: Option<Arc<Source>>,
    extensions: Vec<(TypeId, Arc<dyn Any + Send + Sync>)>,
}

/// A row of an [`ExtensionRows`](crate::ExtensionRows) table.
#[derive(Clone)]
struct Row {
    rows: RowTable,
    row: u32,
}

impl Row {
    fn source(&self) -> Option<&Source> {
        self.rows.rows().source(self.row)
    }
}

/// The metadata of one instruction: symbol, reference, source and typed extensions.
///
/// Equality compares symbol, reference and source, and for extensions only which types are
/// present and whether the values are the same allocation (or the same row of the same
/// [`ExtensionRows`](crate::ExtensionRows)).
#[derive(Clone, Default)]
pub struct Metadata {
    inner: Option<Arc<Inner>>,
    /// Source and extensions kept in a shared table. When set, what the row has comes from
    /// it: `inner` holds a source only if the row has none, and extensions only of types the
    /// row has not (editing what the row has copies the row into `inner` first).
    row: Option<Row>,
}

impl Metadata {
    /// Metadata with nothing set.
    pub const EMPTY: Metadata = Metadata {
        inner: None,
        row: None,
    };

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        if self.row.is_some() {
            return false;
        }
        match &self.inner {
            None => true,
            Some(i) => {
                i.symbol.is_none()
                    && i.reference.is_none()
                    && i.source.is_none()
                    && i.extensions.is_empty()
            }
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(self.inner.get_or_insert_with(Default::default))
    }

    /// Whether the row, if any, has an extension of type `id`.
    fn row_has(&self, id: TypeId) -> bool {
        self.row
            .as_ref()
            .is_some_and(|r| r.rows.rows().get(r.row, id).is_some())
    }

    /// Copies the shared row, if any, into this instruction's own metadata (before an edit
    /// of what the row has: by the invariant on `row`, nothing of it is in `inner` yet).
    fn detach(&mut self) {
        let Some(r) = self.row.take() else {
            return;
        };
        let source = r.source().cloned();
        let extensions = r.rows.rows().owned_extensions(r.row);
        let inner = self.inner_mut();
        if source.is_some() {
            inner.source = source.map(Arc::new);
        }
        inner.extensions.extend(extensions);
    }

    /// Makes row `row` of `rows` this instruction's source and extensions, replacing those
    /// of the same types already set (the others stay). Copies nothing of the row, and
    /// allocates nothing unless an extension or source it replaces was set here.
    ///
    /// `rows` is a handle this instruction keeps: a clone of the table, or one of its
    /// [`RowTable::shares`] (which cost no reference-count update each).
    #[inline]
    pub fn set_rows(&mut self, rows: RowTable, row: u32) {
        // The usual case, one row set on an instruction with no source or extension of its
        // own: nothing to copy or replace.
        if self.row.is_none() && !self.has_own_rows() {
            self.row = Some(Row { rows, row });
            return;
        }
        self.set_rows_over(rows, row);
    }

    /// Takes the handle to the shared row table out, if any (for a bulk release when a
    /// list of instructions is dropped).
    #[inline]
    pub(crate) fn take_rows(&mut self) -> Option<RowTable> {
        self.row.take().map(|r| r.rows)
    }

    /// Whether a source or an extension is set in this instruction's own metadata.
    fn has_own_rows(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.source.is_some() || !i.extensions.is_empty())
    }

    /// [`Metadata::set_rows`] over a row or a source or extensions already set: the old row
    /// is copied in, then what the new row has is taken out of the instruction's own
    /// metadata (which stays shared when there is nothing to take out).
    fn set_rows_over(&mut self, table: RowTable, row: u32) {
        self.detach();
        let rows = table.rows();
        let has_source = rows.has_source(row);
        let replaced = self.inner.as_ref().is_some_and(|i| {
            (has_source && i.source.is_some())
                || i.extensions
                    .iter()
                    .any(|(id, _)| rows.get(row, *id).is_some())
        });
        if replaced {
            let inner = self.inner_mut();
            if has_source {
                inner.source = None;
            }
            inner
                .extensions
                .retain(|(id, _)| rows.get(row, *id).is_none());
        }
        self.row = Some(Row { rows: table, row });
    }

    /// The symbol (function or label name) that starts at this instruction.
    pub fn symbol(&self) -> Option<&str> {
        self.inner.as_ref()?.symbol.as_deref()
    }

    /// Sets or clears the symbol (shared: an `Arc<str>` is kept as it is, a `&str` copied
    /// once).
    pub fn set_symbol(&mut self, symbol: Option<Arc<str>>) {
        self.inner_mut().symbol = symbol;
    }

    /// The reference: a jump label, callee name or map name.
    pub fn reference(&self) -> Option<&str> {
        self.inner.as_ref()?.reference.as_deref()
    }

    /// Sets or clears the reference (shared like [`Metadata::set_symbol`]'s).
    pub fn set_reference(&mut self, reference: Option<Arc<str>>) {
        self.inner_mut().reference = reference;
    }

    /// The source line.
    pub fn source(&self) -> Option<&Source> {
        if let Some(s) = self.row.as_ref().and_then(Row::source) {
            return Some(s);
        }
        self.inner.as_ref()?.source.as_deref()
    }

    /// Sets or clears the source line.
    pub fn set_source(&mut self, source: Option<Source>) {
        self.detach();
        self.inner_mut().source = source.map(Arc::new);
    }

    /// The extension of type `T`, if one is attached.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        if let Some(r) = &self.row {
            if let Some(v) = r.rows.rows().get(r.row, TypeId::of::<T>()) {
                return v.downcast_ref::<T>();
            }
        }
        let inner = self.inner.as_ref()?;
        let (_, v) = inner
            .extensions
            .iter()
            .find(|(id, _)| *id == TypeId::of::<T>())?;
        v.downcast_ref::<T>()
    }

    /// The extension of type `T` as a shared pointer (for an extension kept in shared
    /// [`ExtensionRows`](crate::ExtensionRows), a copy of it).
    pub fn get_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        if self.row_has(TypeId::of::<T>()) {
            let r = self.row.as_ref()?;
            let (_, v) = r
                .rows
                .rows()
                .owned_extensions(r.row)
                .into_iter()
                .find(|(id, _)| *id == TypeId::of::<T>())?;
            return v.downcast::<T>().ok();
        }
        let inner = self.inner.as_ref()?;
        let (_, v) = inner
            .extensions
            .iter()
            .find(|(id, _)| *id == TypeId::of::<T>())?;
        Arc::clone(v).downcast::<T>().ok()
    }

    /// Attaches `value`, replacing an extension of the same type; returns the old one.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<Arc<T>> {
        self.insert_arc(Arc::new(value))
    }

    /// Attaches a shared `value`, replacing an extension of the same type; returns the old one.
    pub fn insert_arc<T: Any + Send + Sync>(&mut self, value: Arc<T>) -> Option<Arc<T>> {
        // `remove` copies the row in if it has a `T`; a type the row has not goes beside it.
        let old = self.remove::<T>();
        self.inner_mut().extensions.push((TypeId::of::<T>(), value));
        old
    }

    /// Removes the extension of type `T`, returning it.
    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<Arc<T>> {
        if self.row_has(TypeId::of::<T>()) {
            self.detach();
        }
        let present = self
            .inner
            .as_ref()
            .is_some_and(|i| i.extensions.iter().any(|(id, _)| *id == TypeId::of::<T>()));
        if !present {
            return None;
        }
        let ext = &mut self.inner_mut().extensions;
        let pos = ext.iter().position(|(id, _)| *id == TypeId::of::<T>())?;
        let (_, v) = ext.remove(pos);
        v.downcast::<T>().ok()
    }

    /// The number of extensions attached.
    pub fn extension_count(&self) -> usize {
        let row = self
            .row
            .as_ref()
            .map_or(0, |r| r.rows.rows().extensions(r.row).len());
        row + self.inner.as_ref().map_or(0, |i| i.extensions.len())
    }

    /// Each extension's type and address (what equality compares).
    fn extension_ids(&self) -> Vec<(TypeId, *const ())> {
        let mut v: Vec<(TypeId, *const ())> = match &self.row {
            Some(r) => r
                .rows
                .rows()
                .extensions(r.row)
                .into_iter()
                .map(|(id, a)| (id, std::ptr::from_ref(a).cast::<()>()))
                .collect(),
            None => Vec::new(),
        };
        if let Some(i) = &self.inner {
            v.extend(
                i.extensions
                    .iter()
                    .map(|(id, a)| (*id, Arc::as_ptr(a).cast::<()>())),
            );
        }
        v.sort_by_key(|(id, _)| *id);
        v
    }
}

impl PartialEq for Metadata {
    fn eq(&self, other: &Metadata) -> bool {
        self.symbol() == other.symbol()
            && self.reference() == other.reference()
            && self.source() == other.source()
            && self.extension_ids() == other.extension_ids()
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Metadata");
        if let Some(s) = self.symbol() {
            d.field("symbol", &s);
        }
        if let Some(r) = self.reference() {
            d.field("reference", &r);
        }
        if let Some(s) = self.source() {
            d.field("source", s);
        }
        let n = self.extension_count();
        if n > 0 {
            d.field("extensions", &n);
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row_table::ExtensionRows;

    #[test]
    fn copy_on_write() {
        let mut a = Metadata::default();
        a.set_symbol(Some("f".into()));
        a.insert(5u32);
        let mut b = a.clone();
        assert_eq!(a, b);
        b.set_reference(Some("x".into()));
        assert_eq!(a.reference(), None);
        assert_eq!(b.symbol(), Some("f"));
        assert_eq!(b.insert(6u32).as_deref(), Some(&5));
        assert_eq!(a.get::<u32>(), Some(&5));
        assert_eq!(b.get_arc::<u32>().as_deref(), Some(&6));
        assert_eq!(b.remove::<u32>().as_deref(), Some(&6));
        assert_eq!(b.remove::<u32>(), None);
        assert_eq!(b.extension_count(), 0);
        assert!(format!("{b:?}").contains("reference"));
        assert!(Metadata::EMPTY.is_empty());
    }

    /// A table of two rows: row 0 has a source and a `u32`, row 1 only a `u64`.
    #[derive(Debug)]
    struct Table {
        source: Source,
        a: u32,
        b: u64,
    }

    impl ExtensionRows for Table {
        fn source(&self, row: u32) -> Option<&Source> {
            (row == 0).then_some(&self.source)
        }
        fn get(&self, row: u32, id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
            self.extensions(row)
                .into_iter()
                .find(|(have, _)| *have == id)
                .map(|(_, v)| v)
        }
        fn extensions(&self, row: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))> {
            match row {
                0 => vec![(TypeId::of::<u32>(), &self.a as _)],
                _ => vec![(TypeId::of::<u64>(), &self.b as _)],
            }
        }
        fn owned_extensions(&self, row: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
            match row {
                0 => vec![(TypeId::of::<u32>(), Arc::new(self.a) as _)],
                _ => vec![(TypeId::of::<u64>(), Arc::new(self.b) as _)],
            }
        }
    }

    /// The two-row [`Table`] as instructions share it.
    fn table() -> RowTable {
        RowTable::new(Table {
            source: Source::text("x++;"),
            a: 7,
            b: 9,
        })
    }

    #[test]
    fn shared_rows() {
        let rows = table();
        let mut m = Metadata::default();
        m.set_symbol(Some("f".into()));
        m.set_rows(rows.clone(), 0);
        assert!(!m.is_empty());
        assert_eq!(m.get::<u32>(), Some(&7));
        assert_eq!(m.get::<u64>(), None);
        assert_eq!(m.source().map(ToString::to_string).as_deref(), Some("x++;"));
        assert_eq!(m.symbol(), Some("f"));
        assert_eq!(m.extension_count(), 1);
        assert_eq!(m.get_arc::<u32>().as_deref(), Some(&7));
        let copy = m.clone();
        assert_eq!(m, copy);
        // Editing copies the row: the other extensions and the source stay.
        assert_eq!(m.insert(1u64), None);
        assert_eq!(m.get::<u32>(), Some(&7));
        assert_eq!(m.get::<u64>(), Some(&1));
        assert_eq!(m.source(), copy.source());
        assert_ne!(m, copy);
        assert_eq!(m.remove::<u32>().as_deref(), Some(&7));
        let mut n = copy.clone();
        n.set_source(None);
        assert_eq!(n.source(), None);
        assert_eq!(n.get::<u32>(), Some(&7));
        // A row set over own extensions replaces those of the same types.
        let mut o = Metadata::default();
        o.insert(5u64);
        o.insert(3u32);
        o.set_rows(rows, 1);
        assert_eq!(o.get::<u64>(), Some(&9));
        assert_eq!(o.get::<u32>(), Some(&3));
        assert_eq!(o.source(), None);
    }

    /// Extensions of types the row has not sit beside it: setting the row over them, or
    /// inserting or removing them later, copies nothing of the row, and every reader sees
    /// both.
    #[test]
    fn own_extensions_beside_a_row() {
        let rows = table();
        // Own extension and source first, then the row (which has a source and a `u32`).
        let mut m = Metadata::default();
        m.insert(1u8);
        m.set_source(Some(Source::text("own")));
        let shared = m.clone();
        m.set_rows(rows.clone(), 0);
        assert!(m.row.is_some());
        assert_eq!(m.get::<u8>(), Some(&1));
        assert_eq!(m.get::<u32>(), Some(&7));
        assert_eq!(m.source().map(ToString::to_string).as_deref(), Some("x++;"));
        assert_eq!(m.extension_count(), 2);
        assert_eq!(m.get_arc::<u8>().as_deref(), Some(&1));
        assert_eq!(m.get_arc::<u32>().as_deref(), Some(&7));
        // The copy taken before is untouched.
        assert_eq!(
            shared.source().map(ToString::to_string).as_deref(),
            Some("own")
        );
        assert_eq!(shared.get::<u32>(), None);
        // Inserting and removing a type the row has not keeps the row.
        m.insert(2u16);
        assert!(m.row.is_some());
        assert_eq!(m.extension_count(), 3);
        assert_eq!(m.remove::<u8>().as_deref(), Some(&1));
        assert!(m.row.is_some());
        let copy = m.clone();
        assert_eq!(m, copy);
        assert!(format!("{m:?}").contains("extensions: 2"));
        // Replacing what the row has copies it in; the rest stays.
        assert_eq!(m.insert(8u32).as_deref(), Some(&7));
        assert!(m.row.is_none());
        assert_eq!(m.get::<u32>(), Some(&8));
        assert_eq!(m.get::<u16>(), Some(&2));
        assert_eq!(m.source(), copy.source());
        assert_ne!(m, copy);
        // An own source stays under a row that has none; an extension set beside a row
        // with none of them shares the metadata it came with.
        let mut n = Metadata::default();
        n.set_source(Some(Source::text("own")));
        n.insert(3u8);
        let before = n.inner.clone();
        n.set_rows(rows, 1);
        assert_eq!(n.source().map(ToString::to_string).as_deref(), Some("own"));
        assert_eq!(n.get::<u64>(), Some(&9));
        assert_eq!(n.get::<u8>(), Some(&3));
        assert!(Arc::ptr_eq(
            n.inner.as_ref().unwrap(),
            before.as_ref().unwrap()
        ));
    }
}
