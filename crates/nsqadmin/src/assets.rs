//! The UI files, embedded in the binary at build time (no network and no
//! front-end build needed to run), or read from `--dev-static-dir`.

use std::borrow::Cow;
use std::path::PathBuf;

/// The page shell template (see [`crate::ui`]).
pub const INDEX_TEMPLATE: &str = include_str!("../assets/index.html");

/// Embedded static files by name.
const EMBEDDED: &[(&str, &[u8])] = &[
    ("app.js", include_bytes!("../assets/app.js")),
    ("app.css", include_bytes!("../assets/app.css")),
    ("favicon.svg", include_bytes!("../assets/favicon.svg")),
];

/// Where static files come from.
#[derive(Debug, Clone)]
pub struct Assets {
    dev_dir: Option<PathBuf>,
}

impl Assets {
    /// Embedded files, or files from `dev_dir` when it is non-empty.
    pub fn new(dev_dir: &str) -> Assets {
        Assets {
            dev_dir: (!dev_dir.is_empty()).then(|| PathBuf::from(dev_dir)),
        }
    }

    /// The file called `name` (a single path segment) and its content type.
    pub fn get(&self, name: &str) -> Option<(Cow<'static, [u8]>, &'static str)> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return None;
        }
        let body = match &self.dev_dir {
            Some(dir) => Cow::Owned(std::fs::read(dir.join(name)).ok()?),
            None => Cow::Borrowed(EMBEDDED.iter().find(|(n, _)| *n == name)?.1),
        };
        Some((body, content_type(name)))
    }
}

/// Content type by file extension, with v1.3.0's fallbacks for fonts and maps.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("svg") => "image/svg+xml",
        Some("map") | Some("json") => "application/json",
        Some("woff") => "application/font-woff",
        Some("woff2") => "application/font-woff2",
        Some("ttf") => "application/font-sfnt",
        Some("eot") => "application/vnd.ms-fontobject",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_are_found_with_their_types() {
        let a = Assets::new("");
        let (body, ct) = a.get("app.js").unwrap();
        assert!(!body.is_empty());
        assert_eq!(ct, "text/javascript; charset=utf-8");
        assert_eq!(a.get("favicon.svg").unwrap().1, "image/svg+xml");
        assert!(a.get("nope.js").is_none());
        assert!(a.get("../Cargo.toml").is_none());
    }

    #[test]
    fn dev_dir_serves_from_disk() {
        let dir = std::env::temp_dir().join(format!("nsqadmin-assets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("x.woff2"), b"\x00\x01").unwrap();
        let a = Assets::new(dir.to_str().unwrap());
        let (body, ct) = a.get("x.woff2").unwrap();
        assert_eq!(
            (&body[..], ct),
            (&b"\x00\x01"[..], "application/font-woff2")
        );
        assert!(a.get("app.js").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
