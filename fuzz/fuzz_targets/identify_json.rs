//! IDENTIFY JSON bodies (`IdentifyRequest::from_json`, Go `encoding/json`
//! rules on a hand-written parser), then negotiation as a first and as a
//! repeated IDENTIFY, with and without TLS/compression on the server.
//!
//! Input: the raw body.
//!
//! Checks: no panic; decoding is deterministic; the negotiation reply is
//! valid JSON; a successful negotiation stays within the server limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsq_protocol::identify::NegotiatedSettings;
use nsq_protocol::{IdentifyRequest, ServerIdentifyLimits};

fn check(request: &IdentifyRequest, limits: &ServerIdentifyLimits) {
    let first = match request.negotiate(limits) {
        Ok(s) => s,
        Err(e) => {
            assert!(e.is_fatal(), "IDENTIFY errors close the connection: {e:?}");
            return;
        }
    };
    if let Some(ms) = first.heartbeat_interval_ms {
        assert!(
            ms >= 1 && ms <= limits.max_heartbeat_interval_ms,
            "{first:?}"
        );
    }
    assert!((0..=99).contains(&first.sample_rate), "{first:?}");
    assert!(!(first.snappy && first.deflate), "{first:?}");
    let reply = first.response(limits).to_json();
    assert!(
        serde_json::from_slice::<serde_json::Value>(&reply).is_ok(),
        "reply is not JSON: {:?}",
        String::from_utf8_lossy(&reply)
    );
    // The same IDENTIFY again on the same connection.
    let _ = request.negotiate_from(&first, limits);
    let _ = request.negotiate_from(&NegotiatedSettings::initial(limits), limits);
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = IdentifyRequest::from_json(data) else {
        return;
    };
    assert_eq!(IdentifyRequest::from_json(data).ok(), Some(request.clone()));
    let mut limits = ServerIdentifyLimits::default();
    check(&request, &limits);
    limits.tls_available = !limits.tls_available;
    limits.snappy_enabled = !limits.snappy_enabled;
    limits.auth_required = !limits.auth_required;
    check(&request, &limits);
});
