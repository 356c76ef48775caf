//! Golden generated code for every fixture under `testdata/`, both byte
//! orders (rewrite with `EBPF_TESTDATA_UPDATE=1`), and a check that the
//! goldens are exactly what rustfmt makes of them.

use std::path::{Path, PathBuf};

use ebpf_gen::{SkeletonOptions, generate_skeleton};
use ebpf_spec::CollectionSpec;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn update() -> bool {
    std::env::var("EBPF_TESTDATA_UPDATE").as_deref() == Ok("1")
}

/// Every `testdata/*.o`, sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("testdata"))
        .expect("testdata")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    out.sort();
    out
}

/// The skeleton of fixture `path` (`loader-el.o` → object `loader`).
pub fn skeleton(path: &Path) -> ebpf_gen::Generated {
    let file = path.file_name().and_then(|f| f.to_str()).expect("name");
    let stem = file.trim_end_matches(".o");
    let name = stem.trim_end_matches("-el").trim_end_matches("-eb");
    let spec = CollectionSpec::from_file(path).expect("open fixture");
    let mut opts = SkeletonOptions::new(name);
    opts.embed = ebpf_gen::Embed::File(format!("../../../../testdata/{file}"));
    generate_skeleton(&spec, &opts).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn goldens() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut mismatched = Vec::new();
    for path in fixtures() {
        let file = path.file_name().and_then(|f| f.to_str()).expect("name");
        let generated = skeleton(&path);
        let mut text = generated.code;
        for w in &generated.warnings {
            text.push_str(&format!("// warning: {w}\n"));
        }
        let golden = dir.join(format!("{}.rs", file.trim_end_matches(".o")));
        if update() {
            std::fs::write(&golden, &text).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(old) if old == text => {}
            Ok(_) => mismatched.push(file.to_owned()),
            Err(e) => panic!(
                "{}: {e} (run with EBPF_TESTDATA_UPDATE=1 to create)",
                golden.display()
            ),
        }
    }
    assert!(
        mismatched.is_empty(),
        "generated code differs from the goldens for {mismatched:?}; rerun with EBPF_TESTDATA_UPDATE=1 if intended"
    );
}

/// The goldens are what rustfmt (default settings) makes of them.
#[test]
fn goldens_are_rustfmt_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("goldens")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let out = match std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .args(&files)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIP goldens_are_rustfmt_clean: rustfmt: {e}");
            return;
        }
    };
    assert!(
        out.status.success(),
        "rustfmt would change the generated code:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
