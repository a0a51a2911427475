//! Extracting the subject Common Name from a DER X.509 certificate (what Go
//! exposes as `PeerCertificates[0].Subject.CommonName`, sent to the auth
//! server as `common_name`).
//!
//! A minimal DER walk: Certificate → tbsCertificate → subject Name →
//! RelativeDistinguishedNames → AttributeTypeAndValue with OID 2.5.4.3.
//! As in Go, when several CN attributes exist the last one wins.

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const TAG_EXPLICIT_0: u8 = 0xa0;
/// DER body of OID 2.5.4.3 (id-at-commonName).
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// Splits one DER TLV off `input`: `(tag, contents, rest)`.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Expects a TLV with `tag` at the start of `input`.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, contents, rest) = tlv(input)?;
    (t == tag).then_some((contents, rest))
}

/// Decodes an X.520 directory string value.
fn directory_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, IA5String, NumericString, T61String
        0x0c | 0x13 | 0x16 | 0x12 | 0x14 => Some(String::from_utf8_lossy(value).into_owned()),
        // BMPString: UTF-16BE
        0x1e => {
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        // UniversalString: UTF-32BE
        0x1c => Some(
            value
                .chunks_exact(4)
                .map(|c| {
                    char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .unwrap_or('\u{fffd}')
                })
                .collect(),
        ),
        _ => None,
    }
}

/// The subject Common Name of a DER certificate, if it has one and the
/// certificate is well formed.
pub fn subject_common_name(der: &[u8]) -> Option<String> {
    let (cert, _) = expect(der, TAG_SEQUENCE)?;
    let (tbs, _) = expect(cert, TAG_SEQUENCE)?;
    let mut rest = tbs;
    // Optional [0] EXPLICIT version.
    if let Some((tag, _, after)) = tlv(rest) {
        if tag == TAG_EXPLICIT_0 {
            rest = after;
        }
    }
    // serialNumber, signature, issuer, validity.
    for _ in 0..4 {
        let (_, _, after) = tlv(rest)?;
        rest = after;
    }
    let (mut subject, _) = expect(rest, TAG_SEQUENCE)?;
    let mut found = None;
    while !subject.is_empty() {
        let (mut rdn, after) = expect(subject, TAG_SET)?;
        subject = after;
        while !rdn.is_empty() {
            let (atv, after) = expect(rdn, TAG_SEQUENCE)?;
            rdn = after;
            let (oid, value) = expect(atv, TAG_OID)?;
            if oid == OID_COMMON_NAME {
                let (tag, contents, _) = tlv(value)?;
                if let Some(s) = directory_string(tag, contents) {
                    found = Some(s);
                }
            }
        }
    }
    found
}
