//! [`RowTable`]: a shared [`ExtensionRows`] table with its own reference count, so that the
//! thousands of instructions of a code section can take their shares with one atomic update
//! ([`RowTable::shares`]) and give them back with one per run ([`release`]), instead of one
//! per instruction each way (on a big object those updates were a third of its open).
//!
//! This is the crate's only `unsafe` code. The invariant that makes it sound: a
//! [`RowTable`] always points to a live `Shared` whose `count` is at least the number of
//! `RowTable`s and unused [`RowShares`] that point to it. Every way of making one adds to
//! the count first (`new` starts it at 1, `clone` adds 1, `shares(n)` adds `n`), and every
//! way of ending one subtracts exactly what it accounted for (`drop` 1, [`release`] the
//! length of a run it took ownership of, `RowShares::drop` what it did not hand out). The
//! count is atomic, so handles may be cloned and dropped on any thread at once; the one
//! that brings it to zero frees the table, after an acquire fence that orders every other
//! handle's last use before the free (the same protocol as `std::sync::Arc`).
#![allow(
    unsafe_code,
    reason = "a reference count updated once per batch of instructions; audited in this file only"
)]

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use crate::source::Source;

/// The allocation a [`RowTable`] points to.
struct Shared {
    count: AtomicUsize,
    rows: Box<dyn ExtensionRows>,
}

/// Above this count a clone aborts instead of wrapping (as `Arc` does): a wrapped count
/// would free the table while handles to it remain.
const MAX_COUNT: usize = isize::MAX as usize;

/// Source lines and extensions of many instructions kept in one allocation, one row per
/// instruction: for example a code section's `.BTF.ext` records. An instruction refers to
/// its row with [`Metadata::set_rows`](crate::Metadata::set_rows) (through a [`RowTable`]),
/// which allocates nothing; editing the instruction's source or extensions later copies its
/// row into the instruction's own metadata.
pub trait ExtensionRows: Send + Sync + fmt::Debug {
    /// The source line of row `row`.
    fn source(&self, row: u32) -> Option<&Source>;
    /// Whether row `row` has a source line (for a table that makes its [`Source`]s on
    /// first use, without making one).
    fn has_source(&self, row: u32) -> bool {
        self.source(row).is_some()
    }
    /// The extension of type `id` in row `row`.
    fn get(&self, row: u32, id: TypeId) -> Option<&(dyn Any + Send + Sync)>;
    /// Every extension of row `row`, by type.
    fn extensions(&self, row: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))>;
    /// Copies of the extensions of row `row`, each in its own allocation.
    fn owned_extensions(&self, row: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)>;
}

/// An [`ExtensionRows`] table as instructions share it: one pointer wide, so that an
/// instruction referring to one of its rows stays small. Cloning it is one reference-count
/// increment; [`RowTable::shares`] takes many at once.
pub struct RowTable {
    ptr: NonNull<Shared>,
    /// Owns a `Shared` (for drop check and variance).
    _owns: PhantomData<Shared>,
}

// SAFETY: a RowTable gives out only `&dyn ExtensionRows`, and ExtensionRows is Send + Sync,
// so the table may be read from any thread; the count is atomic, so handles on different
// threads may be cloned and dropped at the same time (see the module's invariant).
unsafe impl Send for RowTable {}
// SAFETY: as for Send: shared access is reads of a Sync table and atomic count updates.
unsafe impl Sync for RowTable {}

impl RowTable {
    /// `rows`, ready to be shared by the instructions it describes.
    pub fn new(rows: impl ExtensionRows + 'static) -> RowTable {
        let shared = Box::new(Shared {
            count: AtomicUsize::new(1),
            rows: Box::new(rows),
        });
        RowTable {
            ptr: NonNull::from(Box::leak(shared)),
            _owns: PhantomData,
        }
    }

    fn shared(&self) -> &Shared {
        // SAFETY: by the module's invariant the Shared lives while this handle does, and it
        // is only ever accessed through shared references after `new`.
        unsafe { self.ptr.as_ref() }
    }

    /// The table.
    pub(crate) fn rows(&self) -> &dyn ExtensionRows {
        &*self.shared().rows
    }

    /// `n` more handles to this table, counted with one atomic update; the ones not handed
    /// out are given back when the [`RowShares`] is dropped.
    pub fn shares(&self, n: usize) -> RowShares {
        // Checked before the count changes: one call may ask for any number, and a count
        // that wrapped even for a moment could let another thread free the table.
        let counted = self
            .shared()
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                c.checked_add(n).filter(|&c| c <= MAX_COUNT)
            });
        if counted.is_err() {
            std::process::abort();
        }
        RowShares {
            ptr: self.ptr,
            left: n,
            _owns: PhantomData,
        }
    }
}

/// Adds one to the count, aborting above [`MAX_COUNT`] (as `Arc::clone` does: the count
/// could wrap only if `isize::MAX` threads cloned at once).
fn add_one(shared: &Shared) {
    // Relaxed, as in Arc::clone: a new handle is made from an existing one, which keeps
    // the table alive; nothing needs ordering against the increment.
    if shared.count.fetch_add(1, Ordering::Relaxed) >= MAX_COUNT {
        std::process::abort();
    }
}

