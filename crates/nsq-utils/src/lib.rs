//! The NSQ command-line utilities, as libraries behind thin `main`s.
//!
//! Module map:
//!
//! | module | contents |
//! |---|---|
//! | [`common`] | command line, exit status, client options, consumer sources |
//! | [`hostpool`] | `--mode`: round-robin / hostpool / epsilon-greedy destination choice |
//! | [`nsq_tail`] | print a topic's messages |
//! | [`to_nsq`] | publish stdin |
//! | [`nsq_to_file`] | write topics to rotating (optionally gzipped) files |
//! | [`nsq_stat`] | periodic per-channel stats table |
//! | [`nsq_to_nsq`] | copy topics to other nsqd |
//! | [`nsq_to_http`] | deliver messages to HTTP endpoints |
//!
//! Each utility module has `pub fn main(args) -> i32` taking the whole
//! `argv` and returning the exit status.

#![warn(missing_docs)]

pub mod common;
pub mod hostpool;
pub mod nsq_stat;
pub mod nsq_tail;
pub mod nsq_to_file;
pub mod nsq_to_http;
pub mod nsq_to_nsq;
pub mod to_nsq;
