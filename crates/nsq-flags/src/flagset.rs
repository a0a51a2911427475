//! Command-line parsing with the rules of Go's `flag` package.

use crate::go_parse::quote;
use crate::parsed::{Parsed, Source};
use crate::spec::FlagSet;
use crate::value;

/// Why parsing did not produce values; each variant carries the usage text
/// to print on stderr.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// `-h`, `-help` or `--help`: print `usage`, exit 0.
    #[error("flag: help requested")]
    Help {
        /// The text to print.
        usage: String,
    },
    /// Bad command line: print `message`, a newline and `usage`, exit 2.
    #[error("{message}")]
    Invalid {
        /// Go's error line, e.g. `flag provided but not defined: -foo`.
        message: String,
        /// The text to print after it.
        usage: String,
    },
}

impl FlagError {
    /// The process exit code Go uses for this error (0 for help, 2 otherwise).
    pub fn exit_code(&self) -> i32 {
        match self {
            FlagError::Help { .. } => 0,
            FlagError::Invalid { .. } => 2,
        }
    }

    /// Everything Go writes to stderr for this error.
    pub fn stderr_text(&self) -> String {
        match self {
            FlagError::Help { usage } => usage.clone(),
            FlagError::Invalid { message, usage } => format!("{message}\n{usage}"),
        }
    }
}

impl FlagSet {
    /// Every flag at its default, as if parsing an empty command line.
    ///
    /// # Panics
    /// If a default in the table does not parse (a programming error).
    pub fn defaults(&self) -> Parsed {
        Parsed::defaults(self)
    }

    /// Parses `args` (without the program name) like Go's
    /// `flag.FlagSet.Parse`: `-x`/`--x`, `--x=v`, `--x v` for non-boolean
    /// flags; parsing stops at `--` or at the first non-flag argument.
    pub fn parse<I: IntoIterator<Item = String>>(&self, args: I) -> Result<Parsed, FlagError> {
        let args: Vec<String> = args.into_iter().collect();
        let mut parsed = self.defaults();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            let bytes = arg.as_bytes();
            if bytes.len() < 2 || bytes[0] != b'-' {
                break;
            }
            let mut dashes = 1;
            if bytes[1] == b'-' {
                dashes = 2;
                if bytes.len() == 2 {
                    i += 1; // "--" ends the flags and is consumed
                    break;
                }
            }
            let body = &arg[dashes..];
            if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
                return Err(self.invalid(format!("bad flag syntax: {arg}")));
            }
            i += 1;
            // '=' is ASCII, so its byte position is a char boundary.
            let (name, inline_value) = match body.bytes().skip(1).position(|b| b == b'=') {
                Some(p) => (&body[..p + 1], Some(&body[p + 2..])),
                None => (body, None),
            };
            let Some(spec) = self.spec(name) else {
                if name == "help" || name == "h" {
                    return Err(FlagError::Help {
                        usage: self.usage(),
                    });
                }
                return Err(self.invalid(format!("flag provided but not defined: -{name}")));
            };
            let slot = parsed.value_mut(spec.name);
            if spec.kind.is_bool_flag() {
                match inline_value {
                    Some(text) => value::apply(spec.kind, slot, text).map_err(|reason| {
                        self.invalid(format!(
                            "invalid boolean value {} for -{name}: {reason}",
                            quote(text)
                        ))
                    })?,
                    None => value::apply(spec.kind, slot, "true").map_err(|reason| {
                        self.invalid(format!("invalid boolean flag {name}: {reason}"))
                    })?,
                }
            } else {
                let text = match inline_value {
                    Some(text) => text,
                    None if i < args.len() => {
                        i += 1;
                        args[i - 1].as_str()
                    }
                    None => {
                        return Err(self.invalid(format!("flag needs an argument: -{name}")));
                    }
                };
                value::apply(spec.kind, slot, text).map_err(|reason| {
                    self.invalid(format!(
                        "invalid value {} for flag -{name}: {reason}",
                        quote(text)
                    ))
                })?;
            }
            parsed.set_source(spec.name, Source::CommandLine);
        }
        parsed.set_args(args[i..].to_vec());
        Ok(parsed)
    }

    fn invalid(&self, message: String) -> FlagError {
        FlagError::Invalid {
            message,
            usage: self.usage(),
        }
    }
}
