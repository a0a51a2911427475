use std::io::{Read, Write};

use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::test_support::pseudo_random;

fn mixed_payload(len: usize) -> Vec<u8> {
    // Half compressible text, half noise, so both chunk kinds appear.
    pseudo_random(len)
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if (i / 4096) % 2 == 0 {
                b"nsq message body "[i % 17]
            } else {
                *n
            }
        })
        .collect()
}

#[tokio::test]
async fn first_bytes_of_ok_frame_match_nsqd() {
    let (a, mut b) = duplex(1 << 16);
    let mut w = SnappyStream::new(a);
    let frame = [0, 0, 0, 6, 0, 0, 0, 0, 0x4f, 0x4b];
    w.write_all(&frame).await.unwrap();
    w.flush().await.unwrap();
    drop(w);
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();

    let mut want = vec![0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];
    want.extend_from_slice(&[0x01, 0x0e, 0x00, 0x00]);
    want.extend_from_slice(&masked_crc(&frame).to_le_bytes());
    want.extend_from_slice(&frame);
    assert_eq!(got, want);
}

#[test]
fn masked_crc_known_value() {
    // CRC-32C("123456789") = 0xe3069283; rotated right by 15 bits and
    // offset by 0xa282ead8 as the framing spec prescribes.
    assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
}

#[tokio::test]
async fn nothing_written_without_data() {
    let (a, mut b) = duplex(1024);
    let mut w = SnappyStream::new(a);
    w.flush().await.unwrap();
    w.shutdown().await.unwrap();
    drop(w);
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();
    assert!(got.is_empty());
}

