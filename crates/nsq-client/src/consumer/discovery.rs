//! Background tasks of a consumer: nsqlookupd polling, reconnecting to
//! directly configured nsqd, rotating RDY and ending backoff pauses. Each
//! holds only a weak reference, so dropping the consumer ends them.

use std::sync::Weak;
use std::time::Duration;

use super::{lock, rdy, Inner};

/// Longest wait between reconnect attempts to a directly configured nsqd.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(15);

/// Polls every nsqlookupd each `lookupd_poll_interval` (the first wait
/// shortened by a random jitter), or at once when woken.
pub async fn poll_lookupds(weak: Weak<Inner>) {
    let (interval, jitter) = match weak.upgrade() {
        Some(inner) => (
            inner.config.lookupd_poll_interval,
            inner.config.lookupd_poll_jitter,
        ),
        None => return,
    };
    let mut wait = interval
        .mul_f64(1.0 - jitter * rand::random::<f64>())
        .max(Duration::from_millis(1));
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let mut stop = inner.stop_tx.subscribe();
        let stopping = *stop.borrow_and_update();
        if stopping {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = inner.lookup_wake.notified() => {}
            _ = stop.changed() => return,
        }
        if inner.is_stopping() {
            return;
        }
        wait = interval;
        let lookupds = lock(&inner.lookupd_addrs).clone();
        for lookupd in lookupds {
            if let Err(e) = inner.query_lookupd(&lookupd).await {
                tracing::warn!("[{}/{}] {e}", inner.topic, inner.channel);
            }
        }
    }
}

/// Re-establishes a lost connection to a directly configured nsqd,
/// waiting 1 s, 2 s, 4 s ... (at most 15 s) between attempts.
pub async fn reconnect(weak: Weak<Inner>, addr: String) {
    let mut delay = Duration::from_secs(1);
    loop {
        tokio::time::sleep(delay).await;
        let Some(inner) = weak.upgrade() else { return };
        if inner.is_stopping() {
            return;
        }
        match inner.connect(&addr).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(
                    "[{}/{}] reconnecting to nsqd {addr} failed: {e}; retrying in {delay:?}",
                    inner.topic,
                    inner.channel
                );
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
            }
        }
    }
}

/// Moves the single RDY slots between connections when `max_in_flight` is
/// smaller than the number of connections.
pub async fn rotate_rdy(weak: Weak<Inner>) {
    loop {
        let interval = match weak.upgrade() {
            Some(inner) if !inner.is_stopping() => inner.config.rdy_redistribute_interval,
            _ => return,
        };
        tokio::time::sleep(interval).await;
        let Some(inner) = weak.upgrade() else { return };
        let n = lock(&inner.conns).len();
        let mif = inner
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst);
        if rdy::needs_rotation(mif, n) {
            inner
                .rotation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            inner.update_rdy();
        }
    }
}

/// Ends a backoff pause after `pause`.
pub async fn end_pause(weak: Weak<Inner>, pause: Duration) {
    tokio::time::sleep(pause).await;
    if let Some(inner) = weak.upgrade() {
        inner.resume_after_pause();
    }
}
