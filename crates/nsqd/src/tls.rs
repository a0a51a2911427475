//! nsqd's TLS: the acceptor built from `--tls-cert`/`--tls-key`/
//! `--tls-root-ca-file`/`--tls-client-auth-policy`/`--tls-min-version`,
//! replaceable at run time (SIGHUP reloads the files without touching
//! established connections).

use crate::options::Options;
use nsq_transport::tls::{server_config, ClientAuthPolicy};
use nsq_transport::{TlsAcceptor, TlsError};
use parking_lot::RwLock;
use std::path::Path;

/// The current TLS acceptor, if TLS is configured.
#[derive(Default)]
pub struct TlsState {
    acceptor: RwLock<Option<TlsAcceptor>>,
}

impl std::fmt::Debug for TlsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsState")
            .field("configured", &self.acceptor.read().is_some())
            .finish()
    }
}

/// Builds the acceptor from the options; `None` without a certificate and key.
pub fn acceptor_from_options(opts: &Options) -> Result<Option<TlsAcceptor>, TlsError> {
    if opts.tls_cert.is_empty() || opts.tls_key.is_empty() {
        return Ok(None);
    }
    let root_ca = (!opts.tls_root_ca_file.is_empty()).then(|| Path::new(&opts.tls_root_ca_file));
    let config = server_config(
        Path::new(&opts.tls_cert),
        Path::new(&opts.tls_key),
        root_ca,
        ClientAuthPolicy::from_flag(&opts.tls_client_auth_policy),
        opts.tls_min_version,
    )?;
    Ok(Some(TlsAcceptor::from(config)))
}

impl TlsState {
    /// Holds `acceptor` (or no TLS).
    pub fn new(acceptor: Option<TlsAcceptor>) -> Self {
        TlsState {
            acceptor: RwLock::new(acceptor),
        }
    }

    /// The acceptor for a new handshake.
    pub fn acceptor(&self) -> Option<TlsAcceptor> {
        self.acceptor.read().clone()
    }

    /// Whether TLS is configured.
    pub fn is_configured(&self) -> bool {
        self.acceptor.read().is_some()
    }

    /// Re-reads the certificate files; on error the current ones stay in use.
    pub fn reload(&self, opts: &Options) {
        match acceptor_from_options(opts) {
            Ok(Some(a)) => {
                *self.acceptor.write() = Some(a);
                tracing::info!("TLS: certificates reloaded");
            }
            Ok(None) => {}
            Err(e) => tracing::error!("TLS: reload failed, keeping the current certificates - {e}"),
        }
    }
}
