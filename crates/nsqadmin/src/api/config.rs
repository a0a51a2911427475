//! `GET`/`PUT <base>/config/:opt` (nsqadmin.md §5.5), allowed only from
//! `--allow-config-from-cidr`.

use super::State;
use crate::options::level_number;
use nsq_http::{ApiError, HandlerResult, Reply, RequestContext, StatusCode};
use serde_json::Value;
use std::sync::atomic::Ordering;

/// Largest accepted `PUT` body.
pub const MAX_CONFIG_BODY: usize = 1024 * 1024;

fn check_remote(st: &State, req: &RequestContext) -> Result<(), ApiError> {
    let Some(cidr) = st.opts.allow_config_from else {
        return Ok(());
    };
    let Some(remote) = req.remote_addr else {
        return Err(ApiError::bad_request("INVALID_REMOTE_ADDR"));
    };
    if cidr.contains(remote.ip()) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN"))
    }
}

fn current(st: &State, opt: &str) -> Option<Value> {
    match opt {
        "nsqlookupd_http_addresses" => {
            let list = st.lookupds.read().clone();
            Some(if list.is_empty() {
                Value::Null
            } else {
                Value::from(list)
            })
        }
        "log_level" => Some(Value::from(st.log_level())),
        other => st.opts.config_values.get(other).cloned(),
    }
}

/// `GET /config/:opt`: the option's value as JSON.
pub async fn get(st: State, req: RequestContext) -> HandlerResult {
    check_remote(&st, &req)?;
    let opt = req.param("opt").unwrap_or_default();
    match current(&st, opt) {
        Some(v) => Reply::json(&v),
        None => Err(ApiError::bad_request("INVALID_OPTION")),
    }
}

/// `PUT /config/:opt`: change the lookupd list or the log level live.
pub async fn put(st: State, req: RequestContext) -> HandlerResult {
    check_remote(&st, &req)?;
    if req.body.is_empty() || req.body.len() > MAX_CONFIG_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_VALUE",
        ));
    }
    let opt = req.param("opt").unwrap_or_default().to_string();
    match opt.as_str() {
        "nsqlookupd_http_addresses" => {
            let list: Option<Vec<String>> = serde_json::from_slice(&req.body)
                .map_err(|_| ApiError::bad_request("INVALID_VALUE"))?;
            *st.lookupds.write() = list.unwrap_or_default();
        }
        "log_level" => {
            let word = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::bad_request("INVALID_VALUE"))?;
            let number =
                level_number(word).ok_or_else(|| ApiError::bad_request("INVALID_VALUE"))?;
            if let Ok(level) = word.parse::<nsq_app::LogLevel>() {
                nsq_app::set_level(level);
            }
            st.log_level.store(number, Ordering::Relaxed);
        }
        _ => return Err(ApiError::bad_request("INVALID_OPTION")),
    }
    match current(&st, &opt) {
        Some(v) => Reply::json(&v),
        None => Err(ApiError::bad_request("INVALID_OPTION")),
    }
}
