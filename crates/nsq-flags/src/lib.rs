//! Go-compatible command-line flags and TOML config files for the NSQ binaries.
