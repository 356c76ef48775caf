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

/// Where an instruction came from in the source code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Source {
    /// The source file name.
    pub file_name: Option<Arc<str>>,
    /// The text of the line (or a free-form comment).
    pub line: Option<Arc<str>>,
    /// 1-based line number, 0 if unknown.
    pub line_number: u32,
    /// 1-based column number, 0 if unknown.
    pub column: u32,
}

impl Source {
    /// A source annotation holding only a line of text (or a comment).
    pub fn text(line: impl Into<Arc<str>>) -> Source {
        Source {
            line: Some(line.into()),
            ..Source::default()
        }
    }
}

impl fmt::Display for Source {
    /// `file:line:column: text`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(file) = &self.file_name {
            write!(f, "{file}")?;
            if self.line_number != 0 {
                write!(f, ":{}", self.line_number)?;
                if self.column != 0 {
                    write!(f, ":{}", self.column)?;
                }
            }
            sep = ": ";
        }
        if let Some(line) = &self.line {
            // One line, so that listings stay line-oriented.
            write!(f, "{sep}{}", line.trim().replace(['\n', '\r'], " "))?;
        }
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Inner {
    symbol: Option<Arc<str>>,
    reference: Option<Arc<str>>,
    source: Option<Arc<Source>>,
    extensions: Vec<(TypeId, Arc<dyn Any + Send + Sync>)>,
}

/// The metadata of one instruction: symbol, reference, source and typed extensions.
///
/// Equality compares symbol, reference and source, and for extensions only which types are
/// present and whether the values are the same allocation.
#[derive(Clone, Default)]
pub struct Metadata {
    inner: Option<Arc<Inner>>,
}

impl Metadata {
    /// Metadata with nothing set.
    pub const EMPTY: Metadata = Metadata { inner: None };

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
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

    /// The symbol (function or label name) that starts at this instruction.
    pub fn symbol(&self) -> Option<&str> {
        self.inner.as_ref()?.symbol.as_deref()
    }

    /// Sets or clears the symbol.
    pub fn set_symbol(&mut self, symbol: Option<String>) {
        self.inner_mut().symbol = symbol.map(Arc::from);
    }

    /// The reference: a jump label, callee name or map name.
    pub fn reference(&self) -> Option<&str> {
        self.inner.as_ref()?.reference.as_deref()
    }

    /// Sets or clears the reference.
    pub fn set_reference(&mut self, reference: Option<String>) {
        self.inner_mut().reference = reference.map(Arc::from);
    }

    /// The source line.
    pub fn source(&self) -> Option<&Source> {
        self.inner.as_ref()?.source.as_deref()
    }

    /// Sets or clears the source line.
    pub fn set_source(&mut self, source: Option<Source>) {
        self.inner_mut().source = source.map(Arc::new);
    }

    /// The extension of type `T`, if one is attached.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let inner = self.inner.as_ref()?;
        let (_, v) = inner
            .extensions
            .iter()
            .find(|(id, _)| *id == TypeId::of::<T>())?;
        v.downcast_ref::<T>()
    }

    /// The extension of type `T` as a shared pointer.
    pub fn get_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
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
        let old = self.remove::<T>();
        self.inner_mut().extensions.push((TypeId::of::<T>(), value));
        old
    }

    /// Removes the extension of type `T`, returning it.
    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<Arc<T>> {
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
        self.inner.as_ref().map_or(0, |i| i.extensions.len())
    }
}

impl PartialEq for Metadata {
    fn eq(&self, other: &Metadata) -> bool {
        let ext = |m: &Metadata| -> Vec<(TypeId, *const ())> {
            let mut v: Vec<_> = m
                .inner
                .as_ref()
                .map(|i| {
                    i.extensions
                        .iter()
                        .map(|(id, a)| (*id, Arc::as_ptr(a).cast::<()>()))
                        .collect()
                })
                .unwrap_or_default();
            v.sort_by_key(|(id, _)| *id);
            v
        };
        self.symbol() == other.symbol()
            && self.reference() == other.reference()
            && self.source() == other.source()
            && ext(self) == ext(other)
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

    #[test]
    fn source_display() {
        let s = Source {
            file_name: Some("a.c".into()),
            line: Some("  x++;".into()),
            line_number: 3,
            column: 2,
        };
        assert_eq!(s.to_string(), "a.c:3:2: x++;");
        assert_eq!(Source::text("hi").to_string(), "hi");
        assert_eq!(Source::text("a\nb").to_string(), "a b");
    }
}
