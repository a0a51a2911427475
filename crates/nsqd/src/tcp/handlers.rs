//! One short handler per V2 command. The codec has already checked state,
//! parameters and sizes; these apply the command to topics and channels.

use super::connection::{Connection, Exit, Subscription};
use crate::channel::{InFlightError, SubscribeError};
use bytes::Bytes;
use nsq_protocol::codec::ClientState;
use nsq_protocol::identify::{NegotiatedSettings, ServerIdentifyLimits};
use nsq_protocol::{frame, Command, ErrorCode, IdentifyRequest, MessageId, ProtocolError};
use std::sync::atomic::Ordering;
use std::time::Duration;

type HandlerResult = Result<(), Exit>;

impl Connection {
    /// Applies one decoded command.
    pub(super) async fn handle_command(&mut self, cmd: Command) -> HandlerResult {
        let result = match cmd {
            Command::Nop => Ok(()),
            Command::Identify(body) => self.identify(&body).await,
            Command::Auth(secret) => self.authenticate(&secret).await,
            Command::Sub { topic, channel } => self.subscribe(&topic, &channel).await,
            Command::Pub { topic, body } => self.publish("PUB", &topic, vec![body], 0).await,
            Command::Mpub { topic, bodies } => self.publish("MPUB", &topic, bodies, 0).await,
            Command::Dpub {
                topic,
                defer_ms,
                body,
            } => self.publish("DPUB", &topic, vec![body], defer_ms).await,
            Command::Rdy(count) => {
                self.ready(count);
                Ok(())
            }
            Command::Fin(id) => self.finish(id),
            Command::Req { id, timeout_ms } => self.requeue(id, timeout_ms),
            Command::Touch(id) => self.touch(id),
            Command::Cls => self.close_wait().await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => {
                let fatal = err.is_fatal();
                if self.send_error(&err).await.is_err() || fatal {
                    Err(if fatal { Exit::Fatal } else { Exit::Closed })
                } else {
                    Ok(())
                }
            }
        }
    }

    fn identify_limits(&self) -> ServerIdentifyLimits {
        let o = &self.nsqd.opts;
        ServerIdentifyLimits {
            max_heartbeat_interval_ms: o.max_heartbeat_interval.as_millis() as i64,
            default_heartbeat_interval_ms: (o.client_timeout / 2).as_millis() as i64,
            default_output_buffer_size: 16 * 1024,
            max_output_buffer_size: o.max_output_buffer_size,
            default_output_buffer_timeout_ms: o.output_buffer_timeout.as_millis() as i64,
            min_output_buffer_timeout_ms: o.min_output_buffer_timeout.as_millis() as i64,
            max_output_buffer_timeout_ms: o.max_output_buffer_timeout.as_millis() as i64,
            default_msg_timeout_ms: o.msg_timeout.as_millis() as i64,
            max_msg_timeout_ms: o.max_msg_timeout.as_millis() as i64,
            max_rdy_count: o.max_rdy_count,
            max_deflate_level: o.max_deflate_level,
            tls_available: self.nsqd.tls.is_configured(),
            deflate_enabled: o.deflate,
            snappy_enabled: o.snappy,
            auth_required: !o.auth_http_addresses.is_empty(),
        }
    }

    async fn identify(&mut self, body: &Bytes) -> Result<(), ProtocolError> {
        let request = IdentifyRequest::from_json(body)?;
        let limits = self.identify_limits();
        let current = self
            .negotiated
            .take()
            .unwrap_or_else(|| NegotiatedSettings::initial(&limits));
        let settings = request.negotiate_from(&current, &limits)?;
        {
            let mut ident = self.stats.identity.lock();
            ident.client_id = settings.client_id.clone();
            ident.hostname = settings.hostname.clone();
            ident.user_agent = settings.user_agent.clone();
            ident.sample_rate = settings.sample_rate;
        }
        self.settings.heartbeat_interval = settings
            .heartbeat_interval_ms
            .map(|ms| Duration::from_millis(ms.max(0) as u64));
        self.settings.output_buffer_size = settings.output_buffer_size.max(1) as usize;
        self.settings.output_buffer_timeout =
            Duration::from_millis(settings.output_buffer_timeout_ms.max(0) as u64);
        self.settings.msg_timeout = Duration::from_millis(settings.msg_timeout_ms.max(0) as u64);
        self.settings.sample_rate = settings.sample_rate;
        self.reader.decoder_mut().context.heartbeats_disabled =
            settings.heartbeat_interval_ms.is_none();
        let reply = if settings.feature_negotiation {
            settings.response(&limits).to_json()
        } else {
            frame::OK.to_vec()
        };
        let upgrades = super::upgrade::Upgrades {
            tls: settings.tls_v1 && !self.tls_active,
            snappy: settings.snappy,
            deflate_level: settings
                .deflate
                .then_some(settings.deflate_level.clamp(1, 9) as u32),
        };
        self.negotiated = Some(settings);
        self.send_response(&reply).await.map_err(|_| closed())?;
        self.upgrade(upgrades).await
    }

