//! The Prometheus text exposition format 0.0.4, as the three daemons'
//! `/metrics` routes write it.
//!
//! Build one [`Family`] per metric, [`Family::add`] its samples, then
//! [`render`] them all: each family with samples gets one `# HELP` and one
//! `# TYPE` line followed by its samples; families without samples are left
//! out. Label values are escaped with [`escape_label`].
//!
//! ```
//! use nsq_http::prometheus::{render, Family, Kind};
//!
//! let mut depth = Family::new("nsq_topic_depth", Kind::Gauge, "Messages waiting.");
//! depth.add(&[("topic", "t")], 3);
//! let text = render(&[depth]);
//! let lines: Vec<&str> = text.lines().collect();
//! assert_eq!(lines[0], "# HELP nsq_topic_depth Messages waiting.");
//! assert_eq!(lines[1], "# TYPE nsq_topic_depth gauge");
//! assert_eq!(lines[2], r#"nsq_topic_depth{topic="t"} 3"#);
//! ```

use std::fmt::{Display, Write as _};

/// The content type of the text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A cumulative count (its name should end in `_total`).
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// One metric family: name, help text, type and samples.
#[derive(Debug, Clone)]
pub struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(String, String)>,
}

impl Family {
    /// A family without samples yet.
    pub fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a sample with `labels` (in this order; values are escaped).
    pub fn add(&mut self, labels: &[(&str, &str)], value: impl Display) {
        self.samples.push((label_set(labels), value.to_string()));
    }
}

/// Escapes a label value for the text format (`\` → `\\`, `"` → `\"`,
/// newline → `\n`).
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `{k="v",...}`, or nothing without labels.
fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Renders `families` in order, skipping those without samples.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families.iter().filter(|f| !f.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for (labels, value) in &f.samples {
            let _ = writeln!(out, "{}{labels} {value}", f.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(escape_label("plain"), "plain");
    }

    #[test]
    fn families_render_in_order_and_empty_ones_are_skipped() {
        let mut up = Family::new("x_up", Kind::Gauge, "Up.");
        up.add(&[], 1);
        let empty = Family::new("x_none", Kind::Gauge, "Nothing.");
        let mut total = Family::new("x_msgs_total", Kind::Counter, "Messages.");
        total.add(&[("topic", "a\"b"), ("channel", "c")], 5);
        total.add(&[("topic", "t"), ("channel", "c")], 0);
        assert_eq!(
            render(&[up, empty, total]),
            "# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1\n\
             # HELP x_msgs_total Messages.\n# TYPE x_msgs_total counter\n\
             x_msgs_total{topic=\"a\\\"b\",channel=\"c\"} 5\n\
             x_msgs_total{topic=\"t\",channel=\"c\"} 0\n"
        );
        assert_eq!(render(&[]), "");
    }
}
