//! The `nsqd.dat` loader (`nsqd::metadata::load`): arbitrary bytes as the
//! file, then what nsqd does with a loaded file (name checks), then a
//! save/load round trip.
//!
//! Input: the file's bytes.
//!
//! Checks: no panic; a file that loads is saved and loads back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsq_fuzz::scratch_dir;
use nsqd::metadata::{self, Metadata};

fuzz_target!(|data: &[u8]| {
    let dir = scratch_dir();
    std::fs::write(metadata::metadata_path(dir.path()), data).expect("write nsqd.dat");
    let meta: Metadata = match metadata::load(dir.path()) {
        Ok(Some(meta)) => meta,
        Ok(None) => panic!("an existing nsqd.dat read as missing"),
        Err(_) => return,
    };
    for topic in meta.topics.iter().flatten() {
        let _ = nsq_protocol::is_valid_topic_name(&topic.name);
        for channel in topic.channels.iter().flatten() {
            let _ = nsq_protocol::is_valid_channel_name(&channel.name);
        }
    }
    metadata::save(dir.path(), &meta).expect("save nsqd.dat");
    let again = metadata::load(dir.path()).expect("reload nsqd.dat");
    assert_eq!(
        again,
        Some(meta),
        "nsqd.dat does not survive a save and load"
    );
});
