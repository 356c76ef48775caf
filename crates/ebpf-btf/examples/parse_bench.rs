//! Rough timing of vmlinux parsing: `cargo run --release -p ebpf-btf --example parse_bench`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    if std::env::args().nth(2).as_deref() == Some("load-only") {
        for _ in 0..50 {
            std::hint::black_box(ebpf_btf::Spec::load_file(&path)?);
        }
        return Ok(());
    }
    let bytes = std::fs::read(&path)?;
    let mut best_mem = f64::MAX;
    let mut best_file = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let spec = ebpf_btf::Spec::parse_lazy(bytes.clone())?;
        best_mem = best_mem.min(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(&spec);
        let t = Instant::now();
        let spec = ebpf_btf::Spec::load_file(&path)?;
        best_file = best_file.min(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(&spec);
    }
    let spec = ebpf_btf::Spec::load_file(&path)?;
    let t = Instant::now();
    let mut n = 0;
    for name in [
        "task_struct",
        "sk_buff",
        "no_such_type",
        "bpf_map",
        "xdp_md",
    ] {
        for _ in 0..1000 {
            n += spec.types_by_name(name).len();
        }
    }
    let lookup = t.elapsed().as_secs_f64() * 1e6 / 5000.0;
    let t = Instant::now();
    spec.validate()?;
    let all = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{} types: parse from memory {best_mem:.2} ms (incl. copy), load_file {best_file:.2} ms, \
         lookup {lookup:.3} us ({n}), decode all {all:.1} ms",
        spec.len()
    );
    Ok(())
}
