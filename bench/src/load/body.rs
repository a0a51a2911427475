//! The load message body: who published it, its sequence number and when.
//!
//! Layout (big-endian): `[u32 publisher][u64 sequence][u64 send time in ns
//! since the Unix epoch]`, then filler up to the requested size. Every
//! process on the machine reads the same wall clock, so a consumer in
//! another process can compute publish-to-delivery latency.

/// Bytes taken by the header; the smallest body size.
pub const HEADER_LEN: usize = 20;

/// The identity and send time decoded from a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Publisher number (0-based, unique within one run).
    pub publisher: u32,
    /// Sequence number of the message within its publisher (0-based).
    pub seq: u64,
    /// Send time, nanoseconds since the Unix epoch.
    pub sent_ns: u64,
}

/// Writes a body of `size` bytes (at least [`HEADER_LEN`]) into `out`.
pub fn encode(stamp: Stamp, size: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&stamp.publisher.to_be_bytes());
    out.extend_from_slice(&stamp.seq.to_be_bytes());
    out.extend_from_slice(&stamp.sent_ns.to_be_bytes());
    out.resize(size.max(HEADER_LEN), b'x');
}

/// Reads the header of a body; `None` if it is too short to be ours.
pub fn decode(body: &[u8]) -> Option<Stamp> {
    let header = body.get(..HEADER_LEN)?;
    let publisher = u32::from_be_bytes(header[0..4].try_into().ok()?);
    let seq = u64::from_be_bytes(header[4..12].try_into().ok()?);
    let sent_ns = u64::from_be_bytes(header[12..20].try_into().ok()?);
    Some(Stamp {
        publisher,
        seq,
        sent_ns,
    })
}

/// Nanoseconds since the Unix epoch on this machine's wall clock.
pub fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let stamp = Stamp {
            publisher: 7,
            seq: 123_456_789_012,
            sent_ns: 1_700_000_000_000_000_000,
        };
        let mut body = Vec::new();
        encode(stamp, 200, &mut body);
        assert_eq!(body.len(), 200);
        assert_eq!(decode(&body), Some(stamp));
        encode(stamp, 3, &mut body);
        assert_eq!(body.len(), HEADER_LEN);
        assert_eq!(decode(&body[..19]), None);
    }
}
