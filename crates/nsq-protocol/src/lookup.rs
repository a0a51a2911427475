//! The nsqlookupd V1 protocol (`"  V1"` magic, unframed `[u32 size][data]` replies).
