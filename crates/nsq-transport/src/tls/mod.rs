//! rustls configurations built from NSQ's TLS options (flags.md §7,
//! nsqd-tcp.md §7 "TLS details").
//!
//! Every config is built with the `ring` crypto provider passed in
//! explicitly; no process-wide default provider is needed.
//!
//! **TLS versions.** rustls implements TLS 1.2 and TLS 1.3 only. A minimum
//! of TLS 1.0 (`0x0301`, nsqd's default) or TLS 1.1 (`0x0302`) is therefore
//! served as "TLS 1.2 minimum"; clients limited to TLS 1.0/1.1 cannot
//! connect.

mod cn;
mod error;
mod names;
mod pem;
#[cfg(test)]
mod tests;
mod verifiers;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

pub use cn::subject_common_name;
pub use error::TlsError;
pub use names::{cipher_suite_id_name, cipher_suite_name, version_name};

/// TLS 1.0 as used by `--tls-min-version=tls1.0` (Go's `tls.VersionTLS10`).
pub const VERSION_TLS10: u16 = 0x0301;
/// TLS 1.1 (`tls1.1`).
pub const VERSION_TLS11: u16 = 0x0302;
/// TLS 1.2 (`tls1.2`).
pub const VERSION_TLS12: u16 = 0x0303;
/// TLS 1.3 (`tls1.3`).
pub const VERSION_TLS13: u16 = 0x0304;

/// nsqd's `--tls-client-auth-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthPolicy {
    /// No client certificate is requested (flag empty or any other value).
    #[default]
    None,
    /// `require`: a client certificate must be presented; it is accepted
    /// without verification (Go's `RequireAnyClientCert`).
    Require,
    /// `require-verify`: a client certificate must be presented and verify
    /// against `--tls-root-ca-file` (Go's `RequireAndVerifyClientCert`).
    RequireVerify,
}

impl ClientAuthPolicy {
    /// Parses the flag value the way nsqd does: `require`,
    /// `require-verify`, anything else means no client certificate.
    pub fn from_flag(value: &str) -> Self {
        match value {
            "require" => ClientAuthPolicy::Require,
            "require-verify" => ClientAuthPolicy::RequireVerify,
            _ => ClientAuthPolicy::None,
        }
    }
}

/// The ring crypto provider every config is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Protocol versions allowed for a Go-style minimum version.
fn versions(min_version: u16) -> Result<&'static [&'static SupportedProtocolVersion], TlsError> {
    static BOTH: [&SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static ONLY_13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match min_version {
        VERSION_TLS10..=VERSION_TLS12 => Ok(&BOTH),
        VERSION_TLS13 => Ok(&ONLY_13),
        other => Err(TlsError::InvalidMinVersion(other)),
    }
}

/// Builds nsqd's server config from `--tls-cert`, `--tls-key`,
/// `--tls-root-ca-file`, `--tls-client-auth-policy` and
/// `--tls-min-version` (`0x0301` … `0x0304`; 1.0 and 1.1 mean 1.2, see the
/// module docs).
///
/// With [`ClientAuthPolicy::RequireVerify`] client certificates are
/// verified against `root_ca_path`; without one the system trust store is
/// used (as Go does), and an empty system store is an error.
pub fn server_config(
    cert_path: &Path,
    key_path: &Path,
    root_ca_path: Option<&Path>,
    client_auth: ClientAuthPolicy,
    min_version: u16,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let versions = versions(min_version)?;
    let certs = pem::load_certs("TLS certificate", cert_path)?;
    let key = pem::load_key(key_path)?;
    // Like nsqd, a configured root CA file must be loadable even when the
    // policy does not use it.
    let roots = root_ca_path.map(pem::load_roots).transpose()?;

    let builder =
        ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions)?;
    let builder = match client_auth {
        ClientAuthPolicy::None => builder.with_no_client_auth(),
        ClientAuthPolicy::Require => builder
            .with_client_cert_verifier(Arc::new(verifiers::AnyClientCert::new(provider.clone()))),
        ClientAuthPolicy::RequireVerify => {
            let roots = match roots {
                Some(roots) => roots,
                None => pem::system_roots(),
            };
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::NoClientRoots(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config =
        builder
            .with_single_cert(certs, key)
            .map_err(|source| TlsError::CertKeyMismatch {
                cert: cert_path.to_path_buf(),
                key: key_path.to_path_buf(),
                source,
            })?;
    Ok(Arc::new(config))
}

/// Builds a client config (TLS 1.2 minimum) for connecting to nsqd or to
/// HTTPS endpoints; see [`client_config_with_min_version`].
pub fn client_config(
    root_ca: Option<&Path>,
    insecure_skip_verify: bool,
    client_cert: Option<(&Path, &Path)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    client_config_with_min_version(root_ca, insecure_skip_verify, client_cert, VERSION_TLS12)
}

/// Builds a client config.
///
/// * `root_ca`: PEM file of trusted roots; without it the system trust
///   store is used (as Go does).
/// * `insecure_skip_verify`: accept any server certificate for any name
///   (the handshake signature is still checked).
/// * `client_cert`: `(certificate file, key file)` to present.
/// * `min_version`: `0x0301` … `0x0304`; 1.0 and 1.1 mean 1.2.
pub fn client_config_with_min_version(
    root_ca: Option<&Path>,
    insecure_skip_verify: bool,
    client_cert: Option<(&Path, &Path)>,
    min_version: u16,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let versions = versions(min_version)?;
    let roots: Option<RootCertStore> = root_ca.map(pem::load_roots).transpose()?;
    let builder =
        ClientConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions)?;
    let builder = if insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifiers::AnyServerCert::new(provider)))
    } else {
        builder.with_root_certificates(roots.unwrap_or_else(pem::system_roots))
    };
    let config = match client_cert {
        Some((cert_path, key_path)) => {
            let certs = pem::load_certs("TLS client certificate", cert_path)?;
            let key = pem::load_key(key_path)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|source| TlsError::CertKeyMismatch {
                    cert: cert_path.to_path_buf(),
                    key: key_path.to_path_buf(),
                    source,
                })?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
