//! Errors raised while building TLS configurations.

use std::path::PathBuf;

/// Failure to build a TLS configuration from NSQ's `--tls-*` options.
///
/// Messages name the offending file and say how to fix the configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read from disk.
    #[error("cannot read {what} file {path}: {source} (check the path and its permissions)")]
    ReadFile {
        /// What the file was supposed to hold ("TLS certificate", …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's PEM content could not be parsed.
    #[error("invalid PEM in {what} file {path}: {source} (the file must be PEM encoded)")]
    Pem {
        /// What the file was supposed to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate file held no `CERTIFICATE` block.
    #[error("no certificate found in {what} file {path} (expected at least one PEM \"BEGIN CERTIFICATE\" block)")]
    NoCertificates {
        /// What the file was supposed to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A key file held no private key.
    #[error("no private key found in TLS key file {path} (expected a PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)")]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A root CA file held a certificate that is not a usable trust anchor.
    #[error("failed to append certificate from root CA file {path} to the pool: {source} (the file must hold valid PEM CA certificates)")]
    BadRootCertificate {
        /// The file.
        path: PathBuf,
        /// Why the certificate was rejected.
        source: rustls::Error,
    },
    /// Certificate and key do not belong together, or the key type is
    /// unsupported.
    #[error("TLS certificate {cert} and key {key} are not a usable pair: {source} (check that the key matches the certificate)")]
    CertKeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The underlying error.
        source: rustls::Error,
    },
    /// `--tls-min-version` outside TLS 1.0 … TLS 1.3.
    #[error(
        "unsupported TLS minimum version {0:#06x} (use one of tls1.0, tls1.1, tls1.2, tls1.3)"
    )]
    InvalidMinVersion(u16),
    /// `require-verify` without any trust anchor to verify client
    /// certificates against.
    #[error("client certificate verification needs trusted roots: set --tls-root-ca-file to a PEM file with the CA that signs client certificates ({0})")]
    NoClientRoots(String),
    /// rustls refused the assembled configuration.
    #[error("failed to build TLS config: {0}")]
    Config(#[from] rustls::Error),
}
