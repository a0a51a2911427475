//! What the fuzz targets (`fuzz/`, nightly) and the replay tests of the
//! crates that own the parsers (stable, in the normal test run) share, so a
//! stored input is checked the same way in both:
//!
//! - [`chunk_lengths`]: the read sizes a fuzz input asks for;
//! - [`feed`]: a decoder fed in those reads, as a socket would;
//! - [`replay`]: the stored inputs of a target against their `.expected` files.
//!
//! A crate keeps its inputs under `tests/fuzz_regressions/<target>/`: each
//! input `<name>` has a `<name>.expected` file holding what the parser must
//! make of it, one line per item. After a deliberate behaviour change,
//! regenerate the files with `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and
//! review the diff.

use bytes::BytesMut;
use std::path::{Path, PathBuf};
use tokio_util::codec::Decoder;

/// Splits a stream of `len` bytes into read sizes chosen by `seed`.
///
/// Seed 0 is a single read of everything; otherwise the reads are
/// pseudo-random sizes from 1 up to `2^(seed % 8)` bytes.
pub fn chunk_lengths(len: usize, seed: u8) -> Vec<usize> {
    if seed == 0 || len == 0 {
        return vec![len];
    }
    let max = 1usize << (seed % 8);
    let mut state = u32::from(seed).wrapping_mul(0x9e37_79b9) | 1;
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state as usize % max + 1).min(left);
        out.push(n);
        left -= n;
    }
    out
}

/// Feeds `stream` to `codec` in reads of `chunks` bytes (then end of
/// stream), calling `on_item` for every decoded item until it returns
/// false; a decode error is logged as `error <text>` and ends the feed.
pub fn feed<D: Decoder>(
    codec: &mut D,
    stream: &[u8],
    chunks: &[usize],
    log: &mut Vec<String>,
    mut on_item: impl FnMut(&mut D, D::Item, &mut Vec<String>) -> bool,
) where
    D::Error: std::fmt::Display,
{
    let mut buf = BytesMut::new();
    let mut offset = 0;
    let mut reads = chunks.iter();
    loop {
        let eof = match reads.next() {
            Some(&n) => {
                let end = (offset + n).min(stream.len());
                buf.extend_from_slice(&stream[offset..end]);
                offset = end;
                false
            }
            None => true,
        };
        loop {
            let decoded = if eof {
                codec.decode_eof(&mut buf)
            } else {
                codec.decode(&mut buf)
            };
            match decoded {
                Ok(Some(item)) => {
                    if !on_item(codec, item, log) {
                        return;
                    }
                }
                Ok(None) if eof => return,
                Ok(None) => break,
                Err(e) => {
                    log.push(format!("error {e}"));
                    return;
                }
            }
        }
    }
}

/// Runs `outcome` on every input in `<crate_dir>/tests/fuzz_regressions/<target>/`
/// and compares each result with its `.expected` file; panics listing every
/// mismatch (or rewrites the files when `NSQ_UPDATE_FUZZ_EXPECTED` is set).
pub fn replay(crate_dir: &str, target: &str, outcome: impl Fn(&[u8]) -> Vec<String>) {
    let dir = Path::new(crate_dir)
        .join("tests/fuzz_regressions")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_none_or(|x| x != "expected"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    let update = std::env::var_os("NSQ_UPDATE_FUZZ_EXPECTED").is_some();
    let mut failures = Vec::new();
    for input in &inputs {
        let data = std::fs::read(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let got = outcome(&data).join("\n") + "\n";
        let expected_path = input.with_extension("expected");
        if update {
            if let Err(e) = std::fs::write(&expected_path, &got) {
                panic!("{}: {e}", expected_path.display());
            }
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                input.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", expected_path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::LinesCodec;

    #[test]
    fn read_sizes_cover_the_stream_exactly() {
        for seed in 0..=255u8 {
            for len in [0usize, 1, 7, 100, 4096] {
                let chunks = chunk_lengths(len, seed);
                assert_eq!(chunks.iter().sum::<usize>(), len, "seed {seed} len {len}");
                assert!(chunks.iter().all(|&n| n > 0) || len == 0);
                assert!(chunks.iter().all(|&n| n <= 1 << (seed % 8)) || seed == 0);
            }
        }
    }

    #[test]
    fn feeding_in_small_reads_decodes_the_same_items() {
        let stream = b"one\ntwo\nthree\nfour";
        let mut whole = Vec::new();
        let mut split = Vec::new();
        for (seed, log) in [(0u8, &mut whole), (3u8, &mut split)] {
            let chunks = chunk_lengths(stream.len(), seed);
            feed(
                &mut LinesCodec::new(),
                stream,
                &chunks,
                log,
                |_, line, log| {
                    log.push(line);
                    true
                },
            );
        }
        assert_eq!(whole, ["one", "two", "three", "four"]);
        assert_eq!(split, whole);
    }
}
