//! Test support: start the real daemons on free ports with temporary data
//! directories, and talk to them over real sockets.
//!
//! - [`cluster`]: nsqlookupd + nsqd + nsqadmin together, and [`cluster::eventually`].
//! - [`daemon`]: spawn a built binary, learn its bound addresses from its log.
//! - [`v2`]: a raw V2 (nsqd TCP) client that exposes every frame.
//! - [`http`]: a minimal HTTP/1.1 client that returns status, headers and body as sent.
//! - [`utility`]: run a utility process; a recording HTTP server and a fake nsqlookupd.

pub mod cluster;
pub mod daemon;
pub mod http;
pub mod utility;
pub mod v2;

pub use daemon::{Daemon, StartOptions};
pub use http::{create_topic_channel, http_request, parse_response, HttpResponse};
pub use v2::V2Client;
