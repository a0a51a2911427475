//! Helpers shared by the nsqd TLS, compression, AUTH and unix-socket
//! black-box tests: a throwaway PKI, a raw V2 client that walks the
//! IDENTIFY upgrade sequence (TLS, then snappy or deflate) layer by layer,
//! HTTP(S) requests over TCP, TLS and unix sockets, `/stats` lookups and
//! the pynsq feature script.

#![allow(dead_code)]

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nsq_protocol::codec::ClientCodec;
use nsq_protocol::{Command, Frame, Message};
use nsq_test_support::{parse_response, Daemon, HttpResponse};
use nsq_transport::rustls;
use nsq_transport::stream::{self, BoxedIo, TlsInfo};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Framed;

/// Longest wait for one reply, handshake or state change.
pub const TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// PKI
// ---------------------------------------------------------------------------

/// PEM files of a PKI generated for one test (nothing is committed).
pub struct Pki {
    /// Keeps the files alive.
    pub dir: tempfile::TempDir,
    /// The test CA (trusted by nsqd for client certificates, by clients
    /// for the server).
    pub ca_cert: PathBuf,
    /// Server certificate for `localhost` and `127.0.0.1`, CN `nsqd-one`.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A second server certificate from the same CA, CN `nsqd-two`.
    pub server2_cert: PathBuf,
    pub server2_key: PathBuf,
    /// Client certificate signed by the CA, CN `test-client`.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// Client certificate from another CA, CN `rogue-client`.
    pub rogue_cert: PathBuf,
    pub rogue_key: PathBuf,
}

fn params(cn: &str, sans: &[&str]) -> rcgen::CertificateParams {
    let mut p =
        rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid subject alternative names");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "nsq integration tests");
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p
}

fn ca(cn: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().expect("CA key");
    let mut p = params(cn, &[]);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).expect("CA certificate");
    (cert, key)
}

fn leaf(
    cn: &str,
    sans: &[&str],
    usage: rcgen::ExtendedKeyUsagePurpose,
    issuer: &(rcgen::Certificate, rcgen::KeyPair),
) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("leaf key");
    let mut p = params(cn, sans);
    p.extended_key_usages = vec![usage];
    p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = p
        .signed_by(&key, &issuer.0, &issuer.1)
        .expect("leaf certificate");
    (cert.pem(), key.serialize_pem())
}

/// Generates the CA, two server certificates, a client certificate and a
/// rogue client certificate from an unrelated CA.
pub fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("temp dir for certificates");
    let write = |name: &str, contents: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("write PEM file");
        path
    };
    let test_ca = ca("nsq test CA");
    let other_ca = ca("unrelated CA");
    let server_sans = ["localhost", "127.0.0.1"];
    let server = leaf(
        "nsqd-one",
        &server_sans,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        &test_ca,
    );
    let server2 = leaf(
        "nsqd-two",
        &server_sans,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        &test_ca,
    );
    let client = leaf(
        "test-client",
        &["test-client"],
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        &test_ca,
    );
    let rogue = leaf(
        "rogue-client",
        &["rogue-client"],
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        &other_ca,
    );
    Pki {
        ca_cert: write("ca.pem", &test_ca.0.pem()),
        server_cert: write("server.pem", &server.0),
        server_key: write("server.key", &server.1),
        server2_cert: write("server2.pem", &server2.0),
        server2_key: write("server2.key", &server2.1),
        client_cert: write("client.pem", &client.0),
        client_key: write("client.key", &client.1),
        rogue_cert: write("rogue.pem", &rogue.0),
        rogue_key: write("rogue.key", &rogue.1),
        dir,
    }
}

/// `--flag=<path>`.
pub fn flag(name: &str, path: &Path) -> String {
    format!("--{name}={}", path.display())
}

