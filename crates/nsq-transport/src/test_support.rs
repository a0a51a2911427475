//! Helpers shared by the unit tests.

/// Deterministic incompressible bytes (xorshift64).
pub(crate) fn pseudo_random(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// PEM files of a throwaway PKI generated for one test.
pub(crate) struct TestPki {
    /// Keeps the files alive.
    pub dir: tempfile::TempDir,
    pub ca_cert: std::path::PathBuf,
    pub server_cert: std::path::PathBuf,
    pub server_key: std::path::PathBuf,
    /// Signed by the CA, CN `client.test`.
    pub client_cert: std::path::PathBuf,
    pub client_key: std::path::PathBuf,
    /// Self-signed, CN `rogue.test` (not trusted by the CA).
    pub rogue_cert: std::path::PathBuf,
    pub rogue_key: std::path::PathBuf,
}

fn leaf_params(cn: &str, sans: &[&str]) -> rcgen::CertificateParams {
    let mut p =
        rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid SANs");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "nsq tests");
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p
}

/// Generates a CA, a server certificate for `localhost`/`127.0.0.1`, a
/// client certificate signed by the CA and a self-signed rogue client.
pub(crate) fn test_pki() -> TestPki {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, contents: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("write pem");
        path
    };

    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = leaf_params("nsq test CA", &[]);
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");

    let server_key = rcgen::KeyPair::generate().expect("server key");
    let server = leaf_params("nsqd.test", &["localhost", "127.0.0.1"])
        .signed_by(&server_key, &ca, &ca_key)
        .expect("server cert");

    let client_key = rcgen::KeyPair::generate().expect("client key");
    let client = leaf_params("client.test", &["client.test"])
        .signed_by(&client_key, &ca, &ca_key)
        .expect("client cert");

    let rogue_key = rcgen::KeyPair::generate().expect("rogue key");
    let rogue = leaf_params("rogue.test", &["rogue.test"])
        .self_signed(&rogue_key)
        .expect("rogue cert");

    TestPki {
        ca_cert: write("ca.pem", ca.pem()),
        server_cert: write("server.pem", server.pem()),
        server_key: write("server.key", server_key.serialize_pem()),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
        rogue_cert: write("rogue.pem", rogue.pem()),
        rogue_key: write("rogue.key", rogue_key.serialize_pem()),
        dir,
    }
}
