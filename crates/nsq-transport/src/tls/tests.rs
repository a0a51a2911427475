use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::stream::{upgrade_client_tls, upgrade_server_tls, TlsInfo, UpgradeError};
use crate::test_support::{test_pki, TestPki};
use crate::{TlsAcceptor, TlsConnector};

/// Handshakes over an in-memory pipe; returns both sides' results after a
/// one-byte exchange (so TLS 1.3 client-cert rejection is observed).
async fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
) -> (
    Result<TlsInfo, UpgradeError>,
    Result<TlsInfo, std::io::Error>,
) {
    let (a, b) = duplex(1 << 16);
    let acceptor = TlsAcceptor::from(server);
    let connector = TlsConnector::from(client);
    let server_task = tokio::spawn(async move {
        let (mut io, info) = upgrade_server_tls(a, &acceptor).await?;
        let mut byte = [0u8; 1];
        io.read_exact(&mut byte)
            .await
            .map_err(UpgradeError::Handshake)?;
        io.write_all(b"K").await.map_err(UpgradeError::Handshake)?;
        io.flush().await.map_err(UpgradeError::Handshake)?;
        Ok(info)
    });
    let client_result = async {
        let (mut io, info) = upgrade_client_tls(b, &connector, "localhost").await?;
        io.write_all(b"O").await?;
        io.flush().await?;
        let mut byte = [0u8; 1];
        io.read_exact(&mut byte).await?;
        Ok::<_, std::io::Error>(info)
    }
    .await;
    let server_result = server_task.await.expect("server task panicked");
    (server_result, client_result)
}

fn server(pki: &TestPki, policy: ClientAuthPolicy, min: u16) -> Arc<rustls::ServerConfig> {
    server_config(
        &pki.server_cert,
        &pki.server_key,
        Some(&pki.ca_cert),
        policy,
        min,
    )
    .unwrap()
}

fn client(pki: &TestPki, cert: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    client_config(Some(&pki.ca_cert), false, cert).unwrap()
}

#[tokio::test]
async fn handshake_reports_version_suite_and_no_peer_cn() {
    let pki = test_pki();
    let (s, c) = handshake(
        server(&pki, ClientAuthPolicy::None, VERSION_TLS10),
        client(&pki, None),
    )
    .await;
    let s = s.unwrap();
    let c = c.unwrap();
    assert_eq!(s.version, "TLS1.3");
    assert!(
        s.cipher_suite.starts_with("Unknown 48"),
        "{}",
        s.cipher_suite
    );
    assert_eq!(s.peer_common_name, None);
    assert_eq!(c.peer_common_name.as_deref(), Some("nsqd.test"));
    assert_eq!(c.version, s.version);
    assert_eq!(c.cipher_suite, s.cipher_suite);
}

