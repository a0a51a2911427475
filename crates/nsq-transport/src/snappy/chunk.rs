//! Chunk-level encoding and decoding of the snappy framing format.
//!
//! The framing format (used by nsqd v1.3.0 through `github.com/golang/snappy`)
//! is a sequence of chunks, each `[type: u8][length: u24 LE][body]`:
//!
//! | type | meaning |
//! |---|---|
//! | `0xff` | stream identifier, body `sNaPpY` |
//! | `0x00` | compressed data: masked CRC-32C (u32 LE) + snappy block |
//! | `0x01` | uncompressed data: masked CRC-32C (u32 LE) + raw bytes |
//! | `0x02..=0x7f` | reserved, unskippable (error) |
//! | `0x80..=0xfd` | reserved, skippable |
//! | `0xfe` | padding (skippable) |

use std::io;

/// The complete stream identifier chunk every stream starts with.
pub const STREAM_IDENTIFIER: [u8; 10] =
    [0xff, 0x06, 0x00, 0x00, b's', b'N', b'a', b'P', b'p', b'Y'];

/// Largest number of uncompressed bytes one data chunk may carry.
pub const MAX_BLOCK_SIZE: usize = 65536;

/// Chunk type of a compressed data chunk.
pub const CHUNK_COMPRESSED: u8 = 0x00;
/// Chunk type of an uncompressed data chunk.
pub const CHUNK_UNCOMPRESSED: u8 = 0x01;
/// Chunk type of the padding chunk.
pub const CHUNK_PADDING: u8 = 0xfe;
/// Chunk type of the stream identifier chunk.
pub const CHUNK_STREAM_IDENTIFIER: u8 = 0xff;

/// Size of a chunk header (type + 24-bit length).
pub(crate) const HEADER_LEN: usize = 4;
/// Size of the checksum that starts every data chunk body.
pub(crate) const CHECKSUM_LEN: usize = 4;
/// Inputs shorter than this are never worth compressing (same threshold as
/// the Go encoder: 1 + 1 + 15 bytes of input margin).
const MIN_COMPRESSIBLE: usize = 17;

/// Largest data chunk body this implementation accepts (checksum + the
/// worst-case compressed size of a full block), mirroring the Go reader.
pub(crate) fn max_chunk_body() -> usize {
    CHECKSUM_LEN + snap::raw::max_compress_len(MAX_BLOCK_SIZE)
}

/// A snappy framing-format violation found while reading a stream.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnappyError {
    /// The first chunk of the stream was not the stream identifier.
    #[error(
        "snappy stream corrupt: first chunk has type {0:#04x}, expected the stream identifier 0xff"
    )]
    MissingStreamIdentifier(u8),
    /// A stream identifier chunk did not carry `sNaPpY`.
    #[error("snappy stream corrupt: malformed stream identifier chunk")]
    BadStreamIdentifier,
    /// A data chunk's CRC did not match its uncompressed contents.
    #[error("snappy stream corrupt: checksum mismatch (expected {expected:#010x}, computed {actual:#010x})")]
    ChecksumMismatch {
        /// Masked CRC carried in the chunk.
        expected: u32,
        /// Masked CRC computed over the decoded data.
        actual: u32,
    },
    /// A reserved unskippable chunk type (0x02..=0x7f) was found.
    #[error("snappy stream unsupported: reserved unskippable chunk type {0:#04x}")]
    UnskippableChunk(u8),
    /// A data chunk was shorter than its checksum or longer than allowed.
    #[error("snappy stream corrupt: data chunk of type {kind:#04x} has invalid length {len}")]
    BadChunkLength {
        /// The chunk type.
        kind: u8,
        /// The length from the chunk header.
        len: usize,
    },
    /// The compressed block inside a chunk could not be decoded.
    #[error("snappy stream corrupt: invalid compressed block: {0}")]
    BadBlock(String),
    /// The stream ended inside a chunk.
    #[error("snappy stream truncated: connection closed inside a chunk")]
    Truncated,
}

impl From<SnappyError> for io::Error {
    fn from(e: SnappyError) -> Self {
        let kind = if e == SnappyError::Truncated {
            io::ErrorKind::UnexpectedEof
        } else {
            io::ErrorKind::InvalidData
        };
        io::Error::new(kind, e)
    }
}

