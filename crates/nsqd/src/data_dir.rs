//! The exclusive lock nsqd holds on its `--data-path`, so two nsqd never share
//! (and corrupt) one set of disk queues.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Why the data path cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// The directory does not exist or cannot be opened; nsqd does not create it.
    #[error("failed to lock data-path: open {path}: {source} (create the directory first)")]
    Open {
        /// The data path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process holds the lock.
    #[error(
        "cannot flock directory {path} - {reason} (possibly in use by another instance of nsqd)"
    )]
    Locked {
        /// The data path.
        path: PathBuf,
        /// What the OS said.
        reason: String,
    },
}

/// Held for nsqd's lifetime; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _dir: File,
}

/// Takes an exclusive, non-blocking lock on the data directory itself.
pub fn lock_data_dir(path: &Path) -> Result<DataDirLock, DataDirError> {
    let shown = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let dir = File::open(shown).map_err(|source| DataDirError::Open {
        path: shown.to_path_buf(),
        source,
    })?;
    match dir.try_lock() {
        Ok(()) => Ok(DataDirLock { _dir: dir }),
        Err(e) => Err(DataDirError::Locked {
            path: shown.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_data_dir(dir.path()).unwrap();
        let err = lock_data_dir(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("possibly in use by another instance of nsqd"),
            "{err}"
        );
        drop(first);
        lock_data_dir(dir.path()).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = lock_data_dir(&dir.path().join("nope")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to lock data-path: open "),
            "{err}"
        );
    }
}
