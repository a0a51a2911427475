//! Benchmark clients for nsqd, with the workload semantics of NSQ's own
//! `bench_writer` and `bench_reader` so figures compare directly, plus a
//! latency mode and a do-nothing server that measures the clients' ceiling.
//!
//! Module map:
//! - [`writer`]: MPUB batches on N connections, one `OK` at a time.
//! - [`reader`]: SUB, RDY, FIN every message on N connections.
//! - [`latency`]: paced publishing, unbuffered consumer, percentiles.
//! - [`null_server`]: a minimal V2 server (answers, pre-built messages).
//! - [`load`]: `nsq_load`, connection, mesh and backlog load tools.
//! - [`hist`]: the latency histogram.
//! - [`conn`]: connection and frame-reading helpers.
//! - [`args`]: Go-style flag parsing.
//! - [`cli`]: the command lines.
//!
//! All wire encoding and decoding goes through `nsq-protocol`.

pub mod args;
pub mod cli;
pub mod conn;
pub mod hist;
pub mod latency;
pub mod load;
pub mod null_server;
pub mod reader;
pub mod writer;
