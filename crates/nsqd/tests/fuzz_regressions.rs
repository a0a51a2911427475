//! Replays fuzz inputs (crashes once found, and the most instructive inputs
//! of each corpus) stored under `tests/fuzz_regressions/<target>/`, in the
//! input format of the fuzz target of the same name (`fuzz/fuzz_targets/`):
//! `nsqd_dat` (the file's bytes) and `http_body` (`[flags][/mpub body]`).
//!
//! Each input `<name>` has a `<name>.expected` file: what parsing it must
//! produce. After a deliberate behaviour change, regenerate them with
//! `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and review the diff.

use bytes::Bytes;
use nsqd::http_body::{parse_mpub_body, MpubFormat};
use nsqd::metadata;

/// Replays the stored inputs of `target` (see `nsq_fuzz_support`).
fn replay(target: &str, outcome: impl Fn(&[u8]) -> Vec<String>) {
    nsq_fuzz_support::replay(env!("CARGO_MANIFEST_DIR"), target, outcome);
}

#[test]
fn nsqd_dat_inputs() {
    replay("nsqd_dat", |data| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(metadata::metadata_path(dir.path()), data).unwrap();
        match metadata::load(dir.path()) {
            Ok(Some(meta)) => {
                metadata::save(dir.path(), &meta).unwrap();
                let again = metadata::load(dir.path()).unwrap();
                assert_eq!(again.as_ref(), Some(&meta), "save and load round trip");
                let mut out = vec![format!("version {:?}", meta.version)];
                for t in meta.topics.iter().flatten() {
                    let valid = nsq_protocol::is_valid_topic_name(&t.name);
                    out.push(format!(
                        "topic {:?} paused={} valid={valid}",
                        t.name, t.paused
                    ));
                    for c in t.channels.iter().flatten() {
                        let valid = nsq_protocol::is_valid_channel_name(&c.name);
                        out.push(format!(
                            "  channel {:?} paused={} valid={valid}",
                            c.name, c.paused
                        ));
                    }
                }
                out
            }
            Ok(None) => vec!["missing".to_owned()],
            // Not the whole message: it names the temporary directory.
            Err(metadata::MetadataError::Parse { source, .. }) => {
                vec![format!("parse error: {source}")]
            }
            Err(e) => panic!("{e}"),
        }
    });
}

#[test]
fn http_body_inputs() {
    replay("http_body", |data| {
        let flags = data.first().copied().unwrap_or(0);
        let body = Bytes::copy_from_slice(data.get(1..).unwrap_or_default());
        let format = if flags & 1 != 0 {
            MpubFormat::Binary
        } else {
            MpubFormat::Lines
        };
        let (max_body, max_msg) = if flags & 2 != 0 {
            (512, 32)
        } else {
            (5 * 1024 * 1024, 1024 * 1024)
        };
        match parse_mpub_body(body, format, max_body, max_msg) {
            Ok(messages) => messages.iter().map(|m| format!("message {m:?}")).collect(),
            Err(e) => vec![format!("error {e:?}")],
        }
    });
}
