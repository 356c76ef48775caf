//! Prints the stable text dump of each object file named on the command line:
//! `cargo run -p ebpf-spec --example dump -- testdata/loader-el.o`.

fn main() {
    for path in std::env::args().skip(1) {
        match ebpf_spec::CollectionSpec::from_file(&path) {
            Ok(spec) => print!("{}", spec.dump()),
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