    async fn authenticate(&mut self, secret: &Bytes) -> Result<(), ProtocolError> {
        if self.auth.is_some() {
            return Err(ProtocolError::invalid("AUTH already set"));
        }
        if !self.nsqd.auth.is_enabled() {
            return Err(ProtocolError::new(ErrorCode::AuthDisabled, "AUTH disabled"));
        }
        let secret = String::from_utf8_lossy(secret).into_owned();
        let state = self.query_auth(&secret).await?;
        if state.permission_count() == 0 {
            return Err(ProtocolError::new(
                ErrorCode::Unauthorized,
                "AUTH no authorizations found",
            ));
        }
        {
            let mut ident = self.stats.identity.lock();
            ident.authed = true;
            ident.auth_identity = state.identity.clone();
            ident.auth_identity_url = state.identity_url.clone();
        }
        let reply = state.response_json();
        self.auth = Some(state);
        self.auth_secret = secret;
        self.send_response(reply.as_bytes())
            .await
            .map_err(|_| closed())
    }

    async fn query_auth(&mut self, secret: &str) -> Result<crate::auth::AuthState, ProtocolError> {
        let remote_ip = self.peer.map(|p| p.ip().to_string()).unwrap_or_default();
        let nsqd = self.nsqd.clone();
        let (tls, cn) = (self.tls_active, self.tls_common_name.clone());
        let result = nsqd.auth.authorize(secret, &remote_ip, tls, &cn).await;
        result.map_err(|e| {
            tracing::warn!("PROTOCOL(V2): [{}] AUTH failed - {e}", self.remote);
            ProtocolError::new(ErrorCode::AuthFailed, "AUTH failed")
        })
    }

    /// With an auth server configured: the connection must be authorized for
    /// `cmd` on `topic`/`channel` (`""` for publishes); re-queries once the TTL passed.
    async fn check_auth(
        &mut self,
        cmd: &str,
        topic: &str,
        channel: &str,
    ) -> Result<(), ProtocolError> {
        if !self.nsqd.auth.is_enabled() {
            return Ok(());
        }
        let expired = match &self.auth {
            None => {
                return Err(ProtocolError::new(
                    ErrorCode::AuthFirst,
                    format!("AUTH required before {cmd}"),
                ))
            }
            Some(state) => state.expired(std::time::Instant::now()),
        };
        if expired {
            let secret = self.auth_secret.clone();
            self.auth = Some(self.query_auth(&secret).await?);
        }
        let kind = if cmd == "SUB" {
            crate::auth::AuthCommand::Sub
        } else {
            crate::auth::AuthCommand::Pub
        };
        let allowed = self
            .auth
            .as_ref()
            .is_some_and(|s| s.is_allowed(topic, channel, kind));
        if !allowed {
            return Err(ProtocolError::new(
                ErrorCode::Unauthorized,
                format!("AUTH failed for {cmd} on {topic:?} {channel:?}"),
            ));
        }
        Ok(())
    }

