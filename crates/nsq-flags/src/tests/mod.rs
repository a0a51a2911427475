//! Cross-module tests: flag syntax, config files, the daemon tables and
//! the start-up path. Unit tests of single modules live next to them.

mod cli;
mod config;
mod snapshots;
mod syntax;
mod tables;
