//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! - [`Input`]: reads control bytes off the front of a fuzz input.
//! - [`chunk_lengths`]: how a byte stream is split into reads, so decoders
//!   are exercised with every way a socket may deliver the bytes.
//! - [`scratch_dir`]: a temporary directory for targets that need files.

/// The front of a fuzz input read as control bytes; the rest is the payload.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps a fuzz input.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Takes one control byte (0 when the input is exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// Takes a big-endian u16 (missing bytes read as 0).
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Takes up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Everything not taken yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

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

/// A fresh temporary directory, on `/dev/shm` when it exists (much faster
/// than a disk for thousands of runs per second).
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    dir.expect("cannot create a scratch directory")
}