/// Starts nsqd with the PKI's server certificate, an HTTPS listener on a
/// free port, and `extra` flags.
pub fn nsqd_tls(pki: &Pki, extra: &[&str]) -> Daemon {
    let mut args = vec![
        flag("tls-cert", &pki.server_cert),
        flag("tls-key", &pki.server_key),
        "--https-address=127.0.0.1:0".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Daemon::nsqd(&refs)
}

/// A client config trusting the test CA, optionally presenting a client
/// certificate `(cert, key)`.
pub fn client_tls(pki: &Pki, client_cert: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    nsq_transport::tls::client_config(Some(&pki.ca_cert), false, client_cert)
        .expect("client TLS config")
}

/// A client config trusting the test CA that only speaks `version`
/// (`rustls::version::TLS12` or `TLS13`).
pub fn client_tls_only(
    pki: &Pki,
    version: &'static rustls::SupportedProtocolVersion,
) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(&pki.ca_cert).expect("read CA");
    let der = pem_to_der(&pem);
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .expect("add CA");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Arc::new(cfg)
}

/// A client config trusting the test CA that offers exactly one cipher
/// suite (TLS 1.2 suites force TLS 1.2).
pub fn client_tls_with_suite(
    pki: &Pki,
    suite: rustls::SupportedCipherSuite,
) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(&pki.ca_cert).expect("read CA");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(pem_to_der(&pem)))
        .expect("add CA");
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: vec![suite],
        ..rustls::crypto::ring::default_provider()
    };
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

/// Decodes the first PEM block (base64 between the BEGIN/END lines).
fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = String::from_utf8_lossy(pem);
    let b64: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("PEM base64")
}

