//! Output file names (formats.md §7): the `--filename-format` tokens
//! `<TOPIC>`, `<HOST>`, `<PID>`, `<DATETIME>`, `<REV>`, and the strftime
//! subset of `--datetime-format`.

use time::{OffsetDateTime, UtcOffset};

/// A filename format with `<TOPIC>`, `<HOST>` and `<PID>` already filled in;
/// `<DATETIME>` and `<REV>` are filled per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    template: String,
    datetime_format: String,
    offset: UtcOffset,
    needs_rev: bool,
}

impl NameTemplate {
    /// Builds the template for `topic`. `needs_rev` is true when gzip,
    /// rotation or a distinct work dir is used (then `<REV>` is numbered).
    pub fn new(
        format: &str,
        topic: &str,
        host: &str,
        datetime_format: &str,
        offset: UtcOffset,
        needs_rev: bool,
    ) -> NameTemplate {
        let template = format
            .replace("<TOPIC>", topic)
            .replace("<HOST>", host)
            .replace("<PID>", &std::process::id().to_string());
        NameTemplate {
            template,
            datetime_format: datetime_format.to_string(),
            offset,
            needs_rev,
        }
    }

    /// The name for `now` with `<REV>` left in place (compares equal while
    /// the file should not rotate because of the clock).
    pub fn base(&self, now: OffsetDateTime) -> String {
        let local = now.to_offset(self.offset);
        self.template
            .replace("<DATETIME>", &strftime(&self.datetime_format, local))
    }

    /// `base` with `<REV>` numbered `rev` (or removed when not needed).
    pub fn with_rev(&self, base: &str, rev: u32) -> String {
        let text = if self.needs_rev {
            format!("-{rev:06}")
        } else {
            String::new()
        };
        base.replace("<REV>", &text)
    }

    /// Whether `<REV>` is numbered.
    pub fn needs_rev(&self) -> bool {
        self.needs_rev
    }
}

/// The `<HOST>` value: the short hostname, or `--host-identifier` with
/// `<SHORT_HOST>` and `<HOSTNAME>` replaced.
pub fn host_identifier(identifier: &str, hostname: &str) -> String {
    let short = hostname.split('.').next().unwrap_or_default();
    if identifier.is_empty() {
        short.to_string()
    } else {
        identifier
            .replace("<SHORT_HOST>", short)
            .replace("<HOSTNAME>", hostname)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Formats `t` with the strftime codes `%B %b %m %A %a %d %H %I %M %S %Y %y
/// %p %Z %z %%`; other `%x` sequences are copied unchanged.
pub fn strftime(format: &str, t: OffsetDateTime) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(code) = chars.next() else {
            out.push('%');
            break;
        };
        let month = usize::from(u8::from(t.month())) - 1;
        let weekday = usize::from(t.weekday().number_days_from_monday());
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        match code {
            'B' => out.push_str(MONTHS[month]),
            'b' => out.push_str(&MONTHS[month][..3]),
            'm' => out.push_str(&format!("{:02}", month + 1)),
            'A' => out.push_str(DAYS[weekday]),
            'a' => out.push_str(&DAYS[weekday][..3]),
            'd' => out.push_str(&format!("{:02}", t.day())),
            'H' => out.push_str(&format!("{:02}", t.hour())),
            'I' => out.push_str(&format!("{hour12:02}")),
            'M' => out.push_str(&format!("{:02}", t.minute())),
            'S' => out.push_str(&format!("{:02}", t.second())),
            'Y' => out.push_str(&format!("{:04}", t.year())),
            'y' => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
            'p' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
            'Z' => out.push_str(&zone_name(t.offset())),
            'z' => out.push_str(&offset_text(t.offset())),
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

fn offset_text(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if o.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// Zone abbreviations are not known without a zone database: `UTC` for a
/// zero offset, else the numeric offset.
fn zone_name(o: UtcOffset) -> String {
    if o.is_utc() {
        "UTC".to_string()
    } else {
        offset_text(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn strftime_codes() {
        let t = datetime!(2026-03-07 15:04:05 UTC);
        assert_eq!(strftime("%Y-%m-%d_%H", t), "2026-03-07_15");
        assert_eq!(
            strftime("%B %b %A %a %I %p %M %S %y %Z %z %% %q", t),
            "March Mar Saturday Sat 03 PM 04 05 26 UTC +0000 % %q"
        );
        let t = datetime!(2026-03-07 00:30:00 -05:30);
        assert_eq!(strftime("%I%p %z", t), "12AM -0530");
    }

    #[test]
    fn templates_fill_tokens_and_revisions() {
        let t = datetime!(2026-03-07 15:04:05 UTC);
        let tpl = NameTemplate::new(
            "<TOPIC>.<HOST><REV>.<DATETIME>.log",
            "top",
            "box",
            "%Y-%m-%d_%H",
            UtcOffset::UTC,
            true,
        );
        let base = tpl.base(t);
        assert_eq!(base, "top.box<REV>.2026-03-07_15.log");
        assert_eq!(tpl.with_rev(&base, 0), "top.box-000000.2026-03-07_15.log");
        assert_eq!(tpl.with_rev(&base, 12), "top.box-000012.2026-03-07_15.log");
        let plain = NameTemplate::new("<TOPIC>-<PID><REV>", "t", "h", "", UtcOffset::UTC, false);
        let base = plain.base(t);
        assert_eq!(
            plain.with_rev(&base, 3),
            format!("t-{}", std::process::id())
        );
    }

    #[test]
    fn host_identifiers() {
        assert_eq!(host_identifier("", "box.example.com"), "box");
        assert_eq!(
            host_identifier("<SHORT_HOST>-<HOSTNAME>", "box.example.com"),
            "box-box.example.com"
        );
        assert_eq!(host_identifier("fixed", "box"), "fixed");
    }
}
