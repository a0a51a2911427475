//! Load tools for nsqd (`nsq_load`): hold thousands of connections, run a
//! publish/consume mesh with a delivery check and latency figures, and
//! build and drain a large backlog.
//!
//! Module map:
//! - [`cli`]: the `nsq_load` command line and its output.
//! - [`conns`]: hold N idle consumer connections, check nsqd meanwhile.
//! - [`mesh`]: publishers x consumers over topics x channels, delivery check.
//! - [`fill`] / [`drain`]: publish exactly N messages; consume and check N.
//! - [`probe`]: a PUB/SUB round trip.
//! - [`body`]: the numbered, timestamped message body.
//! - [`seen`]: bitsets of received `(publisher, sequence)` pairs.
//! - [`wire`]: opening V2 sessions (magic, IDENTIFY, SUB).
//! - [`http`]: `/ping` and `/stats` over a minimal HTTP/1.0 GET.
//! - [`sys`]: the open-file limit and `/proc` RSS readings.

pub mod body;
pub mod cli;
pub mod conns;
pub mod drain;
pub mod fill;
pub mod http;
pub mod mesh;
pub mod probe;
pub mod seen;
pub mod sys;
pub mod wire;
