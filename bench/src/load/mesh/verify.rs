//! The delivery check: every `(publisher, sequence)` acknowledged to a
//! publisher must have reached every channel of its topic.

use super::consumer::ConsumerOut;
use super::MeshConfig;
use crate::load::seen::Seen;

/// Most missing pairs listed by name.
const EXAMPLES: usize = 10;

/// Outcome of the delivery check.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Channel deliveries that had to happen: each acknowledged message
    /// once per channel of its topic.
    pub expected: u64,
    /// Of those, how many did not happen.
    pub missing: u64,
    /// Some missing pairs: `topic/channel publisher:seq`.
    pub examples: Vec<String>,
    /// Deliveries of a pair a channel already had (redeliveries).
    pub duplicates: u64,
    /// Deliveries that were not ours or arrived on the wrong topic.
    pub foreign: u64,
}

impl Verdict {
    /// Nothing missing and nothing foreign.
    pub fn passed(&self) -> bool {
        self.missing == 0 && self.foreign == 0
    }
}

/// Channel deliveries each pair must see: the messages acknowledged to the
/// publishers of its topic.
pub fn expected_per_pair(acked: &[u64], topics: usize, channels: usize) -> Vec<u64> {
    let mut per_topic = vec![0u64; topics];
    for (p, n) in acked.iter().enumerate() {
        per_topic[p % topics] += n;
    }
    (0..topics * channels)
        .map(|pair| per_topic[pair / channels])
        .collect()
}

/// Merges what the consumers of each pair saw and compares it with `acked`.
pub fn check(cfg: &MeshConfig, acked: &[u64], outs: &[(usize, ConsumerOut)]) -> Verdict {
    let pairs = cfg.topics * cfg.channels;
    let mut merged: Vec<Seen> = (0..pairs).map(|_| Seen::new(cfg.publishers)).collect();
    let mut verdict = Verdict::default();
    for (pair, out) in outs {
        merged[*pair].merge(&out.seen);
        verdict.foreign += out.foreign;
    }
    for (pair, seen) in merged.iter().enumerate() {
        verdict.duplicates += seen.duplicates();
        let topic = pair / cfg.channels;
        for (p, &count) in acked.iter().enumerate() {
            if p % cfg.topics != topic {
                continue;
            }
            verdict.expected += count;
            let room = EXAMPLES.saturating_sub(verdict.examples.len());
            let (missing, first) = seen.missing(p as u32, count, room);
            verdict.missing += missing;
            for seq in first {
                verdict.examples.push(format!(
                    "{}/{} {p}:{seq}",
                    super::topic_name(&cfg.prefix, topic),
                    super::channel_name(pair % cfg.channels)
                ));
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_counts_follow_topics() {
        // Publishers 0 and 2 write to topic 0, 1 to topic 1; 2 channels each.
        assert_eq!(expected_per_pair(&[5, 7, 1], 2, 2), vec![6, 6, 7, 7]);
    }
}