#[tokio::test]
async fn round_trip_small_writes_and_flushes() {
    let (a, b) = duplex(4096);
    let mut w = SnappyStream::new(a);
    let mut r = SnappyStream::new(b);
    let writer = tokio::spawn(async move {
        for i in 0..500u32 {
            let msg = format!("message number {i} with some padding padding padding");
            w.write_all(msg.as_bytes()).await.unwrap();
            if i % 3 == 0 {
                w.flush().await.unwrap();
            }
        }
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    r.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    let want: String = (0..500u32)
        .map(|i| format!("message number {i} with some padding padding padding"))
        .collect();
    assert_eq!(got, want.as_bytes());
}

#[tokio::test]
async fn round_trip_large_writes_both_directions() {
    let (a, b) = duplex(8192);
    let mut left = SnappyStream::new(a);
    let mut right = SnappyStream::new(b);
    let data = mixed_payload(1_000_003);
    let data2 = data.clone();
    let t = tokio::spawn(async move {
        left.write_all(&data2).await.unwrap();
        left.flush().await.unwrap();
        let mut echo = vec![0u8; 5];
        left.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"hello");
        left.shutdown().await.unwrap();
    });
    let mut got = vec![0u8; data.len()];
    right.read_exact(&mut got).await.unwrap();
    assert!(got == data);
    right.write_all(b"hello").await.unwrap();
    right.flush().await.unwrap();
    t.await.unwrap();
}

#[tokio::test]
async fn chunks_are_bounded_and_kinds_chosen() {
    let (a, mut b) = duplex(1 << 20);
    let mut w = SnappyStream::new(a);
    let text = vec![b'a'; 200_000];
    let noise = pseudo_random(70_000);
    let t = tokio::spawn(async move {
        w.write_all(&text).await.unwrap();
        w.flush().await.unwrap();
        w.write_all(&noise).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut raw = Vec::new();
    b.read_to_end(&mut raw).await.unwrap();
    t.await.unwrap();
    assert_eq!(&raw[..10], &STREAM_IDENTIFIER);
    let mut pos = 10;
    let mut kinds = Vec::new();
    let mut dec = snap::raw::Decoder::new();
    while pos < raw.len() {
        let kind = raw[pos];
        let len = usize::from(raw[pos + 1])
            | usize::from(raw[pos + 2]) << 8
            | usize::from(raw[pos + 3]) << 16;
        let body = &raw[pos + 4..pos + 4 + len];
        let n = if kind == CHUNK_COMPRESSED {
            dec.decompress_vec(&body[4..]).unwrap().len()
        } else {
            body.len() - 4
        };
        assert!(n <= MAX_BLOCK_SIZE);
        kinds.push((kind, n));
        pos += 4 + len;
    }
    // 200000 'a' = 3 full blocks + 3392 bytes, all compressed; noise is
    // incompressible: one full block + 4464 bytes stored uncompressed.
    assert_eq!(
        kinds,
        vec![
            (CHUNK_COMPRESSED, 65536),
            (CHUNK_COMPRESSED, 65536),
            (CHUNK_COMPRESSED, 65536),
            (CHUNK_COMPRESSED, 3392),
            (CHUNK_UNCOMPRESSED, 65536),
            (CHUNK_UNCOMPRESSED, 4464),
        ]
    );
}

async fn read_all_from(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let (mut a, b) = duplex(1 << 20);
    a.write_all(&bytes).await?;
    drop(a);
    let mut r = SnappyStream::new(b);
    let mut got = Vec::new();
    r.read_to_end(&mut got).await?;
    Ok(got)
}

fn uncompressed_chunk(data: &[u8]) -> Vec<u8> {
    let mut v = vec![CHUNK_UNCOMPRESSED];
    v.extend_from_slice(&((data.len() + 4) as u32).to_le_bytes()[..3]);
    v.extend_from_slice(&masked_crc(data).to_le_bytes());
    v.extend_from_slice(data);
    v
}

fn snappy_error(e: &std::io::Error) -> Option<&SnappyError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<SnappyError>())
}

#[tokio::test]
async fn reader_rejects_missing_identifier() {
    let err = read_all_from(uncompressed_chunk(b"hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        snappy_error(&err),
        Some(&SnappyError::MissingStreamIdentifier(0x01))
    );
    // Even padding is not allowed before the identifier.
    let err = read_all_from(vec![CHUNK_PADDING, 1, 0, 0, 0])
        .await
        .unwrap_err();
    assert_eq!(
        snappy_error(&err),
        Some(&SnappyError::MissingStreamIdentifier(0xfe))
    );
}

#[tokio::test]
async fn reader_rejects_bad_crc() {
    let mut bytes = STREAM_IDENTIFIER.to_vec();
    let mut chunk = uncompressed_chunk(b"hello");
    chunk[4] ^= 0x55;
    bytes.extend_from_slice(&chunk);
    let err = read_all_from(bytes).await.unwrap_err();
    assert!(
        matches!(
            snappy_error(&err),
            Some(SnappyError::ChecksumMismatch { .. })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn reader_skips_padding_and_skippable_rejects_reserved() {
    let mut bytes = STREAM_IDENTIFIER.to_vec();
    bytes.extend_from_slice(&uncompressed_chunk(b"one "));
    bytes.extend_from_slice(&[CHUNK_PADDING, 3, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[0x80, 2, 0, 0, 9, 9]);
    bytes.extend_from_slice(&[0xfd, 0, 0, 0]);
    bytes.extend_from_slice(&STREAM_IDENTIFIER); // repeated identifiers are fine
    bytes.extend_from_slice(&uncompressed_chunk(b"two"));
    assert_eq!(read_all_from(bytes.clone()).await.unwrap(), b"one two");

    bytes.extend_from_slice(&[0x02, 1, 0, 0, 0]);
    let err = read_all_from(bytes).await.unwrap_err();
    assert_eq!(
        snappy_error(&err),
        Some(&SnappyError::UnskippableChunk(0x02))
    );
}

#[tokio::test]
async fn reader_rejects_truncated_stream() {
    let mut bytes = STREAM_IDENTIFIER.to_vec();
    let chunk = uncompressed_chunk(b"hello world");
    bytes.extend_from_slice(&chunk[..chunk.len() - 3]);
    let err = read_all_from(bytes).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn reader_accepts_snap_frame_encoder_output() {
    let data = mixed_payload(300_000);
    let mut enc = snap::write::FrameEncoder::new(Vec::new());
    enc.write_all(&data).unwrap();
    let bytes = enc.into_inner().unwrap();
    assert_eq!(read_all_from(bytes).await.unwrap(), data);
}

#[tokio::test]
async fn snap_frame_decoder_reads_our_output() {
    let data = mixed_payload(300_000);
    let (a, mut b) = duplex(1 << 16);
    let mut w = SnappyStream::new(a);
    let d2 = data.clone();
    let t = tokio::spawn(async move {
        for piece in d2.chunks(7_777) {
            w.write_all(piece).await.unwrap();
            w.flush().await.unwrap();
        }
        w.shutdown().await.unwrap();
    });
    let mut raw = Vec::new();
    b.read_to_end(&mut raw).await.unwrap();
    t.await.unwrap();
    let mut got = Vec::new();
    snap::read::FrameDecoder::new(&raw[..])
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, data);
}
