//! Checks every attr and info struct against `tests/kernel_layout.txt`, the
//! member offsets of `union bpf_attr`, the `bpf_*_info` structs and
//! `perf_event_attr` extracted from the running kernel's BTF by
//! `tests/gen_layout.py` (regenerate with `EBPF_TESTDATA_UPDATE=1 cargo test -p
//! ebpf-syscall layout`, which needs bpftool).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
//!
//! For each struct: every field's `offset_of!` and size equals the kernel's,
//! the fields (with explicit padding) add up to the struct's size, the struct
//! is no larger than the kernel's, and every kernel member that lies within
//! the struct is matched by a field of the same offset and size.

use std::collections::BTreeMap;

use crate::*;

const TABLE: &str = include_str!("../tests/kernel_layout.txt");

#[derive(Default)]
struct Table {
    members: BTreeMap<String, (usize, usize)>,
    sizes: BTreeMap<String, usize>,
    bitfields: Vec<(String, usize)>,
}

fn table() -> Table {
    let mut t = Table::default();
    for line in TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 3, "bad line {line}");
        if parts[1] == "size" {
            t.sizes.insert(parts[0].into(), parts[2].parse().unwrap());
        } else if let Some(bit) = parts[1].strip_prefix("bitfield@") {
            t.bitfields.push((parts[0].into(), bit.parse().unwrap()));
        } else {
            t.members.insert(
                parts[0].into(),
                (parts[1].parse().unwrap(), parts[2].parse().unwrap()),
            );
        }
    }
    t
}

fn size_of_ret<T, F>(_: impl Fn(T) -> F) -> usize {
    core::mem::size_of::<F>()
}

struct Check<'t> {
    t: &'t Table,
    name: &'static str,
    group: &'static str,
    size: usize,
    fields: Vec<(usize, usize)>,
    total: usize,
}

impl<'t> Check<'t> {
    fn field(&mut self, field: &str, kname: &str, off: usize, size: usize) {
        self.total += size;
        self.fields.push((off, size));
        match kname {
            "pad" => {}
            "bitfields" => {
                let prefix = format!("{}.", self.group);
                let n = self
                    .t
                    .bitfields
                    .iter()
                    .filter(|(p, bit)| {
                        p.starts_with(&prefix) && *bit >= off * 8 && *bit < (off + size) * 8
                    })
                    .count();
                assert!(n > 0, "{}.{field}: no kernel bitfields at {off}", self.name);
            }
            _ => {
                let path = format!("{}.{kname}", self.group);
                let Some(&(koff, ksize)) = self.t.members.get(&path) else {
                    panic!("{}.{field}: the kernel has no {path}", self.name)
                };
                assert_eq!(
                    (off, size),
                    (koff, ksize),
                    "{}.{field}: (offset, size) differs from the kernel's {path}",
                    self.name
                );
            }
        }
    }

    fn finish(self, complete: &[&str], exact_size: bool) {
        assert_eq!(
            self.total, self.size,
            "{}: fields do not add up to the struct size (implicit padding?)",
            self.name
        );
        let ksize = self.t.sizes[self.group];
        if exact_size {
            assert_eq!(
                self.size, ksize,
                "{}: size differs from {}",
                self.name, self.group
            );
        } else {
            assert!(
                self.size <= ksize,
                "{}: larger than {}",
                self.name,
                self.group
            );
        }
        for prefix in complete {
            let direct = prefix.strip_suffix('.');
            for (path, &(off, size)) in &self.t.members {
                let wanted = match direct {
                    Some(p) => path
                        .strip_prefix(p)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|rest| !rest.contains('.')),
                    None => path == prefix,
                };
                if wanted && off + size <= self.size {
                    assert!(
                        self.fields.contains(&(off, size)),
                        "{}: kernel member {path} ({off}, {size}) has no field",
                        self.name
                    );
                }
            }
        }
    }
}

macro_rules! layout {
    ($t:expr, $ty:ty, $group:literal, complete = [$($c:literal),*], exact = $exact:expr,
     { $($field:ident => $k:literal),* $(,)? }) => {{
        let mut c = Check {
            t: &$t,
            name: stringify!($ty),
            group: $group,
            size: core::mem::size_of::<$ty>(),
            fields: Vec::new(),
            total: 0,
        };
        $(
            c.field(
                stringify!($field),
                $k,
                core::mem::offset_of!($ty, $field),
                size_of_ret(|s: $ty| s.$field),
            );
        )*
        c.finish(&[$($c),*], $exact);
    }};
}

