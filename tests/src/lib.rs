//! Integration tests live in this package's `tests/` directory.
