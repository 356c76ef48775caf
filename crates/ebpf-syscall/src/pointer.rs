//! A user-space address in an attr, tied to the lifetime of the memory it points at.

use core::ffi::CStr;
use core::fmt;
use core::marker::PhantomData;

use zerocopy::{FromZeros, Immutable, IntoBytes, KnownLayout};

/// A `__u64` address field of a kernel attr that borrows the memory it points
/// at for `'a`, so the buffer cannot be freed or moved while an attr holding
/// it exists.
///
/// It can only be built from a Rust reference (or be null): there is no way to
/// make one from an arbitrary integer in safe code. Whether the kernel may
/// write through it is decided by the constructor the attr setters use
/// (`from_mut_*` for outputs).
///
/// ```
/// use ebpf_syscall::Pointer;
/// let buf = [1u8, 2, 3];
/// let p = Pointer::from_slice(&buf);
/// assert_eq!(p.addr(), buf.as_ptr() as u64);
/// assert!(Pointer::NULL.is_null());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, IntoBytes, Immutable, KnownLayout, FromZeros)]
#[repr(transparent)]
pub struct Pointer<'a> {
    addr: u64,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> Pointer<'a> {
    /// The null pointer (`0`), which the kernel reads as "absent".
    pub const NULL: Pointer<'static> = Pointer {
        addr: 0,
        _borrow: PhantomData,
    };

    fn new<T: ?Sized>(p: *const T) -> Self {
        Self {
            addr: p.cast::<u8>() as usize as u64,
            _borrow: PhantomData,
        }
    }

    /// Points at the first element of `s` (the kernel reads it).
    pub fn from_slice<T>(s: &'a [T]) -> Self {
        Self::new(s.as_ptr())
    }

    /// Points at the first element of `s` (the kernel may write it).
    pub fn from_mut_slice<T>(s: &'a mut [T]) -> Self {
        Self::new(s.as_mut_ptr())
    }

    /// Points at a NUL-terminated string (the kernel reads up to the NUL).
    pub fn from_cstr(s: &'a CStr) -> Self {
        Self::new(s.as_ptr())
    }

    /// Points at a value (the kernel reads it).
    pub fn from_ref<T>(v: &'a T) -> Self {
        Self::new(v as *const T)
    }

    /// Points at a value (the kernel may write it).
    pub fn from_mut<T>(v: &'a mut T) -> Self {
        Self::new(v as *mut T)
    }

    /// The address, as the kernel sees it.
    pub fn addr(self) -> u64 {
        self.addr
    }

    /// Whether this is [`Pointer::NULL`].
    pub fn is_null(self) -> bool {
        self.addr == 0
    }
}

impl fmt::Debug for Pointer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pointer({:#x})", self.addr)
    }
}
