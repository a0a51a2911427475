//! Topic and channel name rules: `^[.a-zA-Z0-9_-]+(#ephemeral)?$`, 1 to 64 bytes.

/// The suffix that marks a topic or channel as ephemeral.
pub const EPHEMERAL_SUFFIX: &str = "#ephemeral";

/// Longest valid name, in bytes, including any `#ephemeral` suffix.
pub const MAX_NAME_LEN: usize = 64;

fn is_valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return false;
    }
    let stem = name.strip_suffix(EPHEMERAL_SUFFIX).unwrap_or(name);
    !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `name` is a valid topic name.
pub fn is_valid_topic_name(name: &str) -> bool {
    is_valid_name(name)
}

/// Whether `name` is a valid channel name (same rule as topics).
pub fn is_valid_channel_name(name: &str) -> bool {
    is_valid_name(name)
}

/// Whether a topic or channel with this name is ephemeral (no disk queue, not persisted).
pub fn is_ephemeral(name: &str) -> bool {
    name.ends_with(EPHEMERAL_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for n in ["a", "test", "a.b_c-d", "x#ephemeral", "0123456789"] {
            assert!(is_valid_topic_name(n), "{n}");
            assert!(is_valid_channel_name(n), "{n}");
        }
        assert!(is_valid_topic_name(&"a".repeat(64)));
        assert!(is_valid_topic_name(&format!(
            "{}#ephemeral",
            "a".repeat(54)
        )));
    }

    #[test]
    fn rejects_invalid_names() {
        for n in [
            "",
            "bad!topic",
            "a b",
            "#ephemeral",
            "a#ephemeral#ephemeral",
            "a#eph",
            "ü",
        ] {
            assert!(!is_valid_topic_name(n), "{n:?}");
        }
        assert!(!is_valid_topic_name(&"a".repeat(65)));
        assert!(!is_valid_topic_name(&format!(
            "{}#ephemeral",
            "a".repeat(55)
        )));
    }

    #[test]
    fn ephemeral_suffix_detected() {
        assert!(is_ephemeral("t#ephemeral"));
        assert!(!is_ephemeral("t"));
    }
}
