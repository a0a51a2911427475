//! Replays `http_query` fuzz inputs (crashes once found, and the most
//! instructive inputs of the corpus) stored under
//! `tests/fuzz_regressions/http_query/`: raw query strings, as given to
//! `fuzz/fuzz_targets/http_query.rs`.
//!
//! Each input `<name>` has a `<name>.expected` file: the parsed pairs or
//! the error. After a deliberate behaviour change, regenerate them with
//! `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and review the diff.

use nsq_http::Query;
use std::path::{Path, PathBuf};

fn outcome(data: &[u8]) -> Vec<String> {
    match Query::parse(&String::from_utf8_lossy(data)) {
        Ok(query) => {
            let mut out: Vec<String> = query
                .pairs()
                .iter()
                .map(|(k, v)| format!("{k:?} = {v:?}"))
                .collect();
            out.push(format!("topic: {:?}", query.get("topic")));
            out
        }
        Err(e) => vec![format!("error {e}")],
    }
}

#[test]
fn http_query_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions/http_query");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|x| x != "expected"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    let update = std::env::var_os("NSQ_UPDATE_FUZZ_EXPECTED").is_some();
    let mut failures = Vec::new();
    for input in &inputs {
        let got = outcome(&std::fs::read(input).unwrap()).join("\n") + "\n";
        let expected_path = input.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
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
