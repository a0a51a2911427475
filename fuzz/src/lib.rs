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

/// Read sizes and decoder feeding, shared with the stable replay tests.
pub use nsq_fuzz_support::{chunk_lengths, feed};

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
