use std::sync::Arc;

use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::test_support::{pseudo_random, test_pki};
use crate::tls::{client_config, server_config, ClientAuthPolicy, VERSION_TLS10};

const OK_FRAME: [u8; 10] = [0, 0, 0, 6, 0, 0, 0, 0, b'O', b'K'];

/// Full §7 sequence over a pipe: plaintext JSON, TLS, OK in TLS, then
/// compression on TLS, OK in compression, then bulk data both ways.
async fn upgrade_sequence(compression: &'static str) {
    let pki = test_pki();
    let server_cfg = server_config(
        &pki.server_cert,
        &pki.server_key,
        Some(&pki.ca_cert),
        ClientAuthPolicy::RequireVerify,
        VERSION_TLS10,
    )
    .unwrap();
    let client_cfg = client_config(
        Some(&pki.ca_cert),
        false,
        Some((&pki.client_cert, &pki.client_key)),
    )
    .unwrap();
    let acceptor = TlsAcceptor::from(server_cfg);
    let connector = TlsConnector::from(Arc::clone(&client_cfg));
    let (a, b) = duplex(4096);
    let payload = pseudo_random(200_000);
    let payload2 = payload.clone();

    let server = tokio::spawn(async move {
        let mut io = boxed(a);
        io.write_all(b"{\"tls_v1\":true}").await.unwrap();
        io.flush().await.unwrap();
        let (mut io, info) = upgrade_server_tls(io, &acceptor).await.unwrap();
        io.write_all(&OK_FRAME).await.unwrap();
        io.flush().await.unwrap();
        let mut io = match compression {
            "snappy" => wrap_snappy(io),
            _ => wrap_deflate(io, 6),
        };
        io.write_all(&OK_FRAME).await.unwrap();
        io.flush().await.unwrap();
        let mut got = vec![0u8; payload2.len()];
        io.read_exact(&mut got).await.unwrap();
        assert!(got == payload2);
        io.write_all(&got).await.unwrap();
        io.flush().await.unwrap();
        info
    });

    let mut io = boxed(b);
    let mut json = [0u8; 15];
    io.read_exact(&mut json).await.unwrap();
    assert_eq!(&json, b"{\"tls_v1\":true}");
    let (mut io, cinfo) = upgrade_client_tls(io, &connector, "127.0.0.1")
        .await
        .unwrap();
    let mut frame = [0u8; 10];
    io.read_exact(&mut frame).await.unwrap();
    assert_eq!(frame, OK_FRAME);
    let mut io = match compression {
        "snappy" => wrap_snappy(io),
        _ => wrap_deflate(io, 6),
    };
    io.read_exact(&mut frame).await.unwrap();
    assert_eq!(frame, OK_FRAME);
    for piece in payload.chunks(1000) {
        io.write_all(piece).await.unwrap();
        io.flush().await.unwrap();
    }
    let mut echo = vec![0u8; payload.len()];
    io.read_exact(&mut echo).await.unwrap();
    assert!(echo == payload);

    let sinfo = server.await.unwrap();
    assert_eq!(sinfo.peer_common_name.as_deref(), Some("client.test"));
    assert_eq!(cinfo.peer_common_name.as_deref(), Some("nsqd.test"));
    assert_eq!(sinfo.version, "TLS1.3");
    assert!(!sinfo.cipher_suite.is_empty());
}

#[tokio::test]
async fn snappy_on_tls_round_trips() {
    upgrade_sequence("snappy").await;
}

#[tokio::test]
async fn deflate_on_tls_round_trips() {
    upgrade_sequence("deflate").await;
}

#[tokio::test]
async fn prepend_replays_buffered_bytes_first() {
    // The peer sent a snappy stream; 7 bytes of it were already consumed by
    // a buffered reader and must be handed back.
    let (a, mut b) = duplex(1 << 16);
    let mut w = wrap_snappy(a);
    w.write_all(b"hello after upgrade").await.unwrap();
    w.flush().await.unwrap();
    let mut early = vec![0u8; 7];
    b.read_exact(&mut early).await.unwrap();
    let mut r = wrap_snappy(prepend(b, early));
    let mut got = vec![0u8; 19];
    r.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello after upgrade");
}

#[tokio::test]
async fn invalid_server_name_is_reported() {
    let pki = test_pki();
    let connector = TlsConnector::from(client_config(Some(&pki.ca_cert), false, None).unwrap());
    let (_a, b) = duplex(64);
    let err = upgrade_client_tls(b, &connector, "not a host name")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, UpgradeError::InvalidServerName(_)));
}

#[tokio::test(start_paused = true)]
async fn server_handshake_times_out() {
    let pki = test_pki();
    let acceptor = TlsAcceptor::from(
        server_config(
            &pki.server_cert,
            &pki.server_key,
            None,
            ClientAuthPolicy::None,
            VERSION_TLS10,
        )
        .unwrap(),
    );
    let (a, _b) = duplex(64); // the client never speaks
    let err = upgrade_server_tls(a, &acceptor).await.err().unwrap();
    assert!(matches!(err, UpgradeError::Timeout(_)));
}
