//! The per-topic loop of nsq_to_file: write each message (body + `\n`) to
//! the current file, FIN messages only once their data is synced (on
//! `--sync-interval`, when `max-in-flight` messages are waiting, when the
//! consumer is starved, on rotation and at exit), and rotate files when the
//! name changes, `--rotate-interval` elapsed, `--rotate-size` is exceeded
//! or SIGHUP arrives.

use std::sync::Arc;
use std::time::Duration;

use nsq_client::{Consumer, Delivery};
use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

use super::filename::NameTemplate;
use super::output::{FileSettings, OutputFile};
use crate::common::UtilError;

/// When files rotate and data is synced.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// `--rotate-size` in bytes (0 = off).
    pub rotate_size: u64,
    /// `--rotate-interval` (zero = off).
    pub rotate_interval: Duration,
    /// `--sync-interval`.
    pub sync_interval: Duration,
    /// Messages waiting for a sync that force one (`--max-in-flight`).
    pub max_pending: usize,
}

struct State {
    template: NameTemplate,
    settings: Arc<FileSettings>,
    rotation: Rotation,
    out: Option<OutputFile>,
    pending: Vec<Delivery>,
}

fn io_err(topic: &str, e: std::io::Error) -> UtilError {
    UtilError::Runtime(format!("[{topic}] {e}"))
}

impl State {
    /// Whether the open file must be closed before more is written.
    fn needs_rotation(&self, now: OffsetDateTime) -> bool {
        let Some(out) = &self.out else { return false };
        out.base() != self.template.base(now)
            || (!self.rotation.rotate_interval.is_zero()
                && out.opened_at().elapsed() >= self.rotation.rotate_interval)
            || (self.rotation.rotate_size > 0 && out.size() > self.rotation.rotate_size)
    }

    /// Syncs the open file and finishes every message written to it.
    fn sync(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(out) = self.out.as_mut() {
            tokio::task::block_in_place(|| out.sync())?;
        }
        for d in self.pending.drain(..) {
            d.finish();
        }
        Ok(())
    }

    /// Syncs, finishes and closes (moving the file to the output dir).
    /// Returns the base name and revision of the closed file.
    fn close(&mut self) -> std::io::Result<Option<(String, u32)>> {
        self.sync()?;
        let Some(out) = self.out.take() else {
            return Ok(None);
        };
        let key = (out.base().to_string(), out.rev());
        tokio::task::block_in_place(|| out.close(&self.settings, &self.template))?;
        Ok(Some(key))
    }

    /// Rotates if needed and makes sure a file is open.
    fn ensure_open(&mut self, last: &mut Option<(String, u32)>) -> std::io::Result<()> {
        let now = OffsetDateTime::now_utc();
        if self.needs_rotation(now) {
            *last = self.close()?;
        }
        if self.out.is_none() {
            let base = self.template.base(now);
            // Same name as the file just closed: continue with the next revision.
            let start = match last {
                Some((b, rev)) if *b == base => *rev + 1,
                _ => 0,
            };
            let out = tokio::task::block_in_place(|| {
                OutputFile::open(&self.settings, &self.template, &base, start)
            })?;
            self.out = Some(out);
        }
        Ok(())
    }
}

/// Runs one topic until the consumer has stopped and every message is
/// synced and finished.
pub async fn run(
    consumer: Arc<Consumer>,
    template: NameTemplate,
    settings: Arc<FileSettings>,
    rotation: Rotation,
    mut hup: broadcast::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), UtilError> {
    let topic = consumer.topic().to_string();
    let mut ticker = tokio::time::interval(rotation.sync_interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut state = State {
        template,
        settings,
        rotation,
        out: None,
        pending: Vec::new(),
    };
    let mut last: Option<(String, u32)> = None;
    let mut stopping = false;
    let result = loop {
        tokio::select! {
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    consumer.stop();
                    // Messages held for the next sync must be finished now,
                    // or the stop would wait for them.
                    if let Err(e) = state.sync() {
                        break Err(io_err(&topic, e));
                    }
                }
            }
            _ = hup.recv() => {
                match state.close() {
                    Ok(closed) => last = closed,
                    Err(e) => break Err(io_err(&topic, e)),
                }
            }
            _ = ticker.tick() => {
                let step = if state.needs_rotation(OffsetDateTime::now_utc()) {
                    state.close().map(|closed| last = closed)
                } else {
                    state.sync()
                };
                if let Err(e) = step {
                    break Err(io_err(&topic, e));
                }
            }
            next = consumer.recv() => {
                let Some(d) = next else { break Ok(()) };
                if let Err(e) = state.ensure_open(&mut last) {
                    drop(d);
                    break Err(io_err(&topic, e));
                }
                let mut line = Vec::with_capacity(d.body().len() + 1);
                line.extend_from_slice(d.body());
                line.push(b'\n');
                let written = match state.out.as_mut() {
                    Some(out) => out.write(&line),
                    None => Err(std::io::Error::other("no open file")),
                };
                if let Err(e) = written {
                    drop(d);
                    break Err(io_err(&topic, e));
                }
                state.pending.push(d);
                if stopping
                    || state.pending.len() >= state.rotation.max_pending
                    || consumer.is_starved()
                {
                    if let Err(e) = state.sync() {
                        break Err(io_err(&topic, e));
                    }
                }
            }
        }
    };
    if result.is_err() {
        consumer.stop();
    }
    // Sync and close what is open, even after an error, so nothing written is lost.
    let closed = state.close().map_err(|e| io_err(&topic, e));
    result.and(closed.map(|_| ()))
}
