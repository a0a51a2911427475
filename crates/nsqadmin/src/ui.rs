//! The page shell: one HTML document for every UI route, carrying the
//! settings the browser app needs as JS globals (the same names v1.3.0
//! defines, nsqadmin.md §2.1), plus `REFRESH_INTERVAL` and `HISTORY_INTERVAL`.

use crate::acl::is_admin;
use crate::assets::INDEX_TEMPLATE;
use crate::state::AppState;
use nsq_http::HeaderMap;
use serde_json::json;

/// Seconds between automatic refreshes of a page's data.
pub const REFRESH_SECONDS: u64 = 5;

/// The shell for a request with `headers`.
pub fn shell(st: &AppState, headers: &HeaderMap) -> String {
    let o = &st.opts;
    let graphite_url = if o.proxy_graphite {
        String::new()
    } else {
        o.graphite_url.clone()
    };
    let lookupds = st.lookupds.read().clone();
    let globals = [
        ("USER_AGENT", json!("nsqadmin/v1.3.0")),
        ("VERSION", json!("1.3.0")),
        ("GRAPHITE_URL", json!(graphite_url)),
        ("GRAPH_ENABLED", json!(!o.graphite_url.is_empty())),
        ("STATSD_COUNTER_FORMAT", json!(o.statsd_counter_format)),
        ("STATSD_GAUGE_FORMAT", json!(o.statsd_gauge_format)),
        ("STATSD_INTERVAL", json!(o.statsd_interval.as_secs())),
        ("STATSD_PREFIX", json!(o.statsd_prefix)),
        ("NSQLOOKUPD", json!(lookupds)),
        (
            "IS_ADMIN",
            json!(is_admin(&o.admin_users, &o.acl_http_header, headers)),
        ),
        ("BASE_PATH", json!(o.base_path)),
        ("REFRESH_INTERVAL", json!(REFRESH_SECONDS)),
        (
            "HISTORY_INTERVAL",
            json!(crate::history::SAMPLE_INTERVAL.as_secs()),
        ),
    ];
    let mut script = String::new();
    for (name, value) in globals {
        // Go-style JSON escapes <, > and &, so values cannot close the script.
        let text = nsq_http::json::to_vec(&value)
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_else(|| "null".to_string());
        script.push_str(&format!("var {name} = {text};\n"));
    }
    INDEX_TEMPLATE
        .replace("{{GLOBALS}}", &script)
        .replace("{{STATIC}}", &format!("{}/static", st.opts.route_prefix()))
}
