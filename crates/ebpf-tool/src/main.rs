//! `ebpf-tool`: inspect, disassemble, load and run eBPF objects with the ebpf-rs crates.

fn main() {
    println!("ebpf-tool {}", env!("CARGO_PKG_VERSION"));
}