macro_rules! link_layout {
    ($t:expr, $ty:ty, $tail:literal, { $($field:ident => $k:literal),* $(,)? }) => {
        layout!($t, $ty, "bpf_attr.link_create",
            complete = ["bpf_attr.link_create.prog_fd", "bpf_attr.link_create.target_fd",
                        "bpf_attr.link_create.attach_type", "bpf_attr.link_create.flags", $tail],
            exact = false, {
            prog_fd => "prog_fd", target_fd => "target_fd", attach_type => "attach_type",
            flags => "flags", $($field => $k),*
        })
    };
}

#[test]
fn bpf_attr_layouts() {
    let t = table();
    layout!(t, MapCreateAttr<'_>, "bpf_attr.map_create", complete = ["bpf_attr.map_create."], exact = true, {
        map_type => "map_type", key_size => "key_size", value_size => "value_size",
        max_entries => "max_entries", map_flags => "map_flags", inner_map_fd => "inner_map_fd",
        numa_node => "numa_node", map_name => "map_name", map_ifindex => "map_ifindex",
        btf_fd => "btf_fd", btf_key_type_id => "btf_key_type_id",
        btf_value_type_id => "btf_value_type_id",
        btf_vmlinux_value_type_id => "btf_vmlinux_value_type_id", map_extra => "map_extra",
        value_type_btf_obj_fd => "value_type_btf_obj_fd", map_token_fd => "map_token_fd",
        excl_prog_hash => "excl_prog_hash", excl_prog_hash_size => "excl_prog_hash_size",
        _pad0 => "pad",
    });
    layout!(t, crate::map::MapElemAttr<'_>, "bpf_attr.map_elem", complete = ["bpf_attr.map_elem."], exact = true, {
        map_fd => "map_fd", _pad0 => "pad", key => "key", value => "value", flags => "flags",
    });
    layout!(t, crate::map::MapBatchAttr<'_>, "bpf_attr.batch", complete = ["bpf_attr.batch."], exact = true, {
        in_batch => "in_batch", out_batch => "out_batch", keys => "keys", values => "values",
        count => "count", map_fd => "map_fd", elem_flags => "elem_flags", flags => "flags",
    });
    layout!(t, ProgLoadAttr<'_>, "bpf_attr.prog_load", complete = ["bpf_attr.prog_load."], exact = true, {
        prog_type => "prog_type", insn_cnt => "insn_cnt", insns => "insns", license => "license",
        log_level => "log_level", log_size => "log_size", log_buf => "log_buf",
        kern_version => "kern_version", prog_flags => "prog_flags", prog_name => "prog_name",
        prog_ifindex => "prog_ifindex", expected_attach_type => "expected_attach_type",
        prog_btf_fd => "prog_btf_fd", func_info_rec_size => "func_info_rec_size",
        func_info => "func_info", func_info_cnt => "func_info_cnt",
        line_info_rec_size => "line_info_rec_size", line_info => "line_info",
        line_info_cnt => "line_info_cnt", attach_btf_id => "attach_btf_id",
        attach_prog_fd => "attach_prog_fd", core_relo_cnt => "core_relo_cnt",
        fd_array => "fd_array", core_relos => "core_relos",
        core_relo_rec_size => "core_relo_rec_size", log_true_size => "log_true_size",
        prog_token_fd => "prog_token_fd", fd_array_cnt => "fd_array_cnt",
        signature => "signature", signature_size => "signature_size", keyring_id => "keyring_id",
    });
    layout!(t, ObjAttr<'_>, "bpf_attr.obj", complete = ["bpf_attr.obj."], exact = true, {
        pathname => "pathname", bpf_fd => "bpf_fd", file_flags => "file_flags",
        path_fd => "path_fd", _pad0 => "pad",
    });
    layout!(t, ProgAttachAttr, "bpf_attr.prog_attach", complete = ["bpf_attr.prog_attach."], exact = true, {
        target_fd => "target_fd", attach_bpf_fd => "attach_bpf_fd", attach_type => "attach_type",
        attach_flags => "attach_flags", replace_bpf_fd => "replace_bpf_fd",
        relative_fd => "relative_fd", expected_revision => "expected_revision",
    });
    layout!(t, ProgTestRunAttr<'_>, "bpf_attr.test", complete = ["bpf_attr.test."], exact = true, {
        prog_fd => "prog_fd", retval => "retval", data_size_in => "data_size_in",
        data_size_out => "data_size_out", data_in => "data_in", data_out => "data_out",
        repeat => "repeat", duration => "duration", ctx_size_in => "ctx_size_in",
        ctx_size_out => "ctx_size_out", ctx_in => "ctx_in", ctx_out => "ctx_out",
        flags => "flags", cpu => "cpu", batch_size => "batch_size", _pad0 => "pad",
    });
    layout!(t, GetIdAttr, "bpf_attr.get_id", complete = ["bpf_attr.get_id."], exact = true, {
        id => "start_id", next_id => "next_id", open_flags => "open_flags",
        fd_by_id_token_fd => "fd_by_id_token_fd",
    });
    layout!(t, crate::obj::InfoAttr<'_>, "bpf_attr.info", complete = ["bpf_attr.info."], exact = true, {
        bpf_fd => "bpf_fd", info_len => "info_len", info => "info",
    });
    layout!(t, ProgQueryAttr<'_>, "bpf_attr.query", complete = ["bpf_attr.query."], exact = true, {
        target_fd => "target_fd", attach_type => "attach_type", query_flags => "query_flags",
        attach_flags => "attach_flags", prog_ids => "prog_ids", prog_cnt => "prog_cnt",
        _pad0 => "pad", prog_attach_flags => "prog_attach_flags", link_ids => "link_ids",
        link_attach_flags => "link_attach_flags", revision => "revision",
    });
    layout!(t, RawTracepointOpenAttr<'_>, "bpf_attr.raw_tracepoint", complete = ["bpf_attr.raw_tracepoint."], exact = true, {
        name => "name", prog_fd => "prog_fd", _pad0 => "pad", cookie => "cookie",
    });
    layout!(t, BtfLoadAttr<'_>, "bpf_attr.btf_load", complete = ["bpf_attr.btf_load."], exact = true, {
        btf => "btf", btf_log_buf => "btf_log_buf", btf_size => "btf_size",
        btf_log_size => "btf_log_size", btf_log_level => "btf_log_level",
        btf_log_true_size => "btf_log_true_size", btf_flags => "btf_flags",
        btf_token_fd => "btf_token_fd",
    });
    link_layout!(t, LinkCreateAttr, "bpf_attr.link_create.target_btf_id", {
        target_btf_id => "target_btf_id", _pad0 => "pad",
    });
    link_layout!(t, LinkCreateIterAttr<'_>, "bpf_attr.link_create.iter_info_len", {
        iter_info => "iter_info", iter_info_len => "iter_info_len", _pad0 => "pad",
    });
    link_layout!(t, LinkCreatePerfEventAttr, "bpf_attr.link_create.perf_event.", {
        bpf_cookie => "perf_event.bpf_cookie",
    });
    link_layout!(t, LinkCreateKprobeMultiAttr<'_>, "bpf_attr.link_create.kprobe_multi.", {
        kprobe_flags => "kprobe_multi.flags", cnt => "kprobe_multi.cnt",
        syms => "kprobe_multi.syms", addrs => "kprobe_multi.addrs",
        cookies => "kprobe_multi.cookies",
    });
    link_layout!(t, LinkCreateTracingAttr, "bpf_attr.link_create.tracing.", {
        target_btf_id => "tracing.target_btf_id", _pad0 => "pad", cookie => "tracing.cookie",
    });
    link_layout!(t, LinkCreateNetfilterAttr, "bpf_attr.link_create.netfilter.", {
        pf => "netfilter.pf", hooknum => "netfilter.hooknum", priority => "netfilter.priority",
        netfilter_flags => "netfilter.flags",
    });
    for tail in ["cgroup", "tcx", "netkit"] {
        // One struct serves all three tails; check it against each.
        let mut c = Check {
            t: &t,
            name: "LinkCreateCgroupAttr",
            group: "bpf_attr.link_create",
            size: core::mem::size_of::<LinkCreateCgroupAttr>(),
            fields: Vec::new(),
            total: 0,
        };
        c.field(
            "prog_fd",
            "prog_fd",
            core::mem::offset_of!(LinkCreateCgroupAttr, prog_fd),
            4,
        );
        c.field(
            "target_fd",
            "target_fd",
            core::mem::offset_of!(LinkCreateCgroupAttr, target_fd),
            4,
        );
        c.field(
            "attach_type",
            "attach_type",
            core::mem::offset_of!(LinkCreateCgroupAttr, attach_type),
            4,
        );
        c.field(
            "flags",
            "flags",
            core::mem::offset_of!(LinkCreateCgroupAttr, flags),
            4,
        );
        c.field(
            "relative_fd",
            &format!("{tail}.relative_fd"),
            core::mem::offset_of!(LinkCreateCgroupAttr, relative_fd),
            4,
        );
        c.field("_pad0", "pad", 20, 4);
        c.field(
            "expected_revision",
            &format!("{tail}.expected_revision"),
            core::mem::offset_of!(LinkCreateCgroupAttr, expected_revision),
            8,
        );
        c.finish(&[], false);
    }
    link_layout!(t, LinkCreateUprobeMultiAttr<'_>, "bpf_attr.link_create.uprobe_multi.", {
        path => "uprobe_multi.path", offsets => "uprobe_multi.offsets",
        ref_ctr_offsets => "uprobe_multi.ref_ctr_offsets", cookies => "uprobe_multi.cookies",
        cnt => "uprobe_multi.cnt", uprobe_flags => "uprobe_multi.flags",
        pid => "uprobe_multi.pid", _pad0 => "pad",
    });
    layout!(t, LinkUpdateAttr, "bpf_attr.link_update", complete = ["bpf_attr.link_update."], exact = true, {
        link_fd => "link_fd", new_prog_fd => "new_prog_fd", flags => "flags",
        old_prog_fd => "old_prog_fd",
    });
    layout!(t, LinkDetachAttr, "bpf_attr.link_detach", complete = ["bpf_attr.link_detach."], exact = true, {
        link_fd => "link_fd",
    });
    layout!(t, EnableStatsAttr, "bpf_attr.enable_stats", complete = ["bpf_attr.enable_stats."], exact = true, {
        r#type => "type",
    });
    layout!(t, IterCreateAttr, "bpf_attr.iter_create", complete = ["bpf_attr.iter_create."], exact = true, {
        link_fd => "link_fd", flags => "flags",
    });
    layout!(t, ProgBindMapAttr, "bpf_attr.prog_bind_map", complete = ["bpf_attr.prog_bind_map."], exact = true, {
        prog_fd => "prog_fd", map_fd => "map_fd", flags => "flags",
    });
    layout!(t, TaskFdQueryAttr<'_>, "bpf_attr.task_fd_query", complete = ["bpf_attr.task_fd_query."], exact = true, {
        pid => "pid", fd => "fd", flags => "flags", buf_len => "buf_len", buf => "buf",
        prog_id => "prog_id", fd_type => "fd_type", probe_offset => "probe_offset",
        probe_addr => "probe_addr",
    });
    // `union bpf_iter_link_info`: three words named per iterator.
    assert_eq!(
        t.sizes["bpf_iter_link_info"],
        core::mem::size_of::<IterLinkInfo>()
    );
    for (path, off) in [
        (
            "bpf_iter_link_info.map.map_fd",
            core::mem::offset_of!(IterLinkInfo, a),
        ),
        (
            "bpf_iter_link_info.cgroup.order",
            core::mem::offset_of!(IterLinkInfo, a),
        ),
        (
            "bpf_iter_link_info.task.tid",
            core::mem::offset_of!(IterLinkInfo, a),
        ),
        (
            "bpf_iter_link_info.cgroup.cgroup_fd",
            core::mem::offset_of!(IterLinkInfo, b),
        ),
        (
            "bpf_iter_link_info.task.pid",
            core::mem::offset_of!(IterLinkInfo, b),
        ),
        (
            "bpf_iter_link_info.cgroup.cgroup_id",
            core::mem::offset_of!(IterLinkInfo, c),
        ),
        (
            "bpf_iter_link_info.task.pid_fd",
            core::mem::offset_of!(IterLinkInfo, c),
        ),
    ] {
        assert_eq!(t.members[path].0, off, "{path}");
    }
    layout!(t, ProgStreamReadAttr<'_>, "bpf_attr.prog_stream_read", complete = ["bpf_attr.prog_stream_read."], exact = true, {
        stream_buf => "stream_buf", stream_buf_len => "stream_buf_len", stream_id => "stream_id",
        prog_fd => "prog_fd", _pad0 => "pad",
    });
    layout!(t, TokenCreateAttr, "bpf_attr.token_create", complete = ["bpf_attr.token_create."], exact = true, {
        flags => "flags", bpffs_fd => "bpffs_fd",
    });
}

