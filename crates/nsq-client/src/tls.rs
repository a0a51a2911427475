//! The TLS client configuration built from the go-nsq `tls_*` options
//! ([`TlsOptions`]), using the rustls configs of `nsq-transport`.

use std::path::Path;
use std::sync::Arc;

use nsq_transport::rustls::ClientConfig;
use nsq_transport::tls;
use nsq_transport::TlsError;

use crate::config::TlsOptions;

/// Why the `tls_*` options do not make a usable TLS client configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file could not be loaded or the pieces do not fit together.
    #[error(transparent)]
    Files(#[from] TlsError),
    /// Only one of `tls_cert` and `tls_key` is set.
    #[error(
        "{given} is set but {missing} is not: a client certificate needs both tls_cert and tls_key"
    )]
    HalfKeyPair {
        /// The option that is set.
        given: &'static str,
        /// The option that is missing.
        missing: &'static str,
    },
    /// `tls_min_version` is not a known version name.
    #[error("invalid tls_min_version {0:?}: use one of ssl3.0, tls1.0, tls1.1, tls1.2, tls1.3")]
    MinVersion(String),
}

/// The TLS protocol number of a go-nsq `tls_min_version` value (empty: the
/// go-nsq default, TLS 1.0). `ssl3.0` is accepted like go-nsq does; as TLS
/// 1.2 is the lowest version spoken, every value below it means TLS 1.2.
pub fn min_version_code(text: &str) -> Option<u16> {
    match text {
        "" | "ssl3.0" | "tls1.0" => Some(tls::VERSION_TLS10),
        "tls1.1" => Some(tls::VERSION_TLS11),
        "tls1.2" => Some(tls::VERSION_TLS12),
        "tls1.3" => Some(tls::VERSION_TLS13),
        _ => None,
    }
}

/// Non-empty text as a path.
fn path(text: &str) -> Option<&Path> {
    (!text.is_empty()).then(|| Path::new(text))
}

impl TlsOptions {
    /// The `(tls_cert, tls_key)` pair, if both are set.
    fn key_pair(&self) -> Result<Option<(&Path, &Path)>, TlsSetupError> {
        match (path(&self.cert), path(&self.key)) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsSetupError::HalfKeyPair {
                given: "tls_cert",
                missing: "tls_key",
            }),
            (None, Some(_)) => Err(TlsSetupError::HalfKeyPair {
                given: "tls_key",
                missing: "tls_cert",
            }),
        }
    }

    /// Builds the client configuration: trusted roots from
    /// `tls_root_ca_file` (else the system store), `tls_insecure_skip_verify`,
    /// the `tls_cert`/`tls_key` client certificate and `tls_min_version`.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let min = min_version_code(&self.min_version)
            .ok_or_else(|| TlsSetupError::MinVersion(self.min_version.clone()))?;
        let config = tls::client_config_with_min_version(
            path(&self.root_ca_file),
            self.insecure_skip_verify,
            self.key_pair()?,
            min,
        )?;
        Ok(config)
    }

    /// Checks that `tls_root_ca_file` loads (when set), as go-nsq does when
    /// the option is set.
    pub(crate) fn check_root_ca(&self) -> Result<(), TlsSetupError> {
        if let Some(root) = path(&self.root_ca_file) {
            tls::client_config(Some(root), false, None)?;
        }
        Ok(())
    }

    /// Checks that `tls_cert` and `tls_key` load and match, once both are
    /// set (go-nsq loads the pair as soon as it has both).
    pub(crate) fn check_key_pair(&self) -> Result<(), TlsSetupError> {
        if let (Some(cert), Some(key)) = (path(&self.cert), path(&self.key)) {
            tls::client_config(None, true, Some((cert, key)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_versions() {
        assert_eq!(min_version_code(""), Some(tls::VERSION_TLS10));
        assert_eq!(min_version_code("ssl3.0"), Some(tls::VERSION_TLS10));
        assert_eq!(min_version_code("tls1.3"), Some(tls::VERSION_TLS13));
        assert_eq!(min_version_code("tls1.4"), None);
    }

    #[test]
    fn half_key_pair_and_bad_files_are_errors() {
        let opts = TlsOptions {
            cert: "c.pem".into(),
            ..TlsOptions::default()
        };
        let err = opts.client_config().unwrap_err();
        assert!(err.to_string().contains("tls_key"), "{err}");
        let opts = TlsOptions {
            root_ca_file: "/nonexistent/ca.pem".into(),
            ..TlsOptions::default()
        };
        let err = opts.client_config().unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert!(opts.check_root_ca().is_err());
        let opts = TlsOptions {
            insecure_skip_verify: true,
            ..TlsOptions::default()
        };
        assert!(opts.client_config().is_ok());
    }
}
