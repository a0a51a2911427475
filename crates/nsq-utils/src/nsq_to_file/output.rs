//! One output file: opened in the work dir under a free `<REV>` name,
//! written (optionally through gzip), synced (closing the current gzip
//! member, so the file is a multi-member gzip), and on close moved to the
//! output dir without ever overwriting (formats.md §7).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::filename::NameTemplate;

/// How files are opened and finished (the same for every topic).
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Where files are written while open.
    pub work_dir: PathBuf,
    /// Where finished files end up.
    pub output_dir: PathBuf,
    /// gzip level when `--gzip` is on.
    pub gzip_level: Option<u32>,
    /// Open with exclusive create (gzip or rotate-interval) instead of append.
    pub exclusive: bool,
    /// Remove files that received no message.
    pub skip_empty: bool,
}

enum Sink {
    Plain(File),
    Gzip {
        encoder: Option<GzEncoder<File>>,
        level: Compression,
    },
}

/// An open output file.
pub struct OutputFile {
    base: String,
    rev: u32,
    path: PathBuf,
    sink: Sink,
    size: u64,
    opened_at: Instant,
}

fn create_dirs_for(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o770);
        }
        builder.create(dir)?;
    }
    Ok(())
}

impl OutputFile {
    /// Opens the first free name for `base` (a name with `<REV>` in place),
    /// trying revisions from `start_rev` up.
    pub fn open(
        settings: &FileSettings,
        template: &NameTemplate,
        base: &str,
        start_rev: u32,
    ) -> io::Result<OutputFile> {
        let distinct_output = settings.work_dir != settings.output_dir;
        let mut rev = start_rev;
        loop {
            let name = template.with_rev(base, rev);
            let path = settings.work_dir.join(&name);
            create_dirs_for(&path)?;
            let taken_in_output = distinct_output && settings.output_dir.join(&name).exists();
            let mut options = OpenOptions::new();
            options.write(true);
            if settings.exclusive {
                options.create_new(true);
            } else {
                options.create(true).append(true);
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o666);
            }
            let opened = if taken_in_output {
                Err(io::Error::from(io::ErrorKind::AlreadyExists))
            } else {
                options.open(&path)
            };
            match opened {
                Ok(file) => {
                    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                    tracing::info!("opening {}", path.display());
                    let sink = match settings.gzip_level {
                        Some(level) => {
                            let level = Compression::new(level);
                            Sink::Gzip {
                                encoder: Some(GzEncoder::new(file, level)),
                                level,
                            }
                        }
                        None => Sink::Plain(file),
                    };
                    return Ok(OutputFile {
                        base: base.to_string(),
                        rev,
                        path,
                        sink,
                        size,
                        opened_at: Instant::now(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && template.needs_rev() => {
                    tracing::info!("file already exists: {name}");
                    rev += 1;
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("unable to open {}: {e}", path.display()),
                    ))
                }
            }
        }
    }

    /// The name with `<REV>` in place that this file was opened for.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The revision number in use.
    pub fn rev(&self) -> u32 {
        self.rev
    }

    /// Bytes written (uncompressed), including what an appended file had.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// When the file was opened.
    pub fn opened_at(&self) -> Instant {
        self.opened_at
    }

    /// Appends `data`.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(f) => f.write_all(data)?,
            Sink::Gzip {
                encoder: Some(g), ..
            } => g.write_all(data)?,
            Sink::Gzip { encoder: None, .. } => {
                return Err(io::Error::other("gzip stream already finished"))
            }
        }
        self.size += data.len() as u64;
        Ok(())
    }

    /// Makes everything written so far durable: ends the current gzip
    /// member (a new one starts for later writes) and fsyncs.
    pub fn sync(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(f) => f.sync_all(),
            Sink::Gzip { encoder, level } => {
                let file = match encoder.take() {
                    Some(g) => g.finish()?,
                    None => return Err(io::Error::other("gzip stream already finished")),
                };
                file.sync_all()?;
                *encoder = Some(GzEncoder::new(file, *level));
                Ok(())
            }
        }
    }

    /// Syncs and closes the file, then removes it (empty, with
    /// `skip_empty`) or moves it to the output dir. Returns the final path.
    pub fn close(
        self,
        settings: &FileSettings,
        template: &NameTemplate,
    ) -> io::Result<Option<PathBuf>> {
        match self.sink {
            Sink::Plain(f) => f.sync_all()?,
            Sink::Gzip {
                encoder: Some(g), ..
            } => g.finish()?.sync_all()?,
            Sink::Gzip { encoder: None, .. } => {}
        }
        tracing::info!("closing {}", self.path.display());
        if settings.skip_empty && self.size == 0 {
            std::fs::remove_file(&self.path)?;
            return Ok(None);
        }
        if settings.work_dir == settings.output_dir {
            return Ok(Some(self.path));
        }
        let mut rev = self.rev;
        loop {
            let dst = settings.output_dir.join(template.with_rev(&self.base, rev));
            create_dirs_for(&dst)?;
            match std::fs::hard_link(&self.path, &dst) {
                Ok(()) => {
                    std::fs::remove_file(&self.path)?;
                    tracing::info!("moved {} to {}", self.path.display(), dst.display());
                    return Ok(Some(dst));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && template.needs_rev() => {
                    rev += 1
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "unable to move {} to {}: {e}",
                            self.path.display(),
                            dst.display()
                        ),
                    ))
                }
            }
        }
    }
}
