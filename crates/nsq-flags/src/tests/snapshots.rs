//! Every flag table pinned as it stood before its shared flags were
//! factored into helpers: the `--help` text (sorted by name) and the
//! declarations in order (name, kind, default, usage, config key), so a
//! refactor of `tables/` provably changes nothing.
//!
//! The snapshots live in `snapshots/`; after an intended table change,
//! regenerate them with `NSQ_FLAGS_BLESS=1 cargo test -p nsq-flags snapshot`.

use crate::tables::{
    nsq_stat, nsq_tail, nsq_to_file, nsq_to_http, nsq_to_nsq, nsqadmin, nsqd, nsqlookupd, to_nsq,
};
use crate::FlagSet;

/// The declarations in order, one `{:?}` line per flag.
fn declarations(set: &FlagSet) -> String {
    let mut out = format!("program {:?}\n", set.program);
    for spec in &set.specs {
        out.push_str(&format!("{spec:?}\n"));
    }
    out
}

fn check(name: &str, actual: &str, expected: &str) {
    if std::env::var_os("NSQ_FLAGS_BLESS").is_some() {
        let path = format!("{}/src/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    assert!(actual == expected, "{name} changed:\n{actual}");
}

macro_rules! snapshot {
    ($test:ident, $table:ident) => {
        #[test]
        fn $test() {
            let set = $table();
            check(
                concat!(stringify!($table), ".usage"),
                &set.usage(),
                include_str!(concat!("snapshots/", stringify!($table), ".usage")),
            );
            check(
                concat!(stringify!($table), ".specs"),
                &declarations(&set),
                include_str!(concat!("snapshots/", stringify!($table), ".specs")),
            );
        }
    };
}

snapshot!(snapshot_nsq_tail, nsq_tail);
snapshot!(snapshot_nsq_to_file, nsq_to_file);
snapshot!(snapshot_nsq_to_http, nsq_to_http);
snapshot!(snapshot_nsq_to_nsq, nsq_to_nsq);
snapshot!(snapshot_nsq_stat, nsq_stat);
snapshot!(snapshot_to_nsq, to_nsq);
snapshot!(snapshot_nsqd, nsqd);
snapshot!(snapshot_nsqlookupd, nsqlookupd);
snapshot!(snapshot_nsqadmin, nsqadmin);
