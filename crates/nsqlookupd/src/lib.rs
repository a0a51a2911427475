//! nsqlookupd as a library.
