//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod json;

use std::fs;
use std::path::Path;
use std::time::Duration;

use nsq_queue::DiskQueueOptions;

/// Options with the given segment limit and permissive record bounds.
pub fn opts(max_bytes_per_file: i64) -> DiskQueueOptions {
    DiskQueueOptions {
        max_bytes_per_file,
        min_msg_size: 4,
        max_msg_size: 1000,
        sync_every: 2500,
        sync_timeout: Duration::from_secs(2),
        tracked_reads: false,
    }
}

/// Options as nsqd passes them: min 26, max `max_msg_size + 26`.
pub fn nsqd_opts(max_bytes_per_file: i64, sync_every: i64) -> DiskQueueOptions {
    DiskQueueOptions {
        max_bytes_per_file,
        min_msg_size: 26,
        max_msg_size: 1024 * 1024 + 26,
        sync_every,
        sync_timeout: Duration::from_secs(2),
        tracked_reads: false,
    }
}

/// A recognisable record of exactly `len` bytes (`len >= 4`) for number `i`.
pub fn record(i: u32, len: usize) -> Vec<u8> {
    let mut r = i.to_be_bytes().to_vec();
    r.extend((0..len.saturating_sub(4)).map(|k| (k as u32).wrapping_mul(31).wrapping_add(i) as u8));
    r.truncate(len);
    r
}

/// Sorted file names in `dir`.
pub fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The metadata file text of queue `name`.
pub fn meta_text(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(format!("{name}.diskqueue.meta.dat"))).unwrap()
}

/// Path of segment `num` of queue `name`.
pub fn seg(dir: &Path, name: &str, num: u32) -> std::path::PathBuf {
    dir.join(format!("{name}.diskqueue.{num:06}.dat"))
}

/// Writes a metadata file by hand.
pub fn write_meta(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(format!("{name}.diskqueue.meta.dat")), text).unwrap();
}

/// Decodes standard base64 (with padding).
pub fn base64_decode(s: &str) -> Vec<u8> {
    fn val(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 char {c}"),
        }
    }
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The fields of an nsqd message record: `[i64 BE ts][u16 BE attempts][16-byte id][body]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsqRecord {
    pub timestamp: i64,
    pub attempts: u16,
    pub id: String,
    pub body: Vec<u8>,
}

impl NsqRecord {
    pub fn parse(bytes: &[u8]) -> NsqRecord {
        assert!(bytes.len() >= 26, "record shorter than the 26-byte header");
        NsqRecord {
            timestamp: i64::from_be_bytes(bytes[0..8].try_into().unwrap()),
            attempts: u16::from_be_bytes(bytes[8..10].try_into().unwrap()),
            id: String::from_utf8(bytes[10..26].to_vec()).unwrap(),
            body: bytes[26..].to_vec(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(26 + self.body.len());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.attempts.to_be_bytes());
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Builds a record from an expected.json record/delivery object.
    pub fn from_json(v: &json::Value) -> NsqRecord {
        let body = match v.get("body") {
            Some(b) => b.as_str().as_bytes().to_vec(),
            None => {
                let b = base64_decode(v["body_base64"].as_str());
                assert_eq!(b.len() as i64, v["body_len"].as_i64());
                b
            }
        };
        NsqRecord {
            timestamp: v["timestamp"].as_i64(),
            attempts: u16::try_from(v["attempts"].as_i64()).unwrap(),
            id: v["id"].as_str().to_owned(),
            body,
        }
    }
}
