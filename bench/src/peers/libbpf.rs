//! libbpf through libbpf-sys: thin owned wrappers over the few calls the
//! benchmarks make.
#![allow(
    unsafe_code,
    reason = "FFI into libbpf; each call states the C contract it relies on"
)]

use std::ffi::{CString, c_char, c_void};
use std::ptr::NonNull;

use libbpf_sys as sys;

/// Silences libbpf's default printing to stderr (warnings about fixtures it
/// does not understand would interleave with the table).
pub fn silence() {
    unsafe extern "C" fn quiet(
        _level: sys::libbpf_print_level,
        _fmt: *const c_char,
        _args: *mut sys::__va_list_tag,
    ) -> i32 {
        0
    }
    // SAFETY: libbpf_set_print stores a function pointer with the declared
    // signature; `quiet` has it and never touches its arguments.
    unsafe {
        sys::libbpf_set_print(Some(quiet));
    }
}

/// An owned `struct btf *`.
#[derive(Debug)]
pub struct Btf(NonNull<sys::btf>);

impl Btf {
    /// `btf__parse_raw(path)`.
    pub fn parse_raw(path: &str) -> Option<Self> {
        let path = CString::new(path).ok()?;
        // SAFETY: path is a valid NUL-terminated string for the call's duration;
        // libbpf returns NULL (errno set) or an owned object.
        NonNull::new(unsafe { sys::btf__parse_raw(path.as_ptr()) }).map(Self)
    }

    /// `btf__new(data, size)`: parses a copy of `data`.
    pub fn from_bytes(data: &[u8]) -> Option<Self> {
        let size = u32::try_from(data.len()).ok()?;
        // SAFETY: data is valid for `size` bytes during the call; btf__new copies it.
        NonNull::new(unsafe { sys::btf__new(data.as_ptr().cast::<c_void>(), size) }).map(Self)
    }

    /// `btf__find_by_name(btf, name)`: the id, or a negative errno.
    pub fn find_by_name(&self, name: &CString) -> i32 {
        // SAFETY: self.0 is a live btf object; name is NUL-terminated.
        unsafe { sys::btf__find_by_name(self.0.as_ptr(), name.as_ptr()) }
    }
}

impl Drop for Btf {
    fn drop(&mut self) {
        // SAFETY: we own the object and free it once.
        unsafe { sys::btf__free(self.0.as_ptr()) }
    }
}

/// `bpf_object__open_mem` followed by `bpf_object__close`: true if it opened.
pub fn open_object(data: &[u8]) -> bool {
    // SAFETY: data is valid for its length during the call; libbpf copies what
    // it keeps. A NULL opts pointer selects the defaults. The object returned
    // is owned by us and closed once.
    unsafe {
        let obj = sys::bpf_object__open_mem(
            data.as_ptr().cast::<c_void>(),
            data.len() as u64,
            std::ptr::null(),
        );
        if obj.is_null() {
            return false;
        }
        sys::bpf_object__close(obj);
        true
    }
}

/// The libbpf version, `major.minor`.
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

/// An fd of a map created with `bpf_map_create`; closed on drop.
#[derive(Debug)]
pub struct MapFd(std::os::fd::OwnedFd);

impl MapFd {
    /// `bpf_map_create(type, NULL, key_size, value_size, max_entries, NULL)`.
    pub fn create(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> Option<Self> {
        // SAFETY: a NULL name and NULL opts are allowed; the call returns a new
        // fd we own, or a negative errno.
        let fd = unsafe {
            sys::bpf_map_create(
                map_type,
                std::ptr::null(),
                key_size,
                value_size,
                max_entries,
                std::ptr::null(),
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: fd is a fresh descriptor returned by the kernel and owned by nobody else.
        Some(Self(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }))
    }

    fn raw(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.0)
    }

    /// `bpf_map_lookup_elem(fd, key, value)`: 0 on success.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> i32 {
        // SAFETY: key and value are valid for the map's key and value sizes
        // (the callers size them from the map they created).
        unsafe {
            sys::bpf_map_lookup_elem(self.raw(), key.as_ptr().cast(), value.as_mut_ptr().cast())
        }
    }

