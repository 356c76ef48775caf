//! Dumps a BTF file like `bpftool btf dump file F format raw|c`, and times the parse.
//!
//! `cargo run --release -p ebpf-btf --example btfdump -- /sys/kernel/btf/vmlinux raw`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let format = args.next().unwrap_or_else(|| "raw".into());
    let t0 = Instant::now();
    let spec = ebpf_btf::Spec::load_file(&path)?;
    let parse = t0.elapsed();
    let t1 = Instant::now();
    let hit = spec.types_by_name("task_struct");
    let miss = spec.types_by_name("no_such_type_really");
    let lookup = t1.elapsed();
    let t2 = Instant::now();
    let out = match format.as_str() {
        "raw" => spec.dump_raw()?,
        "c" => ebpf_btf::format_c::dump_c(&spec)?,
        "none" => String::new(),
        other => return Err(format!("unknown format {other}").into()),
    };
    let dump = t2.elapsed();
    print!("{out}");
    eprintln!(
        "parse {:?} ({} types), lookups {:?} (hit {:?}, miss {:?}), dump {:?}",
        parse,
        spec.len(),
        lookup,
        hit,
        miss,
        dump
    );
    Ok(())
}
