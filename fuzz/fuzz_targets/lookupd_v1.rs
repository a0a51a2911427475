//! The nsqlookupd V1 protocol: lookupd's decoder (`LookupServerCodec`:
//! magic, command lines, IDENTIFY bodies) and nsqd's reply decoder
//! (`LookupClientCodec`), fed arbitrary bytes in arbitrary reads.
//!
//! Input: `[flags][chunk seed][stream]`. flags bit 0: decode as nsqd
//! (replies) instead of as lookupd (commands); bit 1: lookupd's stream
//! starts with the `"  V1"` magic.
//!
//! Checks: no panic; the same items and final error whatever the read
//! sizes; every decoded command, written again by `write_command`, decodes
//! to itself; error payloads start with `E_`.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use nsq_fuzz::{chunk_lengths, feed, Input};
use nsq_protocol::lookup::{write_command, LookupClientCodec, LookupCommand, LookupServerCodec};
use tokio_util::codec::Decoder;

/// Largest reply nsqd accepts in this target (small, so the limit is hit).
const MAX_REPLY: usize = 1024;

/// Feeds `stream` to `codec` in `chunks` and lists what came out.
fn run<D>(
    mut codec: D,
    stream: &[u8],
    chunks: &[usize],
    mut on_item: impl FnMut(&D::Item),
) -> Vec<String>
where
    D: Decoder,
    D::Item: std::fmt::Debug,
    D::Error: std::fmt::Display,
{
    let mut log = Vec::new();
    feed(&mut codec, stream, chunks, &mut log, |_, item, log| {
        on_item(&item);
        log.push(format!("{item:?}"));
        true
    });
    log
}

/// lookupd's end: commands must survive being written again.
fn server(stream: &[u8], chunks: &[usize], magic: bool) -> Vec<String> {
    let codec = if magic {
        LookupServerCodec::new()
    } else {
        LookupServerCodec::after_magic()
    };
    let mut identified = false;
    let log = run(codec, stream, chunks, |cmd: &LookupCommand| {
        let mut again = LookupServerCodec::after_magic();
        let mut wire = BytesMut::new();
        if identified {
            // Put the fresh codec in the same state first.
            let mut ident = BytesMut::new();
            write_command(&mut ident, &LookupCommand::Identify(valid_identity()));
            assert!(matches!(again.decode(&mut ident), Ok(Some(_))));
        }
        write_command(&mut wire, cmd);
        match again.decode(&mut wire) {
            Ok(Some(back)) => assert_eq!(&back, cmd, "re-encoded command decodes differently"),
            other => panic!("re-encoded {cmd:?} does not decode: {other:?}"),
        }
        assert!(wire.is_empty());
        identified |= matches!(cmd, LookupCommand::Identify(_));
    });
    if let Some(last) = log.last() {
        if let Some(text) = last.strip_prefix("error ") {
            // Protocol errors are sent verbatim; the others close silently.
            assert!(
                text.starts_with("E_")
                    || text.starts_with("command line longer")
                    || text.starts_with("connection I/O"),
                "{text}"
            );
        }
    }
    log
}

fn valid_identity() -> nsq_protocol::lookup::PeerIdentity {
    nsq_protocol::lookup::PeerIdentity {
        broadcast_address: "127.0.0.1".into(),
        hostname: "h".into(),
        http_port: 4151,
        tcp_port: 4150,
        version: "1.3.0".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let seed = input.byte();
    let stream = input.rest();
    let chunks = chunk_lengths(stream.len(), seed);
    if flags & 1 != 0 {
        let whole = run(
            LookupClientCodec::new(MAX_REPLY),
            stream,
            &[stream.len()],
            |_| {},
        );
        let chunked = run(LookupClientCodec::new(MAX_REPLY), stream, &chunks, |_| {});
        assert_eq!(whole, chunked, "outcome depends on how the bytes are read");
    } else {
        let magic = flags & 2 != 0;
        let whole = server(stream, &[stream.len()], magic);
        let chunked = server(stream, &chunks, magic);
        assert_eq!(whole, chunked, "outcome depends on how the bytes are read");
    }
});