#[tokio::test]
async fn tls12_suite_named_as_go_prints_it() {
    let pki = test_pki();
    // Restrict the client to TLS 1.2 ECDHE-ECDSA-AES128-GCM.
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites =
        vec![rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    let ca = CertificateDer::from_pem_file(&pki.ca_cert).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let (s, c) = handshake(
        server(&pki, ClientAuthPolicy::None, VERSION_TLS10),
        Arc::new(client),
    )
    .await;
    let s = s.unwrap();
    c.unwrap();
    assert_eq!(s.version, "TLS1.2");
    assert_eq!(s.cipher_suite, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

#[tokio::test]
async fn min_version_13_rejects_tls12_client() {
    let pki = test_pki();
    let ca = CertificateDer::from_pem_file(&pki.ca_cert).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let tls12_only = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let (s, c) = handshake(
        server(&pki, ClientAuthPolicy::None, VERSION_TLS13),
        Arc::new(tls12_only),
    )
    .await;
    assert!(s.is_err());
    assert!(c.is_err());
}

#[tokio::test]
async fn require_accepts_any_client_cert_and_reports_cn() {
    let pki = test_pki();
    let srv = server(&pki, ClientAuthPolicy::Require, VERSION_TLS12);
    // A self-signed certificate nobody trusts is fine under `require`.
    let (s, c) = handshake(
        srv.clone(),
        client(&pki, Some((&pki.rogue_cert, &pki.rogue_key))),
    )
    .await;
    c.unwrap();
    assert_eq!(s.unwrap().peer_common_name.as_deref(), Some("rogue.test"));
    // But a certificate is mandatory.
    let (s, c) = handshake(srv, client(&pki, None)).await;
    assert!(s.is_err(), "server accepted a client without certificate");
    assert!(c.is_err());
}

#[tokio::test]
async fn require_verify_checks_client_cert_against_root_ca() {
    let pki = test_pki();
    let srv = server(&pki, ClientAuthPolicy::RequireVerify, VERSION_TLS12);
    let (s, c) = handshake(
        srv.clone(),
        client(&pki, Some((&pki.client_cert, &pki.client_key))),
    )
    .await;
    c.unwrap();
    assert_eq!(s.unwrap().peer_common_name.as_deref(), Some("client.test"));

    let (s, c) = handshake(
        srv.clone(),
        client(&pki, Some((&pki.rogue_cert, &pki.rogue_key))),
    )
    .await;
    assert!(
        s.is_err(),
        "server accepted an untrusted client certificate"
    );
    assert!(c.is_err());

    let (s, c) = handshake(srv, client(&pki, None)).await;
    assert!(s.is_err());
    assert!(c.is_err());
}

#[tokio::test]
async fn client_verifies_server_unless_insecure() {
    let pki = test_pki();
    let srv = server(&pki, ClientAuthPolicy::None, VERSION_TLS12);
    // Trusting only the rogue certificate: the server's chain is rejected.
    let strict = client_config(Some(&pki.rogue_cert), false, None).unwrap();
    let (s, c) = handshake(srv.clone(), strict).await;
    assert!(s.is_err());
    assert!(c.is_err());
    let insecure = client_config(Some(&pki.rogue_cert), true, None).unwrap();
    let (s, c) = handshake(srv, insecure).await;
    s.unwrap();
    c.unwrap();
}

#[test]
fn config_errors_name_the_file() {
    let pki = test_pki();
    let missing = pki.dir.path().join("nope.pem");
    let err = server_config(
        &missing,
        &pki.server_key,
        None,
        ClientAuthPolicy::None,
        VERSION_TLS10,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::ReadFile { .. }));
    assert!(err.to_string().contains("nope.pem"), "{err}");

    // A key file given as the certificate: no certificate inside.
    let err = server_config(
        &pki.server_key,
        &pki.server_key,
        None,
        ClientAuthPolicy::None,
        VERSION_TLS10,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::NoCertificates { .. }), "{err}");
    assert!(err.to_string().contains("server.key"), "{err}");

    // A certificate given as the key.
    let err = server_config(
        &pki.server_cert,
        &pki.server_cert,
        None,
        ClientAuthPolicy::None,
        VERSION_TLS10,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::NoPrivateKey { .. }), "{err}");

    // Mismatched pair.
    let err = server_config(
        &pki.server_cert,
        &pki.client_key,
        None,
        ClientAuthPolicy::None,
        VERSION_TLS10,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::CertKeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains("client.key"), "{err}");

    // Bad root CA file.
    let err = server_config(
        &pki.server_cert,
        &pki.server_key,
        Some(&pki.server_key),
        ClientAuthPolicy::RequireVerify,
        VERSION_TLS10,
    )
    .unwrap_err();
    assert!(err.to_string().contains("server.key"), "{err}");

    let err = server_config(
        &pki.server_cert,
        &pki.server_key,
        None,
        ClientAuthPolicy::None,
        0x0300,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::InvalidMinVersion(0x0300)));
}

#[test]
fn policy_from_flag() {
    assert_eq!(
        ClientAuthPolicy::from_flag("require"),
        ClientAuthPolicy::Require
    );
    assert_eq!(
        ClientAuthPolicy::from_flag("require-verify"),
        ClientAuthPolicy::RequireVerify
    );
    assert_eq!(ClientAuthPolicy::from_flag(""), ClientAuthPolicy::None);
    assert_eq!(
        ClientAuthPolicy::from_flag("REQUIRE"),
        ClientAuthPolicy::None
    );
}

#[test]
fn suite_and_version_names() {
    assert_eq!(
        cipher_suite_id_name(0xc02f),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(
        cipher_suite_id_name(0xc02b),
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(cipher_suite_id_name(0x1301), "Unknown 4865");
    assert_eq!(cipher_suite_id_name(0xc030), "Unknown 49200");
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    assert_eq!(cipher_suite_name(&suite), "Unknown 4865");
    let suite = rustls::crypto::ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    assert_eq!(
        cipher_suite_name(&suite),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(version_name(rustls::ProtocolVersion::TLSv1_2), "TLS1.2");
    assert_eq!(version_name(rustls::ProtocolVersion::TLSv1_3), "TLS1.3");
    assert_eq!(version_name(rustls::ProtocolVersion::TLSv1_0), "TLS1.0");
}

#[test]
fn common_name_extraction() {
    let pki = test_pki();
    let der = CertificateDer::from_pem_file(&pki.client_cert).unwrap();
    assert_eq!(
        subject_common_name(der.as_ref()).as_deref(),
        Some("client.test")
    );
    // No CN at all.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["x.test".to_string()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let cert = params.self_signed(&key).unwrap();
    assert_eq!(subject_common_name(cert.der().as_ref()), None);
    // Garbage never panics.
    assert_eq!(subject_common_name(&[0x30, 0x82, 0xff]), None);
    for cut in 0..der.as_ref().len() {
        let _ = subject_common_name(&der.as_ref()[..cut]);
    }
}
