//! `nsqd.dat`: the list of topics and channels with their paused flags,
//! in nsqd v1.3.0's JSON, written atomically (temp file, fsync, rename).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the metadata inside `--data-path`.
pub const METADATA_FILE: &str = "nsqd.dat";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Metadata {
    /// Topics; `null` when there are none.
    pub topics: Option<Vec<TopicMetadata>>,
    /// The writer's NSQ version (ignored on read).
    #[serde(default)]
    pub version: String,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMetadata {
    /// Topic name.
    pub name: String,
    /// Paused.
    #[serde(default)]
    pub paused: bool,
    /// Channels; `null` when the topic has none.
    pub channels: Option<Vec<ChannelMetadata>>,
}

/// One channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelMetadata {
    /// Channel name.
    pub name: String,
    /// Paused.
    #[serde(default)]
    pub paused: bool,
}

/// Why the metadata file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// Reading failed.
    #[error("failed to read metadata from {path} - {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid metadata JSON; fix or remove it.
    #[error("failed to parse metadata in {path} - {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Writing failed (disk full, permissions).
    #[error("failed to persist metadata to {path} - {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Path of `nsqd.dat` in `data_path`.
pub fn metadata_path(data_path: &Path) -> PathBuf {
    data_path.join(METADATA_FILE)
}

/// Reads `nsqd.dat`; `Ok(None)` when it does not exist (fresh start).
pub fn load(data_path: &Path) -> Result<Option<Metadata>, MetadataError> {
    let path = metadata_path(data_path);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(MetadataError::Read { path, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| MetadataError::Parse { path, source })
}

/// Writes `nsqd.dat` atomically: `nsqd.dat.<rand>.tmp`, fsync, rename.
pub fn save(data_path: &Path, meta: &Metadata) -> Result<(), MetadataError> {
    let path = metadata_path(data_path);
    let tmp = data_path.join(format!("{METADATA_FILE}.{}.tmp", rand::random::<u32>()));
    let write = || -> std::io::Result<()> {
        let body = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        MetadataError::Write {
            path: path.clone(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_FILE: &str = r#"{"topics":[{"name":"alpha","paused":false,"channels":[{"name":"c1","paused":true},{"name":"c2","paused":false}]},{"name":"beta","paused":true,"channels":null}],"version":"1.3.0"}"#;

    #[test]
    fn reads_and_writes_go_format_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nsqd.dat"), GO_FILE).unwrap();
        let meta = load(dir.path()).unwrap().unwrap();
        let topics = meta.topics.as_ref().unwrap();
        assert_eq!(topics[1].name, "beta");
        assert!(topics[1].paused);
        assert_eq!(topics[1].channels, None);
        save(dir.path(), &meta).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("nsqd.dat")).unwrap(),
            GO_FILE
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn missing_file_is_a_fresh_start_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join("nsqd.dat"), b"{not json").unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(
            err.to_string().starts_with("failed to parse metadata in "),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nsqd.dat"),
            r#"{"topics":[{"name":"t","paused":false,"channels":null,"extra":1}],"version":"1.2.0","x":true}"#,
        )
        .unwrap();
        let meta = load(dir.path()).unwrap().unwrap();
        assert_eq!(meta.topics.unwrap()[0].name, "t");
    }
}
