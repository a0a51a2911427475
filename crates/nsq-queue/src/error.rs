//! Errors returned by the disk queue and the spill queue.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while storing or loading queued records.
///
/// Problems found in the *content* of queue files (corrupt records, bad
/// metadata) are not errors: they are logged, counted and repaired the way
/// go-diskqueue repairs them. These variants are for failures the caller has
/// to know about.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A record handed to `put` is smaller or larger than the configured
    /// bounds, so it was not written.
    #[error(
        "invalid message write size ({size}) for disk queue {queue:?}: records must be \
         between {min} and {max} bytes (minMsgSize={min} maxMsgSize={max}); publish a smaller \
         message or raise --max-msg-size"
    )]
    InvalidWriteSize {
        /// Name of the queue.
        queue: String,
        /// Size of the rejected record in bytes.
        size: u64,
        /// Smallest accepted record size.
        min: i32,
        /// Largest accepted record size.
        max: i32,
    },

    /// A filesystem operation on one of the queue's files failed.
    #[error(
        "disk queue {queue:?}: failed to {action} {path}: {source}; check that the data path \
         exists, is writable by this process and has free space",
        path = path.display()
    )]
    Io {
        /// Name of the queue.
        queue: String,
        /// What was being done, e.g. "write to" or "fsync".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying operating system error.
        #[source]
        source: io::Error,
    },

    /// The options or the queue name passed to `DiskQueue::open` cannot work.
    #[error("cannot open disk queue {queue:?}: {reason}")]
    InvalidConfig {
        /// Name of the queue.
        queue: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// The queue was closed or deleted and can no longer be used.
    #[error("disk queue {queue:?} is closed; open it again with DiskQueue::open to keep using it")]
    Closed {
        /// Name of the queue.
        queue: String,
    },
}

impl QueueError {
    /// Builds an [`QueueError::Io`] for `queue`.
    pub(crate) fn io(
        queue: &str,
        action: &'static str,
        path: impl Into<PathBuf>,
        source: io::Error,
    ) -> Self {
        QueueError::Io {
            queue: queue.to_owned(),
            action,
            path: path.into(),
            source,
        }
    }
}
