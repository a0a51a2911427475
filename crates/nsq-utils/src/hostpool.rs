//! Choosing a destination among several (`--mode` of nsq_to_nsq and
//! nsq_to_http): round-robin, a host pool that skips failing hosts for a
//! while, or epsilon-greedy (mostly the fastest healthy host, sometimes a
//! random one).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// First pause of a host after a failure; doubled per further failure.
const DEAD_FOR: Duration = Duration::from_secs(30);
/// Longest pause of a failing host.
const MAX_DEAD_FOR: Duration = Duration::from_secs(900);
/// Share of epsilon-greedy picks that explore a random host.
const EPSILON: f64 = 0.1;

/// The `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each destination in turn.
    RoundRobin,
    /// Each healthy destination in turn; failing ones rest a while.
    HostPool,
    /// The fastest healthy destination, exploring now and then.
    EpsilonGreedy,
    /// Every destination for every message (nsq_to_http's fallback).
    All,
}

impl Mode {
    /// Parses a `--mode` value; `None` for anything else.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "round-robin" => Some(Mode::RoundRobin),
            "hostpool" => Some(Mode::HostPool),
            "epsilon-greedy" => Some(Mode::EpsilonGreedy),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Host {
    dead_until: Option<Instant>,
    failures: u32,
    latency_ms: f64,
}

/// Destination choice for `n` hosts, shared by concurrent handlers.
#[derive(Debug)]
pub struct HostPool {
    mode: Mode,
    state: Mutex<(usize, Vec<Host>)>,
}

impl HostPool {
    /// A pool over `n` destinations.
    pub fn new(mode: Mode, n: usize) -> HostPool {
        let hosts = vec![
            Host {
                dead_until: None,
                failures: 0,
                latency_ms: 0.0,
            };
            n
        ];
        HostPool {
            mode,
            state: Mutex::new((0, hosts)),
        }
    }

    /// Indexes of the destinations for the next message.
    pub fn pick(&self) -> Vec<usize> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (next, hosts) = &mut *guard;
        let n = hosts.len();
        if n == 0 {
            return Vec::new();
        }
        let now = Instant::now();
        let alive = |h: &Host| h.dead_until.is_none_or(|t| t <= now);
        match self.mode {
            Mode::All => (0..n).collect(),
            Mode::RoundRobin => {
                let i = *next % n;
                *next = next.wrapping_add(1);
                vec![i]
            }
            Mode::HostPool => {
                for k in 0..n {
                    let i = (*next + k) % n;
                    if alive(&hosts[i]) {
                        *next = i + 1;
                        return vec![i];
                    }
                }
                // All resting: try the next one anyway.
                let i = *next % n;
                *next = next.wrapping_add(1);
                vec![i]
            }
            Mode::EpsilonGreedy => {
                let healthy: Vec<usize> = (0..n).filter(|&i| alive(&hosts[i])).collect();
                let pool = if healthy.is_empty() {
                    (0..n).collect()
                } else {
                    healthy
                };
                if rand::random::<f64>() < EPSILON {
                    return vec![pool[rand::random::<usize>() % pool.len()]];
                }
                let best = pool
                    .iter()
                    .copied()
                    .min_by(|&a, &b| hosts[a].latency_ms.total_cmp(&hosts[b].latency_ms))
                    .unwrap_or(0);
                vec![best]
            }
        }
    }

    /// Records how a send to destination `i` went.
    pub fn mark(&self, i: usize, ok: bool, took: Duration) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(h) = guard.1.get_mut(i) else { return };
        let ms = took.as_secs_f64() * 1000.0;
        h.latency_ms = if h.latency_ms == 0.0 {
            ms
        } else {
            0.8 * h.latency_ms + 0.2 * ms
        };
        if ok {
            h.failures = 0;
            h.dead_until = None;
        } else {
            h.failures = h.failures.saturating_add(1);
            let rest = DEAD_FOR
                .saturating_mul(1 << h.failures.saturating_sub(1).min(5))
                .min(MAX_DEAD_FOR);
            h.dead_until = Some(Instant::now() + rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles() {
        let p = HostPool::new(Mode::RoundRobin, 3);
        let picks: Vec<usize> = (0..6).map(|_| p.pick()[0]).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn hostpool_skips_failed_hosts() {
        let p = HostPool::new(Mode::HostPool, 2);
        p.mark(0, false, Duration::ZERO);
        assert!((0..4).all(|_| p.pick() == vec![1]));
        p.mark(0, true, Duration::ZERO);
        let picks: Vec<usize> = (0..4).map(|_| p.pick()[0]).collect();
        assert!(picks.contains(&0));
    }

    #[test]
    fn epsilon_greedy_prefers_fast_hosts() {
        let p = HostPool::new(Mode::EpsilonGreedy, 2);
        p.mark(0, true, Duration::from_millis(100));
        p.mark(1, true, Duration::from_millis(1));
        let fast = (0..200).filter(|_| p.pick() == vec![1]).count();
        assert!(fast > 150, "{fast}");
    }

    #[test]
    fn all_mode_and_parsing() {
        assert_eq!(HostPool::new(Mode::All, 3).pick(), vec![0, 1, 2]);
        assert_eq!(Mode::parse("round-robin"), Some(Mode::RoundRobin));
        assert_eq!(Mode::parse("nope"), None);
        assert!(HostPool::new(Mode::HostPool, 0).pick().is_empty());
    }
}
