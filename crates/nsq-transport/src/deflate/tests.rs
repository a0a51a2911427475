use std::io::{Read, Write};

use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::test_support::pseudo_random;

/// Reads whatever is currently available from `b` (the writer has flushed
/// and is idle), waiting briefly for the pipe to settle.
async fn drain_available(b: &mut DuplexStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(std::time::Duration::from_millis(50), b.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("read failed: {e}"),
        }
    }
}

#[tokio::test]
async fn every_flush_ends_with_sync_marker_and_decodes() {
    let (a, mut b) = duplex(1 << 20);
    let mut w = DeflateStream::new(a, 6);
    let mut raw_total = Vec::new();
    let mut plain_total = Vec::new();
    for i in 0..20u32 {
        let msg = format!("frame {i}: the quick brown fox jumps over the lazy dog {i}\n")
            .repeat(i as usize + 1);
        w.write_all(msg.as_bytes()).await.unwrap();
        w.flush().await.unwrap();
        plain_total.extend_from_slice(msg.as_bytes());
        let raw = drain_available(&mut b).await;
        assert!(
            raw.ends_with(&[0x00, 0x00, 0xff, 0xff]),
            "flush {i} did not end with a sync marker"
        );
        raw_total.extend_from_slice(&raw);
        // Everything sent so far decodes at once (without a final block).
        let mut dec = flate2::read::DeflateDecoder::new(&raw_total[..]);
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match dec.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                // The stream has no final block yet: flate2 reports EOF as
                // an error once the input runs out mid-stream.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("decode failed: {e}"),
            }
        }
        assert_eq!(got, plain_total, "after flush {i}");
    }
}

#[tokio::test]
async fn no_zlib_header() {
    let (a, mut b) = duplex(1 << 16);
    let mut w = DeflateStream::new(a, 6);
    w.write_all(b"OK").await.unwrap();
    w.flush().await.unwrap();
    let raw = drain_available(&mut b).await;
    // A zlib stream starts with 0x78; raw deflate at level 6 starts with a
    // block header whose low bits are the BFINAL/BTYPE fields.
    assert_ne!(raw[0], 0x78);
    let mut d = flate2::Decompress::new(false);
    let mut out = vec![0u8; 16];
    d.decompress(&raw, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(&out[..d.total_out() as usize], b"OK");
}

#[tokio::test]
async fn round_trip_small_writes_and_flushes() {
    let (a, b) = duplex(2048);
    let mut w = DeflateStream::new(a, 1);
    let mut r = DeflateStream::new(b, 1);
    let t = tokio::spawn(async move {
        for i in 0..2000u32 {
            w.write_all(format!("msg-{i};").as_bytes()).await.unwrap();
            if i % 7 == 0 {
                w.flush().await.unwrap();
            }
        }
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    r.read_to_end(&mut got).await.unwrap();
    t.await.unwrap();
    let want: String = (0..2000u32).map(|i| format!("msg-{i};")).collect();
    assert_eq!(got, want.as_bytes());
}

#[tokio::test]
async fn round_trip_large_both_directions_interleaved() {
    let (a, b) = duplex(8192);
    let mut left = DeflateStream::new(a, 9);
    let mut right = DeflateStream::new(b, 6);
    let data = {
        let mut v = pseudo_random(600_000);
        v.extend(std::iter::repeat_n(b'z', 900_000));
        v
    };
    let d2 = data.clone();
    let t = tokio::spawn(async move {
        left.write_all(&d2).await.unwrap();
        left.flush().await.unwrap();
        let mut reply = [0u8; 4];
        left.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"done");
    });
    let mut got = vec![0u8; data.len()];
    // Read in small pieces so the inflater must hold output between calls.
    let mut filled = 0;
    while filled < got.len() {
        let end = (filled + 1000).min(got.len());
        let n = right.read(&mut got[filled..end]).await.unwrap();
        assert!(n > 0);
        filled += n;
    }
    assert!(got == data);
    right.write_all(b"done").await.unwrap();
    right.flush().await.unwrap();
    t.await.unwrap();
}

#[tokio::test]
async fn reader_accepts_flate2_sync_flushed_stream() {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(b"PUB topic\n").unwrap();
    enc.flush().unwrap();
    enc.write_all(b"second batch").unwrap();
    enc.flush().unwrap();
    let raw = enc.get_ref().clone();
    let (mut a, b) = duplex(1 << 16);
    a.write_all(&raw).await.unwrap();
    drop(a);
    let mut r = DeflateStream::new(b, 6);
    let mut got = Vec::new();
    r.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"PUB topic\nsecond batch");
}

#[tokio::test]
async fn reader_rejects_garbage() {
    let (mut a, b) = duplex(1 << 16);
    // BTYPE=11 (reserved) is always invalid.
    a.write_all(&[0xff, 0xff, 0xff, 0xff]).await.unwrap();
    drop(a);
    let mut r = DeflateStream::new(b, 6);
    let mut got = Vec::new();
    let err = r.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}