    /// `bpf_map_update_elem(fd, key, value, flags)`: 0 on success.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> i32 {
        // SAFETY: as for lookup; the kernel only reads both buffers.
        unsafe {
            sys::bpf_map_update_elem(
                self.raw(),
                key.as_ptr().cast(),
                value.as_ptr().cast(),
                flags,
            )
        }
    }

    /// Walks the whole map with `bpf_map_lookup_batch`, `max` entries per call
    /// into `keys`/`values` (sized for `max` entries, reused by every call),
    /// until the kernel reports the end (`ENOENT`), as a caller that does not
    /// know how many entries a map holds must (and as ours does); returns the
    /// number of entries read.
    pub fn lookup_all_batch(&self, keys: &mut [u8], values: &mut [u8], max: u32) -> u32 {
        let mut total = 0u32;
        let mut token = [0u8; 8];
        let mut first = true;
        loop {
            let mut count = max;
            // SAFETY: the batch buffers hold `max` keys and values of the map's
            // sizes; the token is 8 bytes, enough for a hash map's bucket cursor
            // and an array's u32 key; in_batch is NULL on the first call.
            let ret = unsafe {
                sys::bpf_map_lookup_batch(
                    self.raw(),
                    if first {
                        std::ptr::null_mut()
                    } else {
                        token.as_mut_ptr().cast()
                    },
                    token.as_mut_ptr().cast(),
                    keys.as_mut_ptr().cast(),
                    values.as_mut_ptr().cast(),
                    &mut count,
                    std::ptr::null(),
                )
            };
            first = false;
            total += count;
            if ret != 0 {
                return total;
            }
        }
    }
}

/// An owned `struct bpf_object *` from `bpf_object__open_mem`; closed on drop
/// (which also unloads whatever `load`/`prepare` created).
#[derive(Debug)]
pub struct Object(NonNull<sys::bpf_object>);

impl Object {
    /// `bpf_object__open_mem(data, size, NULL)`.
    pub fn open_mem(data: &[u8]) -> Option<Self> {
        // SAFETY: data is valid for its length during the call; libbpf copies
        // what it keeps. NULL opts select the defaults; the object is ours.
        let obj = unsafe {
            sys::bpf_object__open_mem(
                data.as_ptr().cast::<c_void>(),
                data.len() as u64,
                std::ptr::null(),
            )
        };
        NonNull::new(obj).map(Self)
    }

    /// `bpf_object__prepare`: kernel BTF parse (if the object has CO-RE
    /// relocations), object BTF load, map creation and relocations, without
    /// loading programs. True on success.
    pub fn prepare(&mut self) -> bool {
        // SAFETY: self.0 is a live, opened object.
        unsafe { sys::bpf_object__prepare(self.0.as_ptr()) == 0 }
    }

    /// `bpf_object__load`: everything `prepare` does, then program loads.
    pub fn load(&mut self) -> bool {
        // SAFETY: self.0 is a live, opened object.
        unsafe { sys::bpf_object__load(self.0.as_ptr()) == 0 }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: we own the object and close it once.
        unsafe { sys::bpf_object__close(self.0.as_ptr()) }
    }
}

/// `bpf_object__open_mem` + `bpf_object__load` + `bpf_object__close`: true if it loaded.
pub fn open_load(data: &[u8]) -> bool {
    Object::open_mem(data).is_some_and(|mut o| o.load())
}

/// `bpf_object__open_mem` + `bpf_object__prepare` + `bpf_object__close`.
pub fn open_prepare(data: &[u8]) -> bool {
    Object::open_mem(data).is_some_and(|mut o| o.prepare())
}

/// The trivial ring buffer callback: counts records.
unsafe extern "C" fn count_ring_record(
    ctx: *mut c_void,
    _data: *mut c_void,
    _size: sys::size_t,
) -> i32 {
    // SAFETY: ctx is the `Box<u64>` counter of the `RingBuffer` that registered
    // this callback; it outlives the ring buffer and nothing else touches it
    // during `ring_buffer__consume`.
    unsafe { *ctx.cast::<u64>() += 1 };
    0
}

/// An owned `struct ring_buffer *` over one `BPF_MAP_TYPE_RINGBUF`, with a
/// callback that only counts records.
#[derive(Debug)]
pub struct RingBuffer {
    rb: NonNull<sys::ring_buffer>,
    count: Box<u64>,
}

