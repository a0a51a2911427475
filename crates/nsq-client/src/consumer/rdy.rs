//! Pure flow-control arithmetic: how `max_in_flight` is split into RDY
//! counts over connections, how long a backoff pause lasts, and how long a
//! requeued message waits.

use std::time::Duration;

use crate::config::{BackoffStrategy, Config};

/// RDY per connection (in the connections' order) for `max_in_flight`
/// spread over `caps.len()` connections, each capped at its nsqd's
/// `max_rdy_count`.
///
/// With at least one slot per connection every connection gets an equal
/// share and the first ones get the remainder. With fewer slots than
/// connections, `rotation` picks which connections get the single slots,
/// so that turning it over time lets every nsqd be drained.
pub fn distribute(max_in_flight: u32, caps: &[u64], rotation: usize) -> Vec<u64> {
    let n = caps.len();
    if n == 0 {
        return Vec::new();
    }
    let total = u64::from(max_in_flight);
    let n64 = n as u64;
    let mut out = vec![0u64; n];
    if total >= n64 {
        let base = total / n64;
        let extra = (total % n64) as usize;
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = base + u64::from(i < extra);
        }
    } else {
        for k in 0..total as usize {
            out[(rotation + k) % n] = 1;
        }
    }
    for (slot, cap) in out.iter_mut().zip(caps) {
        *slot = (*slot).min(*cap);
    }
    out
}

/// Whether the consumer has more connections than in-flight slots, so
/// RDY has to move between them over time.
pub fn needs_rotation(max_in_flight: u32, connections: usize) -> bool {
    connections > 0 && (max_in_flight as usize) < connections
}

/// The pause after `level` consecutive failures (level ≥ 1):
/// `multiplier * 2^(level-1)` capped at `max_backoff_duration`; with
/// `full_jitter`, a random duration up to that value. `rand01` is a
/// number in `[0, 1)`.
pub fn backoff_duration(config: &Config, level: u32, rand01: f64) -> Duration {
    let exp = level.saturating_sub(1).min(31);
    let full = config
        .backoff_multiplier
        .saturating_mul(1u32 << exp)
        .min(config.max_backoff_duration);
    match config.backoff_strategy {
        BackoffStrategy::Exponential => full,
        BackoffStrategy::FullJitter => full.mul_f64(rand01.clamp(0.0, 1.0)),
    }
}

/// The highest useful backoff level: one more would not lengthen the pause.
pub fn max_backoff_level(config: &Config) -> u32 {
    let mut level = 1;
    while level < 32 && backoff_duration_exp(config, level) < config.max_backoff_duration {
        level += 1;
    }
    level
}

fn backoff_duration_exp(config: &Config, level: u32) -> Duration {
    let exp = level.saturating_sub(1).min(31);
    config
        .backoff_multiplier
        .saturating_mul(1u32 << exp)
        .min(config.max_backoff_duration)
}

/// Delay of a requeue: `explicit` when given, else
/// `default_requeue_delay * attempts` capped at `max_requeue_delay`.
pub fn requeue_delay(config: &Config, explicit: Option<Duration>, attempts: u16) -> Duration {
    match explicit {
        Some(d) => d.min(config.max_requeue_delay),
        None => config
            .default_requeue_delay
            .saturating_mul(u32::from(attempts.max(1)))
            .min(config.max_requeue_delay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_split_with_remainder_first() {
        assert_eq!(distribute(200, &[2500, 2500], 0), vec![100, 100]);
        assert_eq!(distribute(5, &[2500, 2500], 0), vec![3, 2]);
        assert_eq!(distribute(3, &[2500; 3], 7), vec![1, 1, 1]);
        assert_eq!(distribute(0, &[2500; 2], 0), vec![0, 0]);
        assert!(distribute(10, &[], 0).is_empty());
    }

    #[test]
    fn split_respects_server_cap() {
        assert_eq!(distribute(10_000, &[2500, 100], 0), vec![2500, 100]);
    }

    #[test]
    fn fewer_slots_than_connections_rotate() {
        assert_eq!(distribute(1, &[2500; 3], 0), vec![1, 0, 0]);
        assert_eq!(distribute(1, &[2500; 3], 1), vec![0, 1, 0]);
        assert_eq!(distribute(2, &[2500; 3], 2), vec![1, 0, 1]);
        assert!(needs_rotation(2, 3));
        assert!(!needs_rotation(3, 3));
        assert!(!needs_rotation(1, 0));
    }

    #[test]
    fn exponential_backoff_doubles_and_caps() {
        let mut c = Config {
            backoff_multiplier: Duration::from_millis(100),
            max_backoff_duration: Duration::from_millis(500),
            ..Config::default()
        };
        assert_eq!(backoff_duration(&c, 1, 0.5), Duration::from_millis(100));
        assert_eq!(backoff_duration(&c, 2, 0.5), Duration::from_millis(200));
        assert_eq!(backoff_duration(&c, 3, 0.5), Duration::from_millis(400));
        assert_eq!(backoff_duration(&c, 4, 0.5), Duration::from_millis(500));
        assert_eq!(backoff_duration(&c, 40, 0.5), Duration::from_millis(500));
        assert_eq!(max_backoff_level(&c), 4);
        c.backoff_strategy = BackoffStrategy::FullJitter;
        assert_eq!(backoff_duration(&c, 2, 0.5), Duration::from_millis(100));
    }

    #[test]
    fn requeue_delay_grows_with_attempts() {
        let c = Config::default();
        assert_eq!(requeue_delay(&c, None, 1), Duration::from_secs(90));
        assert_eq!(requeue_delay(&c, None, 3), Duration::from_secs(270));
        assert_eq!(requeue_delay(&c, None, 100), Duration::from_secs(900));
        assert_eq!(
            requeue_delay(&c, Some(Duration::from_secs(2)), 9),
            Duration::from_secs(2)
        );
    }
}
