//! Acknowledging publishes only once they are on stable storage
//! (`--sync-every=1`), with group commit: every publisher waiting for a sync
//! is covered by the same fsync round, so concurrent publishers share fsyncs
//! instead of paying one each.
//!
//! A publisher writes its messages to the disk queues (no fsync), then calls
//! [`Durability::wait_synced`]. The sync task runs rounds: each round fsyncs
//! every queue written since the previous round. A publisher waits for the
//! first round that *starts* after its write, which is the round that
//! certainly covers it.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// The group-commit coordinator.
#[derive(Debug)]
pub struct Durability {
    started: AtomicU64,
    completed: watch::Sender<u64>,
    wanted: Notify,
}

impl Default for Durability {
    fn default() -> Self {
        Durability {
            started: AtomicU64::new(0),
            completed: watch::channel(0).0,
            wanted: Notify::new(),
        }
    }
}

impl Durability {
    /// Waits until everything this task wrote before the call is fsynced.
    pub async fn wait_synced(&self) {
        let need = self.started.load(Ordering::Acquire) + 1;
        let mut done = self.completed.subscribe();
        self.wanted.notify_one();
        let _ = done.wait_for(|c| *c >= need).await;
    }

    /// Runs sync rounds until `stop` completes. `sync_all` fsyncs every queue
    /// written since the last round; it runs on a blocking thread.
    pub async fn run<F>(self: Arc<Self>, sync_all: Arc<F>, stop: impl Future<Output = ()>)
    where
        F: Fn() + Send + Sync + 'static,
    {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = self.wanted.notified() => {}
            }
            let round = self.started.fetch_add(1, Ordering::AcqRel) + 1;
            let f = sync_all.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || f()).await {
                tracing::error!("sync round failed - {e}");
            }
            self.completed.send_replace(round);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn concurrent_waiters_share_rounds() {
        let d = Arc::new(Durability::default());
        let syncs = Arc::new(AtomicUsize::new(0));
        let counter = syncs.clone();
        let sync_all = Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
        });
        let stop = tokio_util::sync::CancellationToken::new();
        let runner = tokio::spawn(d.clone().run(sync_all, stop.clone().cancelled_owned()));
        let waiters: Vec<_> = (0..64)
            .map(|_| {
                let d = d.clone();
                tokio::spawn(async move { d.wait_synced().await })
            })
            .collect();
        for w in waiters {
            w.await.unwrap();
        }
        let rounds = syncs.load(Ordering::SeqCst);
        assert!((1..=8).contains(&rounds), "64 waiters took {rounds} rounds");
        stop.cancel();
        runner.await.unwrap();
    }

    #[tokio::test]
    async fn a_waiter_is_covered_by_a_round_that_started_after_it() {
        let d = Arc::new(Durability::default());
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let l = log.clone();
        let sync_all = Arc::new(move || l.lock().push("sync"));
        let stop = tokio_util::sync::CancellationToken::new();
        let runner = tokio::spawn(d.clone().run(sync_all, stop.clone().cancelled_owned()));
        log.lock().push("write");
        d.wait_synced().await;
        log.lock().push("acked");
        assert_eq!(*log.lock(), vec!["write", "sync", "acked"]);
        stop.cancel();
        runner.await.unwrap();
    }
}