impl RingBuffer {
    /// `ring_buffer__new(map_fd, count_cb, &count, NULL)`.
    pub fn new(map: std::os::fd::BorrowedFd<'_>) -> Option<Self> {
        let mut count = Box::new(0u64);
        let ctx: *mut u64 = &mut *count;
        // SAFETY: the map fd is valid during the call (libbpf dups nothing, but
        // the caller keeps the map open while the ring buffer lives); ctx points
        // into a heap box that lives as long as the returned object.
        let rb = unsafe {
            sys::ring_buffer__new(
                std::os::fd::AsRawFd::as_raw_fd(&map),
                Some(count_ring_record),
                ctx.cast(),
                std::ptr::null(),
            )
        };
        NonNull::new(rb).map(|rb| Self { rb, count })
    }

    /// `ring_buffer__consume`: drains every ready record; returns how many
    /// records the callback saw.
    pub fn consume(&mut self) -> u64 {
        *self.count = 0;
        // SAFETY: rb is live; the callback only writes the counter box.
        unsafe { sys::ring_buffer__consume(self.rb.as_ptr()) };
        *self.count
    }
}

impl Drop for RingBuffer {
    fn drop(&mut self) {
        // SAFETY: we own the ring buffer and free it once.
        unsafe { sys::ring_buffer__free(self.rb.as_ptr()) }
    }
}

/// The trivial perf buffer callback: counts `PERF_RECORD_SAMPLE` records (what
/// libbpf's own `perf_buffer__process_record` does before calling a sample callback).
unsafe extern "C" fn count_perf_sample(
    ctx: *mut c_void,
    _cpu: i32,
    event: *mut sys::perf_event_header,
) -> sys::bpf_perf_event_ret {
    // SAFETY: libbpf passes a record header inside the ring (or its copy of a
    // wrapped record); ctx is the owning `PerfBuffer`'s counter box, as for
    // `count_ring_record`.
    unsafe {
        if (*event).type_ == sys::PERF_RECORD_SAMPLE {
            *ctx.cast::<u64>() += 1;
        }
    }
    sys::LIBBPF_PERF_EVENT_CONT
}

/// An owned `struct perf_buffer *` over a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`,
/// with a callback that only counts samples.
#[derive(Debug)]
pub struct PerfBuffer {
    pb: NonNull<sys::perf_buffer>,
    count: Box<u64>,
}

impl PerfBuffer {
    /// `perf_buffer__new_raw` with libbpf's default event (`PERF_COUNT_SW_BPF_OUTPUT`,
    /// `PERF_SAMPLE_RAW`, period 1) but a wakeup watermark of `watermark` bytes
    /// instead of a wakeup per sample (which makes filling the rings slow), and a
    /// raw callback that counts samples.
    pub fn new(map: std::os::fd::BorrowedFd<'_>, page_cnt: usize, watermark: u32) -> Option<Self> {
        let mut count = Box::new(0u64);
        let ctx: *mut u64 = &mut *count;
        let mut attr = sys::perf_event_attr {
            type_: 1,   // PERF_TYPE_SOFTWARE
            config: 10, // PERF_COUNT_SW_BPF_OUTPUT
            size: std::mem::size_of::<sys::perf_event_attr>() as u32,
            sample_type: 1 << 10, // PERF_SAMPLE_RAW
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_period = 1;
        attr.__bindgen_anon_2.wakeup_watermark = watermark;
        attr.set_watermark(1);
        // SAFETY: as for `RingBuffer::new`; attr is a valid perf_event_attr that
        // libbpf copies; page_cnt is a power of two; NULL opts map every CPU.
        let pb = unsafe {
            sys::perf_buffer__new_raw(
                std::os::fd::AsRawFd::as_raw_fd(&map),
                page_cnt as sys::size_t,
                &mut attr,
                Some(count_perf_sample),
                ctx.cast(),
                std::ptr::null(),
            )
        };
        NonNull::new(pb).map(|pb| Self { pb, count })
    }

    /// `perf_buffer__consume`: drains every CPU's ring; returns how many
    /// samples the callback saw.
    pub fn consume(&mut self) -> u64 {
        *self.count = 0;
        // SAFETY: pb is live; the callback only writes the counter box.
        unsafe { sys::perf_buffer__consume(self.pb.as_ptr()) };
        *self.count
    }
}

impl Drop for PerfBuffer {
    fn drop(&mut self) {
        // SAFETY: we own the perf buffer and free it once.
        unsafe { sys::perf_buffer__free(self.pb.as_ptr()) }
    }
}
