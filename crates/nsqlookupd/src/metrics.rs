//! `GET /metrics`: the registration database in the Prometheus text format
//! 0.0.4 (an addition: nsqlookupd v1.3.0 has no such route).
//!
//! | metric | type | what |
//! |---|---|---|
//! | `nsqlookupd_up` | gauge | always 1 |
//! | `nsqlookupd_start_time_seconds` | gauge | when the HTTP server was set up, Unix seconds |
//! | `nsqlookupd_producers` | gauge | identified nsqd heard from within `--inactive-producer-timeout` (what `/nodes` lists) |
//! | `nsqlookupd_topics` | gauge | topic registrations |
//! | `nsqlookupd_channels` | gauge | channel registrations |
//! | `nsqlookupd_topic_producers{topic}` | gauge | active, non-tombstoned producers (what `/lookup` lists) |
//! | `nsqlookupd_tombstoned_producers{topic}` | gauge | producers tombstoned within `--tombstone-lifetime` |
//! | `nsqlookupd_channel_registrations{topic,channel}` | gauge | active producers of the channel registration |
//!
//! Registrations without producers (created over HTTP, or left by a
//! disconnected nsqd) are listed with 0.

use crate::registration_db::{now_ns, Category, Producer, Registration};
use crate::Context;
use nsq_http::prometheus::{render as render_families, Family, Kind};
use nsq_http::{Handler, Reply, RequestContext};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The route handler. Its creation time (when the HTTP router is built at
/// start-up) is reported as `nsqlookupd_start_time_seconds`.
pub(crate) fn handler() -> impl Handler<Arc<Context>> {
    let start_time = now_ns() / 1_000_000_000;
    move |ctx: Arc<Context>, _req: RequestContext| async move {
        Ok(Reply::text(render(&ctx, start_time, now_ns())))
    }
}

/// Renders the figures of `ctx.db` at `now` (Unix ns).
fn render(ctx: &Context, start_time: i64, now: i64) -> String {
    use Kind::Gauge;
    let inactive = ctx.opts.inactive_producer_timeout;
    let lifetime = ctx.opts.tombstone_lifetime;
    let mut up = Family::new(
        "nsqlookupd_up",
        Gauge,
        "Whether nsqlookupd is up (always 1).",
    );
    let mut start = Family::new(
        "nsqlookupd_start_time_seconds",
        Gauge,
        "Start time of nsqlookupd since the Unix epoch in seconds.",
    );
    let mut producers = Family::new(
        "nsqlookupd_producers",
        Gauge,
        "Identified nsqd heard from within the inactive producer timeout.",
    );
    let mut topics = Family::new("nsqlookupd_topics", Gauge, "Topic registrations.");
    let mut channels = Family::new("nsqlookupd_channels", Gauge, "Channel registrations.");
    let mut topic_producers = Family::new(
        "nsqlookupd_topic_producers",
        Gauge,
        "Active, non-tombstoned nsqd producing the topic (as /lookup lists them).",
    );
    let mut tombstoned = Family::new(
        "nsqlookupd_tombstoned_producers",
        Gauge,
        "Producers of the topic tombstoned within the tombstone lifetime.",
    );
    let mut channel_regs = Family::new(
        "nsqlookupd_channel_registrations",
        Gauge,
        "Active nsqd registered for the channel.",
    );
    up.add(&[], 1);
    start.add(&[], start_time);

    let registrations: Vec<Registration> = ctx
        .db
        .find_registrations(Category::Topic, "*", "")
        .into_iter()
        .chain(ctx.db.find_registrations(Category::Channel, "*", "*"))
        .collect();
    let snapshot: BTreeMap<Registration, Vec<Producer>> = ctx.db.snapshot().into_iter().collect();
    let producers_of =
        |reg: &Registration| -> &[Producer] { snapshot.get(reg).map_or(&[], Vec::as_slice) };
    // Active and not tombstoned (what /lookup lists), and tombstoned.
    let live = |list: &[Producer]| {
        list.iter()
            .filter(|p| p.is_active(inactive, now) && !p.is_tombstoned(lifetime, now))
            .count()
    };
    let dead = |list: &[Producer]| {
        list.iter()
            .filter(|p| p.is_tombstoned(lifetime, now))
            .count()
    };
    let clients = producers_of(&Registration::client());
    // Tombstones are per topic: they do not hide a node (as in /nodes).
    producers.add(
        &[],
        clients
            .iter()
            .filter(|p| p.is_active(inactive, now))
            .count(),
    );
    let (mut n_topics, mut n_channels) = (0usize, 0usize);
    for reg in &registrations {
        let list = producers_of(reg);
        match reg.category {
            Category::Topic => {
                n_topics += 1;
                let labels = [("topic", reg.key.as_str())];
                topic_producers.add(&labels, live(list));
                tombstoned.add(&labels, dead(list));
            }
            Category::Channel => {
                n_channels += 1;
                channel_regs.add(
                    &[
                        ("topic", reg.key.as_str()),
                        ("channel", reg.subkey.as_str()),
                    ],
                    live(list),
                );
            }
            Category::Client => {}
        }
    }
    topics.add(&[], n_topics);
    channels.add(&[], n_channels);
    render_families(&[
        up,
        start,
        producers,
        topics,
        channels,
        topic_producers,
        tombstoned,
        channel_regs,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use crate::registration_db::{PeerInfo, RegistrationDb};
    use nsq_protocol::lookup::PeerIdentity;

    const SEC: i64 = 1_000_000_000;

    fn ctx() -> Context {
        Context {
            opts: Options::default(),
            db: RegistrationDb::new(),
            tcp_addr: "127.0.0.1:4160".parse().expect("addr"),
            http_addr: "127.0.0.1:4161".parse().expect("addr"),
            hostname: "h".into(),
        }
    }

    fn peer(id: &str, http_port: i64, now: i64) -> Arc<PeerInfo> {
        Arc::new(PeerInfo::new(
            id.to_string(),
            PeerIdentity {
                broadcast_address: "b".into(),
                hostname: "h".into(),
                http_port,
                tcp_port: 4150,
                version: "1.3.0".into(),
            },
            now,
        ))
    }

    fn has(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    #[test]
    fn figures_follow_the_registrations() {
        let c = ctx();
        let now = 1_000 * SEC;
        let a = peer("1.1.1.1:1", 4151, now);
        let b = peer("2.2.2.2:2", 4152, now);
        let stale = peer("3.3.3.3:3", 4153, now - 3600 * SEC);
        for p in [&a, &b, &stale] {
            c.db.add_producer(Registration::client(), p);
            c.db.add_producer(Registration::topic("t"), p);
        }
        c.db.add_producer(Registration::channel("t", "ch"), &a);
        c.db.add_registration(Registration::topic("we\"ird"));
        assert_eq!(c.db.tombstone("t", "b:4152", now - SEC), 1);

        let text = render(&c, 42, now);
        for line in [
            "nsqlookupd_up 1",
            "nsqlookupd_start_time_seconds 42",
            "nsqlookupd_producers 2",
            "nsqlookupd_topics 2",
            "nsqlookupd_channels 1",
            "nsqlookupd_topic_producers{topic=\"t\"} 1",
            "nsqlookupd_tombstoned_producers{topic=\"t\"} 1",
            "nsqlookupd_topic_producers{topic=\"we\\\"ird\"} 0",
            "nsqlookupd_channel_registrations{topic=\"t\",channel=\"ch\"} 1",
        ] {
            assert!(has(&text, line), "missing {line:?} in\n{text}");
        }
        assert_eq!(
            text.matches("# TYPE nsqlookupd_topic_producers ").count(),
            1
        );

        // Once the tombstone lifetime has passed the producer counts again.
        let later = now + c.opts.tombstone_lifetime.as_secs() as i64 * SEC;
        for p in [&a, &b] {
            p.touch(later);
        }
        let text = render(&c, 42, later);
        assert!(
            has(&text, "nsqlookupd_topic_producers{topic=\"t\"} 2"),
            "{text}"
        );
        assert!(
            has(&text, "nsqlookupd_tombstoned_producers{topic=\"t\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn empty_database_still_has_the_totals() {
        let text = render(&ctx(), 7, SEC);
        assert!(has(&text, "nsqlookupd_producers 0"), "{text}");
        assert!(has(&text, "nsqlookupd_topics 0"), "{text}");
        assert!(has(&text, "nsqlookupd_channels 0"), "{text}");
        assert!(!text.contains("nsqlookupd_topic_producers"), "{text}");
    }
}
