//! Profiling aid: open one object N times.
fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().expect("path");
    let n: usize = a.next().map(|s| s.parse().unwrap()).unwrap_or(1000);
    let data = std::fs::read(path).unwrap();
    for _ in 0..n {
        std::hint::black_box(ebpf_spec::CollectionSpec::from_elf(&data).ok());
    }
}
