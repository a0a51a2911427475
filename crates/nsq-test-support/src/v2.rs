//! A raw V2 client: sends commands or arbitrary bytes, returns every frame.

use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use nsq_protocol::codec::ClientCodec;
use nsq_protocol::{Command, Frame, Message};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// How long [`V2Client::read_frame`] waits by default.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A raw V2 connection for tests.
pub struct V2Client {
    framed: Framed<TcpStream, ClientCodec>,
}

impl V2Client {
    /// Connects and sends the `"  V2"` magic.
    pub async fn connect(addr: SocketAddr) -> V2Client {
        let mut stream = TcpStream::connect(addr).await.expect("connect nsqd");
        stream.set_nodelay(true).ok();
        stream.write_all(b"  V2").await.expect("send magic");
        V2Client {
            framed: Framed::new(stream, ClientCodec::default()),
        }
    }

    /// Connects with the socket's receive buffer set to `recv_buffer` bytes
    /// (the kernel may round it) and sends the magic: a client whose unread
    /// data backs up into nsqd quickly, for tests of slow readers.
    pub async fn connect_small_buffer(addr: SocketAddr, recv_buffer: u32) -> V2Client {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .expect("tcp socket");
        socket
            .set_recv_buffer_size(recv_buffer)
            .expect("set SO_RCVBUF");
        let mut stream = socket.connect(addr).await.expect("connect nsqd");
        stream.set_nodelay(true).ok();
        stream.write_all(b"  V2").await.expect("send magic");
        V2Client {
            framed: Framed::new(stream, ClientCodec::default()),
        }
    }

    /// Connects without sending anything.
    pub async fn connect_raw(addr: SocketAddr) -> V2Client {
        let stream = TcpStream::connect(addr).await.expect("connect nsqd");
        V2Client {
            framed: Framed::new(stream, ClientCodec::default()),
        }
    }

    /// Sends a command.
    pub async fn send(&mut self, cmd: Command) {
        self.framed.send(cmd).await.expect("send command");
    }

    /// Sends raw bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes).await.expect("send raw bytes");
    }

    /// Sends raw bytes; the I/O error when the connection is gone.
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = self.framed.get_mut();
        stream.write_all(bytes).await?;
        stream.flush().await
    }

    /// Reads the next frame; panics on timeout or close.
    pub async fn read_frame(&mut self) -> Frame {
        match self.try_read_frame(READ_TIMEOUT).await {
            Some(f) => f,
            None => panic!("connection closed or timed out waiting for a frame"),
        }
    }

    /// Reads the next frame; `None` when the connection closed or `timeout` passed.
    pub async fn try_read_frame(&mut self, timeout: Duration) -> Option<Frame> {
        match tokio::time::timeout(timeout, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(frame),
            _ => None,
        }
    }

    /// Reads frames, skipping heartbeats, until a non-heartbeat frame arrives.
    pub async fn read_non_heartbeat(&mut self) -> Frame {
        loop {
            let f = self.read_frame().await;
            if f != Frame::Response(bytes::Bytes::from_static(b"_heartbeat_")) {
                return f;
            }
        }
    }

    /// Expects a response frame with exactly `payload`.
    pub async fn expect_response(&mut self, payload: &[u8]) {
        match self.read_non_heartbeat().await {
            Frame::Response(b) => assert_eq!(
                &b[..],
                payload,
                "response {:?}",
                String::from_utf8_lossy(&b)
            ),
            other => panic!(
                "expected response {:?}, got {other:?}",
                String::from_utf8_lossy(payload)
            ),
        }
    }

    /// Expects an error frame with exactly `text`.
    pub async fn expect_error(&mut self, text: &str) {
        match self.read_non_heartbeat().await {
            Frame::Error(b) => assert_eq!(String::from_utf8_lossy(&b), text),
            other => panic!("expected error {text:?}, got {other:?}"),
        }
    }

    /// Expects a message frame and returns it.
    pub async fn expect_message(&mut self) -> Message {
        match self.read_non_heartbeat().await {
            Frame::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Asserts that no frame other than heartbeats arrives within `window`.
    pub async fn expect_silence(&mut self, window: Duration) {
        let deadline = tokio::time::Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, self.framed.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Frame::Response(b)))) if &b[..] == b"_heartbeat_" => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Asserts the server closes the connection within `timeout`
    /// (frames still arriving before the close are returned).
    pub async fn expect_closed(&mut self, timeout: Duration) -> Vec<Frame> {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.framed.next()).await {
                Err(_) => panic!("connection still open after {timeout:?}; frames {frames:?}"),
                Ok(None) | Ok(Some(Err(_))) => return frames,
                Ok(Some(Ok(f))) => frames.push(f),
            }
        }
    }

    /// IDENTIFY with a JSON body, expecting the plain `OK` or the JSON reply.
    pub async fn identify(&mut self, json: serde_json::Value) -> Frame {
        let body = serde_json::to_vec(&json).expect("json");
        self.send(Command::Identify(body.into())).await;
        self.read_non_heartbeat().await
    }

    /// SUB + expect `OK`.
    pub async fn subscribe(&mut self, topic: &str, channel: &str) {
        self.send(Command::Sub {
            topic: topic.into(),
            channel: channel.into(),
        })
        .await;
        self.expect_response(b"OK").await;
    }

    /// PUB + expect `OK`.
    pub async fn publish(&mut self, topic: &str, body: &[u8]) {
        self.send(Command::Pub {
            topic: topic.into(),
            body: bytes::Bytes::copy_from_slice(body),
        })
        .await;
        self.expect_response(b"OK").await;
    }

    /// Writes an unencoded buffer (helper for building odd inputs).
    pub async fn send_buf(&mut self, buf: BytesMut) {
        self.send_raw(&buf).await;
    }

    /// Reads messages, FINning each, until every body of `must` has
    /// arrived; returns every body seen. Panics (naming `context` and some
    /// missing bodies) when nothing arrives for 5 s before that.
    pub async fn receive_all(
        &mut self,
        must: &std::collections::HashSet<bytes::Bytes>,
        context: &str,
    ) -> std::collections::HashSet<bytes::Bytes> {
        let mut seen = std::collections::HashSet::new();
        while !must.is_subset(&seen) {
            match self.try_read_frame(Duration::from_secs(5)).await {
                Some(Frame::Message(m)) => {
                    self.send(Command::Fin(m.id)).await;
                    seen.insert(m.body);
                }
                Some(_) => {}
                None => {
                    let missing: Vec<_> = must.difference(&seen).take(10).collect();
                    panic!(
                        "{context}: {} of {} expected messages lost, e.g. {missing:?}",
                        must.difference(&seen).count(),
                        must.len()
                    );
                }
            }
        }
        seen
    }
}