/// Waits for nsqd's `HTTPS: listening on <addr>` log line and returns the
/// address.
pub fn https_addr(d: &Daemon) -> SocketAddr {
    let marker = "HTTPS: listening on ";
    assert!(
        d.wait_for_log(marker, TIMEOUT),
        "nsqd did not report an HTTPS listener; log:\n{}",
        d.log_text()
    );
    let log = d.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(marker))
        .expect("HTTPS line");
    let text = line[line.find(marker).unwrap() + marker.len()..].trim();
    text.parse()
        .unwrap_or_else(|e| panic!("HTTPS address {text:?} in {line:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Raw V2 client through the upgrade layers
// ---------------------------------------------------------------------------

/// A V2 connection over whatever layers were negotiated.
pub struct Layered {
    framed: Framed<BoxedIo, ClientCodec>,
}

impl Layered {
    /// Wraps a stream on which the magic has already been sent.
    pub fn new(io: BoxedIo) -> Layered {
        Layered {
            framed: Framed::new(io, ClientCodec::default()),
        }
    }

    /// Connects over TCP and sends the magic.
    pub async fn connect(addr: SocketAddr) -> Layered {
        let mut tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect nsqd");
        tcp.set_nodelay(true).ok();
        tcp.write_all(b"  V2").await.expect("send magic");
        Layered::new(stream::boxed(tcp))
    }

    /// Sends a command (flushed through every layer).
    pub async fn send(&mut self, cmd: Command) {
        self.framed.send(cmd).await.expect("send command");
    }

    /// The next frame other than `_heartbeat_`; `None` on close, error or
    /// timeout.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        loop {
            match tokio::time::timeout(timeout, self.framed.next()).await {
                Ok(Some(Ok(Frame::Response(b)))) if &b[..] == b"_heartbeat_" => continue,
                Ok(Some(Ok(f))) => return Some(f),
                _ => return None,
            }
        }
    }

    /// The next frame other than `_heartbeat_`; panics on close or timeout.
    pub async fn read_frame(&mut self) -> Frame {
        self.next_frame(TIMEOUT)
            .await
            .expect("connection closed or timed out waiting for a frame")
    }

    /// Expects a response frame with exactly `payload`.
    pub async fn expect_response(&mut self, payload: &[u8]) {
        match self.read_frame().await {
            Frame::Response(b) => assert_eq!(
                String::from_utf8_lossy(&b),
                String::from_utf8_lossy(payload)
            ),
            other => panic!(
                "expected response {:?}, got {other:?}",
                String::from_utf8_lossy(payload)
            ),
        }
    }

    /// Expects an error frame with exactly `text`.
    pub async fn expect_error(&mut self, text: &str) {
        match self.read_frame().await {
            Frame::Error(b) => assert_eq!(String::from_utf8_lossy(&b), text),
            other => panic!("expected error {text:?}, got {other:?}"),
        }
    }

    /// Expects a fatal error: the frame `text`, then the server closes.
    pub async fn expect_fatal(&mut self, text: &str) {
        self.expect_error(text).await;
        self.expect_closed().await;
    }

    /// Expects the server to close the connection (no further frame)
    /// within [`TIMEOUT`].
    pub async fn expect_closed(&mut self) {
        match tokio::time::timeout(TIMEOUT, self.framed.next()).await {
            Err(_) => panic!("connection still open after {TIMEOUT:?}"),
            Ok(None) | Ok(Some(Err(_))) => {}
            Ok(Some(Ok(f))) => panic!("expected the connection to close, got {f:?}"),
        }
    }

    /// Expects a message frame.
    pub async fn expect_message(&mut self) -> Message {
        match self.read_frame().await {
            Frame::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// PUB and expect `OK`.
    pub async fn publish(&mut self, topic: &str, body: &[u8]) {
        self.send(Command::Pub {
            topic: topic.into(),
            body: Bytes::copy_from_slice(body),
        })
        .await;
        self.expect_response(b"OK").await;
    }

    /// SUB and expect `OK`, then RDY `rdy`.
    pub async fn subscribe(&mut self, topic: &str, channel: &str, rdy: u64) {
        self.send(Command::Sub {
            topic: topic.into(),
            channel: channel.into(),
        })
        .await;
        self.expect_response(b"OK").await;
        self.send(Command::Rdy(rdy)).await;
    }

    /// Sends raw bytes through the layers and flushes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let io = self.framed.get_mut();
        io.write_all(bytes).await.expect("write raw bytes");
        io.flush().await.expect("flush raw bytes");
    }
}

/// What IDENTIFY negotiated and the connection with every granted layer
/// in place.
pub struct Negotiated {
    /// The IDENTIFY response body as sent.
    pub raw: Bytes,
    /// The IDENTIFY response parsed (`Value::Null` for a plain `OK`).
    pub json: Value,
    /// The TLS session, when `tls_v1` was granted.
    pub tls: Option<TlsInfo>,
    /// The connection, ready for commands.
    pub conn: Layered,
}

/// Why [`negotiate`] stopped.
#[derive(Debug)]
pub enum NegotiateError {
    /// IDENTIFY was answered with an error frame (its text).
    Refused(String),
    /// The TLS client handshake failed.
    Handshake(String),
    /// A layer was set up but its `OK` did not arrive (closed, error
    /// frame, garbage or timeout); `stage` names the layer.
    NoOk { stage: &'static str, detail: String },
}

/// TCP + magic + [`negotiate_on`].
pub async fn negotiate(
    addr: SocketAddr,
    identify: Value,
    tls: Option<(Arc<rustls::ClientConfig>, &str)>,
) -> Result<Negotiated, NegotiateError> {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect nsqd");
    tcp.set_nodelay(true).ok();
    tcp.write_all(b"  V2").await.expect("send magic");
    negotiate_on(stream::boxed(tcp), identify, tls).await
}

/// Sends IDENTIFY with `identify` in plaintext on `io` (magic already
/// sent), reads the JSON reply in plaintext, then for every granted
/// feature, in nsqd's order: TLS handshake (with `tls` = client config and
/// server name) and `OK` inside TLS; snappy or deflate stacked on top and
/// `OK` inside it. Bytes a layer's reader had buffered beyond its last
/// frame are handed to the next layer.
pub async fn negotiate_on(
    io: BoxedIo,
    identify: Value,
    tls: Option<(Arc<rustls::ClientConfig>, &str)>,
) -> Result<Negotiated, NegotiateError> {
    let mut conn = Layered::new(io);
    let body = serde_json::to_vec(&identify).expect("identify JSON");
    conn.send(Command::Identify(body.into())).await;
    let raw = match conn.next_frame(TIMEOUT).await {
        Some(Frame::Response(b)) => b,
        Some(Frame::Error(e)) => {
            return Err(NegotiateError::Refused(
                String::from_utf8_lossy(&e).into_owned(),
            ))
        }
        other => panic!("IDENTIFY: expected a response frame, got {other:?}"),
    };
    let json: Value = if &raw[..] == b"OK" {
        Value::Null
    } else {
        serde_json::from_slice(&raw).unwrap_or_else(|e| {
            panic!(
                "IDENTIFY response is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&raw)
            )
        })
    };

    let mut tls_info = None;
    if json["tls_v1"] == true {
        let (cfg, name) = tls.expect("nsqd granted tls_v1 but the test gave no client config");
        let parts = conn.framed.into_parts();
        assert!(
            parts.read_buf.is_empty(),
            "nsqd sent bytes after the IDENTIFY response before the TLS handshake: {:?}",
            &parts.read_buf[..]
        );
        let connector = nsq_transport::TlsConnector::from(cfg);
        let upgraded = tokio::time::timeout(
            TIMEOUT,
            stream::upgrade_client_tls(parts.io, &connector, name),
        )
        .await
        .map_err(|_| NegotiateError::Handshake("timed out".into()))?
        .map_err(|e| NegotiateError::Handshake(format!("{e} ({e:?})")))?;
        conn = Layered::new(upgraded.0);
        expect_layer_ok(&mut conn, "TLS").await?;
        tls_info = Some(upgraded.1);
    }
    if json["snappy"] == true {
        let parts = conn.framed.into_parts();
        let io = stream::prepend(parts.io, parts.read_buf.to_vec());
        conn = Layered::new(stream::wrap_snappy(io));
        expect_layer_ok(&mut conn, "snappy").await?;
    } else if json["deflate"] == true {
        let level = json["deflate_level"].as_u64().expect("deflate_level") as u32;
        let parts = conn.framed.into_parts();
        let io = stream::prepend(parts.io, parts.read_buf.to_vec());
        conn = Layered::new(stream::wrap_deflate(io, level));
        expect_layer_ok(&mut conn, "deflate").await?;
    }
    Ok(Negotiated {
        raw,
        json,
        tls: tls_info,
        conn,
    })
}

async fn expect_layer_ok(conn: &mut Layered, stage: &'static str) -> Result<(), NegotiateError> {
    match tokio::time::timeout(TIMEOUT, conn.framed.next()).await {
        Ok(Some(Ok(Frame::Response(b)))) if &b[..] == b"OK" => Ok(()),
        Ok(Some(Ok(f))) => Err(NegotiateError::NoOk {
            stage,
            detail: format!("got {f:?}"),
        }),
        Ok(Some(Err(e))) => Err(NegotiateError::NoOk {
            stage,
            detail: format!("read error {e}"),
        }),
        Ok(None) => Err(NegotiateError::NoOk {
            stage,
            detail: "closed".into(),
        }),
        Err(_) => Err(NegotiateError::NoOk {
            stage,
            detail: "timed out".into(),
        }),
    }
}

/// [`negotiate`] that must succeed.
pub async fn negotiate_ok(
    addr: SocketAddr,
    identify: Value,
    tls: Option<(Arc<rustls::ClientConfig>, &str)>,
) -> Negotiated {
    match negotiate(addr, identify.clone(), tls).await {
        Ok(n) => n,
        Err(e) => panic!("IDENTIFY {identify} failed: {e:?}"),
    }
}

/// Publishes `bodies` on `producer` and receives them all on `consumer`
/// (subscribed with RDY ≥ their number), finishing each; checks bodies
/// and order-insensitive equality.
pub async fn round_trip(
    producer: &mut Layered,
    consumer: &mut Layered,
    topic: &str,
    bodies: &[Vec<u8>],
) {
    for b in bodies {
        producer.publish(topic, b).await;
    }
    let mut got = Vec::new();
    for _ in bodies {
        let m = consumer.expect_message().await;
        assert_eq!(m.attempts, 1);
        consumer.send(Command::Fin(m.id)).await;
        got.push(m.body.to_vec());
    }
    let mut want = bodies.to_vec();
    want.sort();
    got.sort();
    assert!(
        got == want,
        "received bodies differ from the published ones"
    );
}

/// A compressible body of `len` bytes with a recognisable prefix.
pub fn text_body(tag: &str, len: usize) -> Vec<u8> {
    let mut b = format!("{tag}:").into_bytes();
    while b.len() < len {
        b.extend_from_slice(b"the quick brown fox jumps over the lazy dog ");
    }
    b.truncate(len);
    b
}

/// Deterministic incompressible bytes.
pub fn random_body(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// HTTP over TLS and unix sockets
// ---------------------------------------------------------------------------

/// Sends one HTTP/1.1 request (`Connection: close`) on `io` and parses
/// the whole response; panics on failure.
pub async fn http_on<S>(io: S, host: &str, method: &str, target: &str, body: &[u8]) -> HttpResponse
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    try_http_on(io, host, method, target, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

/// Like [`http_on`], returning what went wrong instead of panicking. A TLS
/// peer closing without close_notify after a complete response is
/// tolerated.
pub async fn try_http_on<S>(
    mut io: S,
    host: &str,
    method: &str,
    target: &str,
    body: &[u8],
) -> Result<HttpResponse, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut raw = Vec::new();
    let io_result = tokio::time::timeout(TIMEOUT, async {
        io.write_all(req.as_bytes()).await?;
        io.write_all(body).await?;
        io.flush().await?;
        let mut buf = [0u8; 8192];
        loop {
            match io.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .map_err(|_| format!("no complete response within {TIMEOUT:?}"))?;
    if let Err(e) = io_result {
        if raw.is_empty() || e.kind() != std::io::ErrorKind::UnexpectedEof {
            return Err(format!("I/O error: {e}"));
        }
    }
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(format!(
            "incomplete response: {:?}",
            String::from_utf8_lossy(&raw)
        ));
    }
    Ok(parse_response(&raw))
}

/// One request over HTTPS to `addr`, verifying the server against the
/// test CA under the name `localhost`.
pub async fn https_request(
    pki: &Pki,
    addr: SocketAddr,
    method: &str,
    target: &str,
    body: &[u8],
) -> HttpResponse {
    let (tls, _) = https_connect(client_tls(pki, None), addr)
        .await
        .expect("TLS handshake with the HTTPS listener");
    http_on(tls, "localhost", method, target, body).await
}

/// One request over HTTPS with client config `cfg`; `Err` if the
/// handshake or the exchange fails.
pub async fn try_https(
    cfg: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    method: &str,
    target: &str,
) -> Result<HttpResponse, String> {
    let (tls, _) = https_connect(cfg, addr)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    try_http_on(tls, "localhost", method, target, b"").await
}

/// TLS handshake with an HTTPS listener; returns the stream and the
/// server's certificate CN.
pub async fn https_connect(
    cfg: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
) -> std::io::Result<(
    tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    Option<String>,
)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(cfg);
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
    let tls = tokio::time::timeout(TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
        })??;
    let cn = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|leaf| nsq_transport::tls::subject_common_name(leaf.as_ref()));
    Ok((tls, cn))
}

/// One request over a unix domain socket.
pub async fn unix_http_request(
    path: &Path,
    method: &str,
    target: &str,
    body: &[u8],
) -> HttpResponse {
    let s = tokio::net::UnixStream::connect(path)
        .await
        .unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    http_on(s, "localhost", method, target, body).await
}

// ---------------------------------------------------------------------------
// /stats
// ---------------------------------------------------------------------------

/// `/stats?format=json` over plain HTTP.
pub async fn stats(http: SocketAddr) -> Value {
    let r = nsq_test_support::http_request(http, "GET", "/stats?format=json", b"").await;
    assert_eq!(r.status, 200, "/stats: {}", r.text());
    r.json()
}

/// Every client in a `/stats` document: producers and channel consumers.
pub fn all_clients(stats: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = stats["producers"].as_array().cloned().unwrap_or_default();
    for t in stats["topics"].as_array().into_iter().flatten() {
        for c in t["channels"].as_array().into_iter().flatten() {
            out.extend(c["clients"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

/// The first client whose `client_id` is `id`.
pub fn client_by_id(stats: &Value, id: &str) -> Option<Value> {
    all_clients(stats)
        .into_iter()
        .find(|c| c["client_id"] == id)
}

/// Polls `/stats` (plain HTTP) until a client with `client_id` `id`
/// appears; panics after [`TIMEOUT`].
pub async fn wait_client(http: SocketAddr, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let s = stats(http).await;
        if let Some(c) = client_by_id(&s, id) {
            return c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "client {id:?} never appeared in /stats: {s}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------------------
// pynsq
// ---------------------------------------------------------------------------

/// The Python interpreter with pynsq (target/pyenv or `NSQ_TEST_PYTHON`).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("NSQ_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = root.join("target/pyenv/bin/python");
    assert!(
        p.exists(),
        "{} missing: run `scripts/test` (it installs pynsq 0.9.1, tornado 6.0.4 and python-snappy there)",
        p.display()
    );
    p
}

/// Runs `python/pynsq_features.py` (blocking; call from a plain `#[test]`)
/// and returns its JSON report after checking that all `count` messages
/// went through without errors.
pub fn run_pynsq_features(
    tcp: SocketAddr,
    http: SocketAddr,
    topic: &str,
    mode: &str,
    ca: Option<&Path>,
    count: usize,
) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/pynsq_features.py");
    let mut cmd = std::process::Command::new(python());
    cmd.arg(script)
        .arg(tcp.to_string())
        .arg(topic)
        .arg(mode)
        .arg(format!("--http={http}"))
        .arg(format!("--count={count}"));
    if let Some(ca) = ca {
        cmd.arg(format!("--ca={}", ca.display()));
    }
    let out = cmd.output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pynsq script ({mode}) failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let line = stdout.lines().last().expect("a JSON line");
    let v: Value = serde_json::from_str(line).expect("JSON result");
    assert_eq!(v["published"], count, "{v}\n{stderr}");
    assert_eq!(v["errors"], serde_json::json!([]), "{stderr}");
    let mut received: Vec<String> = v["received"]
        .as_array()
        .expect("received list")
        .iter()
        .map(|b| b.as_str().unwrap_or_default().to_string())
        .collect();
    received.sort();
    let mut want: Vec<String> = (0..count)
        .map(|i| format!("msg-{i} {}", "x".repeat(2000)))
        .collect();
    want.sort();
    assert!(
        received == want,
        "pynsq received other bodies than it published"
    );
    v
}

/// Checks a pynsq report: both connections negotiated exactly the
/// features of `mode` (in the IDENTIFY responses, in pynsq's connection
/// objects, and in nsqd's `/stats` taken while they were connected).
pub fn check_pynsq_features(v: &Value, mode: &str) {
    let tls = mode.split('+').any(|f| f == "tls");
    let snappy = mode.split('+').any(|f| f == "snappy");
    let deflate = mode.split('+').any(|f| f == "deflate");
    let identify = v["identify"].as_array().expect("identify list");
    assert!(
        identify.len() >= 2,
        "writer and reader IDENTIFY responses: {v}"
    );
    for r in identify {
        assert_eq!(r["tls_v1"], tls, "IDENTIFY response {r}");
        assert_eq!(r["snappy"], snappy, "IDENTIFY response {r}");
        assert_eq!(r["deflate"], deflate, "IDENTIFY response {r}");
    }
    let conns = v["conns"].as_array().expect("conns list");
    assert_eq!(conns.len(), 2, "{v}");
    let socket = if snappy {
        "SnappySocket"
    } else if deflate {
        "DeflateSocket"
    } else if tls {
        "SSLSocket"
    } else {
        "socket"
    };
    for c in conns {
        assert_eq!(c["tls"], tls, "{c}");
        assert_eq!(c["socket"], socket, "{c}");
    }
    let stats = &v["stats"];
    let pynsq: Vec<Value> = all_clients(stats)
        .into_iter()
        .filter(|c| c["user_agent"].as_str().unwrap_or("").starts_with("pynsq/"))
        .collect();
    assert_eq!(pynsq.len(), 2, "pynsq clients in /stats: {stats}");
    for c in pynsq {
        assert_eq!(c["tls"], tls, "{c}");
        assert_eq!(c["snappy"], snappy, "{c}");
        assert_eq!(c["deflate"], deflate, "{c}");
        if tls {
            let version = c["tls_version"].as_str().unwrap_or("");
            assert!(version == "TLS1.2" || version == "TLS1.3", "{c}");
        } else {
            assert_eq!(c["tls_version"], "", "{c}");
        }
    }
}

// ---------------------------------------------------------------------------
// tokio-nsq (rustls 0.19)
// ---------------------------------------------------------------------------

/// A rustls 0.19 client config (the version tokio-nsq uses) trusting only
/// the test CA.
pub fn tokio_nsq_tls_config(pki: &Pki) -> Arc<rustls019::ClientConfig> {
    let mut cfg = rustls019::ClientConfig::new();
    let pem = std::fs::read(&pki.ca_cert).expect("read CA");
    let (added, _) = cfg
        .root_store
        .add_pem_file(&mut std::io::Cursor::new(pem))
        .expect("parse CA PEM");
    assert_eq!(added, 1, "CA added to the rustls 0.19 root store");
    Arc::new(cfg)
}

// ---------------------------------------------------------------------------
// Byte-level helpers
// ---------------------------------------------------------------------------

/// Raw TCP: magic + IDENTIFY `json`, then reads exactly the response frame
/// (nothing beyond it) and returns the socket and the frame's payload.
/// Panics unless the frame is a response.
pub async fn raw_identify(addr: SocketAddr, json: &Value) -> (tokio::net::TcpStream, Vec<u8>) {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect nsqd");
    tcp.set_nodelay(true).ok();
    let body = serde_json::to_vec(json).expect("json");
    let mut out = b"  V2IDENTIFY\n".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    tcp.write_all(&out).await.expect("send IDENTIFY");
    let (frame_type, payload) = tokio::time::timeout(TIMEOUT, read_raw_frame(&mut tcp))
        .await
        .expect("IDENTIFY response in time")
        .expect("IDENTIFY response");
    assert_eq!(
        frame_type,
        0,
        "IDENTIFY answered with frame type {frame_type}: {:?}",
        String::from_utf8_lossy(&payload)
    );
    (tcp, payload)
}

/// Reads one `[size][type][data]` frame byte-exactly.
pub async fn read_raw_frame<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<(i32, Vec<u8>)> {
    let mut size = [0u8; 4];
    r.read_exact(&mut size).await?;
    let size = u32::from_be_bytes(size) as usize;
    assert!(size >= 4, "frame size {size}");
    let mut rest = vec![0u8; size];
    r.read_exact(&mut rest).await?;
    let frame_type = i32::from_be_bytes(rest[..4].try_into().unwrap());
    Ok((frame_type, rest[4..].to_vec()))
}

/// Reads until the peer closes (EOF or error); returns the bytes and how
/// long the close took. Panics if the connection is still open after
/// `timeout`.
pub async fn read_until_closed<R: AsyncRead + Unpin>(
    r: &mut R,
    timeout: Duration,
) -> (Vec<u8>, Duration) {
    let start = tokio::time::Instant::now();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, r.read(&mut buf)).await {
            Err(_) => panic!(
                "connection still open after {timeout:?}; received {:?}",
                String::from_utf8_lossy(&data)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return (data, start.elapsed()),
            Ok(Ok(n)) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
