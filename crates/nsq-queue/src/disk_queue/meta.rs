//! The metadata file (`<name>.diskqueue.meta.dat`) and file naming.
//!
//! The metadata is three lines of ASCII decimal:
//! `depth\nreadFileNum,readPos\nwriteFileNum,writePos\n`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Largest metadata file we bother to read; real ones are under 100 bytes.
const MAX_META_LEN: u64 = 4096;

/// Queue positions as stored in the metadata file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    pub depth: i64,
    pub read_file_num: i64,
    pub read_pos: i64,
    pub write_file_num: i64,
    pub write_pos: i64,
}

impl Meta {
    /// The exact text go-diskqueue writes for these positions.
    pub fn to_text(self) -> String {
        format!(
            "{}\n{},{}\n{},{}\n",
            self.depth, self.read_file_num, self.read_pos, self.write_file_num, self.write_pos
        )
    }

    /// Parses metadata text. Lenient about surrounding blanks, `\r\n` line
    /// ends, a missing final newline and trailing content, like Go's
    /// `fmt.Fscanf`; strict about the numbers themselves. File numbers and
    /// positions must not be negative (a negative depth is accepted: the
    /// tail check repairs it).
    pub fn parse(text: &str) -> Result<Meta, String> {
        let mut lines = text.split('\n');
        let mut next_line = |what: &str| -> Result<&str, String> {
            lines
                .next()
                .map(|l| l.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r'))
                .ok_or_else(|| format!("missing {what} line"))
        };
        let depth = parse_num(next_line("depth")?, "depth")?;
        let (read_file_num, read_pos) = parse_pair(next_line("read position")?, "read")?;
        let (write_file_num, write_pos) = parse_pair(next_line("write position")?, "write")?;
        Ok(Meta {
            depth,
            read_file_num,
            read_pos,
            write_file_num,
            write_pos,
        })
    }
}

fn parse_num(s: &str, what: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .map_err(|e| format!("invalid {what} {s:?}: {e}"))
}

fn parse_pair(line: &str, what: &str) -> Result<(i64, i64), String> {
    let (a, b) = line
        .split_once(',')
        .ok_or_else(|| format!("invalid {what} position {line:?}: expected <fileNum>,<pos>"))?;
    let file_num = parse_num(a, "file number")?;
    let pos = parse_num(b, "position")?;
    if file_num < 0 || pos < 0 {
        return Err(format!("negative {what} position {line:?}"));
    }
    Ok((file_num, pos))
}

/// Path of the metadata file of queue `name`.
pub(crate) fn meta_path(data_path: &Path, name: &str) -> PathBuf {
    data_path.join(format!("{name}.diskqueue.meta.dat"))
}

/// Path of data segment `num` of queue `name` (`%06d` numbering).
pub(crate) fn segment_path(data_path: &Path, name: &str, num: i64) -> PathBuf {
    data_path.join(format!("{name}.diskqueue.{num:06}.dat"))
}

/// Path a bad segment is renamed to.
pub(crate) fn bad_segment_path(data_path: &Path, name: &str, num: i64) -> PathBuf {
    data_path.join(format!("{name}.diskqueue.{num:06}.dat.bad"))
}

/// Outcome of reading the metadata file.
pub(crate) enum LoadedMeta {
    /// No metadata file: a fresh queue.
    Missing,
    /// The file exists but does not parse (the reason is included).
    Invalid(String),
    /// Parsed positions.
    Valid(Meta),
}

/// Reads and parses the metadata file. Only I/O errors other than "not
/// found" are returned as errors.
pub(crate) fn load(path: &Path) -> io::Result<LoadedMeta> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LoadedMeta::Missing),
        Err(e) => return Err(e),
    };
    let mut raw = Vec::new();
    file.take(MAX_META_LEN).read_to_end(&mut raw)?;
    let text = match std::str::from_utf8(&raw) {
        Ok(t) => t,
        Err(_) => return Ok(LoadedMeta::Invalid("not ASCII text".to_owned())),
    };
    Ok(match Meta::parse(text) {
        Ok(m) => LoadedMeta::Valid(m),
        Err(reason) => LoadedMeta::Invalid(reason),
    })
}

/// Atomically replaces the metadata file: writes `<meta>.<random>.tmp`
/// (mode 0600), fsyncs it and renames it over the metadata file.
/// On failure returns the path that failed together with the error.
pub(crate) fn persist(path: &Path, meta: Meta) -> Result<(), (PathBuf, &'static str, io::Error)> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{}.tmp", rand::random::<u64>() >> 1));
    let tmp = PathBuf::from(tmp_name);
    let write = || -> Result<(), (&'static str, io::Error)> {
        let mut f = create_file(&tmp, true).map_err(|e| ("create", e))?;
        f.write_all(meta.to_text().as_bytes())
            .map_err(|e| ("write to", e))?;
        f.sync_all().map_err(|e| ("fsync", e))?;
        Ok(())
    };
    if let Err((action, e)) = write() {
        let _ = fs::remove_file(&tmp);
        return Err((tmp, action, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err((path.to_owned(), "rename a temporary file over", e));
    }
    Ok(())
}

/// Opens (creating with mode 0600 if needed) a file for reading and
/// writing, without truncating it unless `truncate` is set.
pub(crate) fn create_file(path: &Path, truncate: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_exact() {
        let m = Meta {
            depth: 95,
            read_file_num: 0,
            read_pos: 507,
            write_file_num: 2,
            write_pos: 161,
        };
        assert_eq!(m.to_text(), "95\n0,507\n2,161\n");
        assert_eq!(Meta::parse("95\n0,507\n2,161\n"), Ok(m));
    }

    #[test]
    fn parse_is_lenient_about_blanks_but_not_numbers() {
        let m = Meta::parse("5\r\n0,0\r\n1,0").unwrap();
        assert_eq!(m.depth, 5);
        assert_eq!(m.write_file_num, 1);
        assert!(Meta::parse("-3\n1,2\n3,4\n").is_ok());
        assert!(Meta::parse("x\n0,0\n0,0\n").is_err());
        assert!(Meta::parse("1\n0;0\n0,0\n").is_err());
        assert!(Meta::parse("1\n0,0\n").is_err());
        assert!(Meta::parse("1\n-1,0\n0,0\n").is_err());
        assert!(Meta::parse("1\n0,0\n0,99999999999999999999\n").is_err());
        assert!(Meta::parse("").is_err());
    }

    #[test]
    fn names_are_zero_padded() {
        let p = Path::new("/d");
        assert_eq!(
            segment_path(p, "t:c", 1),
            Path::new("/d/t:c.diskqueue.000001.dat")
        );
        assert_eq!(
            segment_path(p, "t", 1_000_000),
            Path::new("/d/t.diskqueue.1000000.dat")
        );
        assert_eq!(
            bad_segment_path(p, "t", 7),
            Path::new("/d/t.diskqueue.000007.dat.bad")
        );
        assert_eq!(meta_path(p, "t"), Path::new("/d/t.diskqueue.meta.dat"));
    }
}
