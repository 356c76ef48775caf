//! libbpf's side: open an object, count its programs and maps, choose which
//! programs load, load it; libbpf's warnings are kept as the reason of a failure.
#![allow(
    unsafe_code,
    reason = "FFI into libbpf; each call states the C contract it relies on"
)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;

use libbpf_sys as sys;

unsafe extern "C" {
    /// C's `vsnprintf`, to format libbpf's messages (`va_list` is
    /// `__va_list_tag[1]` on x86-64, passed as a pointer).
    fn vsnprintf(
        buf: *mut c_char,
        size: usize,
        fmt: *const c_char,
        ap: *mut sys::__va_list_tag,
    ) -> c_int;
}

thread_local! {
    /// libbpf's warnings since [`take_warnings`] last ran on this thread.
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn keep_warnings(
    level: sys::libbpf_print_level,
    fmt: *const c_char,
    ap: *mut sys::__va_list_tag,
) -> c_int {
    if level != sys::LIBBPF_WARN {
        return 0;
    }
    let mut buf = [0 as c_char; 512];
    // SAFETY: libbpf passes a printf format and its matching va_list, used once
    // here; vsnprintf writes at most `buf.len()` bytes, NUL-terminated.
    let n = unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), fmt, ap) };
    if n > 0 {
        // SAFETY: vsnprintf NUL-terminated the buffer.
        let msg = unsafe { CStr::from_ptr(buf.as_ptr()) };
        let msg = msg.to_string_lossy().trim().to_owned();
        WARNINGS.with(|w| w.borrow_mut().push(msg));
    }
    0
}

/// Routes libbpf's output into the per-thread warning list (nothing is printed).
pub fn capture_output() {
    // SAFETY: libbpf stores the function pointer; `keep_warnings` has the
    // declared signature and only reads its arguments as the contract allows.
    unsafe {
        sys::libbpf_set_print(Some(keep_warnings));
    }
}

/// The warnings libbpf printed since the last call, dropping them.
pub fn take_warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// libbpf's version, `major.minor`.
pub fn version() -> String {
    // SAFETY: both functions take no arguments and return plain integers.
    unsafe {
        format!(
            "{}.{}",
            sys::libbpf_major_version(),
            sys::libbpf_minor_version()
        )
    }
}

fn c_path(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| format!("{}: path contains a NUL byte", p.display()))
}

/// The first line of the first warning libbpf printed (its cause; the later
/// ones say what failed because of it), or `what` with the errno.
fn reason(what: &str, err: c_int) -> String {
    let warnings = take_warnings();
    let errno = std::io::Error::from_raw_os_error(err.saturating_abs());
    let first = warnings
        .iter()
        .filter_map(|w| w.lines().next())
        .map(|l| l.trim_start_matches("libbpf: ").trim())
        .find(|l| !l.is_empty());
    match first {
        Some(w) => format!("{w} ({errno})"),
        None => format!("{what}: {errno}"),
    }
}

/// An open `struct bpf_object`, closed on drop.
#[derive(Debug)]
pub struct Object(NonNull<sys::bpf_object>);

/// Where an object opens from, and with what.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenOptions<'a> {
    /// `pin_root_path`: where maps pinned by name go.
    pub pin_root: Option<&'a Path>,
    /// `btf_custom_path`: the CO-RE target.
    pub core_btf: Option<&'a Path>,
}

impl Object {
    /// `bpf_object__open_file(path, opts)`; the error is libbpf's last warning.
    pub fn open(path: &Path, opts: OpenOptions<'_>) -> Result<Object, String> {
        take_warnings();
        let file = c_path(path)?;
        let pin = opts.pin_root.map(c_path).transpose()?;
        let btf = opts.core_btf.map(c_path).transpose()?;
        let mut o = sys::bpf_object_open_opts {
            sz: std::mem::size_of::<sys::bpf_object_open_opts>() as sys::size_t,
            ..Default::default()
        };
        if let Some(p) = &pin {
            o.pin_root_path = p.as_ptr();
        }
        if let Some(b) = &btf {
            o.btf_custom_path = b.as_ptr();
        }
        // SAFETY: `file` and the strings `o` points to outlive the call (libbpf
        // copies what it keeps); `o.sz` is the size of the struct we pass.
        let raw = unsafe { sys::bpf_object__open_file(file.as_ptr(), &o) };
        match NonNull::new(raw) {
            Some(obj) => Ok(Object(obj)),
            None => {
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                Err(reason("open", errno))
            }
        }
    }

    fn programs(&self) -> Vec<NonNull<sys::bpf_program>> {
        let mut out = Vec::new();
        let mut cur = std::ptr::null_mut();
        loop {
            // SAFETY: the object is open; `cur` is null or a program of it.
            cur = unsafe { sys::bpf_object__next_program(self.0.as_ptr(), cur) };
            match NonNull::new(cur) {
                Some(p) => out.push(p),
                None => return out,
            }
        }
    }

    /// The names of the programs (subprograms excluded), in libbpf's order.
    pub fn program_names(&self) -> Vec<String> {
        self.programs()
            .into_iter()
            // SAFETY: a program of the open object; its name lives as long as the object.
            .map(|p| unsafe { CStr::from_ptr(sys::bpf_program__name(p.as_ptr())) })
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }

    /// The names of the maps, in libbpf's order.
    pub fn map_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: *mut sys::bpf_map = std::ptr::null_mut();
        loop {
            // SAFETY: the object is open; `cur` is null or a map of it.
            cur = unsafe { sys::bpf_object__next_map(self.0.as_ptr(), cur) };
            if cur.is_null() {
                return out;
            }
            // SAFETY: a map of the open object; its name lives as long as the object.
            let name = unsafe { CStr::from_ptr(sys::bpf_map__name(cur)) };
            out.push(name.to_string_lossy().into_owned());
        }
    }

    /// Loads only the program `name` (whatever its section says), as
    /// libbpf's own test loader does for one test program.
    pub fn only(&self, name: &str) {
        for p in self.programs() {
            // SAFETY: a program of the open object, which is not loaded yet.
            unsafe {
                let this = CStr::from_ptr(sys::bpf_program__name(p.as_ptr()));
                sys::bpf_program__set_autoload(p.as_ptr(), this.to_bytes() == name.as_bytes());
            }
        }
    }

    /// `bpf_object__load`: `Err` holds libbpf's last warning.
    pub fn load(&self) -> Result<(), String> {
        take_warnings();
        // SAFETY: the object is open and loaded at most once.
        let err = unsafe { sys::bpf_object__load(self.0.as_ptr()) };
        if err == 0 {
            take_warnings();
            Ok(())
        } else {
            Err(reason("load", err))
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: we own the object and close it once; this closes every fd it made.
        unsafe { sys::bpf_object__close(self.0.as_ptr()) }
    }
}
