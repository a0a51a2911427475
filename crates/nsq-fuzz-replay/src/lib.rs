//! Replays the inputs kept from fuzzing (crashes once found and instructive
//! corpus entries) in the normal test run, on the stable toolchain.
//!
//! A crate keeps them under `tests/fuzz_regressions/<target>/`: each input
//! `<name>` has a `<name>.expected` file holding what the parser must make of
//! it, one line per item. After a deliberate behaviour change, regenerate the
//! files with `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and review the diff.

use std::path::{Path, PathBuf};

/// Runs `outcome` on every input in `<crate_dir>/tests/fuzz_regressions/<target>/`
/// and compares each result with its `.expected` file; panics listing every
/// mismatch (or rewrites the files when `NSQ_UPDATE_FUZZ_EXPECTED` is set).
pub fn replay(crate_dir: &str, target: &str, outcome: impl Fn(&[u8]) -> Vec<String>) {
    let dir = Path::new(crate_dir)
        .join("tests/fuzz_regressions")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_none_or(|x| x != "expected"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    let update = std::env::var_os("NSQ_UPDATE_FUZZ_EXPECTED").is_some();
    let mut failures = Vec::new();
    for input in &inputs {
        let data = std::fs::read(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let got = outcome(&data).join("\n") + "\n";
        let expected_path = input.with_extension("expected");
        if update {
            if let Err(e) = std::fs::write(&expected_path, &got) {
                panic!("{}: {e}", expected_path.display());
            }
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                input.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", expected_path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
