//! The in-memory registration database.
//!
//! A registration is `(category, key, subkey)`: `client` (`"", ""`) for every
//! identified nsqd, `topic` (`<topic>`, `""`) and `channel` (`<topic>`,
//! `<channel>`). Each maps peer id (the nsqd connection's remote `ip:port`)
//! to a [`Producer`]: the shared [`PeerInfo`] plus this registration's
//! tombstone state.
//!
//! Registrations outlive their producers: a disconnect removes the peer from
//! every registration but leaves the (possibly empty) registrations in
//! place, as nsqlookupd v1.3.0 does. `*` as a key or subkey in a query is a
//! wildcard (as in v1.3.0, where `/lookup?topic=*` matches every topic).
//!
//! Times are Unix nanoseconds and are passed in, so the filters can be
//! tested without waiting.

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What Go prints as `UnixNano()` of the zero time (`/debug`'s
/// `tombstoned_at` of a producer that was never tombstoned).
pub const GO_ZERO_TIME_UNIX_NANO: i64 = -6_795_364_578_871_345_152;

/// The current time in Unix nanoseconds.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// The kind of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// `channel`: key = topic, subkey = channel.
    Channel,
    /// `client`: one per identified nsqd, key and subkey empty.
    Client,
    /// `topic`: key = topic, subkey empty.
    Topic,
}

impl Category {
    /// The category word used in `/debug` keys and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Channel => "channel",
            Category::Client => "client",
            Category::Topic => "topic",
        }
    }
}

/// A registration key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Registration {
    /// The category.
    pub category: Category,
    /// Topic name (empty for `client`).
    pub key: String,
    /// Channel name (empty unless `channel`).
    pub subkey: String,
}

impl Registration {
    /// The `client` registration every identified peer belongs to.
    pub fn client() -> Self {
        Registration {
            category: Category::Client,
            key: String::new(),
            subkey: String::new(),
        }
    }

    /// The registration of a topic.
    pub fn topic(topic: &str) -> Self {
        Registration {
            category: Category::Topic,
            key: topic.to_string(),
            subkey: String::new(),
        }
    }

    /// The registration of a channel.
    pub fn channel(topic: &str, channel: &str) -> Self {
        Registration {
            category: Category::Channel,
            key: topic.to_string(),
            subkey: channel.to_string(),
        }
    }

    /// Whether this registration matches a query where `*` is a wildcard.
    pub fn matches(&self, category: Category, key: &str, subkey: &str) -> bool {
        self.category == category
            && (key == "*" || self.key == key)
            && (subkey == "*" || self.subkey == subkey)
    }
}

impl fmt::Display for Registration {
    /// `category:key:subkey`, as `/debug` keys them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.category.as_str(), self.key, self.subkey)
    }
}

/// What an nsqd told us in IDENTIFY, plus when it was last heard from.
#[derive(Debug)]
pub struct PeerInfo {
    /// Peer id: the connection's remote `ip:port`.
    pub id: String,
    /// Same as `id` (reported as `remote_address`).
    pub remote_address: String,
    /// The nsqd's hostname.
    pub hostname: String,
    /// The nsqd's broadcast address.
    pub broadcast_address: String,
    /// The nsqd's TCP port.
    pub tcp_port: i64,
    /// The nsqd's HTTP port.
    pub http_port: i64,
    /// The nsqd's version.
    pub version: String,
    last_update: AtomicI64,
}

impl PeerInfo {
    /// A peer identified at `now` (Unix ns).
    pub fn new(id: String, identity: nsq_protocol::lookup::PeerIdentity, now: i64) -> PeerInfo {
        PeerInfo {
            remote_address: id.clone(),
            id,
            hostname: identity.hostname,
            broadcast_address: identity.broadcast_address,
            tcp_port: identity.tcp_port,
            http_port: identity.http_port,
            version: identity.version,
            last_update: AtomicI64::new(now),
        }
    }

    /// When the peer last identified or pinged (Unix ns).
    pub fn last_update(&self) -> i64 {
        self.last_update.load(Ordering::Relaxed)
    }

