//! Background syncs: the `--sync-every` / `--sync-timeout` fsyncs run on one
//! process-wide thread instead of inside the call that triggered them.
//!
//! A queue's owner usually holds a lock around the queue; an fsync inside a
//! put or pop keeps that lock for the length of a disk flush and stalls every
//! producer and consumer of the queue. With background syncs the queue hands
//! a [`SyncJob`] (a duplicate of the write segment's file descriptor and a
//! snapshot of the metadata) to the syncer thread and carries on.
//!
//! Ordering: every snapshot carries a generation number; a job persists its
//! metadata only if no newer one has been written ([`SyncShared`] keeps the
//! last written generation under its mutex), and never after the queue was
//! closed or deleted. So the metadata file only moves forward, and a job that
//! runs late cannot recreate the files of a deleted queue.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::error;

use super::meta::{self, Meta};

/// State shared between a queue and its background sync jobs.
#[derive(Debug, Default)]
pub(super) struct SyncShared {
    /// Generation of the last metadata written; held while a job writes.
    written: Mutex<u64>,
    /// A job is queued or running: no second one is started meanwhile.
    in_flight: AtomicBool,
    /// The queue was closed or deleted: pending jobs do nothing.
    closed: AtomicBool,
}

impl SyncShared {
    /// Whether a background job is queued or running.
    pub(super) fn in_flight(&self) -> bool {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Runs `persist` (an inline sync of generation `generation`) in order
    /// with the background jobs: it waits for a running job, and a job with
    /// an older snapshot that runs afterwards writes nothing.
    pub(super) fn ordered<T>(&self, generation: u64, persist: impl FnOnce() -> T) -> T {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let out = persist();
        if generation > *written {
            *written = generation;
        }
        out
    }

    /// Marks the queue closed (or deleted) once any running job is done.
    pub(super) fn close(&self) {
        let _written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::Release);
    }
}

/// One background sync: fsync the write segment, then persist the metadata.
pub(super) struct SyncJob {
    /// Queue name, for the log.
    pub(super) queue: String,
    /// A duplicate of the write segment's descriptor (none if not open).
    pub(super) segment: Option<(File, PathBuf)>,
    /// Where the metadata goes.
    pub(super) meta_path: PathBuf,
    /// The metadata as of the snapshot.
    pub(super) meta: Meta,
    /// Snapshot generation (see the module docs).
    pub(super) generation: u64,
    /// The queue's shared sync state.
    pub(super) shared: Arc<SyncShared>,
}

impl SyncJob {
    /// Hands the job to the syncer thread, or runs it here if that thread
    /// cannot be started.
    pub(super) fn submit(self) {
        self.shared.in_flight.store(true, Ordering::Release);
        match syncer() {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(self) {
                    job.run();
                }
            }
            None => self.run(),
        }
    }

    fn run(self) {
        let shared = self.shared.clone();
        {
            let mut written = shared.written.lock().unwrap_or_else(|e| e.into_inner());
            if !shared.closed.load(Ordering::Acquire) && self.generation > *written {
                match self.persist() {
                    Ok(()) => *written = self.generation,
                    Err(e) => error!(
                        queue = %self.queue,
                        "DISKQUEUE({}) failed to sync - {e}",
                        self.queue
                    ),
                }
            }
        }
        shared.in_flight.store(false, Ordering::Release);
    }

    fn persist(&self) -> Result<(), String> {
        if let Some((file, path)) = &self.segment {
            file.sync_all()
                .map_err(|e| format!("fsync {}: {e}", path.display()))?;
        }
        meta::persist(&self.meta_path, self.meta)
            .map_err(|(path, action, e)| format!("{action} {}: {e}", path.display()))
    }
}

/// The process-wide syncer thread's queue (started on first use).
fn syncer() -> Option<&'static Sender<SyncJob>> {
    static SYNCER: OnceLock<Option<Sender<SyncJob>>> = OnceLock::new();
    SYNCER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<SyncJob>();
            let spawned = std::thread::Builder::new()
                .name("diskqueue-sync".to_owned())
                .spawn(move || {
                    for job in rx {
                        job.run();
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(e) => {
                    error!("DISKQUEUE: cannot start the sync thread ({e}); syncing inline");
                    None
                }
            }
        })
        .as_ref()
}
