//! comm_filter: system calls counted per command and number, for the command
//! given with `--comm` only: the name is written into the object's `.rodata`
//! (`volatile const char target_comm[16]`) through the typed `rodata_mut()`
//! before load, so the verifier checks the program with it as a constant.
//!
//! `cargo run -p ebpf-examples --bin comm_filter -- [--comm NAME] [--duration S]`

include!(concat!(env!("OUT_DIR"), "/comm_filter.skel.rs"));

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ebpf_examples::Args::parse();
    let mut skel = CommFilterSkel::open()?;
    if let Some(comm) = &args.comm {
        // The kernel keeps 15 bytes of a command name and a NUL.
        let bytes = comm.as_bytes();
        if bytes.len() > 15 || bytes.contains(&0) {
            return Err(format!("--comm {comm:?}: at most 15 bytes, no NUL").into());
        }
        let target = &mut skel.rodata_mut().target_comm;
        target.fill(0);
        for (dst, src) in target.iter_mut().zip(bytes) {
            *dst = *src as _;
        }
    }
    let obj = skel.load()?;
    let _links = obj.attach_all()?;
    eprintln!(
        "counting system calls of {} for {:?}",
        args.comm.as_deref().unwrap_or("every command"),
        args.duration
    );
    std::thread::sleep(args.duration);

    let mut counts = obj.maps.counts.iter().collect::<Result<Vec<_>, _>>()?;
    counts.sort_by_key(|(k, n)| (std::cmp::Reverse(*n), k.nr));
    println!("{:<16} {:>5} {:>10}", "COMM", "NR", "COUNT");
    for (key, n) in counts.iter().take(20) {
        println!("{:<16} {:>5} {:>10}", key.comm_str(), key.nr, n);
    }
    Ok(())
}
