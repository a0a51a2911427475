//! Keeping deferred messages deferred across a clean restart.
//!
//! At shutdown a channel's deferred messages are written to its disk queue as
//! plain records (exactly what nsqd v1.3.0 writes, so the Go nsqd can read
//! the directory and simply delivers them at once), and their due times go
//! to a side file `<queue>.diskqueue.deferred.json` that the Go nsqd ignores:
//! `{"deferred":[{"id":"<16 chars>","deliver_at_ns":<unix ns>}, ...]}`.
//! On start-up the channel reads and removes the side file, and when a listed
//! message comes off the queue it goes back to the deferred set for the time
//! that was left.

use nsq_protocol::MessageId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    deliver_at_ns: i64,
}

#[derive(Serialize, Deserialize)]
struct DeferredFile {
    deferred: Vec<Entry>,
}

/// Path of the side file for queue `name`.
pub fn path(data_path: &Path, name: &str) -> PathBuf {
    data_path.join(format!("{name}.diskqueue.deferred.json"))
}

/// Writes the due times (atomically); removes a stale file when there are none.
pub fn save(data_path: &Path, name: &str, entries: &[(MessageId, i64)]) -> std::io::Result<()> {
    let target = path(data_path, name);
    if entries.is_empty() {
        return match std::fs::remove_file(&target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let doc = DeferredFile {
        deferred: entries
            .iter()
            .map(|(id, at)| Entry {
                id: id.to_string(),
                deliver_at_ns: *at,
            })
            .collect(),
    };
    let body = serde_json::to_vec(&doc).map_err(std::io::Error::other)?;
    let tmp = data_path.join(format!(
        "{name}.diskqueue.deferred.{}.tmp",
        rand::random::<u32>()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&body)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &target)
}

/// Reads and removes the side file of queue `name` (empty when there is none
/// or it is unreadable, which only means those messages lose their deferral).
pub fn take(data_path: &Path, name: &str) -> HashMap<MessageId, i64> {
    let target = path(data_path, name);
    let Ok(bytes) = std::fs::read(&target) else {
        return HashMap::new();
    };
    let _ = std::fs::remove_file(&target);
    match serde_json::from_slice::<DeferredFile>(&bytes) {
        Ok(doc) => doc
            .deferred
            .into_iter()
            .filter_map(|e| MessageId::from_slice(e.id.as_bytes()).map(|id| (id, e.deliver_at_ns)))
            .collect(),
        Err(e) => {
            tracing::warn!("ignoring unreadable {} - {e}", target.display());
            HashMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let id = MessageId(*b"0123456789abcdef");
        save(dir.path(), "t:c", &[(id, 42)]).unwrap();
        assert!(path(dir.path(), "t:c").exists());
        let got = take(dir.path(), "t:c");
        assert_eq!(got.get(&id), Some(&42));
        assert!(!path(dir.path(), "t:c").exists());
        assert!(take(dir.path(), "t:c").is_empty());
    }

    #[test]
    fn garbage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path(), "q"), b"{nope").unwrap();
        assert!(take(dir.path(), "q").is_empty());
    }
}
