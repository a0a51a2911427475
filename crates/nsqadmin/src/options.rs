//! nsqadmin's settings, read from the parsed flags (flags.md §9) and checked
//! the way v1.3.0 checks them at start-up (nsqadmin.md §1).

use crate::cidr::Cidr;
use nsq_flags::{FlagKind, FlagSet, Parsed, Value};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why the options cannot be used; the text follows
/// `failed to instantiate nsqadmin - ` in the fatal log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// Neither list of upstream addresses was given.
    #[error("--nsqd-http-address or --lookupd-http-address required")]
    NoUpstream,
    /// Both lists were given.
    #[error("use --nsqd-http-address or --lookupd-http-address not both")]
    BothUpstreams,
    /// A client certificate without its key.
    #[error("--http-client-tls-key must be specified with --http-client-tls-cert")]
    CertWithoutKey,
    /// A client key without its certificate.
    #[error("--http-client-tls-cert must be specified with --http-client-tls-key")]
    KeyWithoutCert,
    /// An upstream address that is not `host:port` or does not resolve.
    #[error("failed to resolve {flag} ({address}) - {reason}")]
    Unresolvable {
        /// The flag the address came from.
        flag: &'static str,
        /// The address as given.
        address: String,
        /// The resolver's answer.
        reason: String,
    },
    /// `--graphite-url` is not a URL while `--proxy-graphite` needs one.
    #[error("failed to parse --graphite-url ({url}) - {reason}")]
    BadGraphiteUrl {
        /// The value given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--allow-config-from-cidr` is not `address/prefix`.
    #[error("failed to parse --allow-config-from-cidr ({cidr}) - {reason}")]
    BadCidr {
        /// The value given.
        cidr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--http-client-tls-*` file cannot be loaded (unreadable, not PEM,
    /// certificate and key not a pair).
    #[error("failed to load the --http-client-tls-* settings - {0}")]
    Tls(String),
    /// `--log-level` is not one of the five words.
    #[error("{0}")]
    BadLogLevel(String),
}

/// Every setting nsqadmin uses, with the values of the command line and
/// config file already resolved.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--http-address`: where the web UI and API listen.
    pub http_address: String,
    /// `--base-path`, normalised: starts with `/`, no trailing `/` (`/` alone
    /// stays `/`).
    pub base_path: String,
    /// `--dev-static-dir`: serve UI assets from this directory instead of
    /// the copy embedded in the binary.
    pub dev_static_dir: String,
    /// `--graphite-url` (empty: graphs come from nsqadmin's own samples).
    pub graphite_url: String,
    /// `--proxy-graphite`: serve `<base>/render` from the Graphite URL.
    pub proxy_graphite: bool,
    /// `--statsd-counter-format`.
    pub statsd_counter_format: String,
    /// `--statsd-gauge-format`.
    pub statsd_gauge_format: String,
    /// `--statsd-prefix` (unresolved, e.g. `nsq.%s`).
    pub statsd_prefix: String,
    /// `--statsd-interval`.
    pub statsd_interval: Duration,
    /// `--lookupd-http-address` (lookupd mode when non-empty).
    pub lookupd_http_addresses: Vec<String>,
    /// `--nsqd-http-address` (nsqd mode when non-empty).
    pub nsqd_http_addresses: Vec<String>,
    /// `--http-client-connect-timeout`.
    pub connect_timeout: Duration,
    /// `--http-client-request-timeout`.
    pub request_timeout: Duration,
    /// `--http-client-tls-insecure-skip-verify`.
    pub tls_insecure_skip_verify: bool,
    /// `--http-client-tls-root-ca-file`.
    pub tls_root_ca_file: String,
    /// `--http-client-tls-cert`.
    pub tls_cert: String,
    /// `--http-client-tls-key`.
    pub tls_key: String,
    /// `--allow-config-from-cidr` (`None`: `/config` is open to everyone).
    pub allow_config_from: Option<Cidr>,
    /// `--notification-http-endpoint` (empty: no notifications).
    pub notification_http_endpoint: String,
    /// `--acl-http-header`: the header naming the authenticated user.
    pub acl_http_header: String,
    /// `--admin-user` (empty: every request is admin).
    pub admin_users: Vec<String>,
    /// `--log-level` as NSQ's number (1 debug .. 5 fatal).
    pub log_level: i64,
    /// Every option by config-file key, as `GET /config/<key>` reports it.
    pub config_values: BTreeMap<String, Json>,
}

impl Options {
    /// Reads and checks the options; `set` is the nsqadmin flag table the
    /// values were parsed with (it names the config keys).
    pub fn from_flags(set: &FlagSet, flags: &Parsed) -> Result<Options, OptionsError> {
        let lookupds = flags.string_list("lookupd-http-address").to_vec();
        let nsqds = flags.string_list("nsqd-http-address").to_vec();
        let log_level = level_number(flags.log_level("log-level"))
            .ok_or_else(|| OptionsError::BadLogLevel(flags.log_level("log-level").to_string()))?;
        let opts = Options {
            http_address: flags.string("http-address").to_string(),
            base_path: normalize_base_path(flags.string("base-path")),
            dev_static_dir: flags.string("dev-static-dir").to_string(),
            graphite_url: flags.string("graphite-url").to_string(),
            proxy_graphite: flags.bool("proxy-graphite"),
            statsd_counter_format: flags.string("statsd-counter-format").to_string(),
            statsd_gauge_format: flags.string("statsd-gauge-format").to_string(),
            statsd_prefix: flags.string("statsd-prefix").to_string(),
            statsd_interval: flags.duration("statsd-interval"),
            lookupd_http_addresses: lookupds,
            nsqd_http_addresses: nsqds,
            connect_timeout: flags.duration("http-client-connect-timeout"),
            request_timeout: flags.duration("http-client-request-timeout"),
            tls_insecure_skip_verify: flags.bool("http-client-tls-insecure-skip-verify"),
            tls_root_ca_file: flags.string("http-client-tls-root-ca-file").to_string(),
            tls_cert: flags.string("http-client-tls-cert").to_string(),
            tls_key: flags.string("http-client-tls-key").to_string(),
            allow_config_from: parse_cidr_flag(flags.string("allow-config-from-cidr"))?,
            notification_http_endpoint: flags.string("notification-http-endpoint").to_string(),
            acl_http_header: flags.string("acl-http-header").to_string(),
            admin_users: flags.string_list("admin-user").to_vec(),
            log_level,
            config_values: config_values(set, flags),
        };
        opts.validate()?;
        Ok(opts)
    }

    /// The start-up checks of v1.3.0, in its order.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if self.nsqd_http_addresses.is_empty() && self.lookupd_http_addresses.is_empty() {
            return Err(OptionsError::NoUpstream);
        }
        if !self.nsqd_http_addresses.is_empty() && !self.lookupd_http_addresses.is_empty() {
            return Err(OptionsError::BothUpstreams);
        }
        if !self.tls_cert.is_empty() && self.tls_key.is_empty() {
            return Err(OptionsError::CertWithoutKey);
        }
        if self.tls_cert.is_empty() && !self.tls_key.is_empty() {
            return Err(OptionsError::KeyWithoutCert);
        }
        self.tls_client_config()
            .map_err(|e| OptionsError::Tls(e.to_string()))?;
        for address in &self.lookupd_http_addresses {
            check_resolves("--lookupd-http-address", address)?;
        }
        for address in &self.nsqd_http_addresses {
            check_resolves("--nsqd-http-address", address)?;
        }
        if self.proxy_graphite {
            if let Err(e) = url::Url::parse(&self.graphite_url) {
                return Err(OptionsError::BadGraphiteUrl {
                    url: self.graphite_url.clone(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The TLS settings of the upstream client: `--http-client-tls-root-ca-file`
    /// (else the system trust store), `--http-client-tls-insecure-skip-verify`
    /// and the client certificate `--http-client-tls-cert`/`-key`.
    pub fn tls_client_config(
        &self,
    ) -> Result<Arc<nsq_transport::rustls::ClientConfig>, nsq_transport::TlsError> {
        let root_ca =
            (!self.tls_root_ca_file.is_empty()).then(|| Path::new(&self.tls_root_ca_file));
        let client_cert = (!self.tls_cert.is_empty() && !self.tls_key.is_empty())
            .then(|| (Path::new(&self.tls_cert), Path::new(&self.tls_key)));
        nsq_transport::tls::client_config(root_ca, self.tls_insecure_skip_verify, client_cert)
    }

    /// The path prefix of every route: `""` for the base path `/`, else the
    /// base path itself (e.g. `/admin`).
    pub fn route_prefix(&self) -> &str {
        if self.base_path == "/" {
            ""
        } else {
            &self.base_path
        }
    }
}

/// `--base-path` as v1.3.0 normalises it: leading `/` added, trailing `/`
/// removed, `""` and `/` both mean the root.
pub fn normalize_base_path(raw: &str) -> String {
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

/// NSQ's log level number (1 debug .. 5 fatal) for a level word.
pub fn level_number(word: &str) -> Option<i64> {
    match word.to_ascii_lowercase().as_str() {
        "debug" => Some(1),
        "info" => Some(2),
        "warn" => Some(3),
        "error" => Some(4),
        "fatal" => Some(5),
        _ => None,
    }
}

fn parse_cidr_flag(text: &str) -> Result<Option<Cidr>, OptionsError> {
    if text.is_empty() {
        return Ok(None);
    }
    Cidr::parse(text)
        .map(Some)
        .map_err(|reason| OptionsError::BadCidr {
            cidr: text.to_string(),
            reason: reason.to_string(),
        })
}

fn check_resolves(flag: &'static str, address: &str) -> Result<(), OptionsError> {
    let failure = |reason: String| OptionsError::Unresolvable {
        flag,
        address: address.to_string(),
        reason,
    };
    match address.to_socket_addrs() {
        Ok(mut addrs) => match addrs.next() {
            Some(_) => Ok(()),
            None => Err(failure("no addresses found".to_string())),
        },
        Err(e) => Err(failure(e.to_string())),
    }
}

/// Every flag that has a config key, with its value in `/config`'s JSON
/// encoding (durations in nanoseconds, the log level as its number).
fn config_values(set: &FlagSet, flags: &Parsed) -> BTreeMap<String, Json> {
    let mut out = BTreeMap::new();
    for spec in &set.specs {
        let Some(key) = spec.config_name() else {
            continue;
        };
        let Some(value) = flags.value(spec.name) else {
            continue;
        };
        let json = match (spec.kind, value) {
            (FlagKind::LogLevel, Value::Str(word)) => Json::from(level_number(word).unwrap_or(2)),
            (_, Value::Bool(b)) => Json::from(*b),
            (_, Value::Int(i)) => Json::from(*i),
            (_, Value::Str(s)) => Json::from(s.clone()),
            (_, Value::Duration(d)) => Json::from(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            // Go leaves an unset list nil, which encodes as null.
            (_, Value::StrList(list)) if list.is_empty() => Json::Null,
            (_, Value::StrList(list)) => Json::from(list.clone()),
            (_, Value::FloatList(list)) => Json::from(list.clone()),
            (_, Value::Float(f)) => Json::from(*f),
        };
        out.insert(key.into_owned(), json);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, OptionsError> {
        let set = nsq_flags::tables::nsqadmin();
        let parsed = nsq_flags::parse_args(&set, args.iter().map(|s| s.to_string()))
            .map_err(|e| OptionsError::BadLogLevel(e.stderr))?;
        Options::from_flags(&set, &parsed)
    }

    #[test]
    fn base_path_is_normalised() {
        assert_eq!(normalize_base_path(""), "/");
        assert_eq!(normalize_base_path("/"), "/");
        assert_eq!(normalize_base_path("admin/"), "/admin");
        assert_eq!(normalize_base_path("/a/b//"), "/a/b");
    }

    #[test]
    fn upstream_lists_are_exclusive_and_required() {
        assert_eq!(parse(&[]).unwrap_err(), OptionsError::NoUpstream);
        assert_eq!(
            parse(&[
                "--nsqd-http-address=127.0.0.1:4151",
                "--lookupd-http-address=127.0.0.1:4161"
            ])
            .unwrap_err(),
            OptionsError::BothUpstreams
        );
        let ok = parse(&["--lookupd-http-address=127.0.0.1:4161"]).unwrap();
        assert_eq!(ok.lookupd_http_addresses, vec!["127.0.0.1:4161"]);
        assert_eq!(ok.route_prefix(), "");
    }

    #[test]
    fn bad_values_are_reported_with_v1_3_0_texts() {
        let e = parse(&["--nsqd-http-address=nocolon"]).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("failed to resolve --nsqd-http-address (nocolon) - "));
        let e = parse(&[
            "--nsqd-http-address=127.0.0.1:4151",
            "--http-client-tls-cert=c.pem",
        ])
        .unwrap_err();
        assert_eq!(e, OptionsError::CertWithoutKey);
        let e = parse(&[
            "--nsqd-http-address=127.0.0.1:4151",
            "--allow-config-from-cidr=10.0.0.0",
        ])
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("failed to parse --allow-config-from-cidr (10.0.0.0) - "));
        let e = parse(&[
            "--nsqd-http-address=127.0.0.1:4151",
            "--proxy-graphite",
            "--graphite-url=not a url",
        ])
        .unwrap_err();
        assert!(e.to_string().starts_with("failed to parse --graphite-url"));
    }

    #[test]
    fn config_values_use_nsq_encodings() {
        let o = parse(&[
            "--lookupd-http-address=127.0.0.1:4161",
            "--base-path=admin/",
            "--log-level=debug",
        ])
        .unwrap();
        assert_eq!(o.base_path, "/admin");
        assert_eq!(o.route_prefix(), "/admin");
        assert_eq!(
            o.config_values["nsqlookupd_http_addresses"],
            serde_json::json!(["127.0.0.1:4161"])
        );
        assert_eq!(
            o.config_values["http_client_request_timeout"],
            serde_json::json!(5_000_000_000i64)
        );
        assert_eq!(o.config_values["log_level"], serde_json::json!(1));
        assert_eq!(o.config_values["admin_users"], Json::Null);
        assert!(!o.config_values.contains_key("config"));
    }
}
