//! A received message together with the means to answer it (FIN, REQ,
//! TOUCH) on the connection it came from.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nsq_protocol::{Command, Message, MessageId};

use super::connection::ConnShared;
use super::Inner;

/// A message handed out by [`super::Consumer::recv`].
///
/// Answer it with [`Delivery::finish`] or one of the requeue methods. A
/// delivery dropped unanswered is requeued at once without backoff, so no
/// message waits for its timeout because of an early return.
pub struct Delivery {
    message: Message,
    conn: Arc<ConnShared>,
    consumer: Arc<Inner>,
    answered: bool,
}

impl Delivery {
    pub(super) fn new(message: Message, conn: Arc<ConnShared>, consumer: Arc<Inner>) -> Delivery {
        Delivery {
            message,
            conn,
            consumer,
            answered: false,
        }
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The message body.
    pub fn body(&self) -> &Bytes {
        &self.message.body
    }

    /// The message id.
    pub fn id(&self) -> MessageId {
        self.message.id
    }

    /// Delivery attempts so far, this one included.
    pub fn attempts(&self) -> u16 {
        self.message.attempts
    }

    /// The topic the message was consumed from.
    pub fn topic(&self) -> &str {
        &self.consumer.topic
    }

    /// The channel the message was consumed on.
    pub fn channel(&self) -> &str {
        &self.consumer.channel
    }

    /// The nsqd (`host:port`) the message came from.
    pub fn nsqd_address(&self) -> &str {
        &self.conn.addr
    }

    /// Marks the message done (FIN); counts as a success for backoff.
    pub fn finish(mut self) {
        self.answer(Command::Fin(self.message.id));
        self.consumer.on_result(true);
    }

    /// Requeues (REQ) after `delay`, or after the default delay
    /// (`default_requeue_delay * attempts`, capped) when `None`. Counts as a
    /// failure: the consumer backs off.
    pub fn requeue(mut self, delay: Option<Duration>) {
        // RDY 0 goes out before the REQ, so nsqd cannot hand the message
        // straight back before the pause starts.
        self.consumer.on_result(false);
        self.send_req(delay);
    }

    /// Like [`Delivery::requeue`] without triggering backoff.
    pub fn requeue_without_backoff(mut self, delay: Option<Duration>) {
        self.send_req(delay);
    }

    /// Resets the message's timeout on nsqd (TOUCH).
    pub fn touch(&self) {
        self.conn.send(Command::Touch(self.message.id));
    }

    fn send_req(&mut self, delay: Option<Duration>) {
        let delay = super::rdy::requeue_delay(&self.consumer.config, delay, self.message.attempts);
        let timeout_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.answer(Command::Req {
            id: self.message.id,
            timeout_ms,
        });
    }

    fn answer(&mut self, cmd: Command) {
        if !self.answered {
            self.answered = true;
            let finished = matches!(cmd, Command::Fin(_));
            self.conn.answer(cmd);
            self.consumer.count_answer(finished);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.answered {
            self.answer(Command::Req {
                id: self.message.id,
                timeout_ms: 0,
            });
        }
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.message.id)
            .field("attempts", &self.message.attempts)
            .field("nsqd", &self.conn.addr)
            .finish()
    }
}
