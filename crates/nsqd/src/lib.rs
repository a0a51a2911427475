//! nsqd as a library.