#[test]
fn info_layouts() {
    let t = table();
    layout!(t, ProgInfo, "bpf_prog_info", complete = ["bpf_prog_info."], exact = true, {
        r#type => "type", id => "id", tag => "tag", jited_prog_len => "jited_prog_len",
        xlated_prog_len => "xlated_prog_len", jited_prog_insns => "jited_prog_insns",
        xlated_prog_insns => "xlated_prog_insns", load_time => "load_time",
        created_by_uid => "created_by_uid", nr_map_ids => "nr_map_ids", map_ids => "map_ids",
        name => "name", ifindex => "ifindex", flags => "bitfields", netns_dev => "netns_dev",
        netns_ino => "netns_ino", nr_jited_ksyms => "nr_jited_ksyms",
        nr_jited_func_lens => "nr_jited_func_lens", jited_ksyms => "jited_ksyms",
        jited_func_lens => "jited_func_lens", btf_id => "btf_id",
        func_info_rec_size => "func_info_rec_size", func_info => "func_info",
        nr_func_info => "nr_func_info", nr_line_info => "nr_line_info", line_info => "line_info",
        jited_line_info => "jited_line_info", nr_jited_line_info => "nr_jited_line_info",
        line_info_rec_size => "line_info_rec_size",
        jited_line_info_rec_size => "jited_line_info_rec_size", nr_prog_tags => "nr_prog_tags",
        prog_tags => "prog_tags", run_time_ns => "run_time_ns", run_cnt => "run_cnt",
        recursion_misses => "recursion_misses", verified_insns => "verified_insns",
        attach_btf_obj_id => "attach_btf_obj_id", attach_btf_id => "attach_btf_id",
        _pad0 => "pad",
    });
    layout!(t, MapInfo, "bpf_map_info", complete = ["bpf_map_info."], exact = true, {
        r#type => "type", id => "id", key_size => "key_size", value_size => "value_size",
        max_entries => "max_entries", map_flags => "map_flags", name => "name",
        ifindex => "ifindex", btf_vmlinux_value_type_id => "btf_vmlinux_value_type_id",
        netns_dev => "netns_dev", netns_ino => "netns_ino", btf_id => "btf_id",
        btf_key_type_id => "btf_key_type_id", btf_value_type_id => "btf_value_type_id",
        btf_vmlinux_id => "btf_vmlinux_id", map_extra => "map_extra", hash => "hash",
        hash_size => "hash_size", _pad0 => "pad",
    });
    layout!(t, BtfInfo, "bpf_btf_info", complete = ["bpf_btf_info."], exact = true, {
        btf => "btf", btf_size => "btf_size", id => "id", name => "name",
        name_len => "name_len", kernel_btf => "kernel_btf",
    });
    layout!(t, LinkInfo, "bpf_link_info", complete = ["bpf_link_info."], exact = true, {
        r#type => "type", id => "id", prog_id => "prog_id", _pad0 => "pad",
        data => "pad",
    });
    // The typed readers of the union.
    for (path, off) in [
        ("bpf_link_info.cgroup.cgroup_id", 16),
        ("bpf_link_info.cgroup.attach_type", 24),
        ("bpf_link_info.netns.netns_ino", 16),
        ("bpf_link_info.netns.attach_type", 20),
        ("bpf_link_info.xdp.ifindex", 16),
        ("bpf_link_info.tcx.ifindex", 16),
        ("bpf_link_info.tracing.attach_type", 16),
        ("bpf_link_info.tracing.target_obj_id", 20),
        ("bpf_link_info.tracing.target_btf_id", 24),
    ] {
        assert_eq!(t.members[path].0, off, "{path}");
    }
    assert_eq!(core::mem::offset_of!(LinkInfo, data), 16);
    // The name fields of `link_info_with_names` (offsets in `data`) and the
    // typed readers.
    use crate::info::*;
    for (path, off, size) in [
        ("bpf_link_info.raw_tracepoint.tp_name", NAME_PTR_OFF, 8),
        ("bpf_link_info.raw_tracepoint.tp_name_len", NAME_LEN_OFF, 4),
        ("bpf_link_info.iter.target_name", NAME_PTR_OFF, 8),
        ("bpf_link_info.iter.target_name_len", NAME_LEN_OFF, 4),
        ("bpf_link_info.iter.map.map_id", ITER_MAP_ID_OFF, 4),
        ("bpf_link_info.uprobe_multi.path", NAME_PTR_OFF, 8),
        (
            "bpf_link_info.uprobe_multi.path_size",
            UPROBE_MULTI_PATH_SIZE_OFF,
            4,
        ),
        (
            "bpf_link_info.uprobe_multi.offsets",
            UPROBE_MULTI_OFFSETS_OFF,
            8,
        ),
        (
            "bpf_link_info.uprobe_multi.ref_ctr_offsets",
            UPROBE_MULTI_REF_CTR_OFF,
            8,
        ),
        (
            "bpf_link_info.uprobe_multi.cookies",
            UPROBE_MULTI_COOKIES_OFF,
            8,
        ),
        (
            "bpf_link_info.uprobe_multi.count",
            UPROBE_MULTI_COUNT_OFF,
            4,
        ),
        ("bpf_link_info.perf_event.type", PERF_EVENT_TYPE_OFF, 4),
        (
            "bpf_link_info.perf_event.uprobe.file_name",
            PERF_EVENT_NAME_PTR_OFF,
            8,
        ),
        (
            "bpf_link_info.perf_event.uprobe.name_len",
            PERF_EVENT_NAME_LEN_OFF,
            4,
        ),
        (
            "bpf_link_info.perf_event.kprobe.func_name",
            PERF_EVENT_NAME_PTR_OFF,
            8,
        ),
        (
            "bpf_link_info.perf_event.kprobe.name_len",
            PERF_EVENT_NAME_LEN_OFF,
            4,
        ),
        (
            "bpf_link_info.perf_event.tracepoint.tp_name",
            PERF_EVENT_NAME_PTR_OFF,
            8,
        ),
        (
            "bpf_link_info.perf_event.tracepoint.name_len",
            PERF_EVENT_NAME_LEN_OFF,
            4,
        ),
    ] {
        assert_eq!(t.members[path], (16 + off, size), "{path}");
        // Addresses are whole words of `data`.
        assert!(size != 8 || off % 8 == 0, "{path}");
    }
}

