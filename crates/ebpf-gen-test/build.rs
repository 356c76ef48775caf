//! Generates a skeleton for every object under `testdata/` into `OUT_DIR`, and
//! `skeletons.rs`, which includes each in a module named after its object
//! (`loader` for `loader-el.o`, `loader_eb` for `loader-eb.o`).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed={}", root.display());
    let mut objects: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("testdata")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    objects.sort();
    let mut all = String::new();
    for path in objects {
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .expect("file name");
        let stem = file.trim_end_matches(".o");
        let name = match stem.strip_suffix("-el") {
            Some(n) => n.to_owned(),
            None => stem.replace('-', "_"),
        };
        let spec = ebpf_spec::CollectionSpec::from_file(&path).expect("open fixture");
        let abs = path.canonicalize().expect("canonicalize");
        let options = ebpf_gen::SkeletonOptions {
            embed: ebpf_gen::Embed::File(abs.display().to_string()),
            ..ebpf_gen::SkeletonOptions::new(&name)
        };
        let generated =
            ebpf_gen::generate_skeleton(&spec, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
        std::fs::write(out.join(format!("{name}.skel.rs")), &generated.code).expect("write");
        // `gen` is a keyword (edition 2024).
        let module = if name == "gen" {
            "r#gen".to_owned()
        } else {
            name.clone()
        };
        let _ = writeln!(
            all,
            "/// The skeleton of `testdata/{file}`.\npub mod {module} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/{name}.skel.rs\"));\n}}"
        );
    }
    std::fs::write(out.join("skeletons.rs"), all).expect("write");
}