    async fn subscribe(
        &mut self,
        topic_name: &str,
        channel_name: &str,
    ) -> Result<(), ProtocolError> {
        self.check_auth("SUB", topic_name, channel_name).await?;
        let max = self.nsqd.opts.max_channel_consumers;
        // A channel can be deleted between lookup and join (ephemeral cleanup): retry once.
        let mut attempt = 0;
        let (topic, channel) = loop {
            attempt += 1;
            let topic = self.nsqd.topic_for_use(topic_name).await;
            let channel = match self.nsqd.get_or_create_channel(&topic, channel_name) {
                Ok(ch) => ch,
                Err(_) if attempt < 2 => continue,
                Err(_) => {
                    return Err(ProtocolError::new(
                        ErrorCode::SubFailed,
                        "SUB failed to deleted topic/channel",
                    ))
                }
            };
            match channel.add_consumer(self.consumer_handle(), max) {
                Ok(()) => break (topic, channel),
                Err(SubscribeError::Deleted) if attempt < 2 => continue,
                Err(e @ SubscribeError::TooManyConsumers { .. }) => {
                    return Err(ProtocolError::new(
                        ErrorCode::SubFailed,
                        format!("SUB failed {e}"),
                    ))
                }
                Err(SubscribeError::Deleted) => {
                    return Err(ProtocolError::new(
                        ErrorCode::SubFailed,
                        "SUB failed to deleted topic/channel",
                    ))
                }
            }
        };
        self.sub = Some(Subscription { topic, channel });
        self.stats
            .state
            .store(ClientState::Subscribed as u8, Ordering::Relaxed);
        self.reader.decoder_mut().context.state = ClientState::Subscribed;
        self.send_response(frame::OK).await.map_err(|_| closed())
    }

    async fn publish(
        &mut self,
        cmd: &str,
        topic_name: &str,
        bodies: Vec<Bytes>,
        defer_ms: u64,
    ) -> Result<(), ProtocolError> {
        let failed_code = match cmd {
            "MPUB" => ErrorCode::MpubFailed,
            "DPUB" => ErrorCode::DpubFailed,
            _ => ErrorCode::PubFailed,
        };
        self.check_auth(cmd, topic_name, "").await?;
        let n = bodies.len() as u64;
        let topic = self.nsqd.topic_for_use(topic_name).await;
        self.nsqd
            .publish(&topic, bodies, Duration::from_millis(defer_ms))
            .map_err(|e| ProtocolError::new(failed_code, format!("{cmd} failed {e}")))?;
        self.nsqd.acknowledge().await;
        self.stats.add_published(topic_name, n);
        self.send_response(frame::OK).await.map_err(|_| closed())
    }

    fn ready(&mut self, count: u64) {
        self.rdy = count;
        self.stats
            .ready_count
            .store(count as i64, Ordering::Relaxed);
        self.want_messages = true;
    }

    fn finish(&mut self, id: MessageId) -> Result<(), ProtocolError> {
        let sub = self.subscription()?;
        sub.channel
            .finish(self.stats.id, &id)
            .map_err(|e| in_flight_error(ErrorCode::FinFailed, "FIN", &id, e))?;
        self.stats.finish_count.fetch_add(1, Ordering::Relaxed);
        self.want_messages = true;
        Ok(())
    }

    fn requeue(&mut self, id: MessageId, timeout_ms: u64) -> Result<(), ProtocolError> {
        let sub = self.subscription()?;
        sub.channel
            .requeue(self.stats.id, &id, Duration::from_millis(timeout_ms))
            .map_err(|e| in_flight_error(ErrorCode::ReqFailed, "REQ", &id, e))?;
        self.stats.requeue_count.fetch_add(1, Ordering::Relaxed);
        self.want_messages = true;
        Ok(())
    }

    fn touch(&mut self, id: MessageId) -> Result<(), ProtocolError> {
        let sub = self.subscription()?;
        sub.channel
            .touch(
                self.stats.id,
                &id,
                self.settings.msg_timeout,
                self.nsqd.opts.max_msg_timeout,
            )
            .map_err(|e| in_flight_error(ErrorCode::TouchFailed, "TOUCH", &id, e))
    }

    async fn close_wait(&mut self) -> Result<(), ProtocolError> {
        self.rdy = 0;
        self.stats.ready_count.store(0, Ordering::Relaxed);
        self.stats
            .state
            .store(ClientState::Closing as u8, Ordering::Relaxed);
        self.reader.decoder_mut().context.state = ClientState::Closing;
        self.send_response(frame::CLOSE_WAIT)
            .await
            .map_err(|_| closed())
    }

    fn subscription(&self) -> Result<&Subscription, ProtocolError> {
        // The codec only lets FIN/REQ/TOUCH through after SUB.
        self.sub
            .as_ref()
            .ok_or_else(|| ProtocolError::invalid("not subscribed"))
    }
}

fn in_flight_error(code: ErrorCode, cmd: &str, id: &MessageId, e: InFlightError) -> ProtocolError {
    ProtocolError::new(code, format!("{cmd} {id} failed {e}"))
}

/// The socket failed while answering: close without another frame.
fn closed() -> ProtocolError {
    ProtocolError::invalid("connection closed")
}
