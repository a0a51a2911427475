//! Which `(publisher, sequence)` pairs a channel has received: one growable
//! bitset per publisher, so checking delivery of millions of messages costs
//! one bit each.

/// A set of sequence numbers per publisher.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    per_publisher: Vec<Vec<u64>>,
    unique: u64,
    duplicates: u64,
}

impl Seen {
    /// An empty set for publishers `0..publishers` (grows if needed).
    pub fn new(publishers: usize) -> Seen {
        Seen {
            per_publisher: vec![Vec::new(); publishers],
            unique: 0,
            duplicates: 0,
        }
    }

    /// Records one delivery; true if it is the first of this pair.
    pub fn insert(&mut self, publisher: u32, seq: u64) -> bool {
        let p = publisher as usize;
        if p >= self.per_publisher.len() {
            self.per_publisher.resize(p + 1, Vec::new());
        }
        let bits = &mut self.per_publisher[p];
        let word = (seq / 64) as usize;
        if word >= bits.len() {
            bits.resize((word + 1).next_power_of_two(), 0);
        }
        let mask = 1u64 << (seq % 64);
        if bits[word] & mask != 0 {
            self.duplicates += 1;
            return false;
        }
        bits[word] |= mask;
        self.unique += 1;
        true
    }

    /// Whether `(publisher, seq)` was recorded.
    pub fn contains(&self, publisher: u32, seq: u64) -> bool {
        self.per_publisher
            .get(publisher as usize)
            .and_then(|bits| bits.get((seq / 64) as usize))
            .is_some_and(|w| w & (1u64 << (seq % 64)) != 0)
    }

    /// Adds everything in `other` (deliveries of the same channel seen by
    /// another connection); a pair in both counts as a duplicate.
    pub fn merge(&mut self, other: &Seen) {
        for (p, bits) in other.per_publisher.iter().enumerate() {
            for (w, &word) in bits.iter().enumerate() {
                let mut rest = word;
                while rest != 0 {
                    let bit = rest.trailing_zeros() as u64;
                    rest &= rest - 1;
                    self.insert(p as u32, w as u64 * 64 + bit);
                }
            }
        }
        self.duplicates += other.duplicates;
    }

    /// Distinct pairs recorded.
    pub fn unique(&self) -> u64 {
        self.unique
    }

    /// Deliveries of a pair already recorded (redeliveries).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Sequence numbers `0..count` of `publisher` that were not recorded,
    /// at most `limit` of them, and how many are missing in total.
    pub fn missing(&self, publisher: u32, count: u64, limit: usize) -> (u64, Vec<u64>) {
        let mut total = 0;
        let mut first = Vec::new();
        for seq in 0..count {
            if !self.contains(publisher, seq) {
                total += 1;
                if first.len() < limit {
                    first.push(seq);
                }
            }
        }
        (total, first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_merges_and_finds_gaps() {
        let mut a = Seen::new(2);
        assert!(a.insert(0, 0));
        assert!(a.insert(0, 1000));
        assert!(!a.insert(0, 1000));
        assert!(a.insert(5, 3));
        assert_eq!((a.unique(), a.duplicates()), (3, 1));
        let mut b = Seen::new(2);
        b.insert(0, 1);
        b.insert(0, 0);
        a.merge(&b);
        assert_eq!(a.unique(), 4);
        assert_eq!(a.duplicates(), 2);
        assert!(a.contains(0, 1) && !a.contains(0, 2) && !a.contains(9, 0));
        let (n, first) = a.missing(0, 1001, 3);
        assert_eq!(n, 1001 - 3);
        assert_eq!(first, vec![2, 3, 4]);
    }
}