/// The `PERF_ATTR_FLAG_*` bits of `perf_event_attr`'s flags word.
#[test]
fn perf_event_attr_flag_bits() {
    use crate::perf::*;
    let t = table();
    let word = 8 * t.members["perf_event_attr.read_format"].0 + 64;
    let bit = |name: &str| {
        let (_, at) = t
            .bitfields
            .iter()
            .find(|(p, _)| p == &format!("perf_event_attr.{name}"))
            .unwrap_or_else(|| panic!("no bitfield {name}"));
        at - word
    };
    for (name, flag) in [
        ("disabled", PERF_ATTR_FLAG_DISABLED),
        ("inherit", PERF_ATTR_FLAG_INHERIT),
        ("pinned", PERF_ATTR_FLAG_PINNED),
        ("exclusive", PERF_ATTR_FLAG_EXCLUSIVE),
        ("exclude_user", PERF_ATTR_FLAG_EXCLUDE_USER),
        ("exclude_kernel", PERF_ATTR_FLAG_EXCLUDE_KERNEL),
        ("exclude_hv", PERF_ATTR_FLAG_EXCLUDE_HV),
        ("exclude_idle", PERF_ATTR_FLAG_EXCLUDE_IDLE),
        ("mmap", PERF_ATTR_FLAG_MMAP),
        ("comm", PERF_ATTR_FLAG_COMM),
        ("freq", PERF_ATTR_FLAG_FREQ),
        ("inherit_stat", PERF_ATTR_FLAG_INHERIT_STAT),
        ("enable_on_exec", PERF_ATTR_FLAG_ENABLE_ON_EXEC),
        ("task", PERF_ATTR_FLAG_TASK),
        ("watermark", PERF_ATTR_FLAG_WATERMARK),
        ("mmap_data", PERF_ATTR_FLAG_MMAP_DATA),
        ("sample_id_all", PERF_ATTR_FLAG_SAMPLE_ID_ALL),
        ("exclude_host", PERF_ATTR_FLAG_EXCLUDE_HOST),
        ("exclude_guest", PERF_ATTR_FLAG_EXCLUDE_GUEST),
        (
            "exclude_callchain_kernel",
            PERF_ATTR_FLAG_EXCLUDE_CALLCHAIN_KERNEL,
        ),
        (
            "exclude_callchain_user",
            PERF_ATTR_FLAG_EXCLUDE_CALLCHAIN_USER,
        ),
        ("mmap2", PERF_ATTR_FLAG_MMAP2),
        ("comm_exec", PERF_ATTR_FLAG_COMM_EXEC),
        ("use_clockid", PERF_ATTR_FLAG_USE_CLOCKID),
        ("context_switch", PERF_ATTR_FLAG_CONTEXT_SWITCH),
        ("write_backward", PERF_ATTR_FLAG_WRITE_BACKWARD),
        ("namespaces", PERF_ATTR_FLAG_NAMESPACES),
        ("ksymbol", PERF_ATTR_FLAG_KSYMBOL),
        ("bpf_event", PERF_ATTR_FLAG_BPF_EVENT),
        ("aux_output", PERF_ATTR_FLAG_AUX_OUTPUT),
        ("cgroup", PERF_ATTR_FLAG_CGROUP),
        ("text_poke", PERF_ATTR_FLAG_TEXT_POKE),
        ("build_id", PERF_ATTR_FLAG_BUILD_ID),
        ("inherit_thread", PERF_ATTR_FLAG_INHERIT_THREAD),
        ("remove_on_exec", PERF_ATTR_FLAG_REMOVE_ON_EXEC),
        ("sigtrap", PERF_ATTR_FLAG_SIGTRAP),
    ] {
        assert_eq!(flag, 1u64 << bit(name), "{name}");
    }
    assert_eq!(PERF_ATTR_PRECISE_IP_SHIFT as usize, bit("precise_ip"));
}

