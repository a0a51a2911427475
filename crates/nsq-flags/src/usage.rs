//! `--help` text in the layout of Go's `flag.PrintDefaults`.

use crate::spec::{FlagSet, FlagSpec};
use crate::value;

impl FlagSet {
    /// `Usage of <program>:` followed by every flag, sorted by name, as Go
    /// prints them: `"  -msg-timeout duration\n    \tdefault duration to wait
    /// before auto-requeing a message (default 1m0s)\n"`.
    pub fn usage(&self) -> String {
        let mut specs: Vec<&FlagSpec> = self.specs.iter().collect();
        specs.sort_by(|a, b| a.name.cmp(b.name));
        let mut out = format!("Usage of {}:\n", self.program);
        for spec in specs {
            out.push_str(&flag_usage(spec));
            out.push('\n');
        }
        out
    }
}

/// One flag's entry, without the final newline.
fn flag_usage(spec: &FlagSpec) -> String {
    let (type_name, usage) = unquote_usage(spec);
    let mut line = format!("  -{}", spec.name);
    if !type_name.is_empty() {
        line.push(' ');
        line.push_str(&type_name);
    }
    // A one-letter boolean flag keeps its usage on the same line.
    if line.len() <= 4 {
        line.push('\t');
    } else {
        line.push_str("\n    \t");
    }
    line.push_str(&usage.replace('\n', "\n    \t"));
    let default = value::default_value(spec.kind, spec.name, spec.default);
    if let Some(text) = value::help_default(spec.kind, &default) {
        line.push_str(&format!(" (default {text})"));
    }
    line
}

/// Go's `flag.UnquoteUsage`: a back-quoted word in the usage names the
/// argument (and loses its quotes); otherwise the kind's type word.
fn unquote_usage(spec: &FlagSpec) -> (String, String) {
    let usage = spec.usage;
    if let Some(start) = usage.find('`') {
        if let Some(len) = usage[start + 1..].find('`') {
            let name = &usage[start + 1..start + 1 + len];
            let unquoted = format!("{}{}{}", &usage[..start], name, &usage[start + 2 + len..]);
            return (name.to_string(), unquoted);
        }
    }
    (spec.kind.type_word().to_string(), usage.to_string())
}

#[cfg(test)]
mod tests {
    use crate::spec::{FlagKind, FlagSet, FlagSpec};

    #[test]
    fn layout_matches_go_print_defaults() {
        let set = FlagSet::new(
            "demo",
            vec![
                FlagSpec::new("msg-timeout", FlagKind::Duration, "60s", "wait"),
                FlagSpec::new("deflate", FlagKind::Bool, "true", "compress"),
                FlagSpec::new("n", FlagKind::Bool, "", "short"),
                FlagSpec::new("c", FlagKind::Int, "5", "count"),
                FlagSpec::new("log-prefix", FlagKind::String, "[demo] ", "prefix"),
                FlagSpec::new("peer", FlagKind::StringList, "", "a `host` (repeat)"),
                FlagSpec::new("log-level", FlagKind::LogLevel, "info", "level"),
                FlagSpec::new("tls-required", FlagKind::TlsRequired, "false", "tls"),
                FlagSpec::new("tls-min-version", FlagKind::TlsMinVersion, "tls1.0", "min"),
                FlagSpec::new("e2e", FlagKind::FloatList, "", "pcts"),
                FlagSpec::new("lines", FlagKind::String, "", "one\ntwo"),
            ],
        );
        let expected = concat!(
            "Usage of demo:\n",
            "  -c int\n    \tcount (default 5)\n",
            "  -deflate\n    \tcompress (default true)\n",
            "  -e2e value\n    \tpcts\n",
            "  -lines string\n    \tone\n    \ttwo\n",
            "  -log-level value\n    \tlevel (default INFO)\n",
            "  -log-prefix string\n    \tprefix (default \"[demo] \")\n",
            "  -msg-timeout duration\n    \twait (default 1m0s)\n",
            "  -n\tshort\n",
            "  -peer host\n    \ta host (repeat)\n",
            "  -tls-min-version value\n    \tmin (default tls1.0)\n",
            "  -tls-required\n    \ttls\n",
        );
        assert_eq!(set.usage(), expected);
    }
}