/// Subtracts `n` from the count of the table at `ptr`, freeing it when that was the rest.
///
/// # Safety
/// The caller gives up `n` counted handles to the table at `ptr` (handles or shares it
/// owns and will not use again), so the count is at least `n` and the table is live.
unsafe fn sub(ptr: NonNull<Shared>, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: the caller still owns n >= 1 counted handles, so the Shared is live.
    let shared = unsafe { ptr.as_ref() };
    // Release: this handle's uses happen before the free that another thread may do.
    if shared.count.fetch_sub(n, Ordering::Release) != n {
        return;
    }
    // Acquire: every other handle's uses (released by its own decrement) happen before
    // the free.
    fence(Ordering::Acquire);
    // SAFETY: the count reached zero, so no handle or share to this Shared remains; it was
    // made by Box::leak in `new` and is freed exactly once, here.
    drop(unsafe { Box::from_raw(ptr.as_ptr()) });
}

impl Clone for RowTable {
    fn clone(&self) -> RowTable {
        add_one(self.shared());
        RowTable {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl Drop for RowTable {
    fn drop(&mut self) {
        // SAFETY: this handle is counted and is not used after its drop.
        unsafe { sub(self.ptr, 1) };
    }
}

impl fmt::Debug for RowTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.rows(), f)
    }
}

/// Handles to one [`RowTable`] counted in advance by [`RowTable::shares`]: taking one
/// costs no atomic update.
pub struct RowShares {
    ptr: NonNull<Shared>,
    left: usize,
    _owns: PhantomData<Shared>,
}

// SAFETY: unused shares are counted handles (see RowTable's Send and Sync).
unsafe impl Send for RowShares {}
// SAFETY: shared access reads nothing but `left`; the table is not touched through it.
unsafe impl Sync for RowShares {}

impl Iterator for RowShares {
    type Item = RowTable;

    #[inline]
    fn next(&mut self) -> Option<RowTable> {
        self.left = self.left.checked_sub(1)?;
        // The share was counted by `shares`: it becomes this handle without an update.
        Some(RowTable {
            ptr: self.ptr,
            _owns: PhantomData,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl Drop for RowShares {
    fn drop(&mut self) {
        // SAFETY: the `left` shares not handed out are counted and never used.
        unsafe { sub(self.ptr, self.left) };
    }
}

impl fmt::Debug for RowShares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowShares")
            .field("left", &self.left)
            .finish()
    }
}

/// Drops `tables` with one atomic update per run of handles to the same table (the
/// instructions of a code section come in long runs), rather than one per handle.
pub(crate) fn release(tables: impl Iterator<Item = RowTable>) {
    let mut run: Option<(NonNull<Shared>, usize)> = None;
    for t in tables {
        let ptr = t.ptr;
        // The handle's count moves to the run: it must not be subtracted twice.
        std::mem::forget(t);
        match &mut run {
            Some((p, n)) if *p == ptr => *n += 1,
            _ => {
                if let Some((p, n)) = run.replace((ptr, 1)) {
                    // SAFETY: the run owns n forgotten, counted handles to p.
                    unsafe { sub(p, n) };
                }
            }
        }
    }
    if let Some((p, n)) = run {
        // SAFETY: as above, for the last run.
        unsafe { sub(p, n) };
    }
}

#[cfg(test)]
mod tests {
    use std::any::{Any, TypeId};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Source;

    /// Counts its drops.
    #[derive(Debug)]
    struct Table(Arc<AtomicUsize>);

    impl Drop for Table {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl ExtensionRows for Table {
        fn source(&self, _: u32) -> Option<&Source> {
            None
        }
        fn get(&self, _: u32, _: TypeId) -> Option<&(dyn Any + Send + Sync)> {
            None
        }
        fn extensions(&self, _: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))> {
            Vec::new()
        }
        fn owned_extensions(&self, _: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
            Vec::new()
        }
    }

    fn count(t: &RowTable) -> usize {
        t.shared().count.load(Ordering::SeqCst)
    }

    #[test]
    fn shares_and_release_keep_the_count() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let a = RowTable::new(Table(Arc::clone(&dropped)));
        let b = RowTable::new(Table(Arc::clone(&dropped)));
        let mut shares = a.shares(5);
        let taken: Vec<RowTable> = shares.by_ref().take(3).collect();
        assert_eq!(count(&a), 6);
        drop(shares);
        assert_eq!(count(&a), 4, "the two shares not taken are given back");
        // Runs of a, then b, then a again.
        let mut all = taken;
        all.push(b.clone());
        all.push(a.clone());
        assert_eq!(count(&a), 5);
        assert_eq!(count(&b), 2);
        release(all.into_iter());
        assert_eq!(count(&a), 1);
        assert_eq!(count(&b), 1);
        assert_eq!(dropped.load(Ordering::SeqCst), 0);
        drop(a);
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        release(std::iter::once(b));
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn handles_on_many_threads() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let t = RowTable::new(Table(Arc::clone(&dropped)));
        std::thread::scope(|s| {
            for _ in 0..4 {
                let mine: Vec<RowTable> = t.shares(1000).collect();
                let t = &t;
                s.spawn(move || {
                    let more: Vec<RowTable> = (0..1000).map(|_| t.clone()).collect();
                    release(mine.into_iter());
                    drop(more);
                });
            }
        });
        assert_eq!(count(&t), 1);
        drop(t);
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    }
}
