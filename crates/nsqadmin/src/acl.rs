//! Who may change the cluster (nsqadmin.md §3).
//!
//! With no `--admin-user`, everyone is admin. Otherwise a request is admin
//! when the header named by `--acl-http-header` exactly equals one of the
//! admin users. nsqadmin authenticates nobody itself: a reverse proxy in
//! front of it is expected to set that header.

use nsq_http::HeaderMap;

/// Whether a request with `headers` may perform admin actions.
pub fn is_admin(admin_users: &[String], acl_header: &str, headers: &HeaderMap) -> bool {
    if admin_users.is_empty() {
        return true;
    }
    let Some(user) = headers.get(acl_header).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    admin_users.iter().any(|u| u == user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn everyone_is_admin_without_admin_users() {
        assert!(is_admin(&[], "X-Forwarded-User", &headers(&[])));
    }

    #[test]
    fn header_must_match_exactly() {
        let admins = vec!["alice".to_string()];
        let h = "X-Forwarded-User";
        assert!(is_admin(
            &admins,
            h,
            &headers(&[("x-forwarded-user", "alice")])
        ));
        assert!(!is_admin(
            &admins,
            h,
            &headers(&[("x-forwarded-user", "Alice")])
        ));
        assert!(!is_admin(&admins, h, &headers(&[("x-other", "alice")])));
        assert!(!is_admin(&admins, h, &headers(&[])));
    }
}
