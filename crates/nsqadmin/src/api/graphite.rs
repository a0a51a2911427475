//! Graphite support (nsqadmin.md §6.3): the server-side rate lookup
//! `GET /api/graphite` and the `/render` reverse proxy.

use super::State;
use crate::client::RawResponse;
use nsq_http::{ApiError, HandlerResult, Reply, RequestContext};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    datapoints: Vec<(Option<f64>, Option<f64>)>,
}

/// `GET /api/graphite?metric=rate&target=<t>` → `{"rate":"12.34"}` or `N/A`.
pub async fn rate(st: State, req: RequestContext) -> HandlerResult {
    let query = req.query()?;
    if query.get("metric") != Some("rate") {
        return Err(ApiError::bad_request("INVALID_ARG_METRIC"));
    }
    let Some(target) = query.get("target") else {
        return Err(ApiError::bad_request("INVALID_ARG_TARGET"));
    };
    let interval = st.opts.statsd_interval.as_secs().max(1);
    let url = format!(
        "{}/render?target={}&from=-{}sec&until=-{}sec&format=json",
        st.opts.graphite_url.trim_end_matches('/'),
        crate::cluster::escape(target),
        interval * 2,
        interval
    );
    let series: Vec<Series> = st.ci.client().get_json(&url).await.map_err(|e| {
        tracing::error!("graphite request failed - {e}");
        ApiError::internal("INTERNAL_ERROR")
    })?;
    #[derive(Serialize)]
    struct Rate {
        rate: String,
    }
    let first = series
        .first()
        .and_then(|s| s.datapoints.first())
        .and_then(|p| p.0);
    let rate = match first {
        Some(v) if v >= 0.0 => format!("{:.2}", v / interval as f64),
        _ => "N/A".to_string(),
    };
    Reply::json(&Rate { rate })
}

/// Fetches `<graphite>/render?<query>` for the `/render` proxy.
pub async fn render(st: &State, raw_query: &str) -> Result<RawResponse, String> {
    let url = format!(
        "{}/render?{raw_query}",
        st.opts.graphite_url.trim_end_matches('/')
    );
    st.ci
        .client()
        .get_raw(&url)
        .await
        .map_err(|e| e.to_string())
}