#[test]
fn perf_event_attr_layout() {
    let t = table();
    layout!(t, perf::PerfEventAttr<'_>, "perf_event_attr", complete = ["perf_event_attr."], exact = true, {
        r#type => "type", size => "size", config => "config", sample_period => "sample_period",
        sample_type => "sample_type", read_format => "read_format", flags => "bitfields",
        wakeup_events => "wakeup_events", bp_type => "bp_type", config1 => "config1",
        config2 => "config2", branch_sample_type => "branch_sample_type",
        sample_regs_user => "sample_regs_user", sample_stack_user => "sample_stack_user",
        clockid => "clockid", sample_regs_intr => "sample_regs_intr",
        aux_watermark => "aux_watermark", sample_max_stack => "sample_max_stack",
        __reserved_2 => "__reserved_2", aux_sample_size => "aux_sample_size",
        aux_action => "aux_action", sig_data => "sig_data", config3 => "config3",
        _borrow => "pad",
    });
}

/// `EBPF_TESTDATA_UPDATE=1`: regenerate the table from this machine's kernel.
#[test]
fn table_is_current_or_regenerated() {
    if std::env::var_os("EBPF_TESTDATA_UPDATE").is_none() {
        assert!(
            TABLE.lines().count() > 300,
            "the layout table looks truncated"
        );
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let out = std::process::Command::new("python3")
        .arg(format!("{dir}/gen_layout.py"))
        .output()
        .expect("run gen_layout.py (needs python3 and bpftool)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(format!("{dir}/kernel_layout.txt"), &out.stdout).unwrap();
}
