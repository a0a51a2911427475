//! Names of TLS versions and cipher suites exactly as nsqd v1.3.0 shows
//! them in `/stats` (`tls_version`, `tls_cipher_suite`).

use rustls::{ProtocolVersion, SupportedCipherSuite};

/// nsqd's own table of cipher-suite names (Go constant names). Every other
/// suite, including all TLS 1.3 suites, prints as `Unknown <decimal id>`.
const NSQD_SUITE_NAMES: &[(u16, &str)] = &[
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
];

/// The `/stats` name of a cipher suite given its IANA id, e.g.
/// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` for `0xc02f` and `Unknown 4865`
/// for `0x1301` (TLS_AES_128_GCM_SHA256).
///
/// nsqd v1.3.0 only names the 13 suites of its own table; other suites —
/// the AES-256-GCM and ChaCha20 TLS 1.2 suites as well as every TLS 1.3
/// suite — print as `Unknown <decimal id>`.
pub fn cipher_suite_id_name(id: u16) -> String {
    NSQD_SUITE_NAMES
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| format!("Unknown {id}"))
}

/// The `/stats` `tls_cipher_suite` value of a negotiated rustls suite.
pub fn cipher_suite_name(suite: &SupportedCipherSuite) -> String {
    cipher_suite_id_name(u16::from(suite.suite()))
}

/// The `/stats` `tls_version` value: `TLS1.0` … `TLS1.3`.
///
/// Go prints `Unknown <decimal>` for anything else; rustls never negotiates
/// other versions, so those map to `Unknown 768` (SSLv3) or `Unknown`.
pub fn version_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::TLSv1_0 => "TLS1.0",
        ProtocolVersion::TLSv1_1 => "TLS1.1",
        ProtocolVersion::TLSv1_2 => "TLS1.2",
        ProtocolVersion::TLSv1_3 => "TLS1.3",
        ProtocolVersion::SSLv3 => "Unknown 768",
        _ => "Unknown",
    }
}
