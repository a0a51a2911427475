//! `/mpub` bodies (`nsqd::http_body::parse_mpub_body`): newline-separated
//! and binary (`[u32 count]([u32 size][bytes])*`), with nsqd's default
//! limits or small ones.
//!
//! Input: `[flags][body]`. flags bit 0: binary; bit 1: small limits
//! (max body 512, max message 32).
//!
//! Checks: no panic; the messages are non-empty slices of the body, each
//! within the message limit, in order; a binary body holds the count and
//! sizes it claims.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nsq_fuzz::Input;
use nsqd::http_body::{parse_mpub_body, MpubFormat};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let body = Bytes::copy_from_slice(input.rest());
    let format = if flags & 1 != 0 {
        MpubFormat::Binary
    } else {
        MpubFormat::Lines
    };
    let (max_body, max_msg) = if flags & 2 != 0 {
        (512, 32)
    } else {
        (5 * 1024 * 1024, 1024 * 1024)
    };
    if body.len() as u64 > max_body {
        return; // the handler refuses it before parsing
    }
    let Ok(messages) = parse_mpub_body(body.clone(), format, max_body, max_msg) else {
        return;
    };
    let mut used = 0usize;
    for m in &messages {
        assert!(!m.is_empty(), "empty message");
        assert!(m.len() as u64 <= max_msg, "message over the limit");
        used += m.len();
    }
    match format {
        MpubFormat::Lines => {
            let joined: Vec<u8> = body.split(|b| *b == b'\n').flatten().copied().collect();
            let got: Vec<u8> = messages.iter().flat_map(|m| m.iter().copied()).collect();
            assert_eq!(joined, got, "lines lost or changed bytes");
        }
        MpubFormat::Binary => {
            let count = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            assert_eq!(count as usize, messages.len());
            assert!(4 + 4 * messages.len() + used <= body.len());
        }
    }
});
