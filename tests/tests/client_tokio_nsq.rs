//! The third-party Rust client `tokio-nsq` against the real nsqd binary:
//! publish, publish_multiple, publish_deferred, consume and finish.

use nsq_test_support::Daemon;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio_nsq::{
    NSQChannel, NSQConsumerConfig, NSQConsumerConfigSources, NSQEvent, NSQProducerConfig, NSQTopic,
};

const WAIT: Duration = Duration::from_secs(15);

async fn next_event(producer: &mut tokio_nsq::NSQProducer) -> NSQEvent {
    tokio::time::timeout(WAIT, producer.consume())
        .await
        .expect("producer event in time")
        .expect("producer event stream open")
}

#[tokio::test]
async fn tokio_nsq_publishes_and_consumes() {
    let d = Daemon::nsqd(&[]);
    let addr = d.tcp().to_string();
    let topic = NSQTopic::new("tokio_nsq").expect("topic name");
    let channel = NSQChannel::new("c").expect("channel name");

    let mut producer = NSQProducerConfig::new(addr.clone()).build();
    assert!(matches!(
        next_event(&mut producer).await,
        NSQEvent::Healthy()
    ));

    producer
        .publish(&topic, b"one".to_vec())
        .await
        .expect("publish");
    assert!(matches!(next_event(&mut producer).await, NSQEvent::Ok()));
    producer
        .publish_multiple(&topic, vec![b"two".to_vec(), b"three".to_vec()])
        .await
        .expect("publish_multiple");
    assert!(matches!(next_event(&mut producer).await, NSQEvent::Ok()));
    let deferred_at = Instant::now();
    producer
        .publish_deferred(&topic, b"deferred".to_vec(), 800)
        .await
        .expect("publish_deferred");
    assert!(matches!(next_event(&mut producer).await, NSQEvent::Ok()));

    let mut consumer = NSQConsumerConfig::new(topic, channel)
        .set_max_in_flight(10)
        .set_sources(NSQConsumerConfigSources::Daemons(vec![addr]))
        .build();

    let mut got = BTreeSet::new();
    let mut deferred_seen_after = None;
    while got.len() < 4 {
        let msg = tokio::time::timeout(WAIT, consumer.consume_filtered())
            .await
            .expect("message in time")
            .expect("consumer open");
        assert_eq!(msg.attempt, 1);
        let text = String::from_utf8_lossy(&msg.body).into_owned();
        if text == "deferred" {
            deferred_seen_after = Some(deferred_at.elapsed());
        }
        got.insert(text);
        msg.finish().await;
    }
    let want: BTreeSet<String> = ["one", "two", "three", "deferred"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
    let waited = deferred_seen_after.expect("deferred message delivered");
    assert!(
        waited >= Duration::from_millis(700),
        "deferred arrived after {waited:?}"
    );
}
