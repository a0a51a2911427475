//! Message id generation: the snowflake-like scheme of nsqd v1.3.0.
//!
//! `id = ((ts - EPOCH) << 22) | (node_id << 12) | sequence` with
//! `ts = unix_nanos >> 20`. Where nsqd sleeps when the 12-bit sequence runs
//! out within one tick, this generator borrows the next tick instead, so ids
//! stay unique and increasing without ever blocking a publisher.

use nsq_protocol::MessageId;

const EPOCH: i64 = 1_288_834_974_288;
const SEQUENCE_MASK: i64 = 0xfff;
const NODE_ID_SHIFT: i64 = 12;
const TIMESTAMP_SHIFT: i64 = 22;

/// Generates message ids for one topic.
#[derive(Debug)]
pub struct GuidFactory {
    node_id: i64,
    last_ts: i64,
    sequence: i64,
}

impl GuidFactory {
    /// A generator for `node_id` (0..1024).
    pub fn new(node_id: i64) -> Self {
        GuidFactory {
            node_id: node_id & 0x3ff,
            last_ts: -1,
            sequence: 0,
        }
    }

    /// The next id, given the current time in Unix nanoseconds.
    pub fn next_id(&mut self, unix_nanos: i64) -> MessageId {
        let mut ts = unix_nanos >> 20;
        if ts < self.last_ts {
            // The clock went backwards: keep counting on the last tick.
            ts = self.last_ts;
        }
        if ts == self.last_ts {
            self.sequence = (self.sequence + 1) & SEQUENCE_MASK;
            if self.sequence == 0 {
                ts += 1;
            }
        } else {
            self.sequence = 0;
        }
        self.last_ts = ts;
        let id =
            ((ts - EPOCH) << TIMESTAMP_SHIFT) | (self.node_id << NODE_ID_SHIFT) | self.sequence;
        MessageId::from_u64(id as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn node_id_is_in_bits_12_to_21() {
        let mut g = GuidFactory::new(28);
        let id = g.next_id(1_795_314_509_000_000_000);
        let text = std::str::from_utf8(&id.0).unwrap();
        let v = u64::from_str_radix(text, 16).unwrap();
        assert_eq!((v >> 12) & 0x3ff, 28);
        assert_eq!(v & 0xfff, 0);
    }

    #[test]
    fn ids_are_unique_and_increasing_even_past_4096_per_tick() {
        let mut g = GuidFactory::new(1);
        let now = 1_795_314_509_000_000_000;
        let mut seen = HashSet::new();
        let mut last = None;
        for _ in 0..10_000 {
            let id = g.next_id(now);
            assert!(seen.insert(id));
            if let Some(prev) = last {
                assert!(id > prev);
            }
            last = Some(id);
        }
    }

    #[test]
    fn clock_going_backwards_still_gives_unique_ids() {
        let mut g = GuidFactory::new(1);
        let a = g.next_id(2_000_000_000_000_000_000);
        let b = g.next_id(1_000_000_000_000_000_000);
        assert!(b > a);
    }
}