/// CRC-32C of `data`, masked as the framing format requires.
pub fn masked_crc(data: &[u8]) -> u32 {
    let c = crc32c::crc32c(data);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Appends one data chunk carrying `data` (at most [`MAX_BLOCK_SIZE`] bytes)
/// to `out`. Uses a compressed chunk unless compression would save less than
/// 1/8 of the input, in which case the data is stored uncompressed.
pub(crate) fn encode_data_chunk(encoder: &mut snap::raw::Encoder, data: &[u8], out: &mut Vec<u8>) {
    debug_assert!(data.len() <= MAX_BLOCK_SIZE);
    let crc = masked_crc(data);
    let start = out.len();
    // Reserve the header + checksum, then try compressing right behind them.
    out.extend_from_slice(&[0u8; HEADER_LEN + CHECKSUM_LEN]);
    let mut kind = CHUNK_UNCOMPRESSED;
    if data.len() >= MIN_COMPRESSIBLE {
        let body_start = out.len();
        out.resize(body_start + snap::raw::max_compress_len(data.len()), 0);
        match encoder.compress(data, &mut out[body_start..]) {
            Ok(n) if n < data.len() - data.len() / 8 => {
                out.truncate(body_start + n);
                kind = CHUNK_COMPRESSED;
            }
            _ => out.truncate(body_start),
        }
    }
    if kind == CHUNK_UNCOMPRESSED {
        out.extend_from_slice(data);
    }
    let body_len = out.len() - start - HEADER_LEN;
    let len = (body_len as u32).to_le_bytes();
    out[start] = kind;
    out[start + 1..start + 4].copy_from_slice(&len[..3]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Parses a chunk header into `(type, body length)`.
pub(crate) fn parse_header(h: &[u8; HEADER_LEN]) -> (u8, usize) {
    let len = usize::from(h[1]) | usize::from(h[2]) << 8 | usize::from(h[3]) << 16;
    (h[0], len)
}

/// What a complete chunk turned out to be.
pub(crate) enum Decoded {
    /// Data was written into the output buffer; this many bytes.
    Data(usize),
    /// A stream identifier, padding or skippable chunk: nothing to deliver.
    Nothing,
}

/// Decodes a complete data-bearing or identifier chunk body of type `kind`
/// into `out` (which must hold [`MAX_BLOCK_SIZE`] bytes).
pub(crate) fn decode_chunk(
    decoder: &mut snap::raw::Decoder,
    kind: u8,
    body: &[u8],
    out: &mut [u8],
) -> Result<Decoded, SnappyError> {
    match kind {
        CHUNK_STREAM_IDENTIFIER => {
            if body == &STREAM_IDENTIFIER[HEADER_LEN..] {
                Ok(Decoded::Nothing)
            } else {
                Err(SnappyError::BadStreamIdentifier)
            }
        }
        CHUNK_COMPRESSED | CHUNK_UNCOMPRESSED => {
            if body.len() < CHECKSUM_LEN || body.len() > max_chunk_body() {
                return Err(SnappyError::BadChunkLength {
                    kind,
                    len: body.len(),
                });
            }
            let (crc_bytes, payload) = body.split_at(CHECKSUM_LEN);
            let expected =
                u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
            let n = if kind == CHUNK_COMPRESSED {
                let n = snap::raw::decompress_len(payload)
                    .map_err(|e| SnappyError::BadBlock(e.to_string()))?;
                if n > MAX_BLOCK_SIZE || n > out.len() {
                    return Err(SnappyError::BadBlock(format!(
                        "decoded length {n} exceeds {MAX_BLOCK_SIZE}"
                    )));
                }
                decoder
                    .decompress(payload, &mut out[..n])
                    .map_err(|e| SnappyError::BadBlock(e.to_string()))?
            } else {
                let n = payload.len();
                if n > MAX_BLOCK_SIZE || n > out.len() {
                    return Err(SnappyError::BadChunkLength {
                        kind,
                        len: body.len(),
                    });
                }
                out[..n].copy_from_slice(payload);
                n
            };
            let actual = masked_crc(&out[..n]);
            if actual != expected {
                return Err(SnappyError::ChecksumMismatch { expected, actual });
            }
            Ok(Decoded::Data(n))
        }
        0x02..=0x7f => Err(SnappyError::UnskippableChunk(kind)),
        _ => Ok(Decoded::Nothing),
    }
}

/// Whether a chunk of this type is skipped without inspecting its body.
pub(crate) fn is_skippable(kind: u8) -> bool {
    (0x80..=0xfe).contains(&kind)
}
