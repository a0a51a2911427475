//! Replays `http_query` fuzz inputs (crashes once found, and the most
//! instructive inputs of the corpus) stored under
//! `tests/fuzz_regressions/http_query/`: raw query strings, as given to
//! `fuzz/fuzz_targets/http_query.rs`.
//!
//! Each input `<name>` has a `<name>.expected` file: the parsed pairs or
//! the error. After a deliberate behaviour change, regenerate them with
//! `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and review the diff.

use nsq_http::Query;

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
    nsq_fuzz_support::replay(env!("CARGO_MANIFEST_DIR"), "http_query", outcome);
}