    /// Records a PING at `now`.
    pub fn touch(&self, now: i64) {
        self.last_update.store(now, Ordering::Relaxed);
    }

    /// `broadcast_address:http_port`, the node name `/topic/tombstone` takes.
    pub fn http_node(&self) -> String {
        format!("{}:{}", self.broadcast_address, self.http_port)
    }
}

/// A peer's membership in one registration.
#[derive(Debug, Clone)]
pub struct Producer {
    /// The peer (shared by all its registrations).
    pub peer: Arc<PeerInfo>,
    /// Set by `/topic/tombstone`; never cleared.
    pub tombstoned: bool,
    /// When it was tombstoned (Unix ns), if ever.
    pub tombstoned_at: Option<i64>,
}

impl Producer {
    fn new(peer: Arc<PeerInfo>) -> Self {
        Producer {
            peer,
            tombstoned: false,
            tombstoned_at: None,
        }
    }

    /// Tombstoned less than `lifetime` ago.
    pub fn is_tombstoned(&self, lifetime: Duration, now: i64) -> bool {
        self.tombstoned
            && self
                .tombstoned_at
                .is_some_and(|at| now.saturating_sub(at) < nanos(lifetime))
    }

    /// Heard from within `inactive_timeout`.
    pub fn is_active(&self, inactive_timeout: Duration, now: i64) -> bool {
        now.saturating_sub(self.peer.last_update()) <= nanos(inactive_timeout)
    }
}

/// Keeps producers that are active and not tombstoned (a zero `tombstone_lifetime`
/// hides nothing, as `/nodes` uses it).
pub fn filter_active(
    producers: Vec<Producer>,
    inactive_timeout: Duration,
    tombstone_lifetime: Duration,
    now: i64,
) -> Vec<Producer> {
    producers
        .into_iter()
        .filter(|p| p.is_active(inactive_timeout, now) && !p.is_tombstoned(tombstone_lifetime, now))
        .collect()
}

type ProducerMap = BTreeMap<String, Producer>;

/// The database. All methods take `&self`; a single lock guards the map.
#[derive(Debug, Default)]
pub struct RegistrationDb {
    map: RwLock<BTreeMap<Registration, ProducerMap>>,
}

impl RegistrationDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates the registration if it does not exist (no producers).
    pub fn add_registration(&self, reg: Registration) {
        self.map.write().entry(reg).or_default();
    }

    /// Adds `peer` to `reg` (creating it); false if it was already there
    /// (its tombstone state is then kept).
    pub fn add_producer(&self, reg: Registration, peer: &Arc<PeerInfo>) -> bool {
        let mut map = self.map.write();
        let producers = map.entry(reg).or_default();
        if producers.contains_key(&peer.id) {
            return false;
        }
        producers.insert(peer.id.clone(), Producer::new(peer.clone()));
        true
    }

    /// Removes peer `id` from `reg`. Returns whether it was there and how
    /// many producers remain (0 when the registration does not exist).
    /// The registration itself stays.
    pub fn remove_producer(&self, reg: &Registration, id: &str) -> (bool, usize) {
        let mut map = self.map.write();
        match map.get_mut(reg) {
            Some(producers) => {
                let removed = producers.remove(id).is_some();
                (removed, producers.len())
            }
            None => (false, 0),
        }
    }

    /// Deletes a registration with all its producers.
    pub fn remove_registration(&self, reg: &Registration) {
        self.map.write().remove(reg);
    }

    /// Registrations matching the query (`*` = any key / subkey).
    pub fn find_registrations(
        &self,
        category: Category,
        key: &str,
        subkey: &str,
    ) -> Vec<Registration> {
        let map = self.map.read();
        if key != "*" && subkey != "*" {
            let reg = Registration {
                category,
                key: key.to_string(),
                subkey: subkey.to_string(),
            };
            return if map.contains_key(&reg) {
                vec![reg]
            } else {
                Vec::new()
            };
        }
        map.keys()
            .filter(|r| r.matches(category, key, subkey))
            .cloned()
            .collect()
    }

    /// Producers of the matching registrations, each peer once (the entry
    /// of the first matching registration).
    pub fn find_producers(&self, category: Category, key: &str, subkey: &str) -> Vec<Producer> {
        let map = self.map.read();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (reg, producers) in map.iter() {
            if !reg.matches(category, key, subkey) {
                continue;
            }
            for (id, p) in producers {
                if seen.insert(id.clone()) {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// Every registration peer `id` belongs to.
    pub fn lookup_registrations(&self, id: &str) -> Vec<Registration> {
        self.map
            .read()
            .iter()
            .filter(|(_, producers)| producers.contains_key(id))
            .map(|(reg, _)| reg.clone())
            .collect()
    }

    /// Topic registrations peer `id` belongs to, with whether its entry in
    /// each is tombstoned (within `lifetime`).
    pub fn topics_of(&self, id: &str, lifetime: Duration, now: i64) -> Vec<(String, bool)> {
        self.map
            .read()
            .iter()
            .filter(|(reg, _)| reg.category == Category::Topic)
            .filter_map(|(reg, producers)| {
                producers
                    .get(id)
                    .map(|p| (reg.key.clone(), p.is_tombstoned(lifetime, now)))
            })
            .collect()
    }

    /// Tombstones, at `now`, every producer of the matching topic
    /// registrations whose `broadcast_address:http_port` is `node` (one
    /// entry per peer, like [`RegistrationDb::find_producers`]). Returns how
    /// many were tombstoned.
    pub fn tombstone(&self, topic: &str, node: &str, now: i64) -> usize {
        let mut map = self.map.write();
        let mut seen = std::collections::HashSet::new();
        let mut count = 0;
        for (reg, producers) in map.iter_mut() {
            if !reg.matches(Category::Topic, topic, "") {
                continue;
            }
            for (id, p) in producers.iter_mut() {
                if seen.insert(id.clone()) && p.peer.http_node() == node {
                    p.tombstoned = true;
                    p.tombstoned_at = Some(now);
                    count += 1;
                }
            }
        }
        count
    }

    /// Every registration that has producers, with them (for `/debug`).
    pub fn snapshot(&self) -> Vec<(Registration, Vec<Producer>)> {
        self.map
            .read()
            .iter()
            .filter(|(_, producers)| !producers.is_empty())
            .map(|(reg, producers)| (reg.clone(), producers.values().cloned().collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nsq_protocol::lookup::PeerIdentity;

    const SEC: i64 = 1_000_000_000;

    fn peer(id: &str, http_port: i64, now: i64) -> Arc<PeerInfo> {
        Arc::new(PeerInfo::new(
            id.to_string(),
            PeerIdentity {
                broadcast_address: "h".into(),
                hostname: "host".into(),
                http_port,
                tcp_port: 4150,
                version: "1.3.0".into(),
            },
            now,
        ))
    }

    fn ids(ps: &[Producer]) -> Vec<&str> {
        ps.iter().map(|p| p.peer.id.as_str()).collect()
    }

    #[test]
    fn add_producer_is_idempotent_and_keeps_tombstones() {
        let db = RegistrationDb::new();
        let p = peer("1.1.1.1:1", 4151, 0);
        assert!(db.add_producer(Registration::topic("t"), &p));
        assert_eq!(db.tombstone("t", "h:4151", 5), 1);
        assert!(!db.add_producer(Registration::topic("t"), &p));
        let ps = db.find_producers(Category::Topic, "t", "");
        assert_eq!(ps.len(), 1);
        assert!(ps[0].tombstoned);
        assert_eq!(ps[0].tombstoned_at, Some(5));
    }

    #[test]
    fn remove_producer_keeps_the_registration() {
        let db = RegistrationDb::new();
        let p = peer("a:1", 1, 0);
        db.add_producer(Registration::channel("t", "c"), &p);
        assert_eq!(
            db.remove_producer(&Registration::channel("t", "c"), "a:1"),
            (true, 0)
        );
        assert_eq!(
            db.remove_producer(&Registration::channel("t", "c"), "a:1"),
            (false, 0)
        );
        assert_eq!(
            db.remove_producer(&Registration::topic("nope"), "a:1"),
            (false, 0)
        );
        assert_eq!(
            db.find_registrations(Category::Channel, "t", "*"),
            vec![Registration::channel("t", "c")]
        );
        assert!(db.snapshot().is_empty());
        db.remove_registration(&Registration::channel("t", "c"));
        assert!(db
            .find_registrations(Category::Channel, "t", "*")
            .is_empty());
    }

    #[test]
    fn wildcard_queries() {
        let db = RegistrationDb::new();
        for (t, c) in [("a", "x"), ("a", "y"), ("b", "x")] {
            db.add_registration(Registration::channel(t, c));
            db.add_registration(Registration::topic(t));
        }
        assert_eq!(db.find_registrations(Category::Topic, "*", "").len(), 2);
        assert_eq!(db.find_registrations(Category::Channel, "a", "*").len(), 2);
        assert_eq!(db.find_registrations(Category::Channel, "*", "x").len(), 2);
        assert_eq!(db.find_registrations(Category::Channel, "a", "x").len(), 1);
        assert!(db
            .find_registrations(Category::Channel, "a", "z")
            .is_empty());
        assert!(db.find_registrations(Category::Client, "", "").is_empty());
    }

    #[test]
    fn find_producers_dedups_peers() {
        let db = RegistrationDb::new();
        let p1 = peer("p1:1", 1, 0);
        let p2 = peer("p2:1", 2, 0);
        db.add_producer(Registration::topic("a"), &p1);
        db.add_producer(Registration::topic("b"), &p1);
        db.add_producer(Registration::topic("b"), &p2);
        assert_eq!(
            ids(&db.find_producers(Category::Topic, "*", "")),
            ["p1:1", "p2:1"]
        );
        assert_eq!(ids(&db.find_producers(Category::Topic, "a", "")), ["p1:1"]);
        assert_eq!(
            db.lookup_registrations("p1:1"),
            vec![Registration::topic("a"), Registration::topic("b")]
        );
    }

    #[test]
    fn active_filter_uses_last_update() {
        let db = RegistrationDb::new();
        let old = peer("old:1", 1, 0);
        let new = peer("new:1", 2, 0);
        db.add_producer(Registration::client(), &old);
        db.add_producer(Registration::client(), &new);
        new.touch(200 * SEC);
        let all = db.find_producers(Category::Client, "", "");
        let timeout = Duration::from_secs(300);
        // exactly at the timeout is still active
        let active = filter_active(all.clone(), timeout, Duration::ZERO, 300 * SEC);
        assert_eq!(ids(&active), ["new:1", "old:1"]);
        let active = filter_active(all, timeout, Duration::ZERO, 300 * SEC + 1);
        assert_eq!(ids(&active), ["new:1"]);
    }

    #[test]
    fn tombstones_expire_but_stay_flagged() {
        let db = RegistrationDb::new();
        let p = peer("p:1", 4151, 0);
        db.add_producer(Registration::topic("t"), &p);
        db.add_producer(Registration::topic("u"), &p);
        assert_eq!(db.tombstone("t", "h:9999", SEC), 0);
        assert_eq!(db.tombstone("t", "h:4151", SEC), 1);
        let life = Duration::from_secs(45);
        let ps = db.find_producers(Category::Topic, "t", "");
        assert!(ps[0].is_tombstoned(life, SEC));
        assert!(ps[0].is_tombstoned(life, 46 * SEC - 1));
        assert!(!ps[0].is_tombstoned(life, 46 * SEC));
        assert!(ps[0].tombstoned);
        assert!(filter_active(ps.clone(), Duration::from_secs(300), life, 2 * SEC).is_empty());
        assert_eq!(
            filter_active(ps, Duration::from_secs(300), Duration::ZERO, 2 * SEC).len(),
            1
        );
        assert_eq!(
            db.topics_of("p:1", life, 2 * SEC),
            vec![("t".to_string(), true), ("u".to_string(), false)]
        );
    }

    #[test]
    fn registration_display_and_category_words() {
        assert_eq!(Registration::client().to_string(), "client::");
        assert_eq!(Registration::topic("t").to_string(), "topic:t:");
        assert_eq!(Registration::channel("t", "c").to_string(), "channel:t:c");
    }
}
