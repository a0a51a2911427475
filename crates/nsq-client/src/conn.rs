//! Opening a V2 connection: dial, magic, IDENTIFY (with the TLS / snappy /
//! deflate upgrades nsqd grants), AUTH when nsqd asks for it, and reading
//! one handshake answer.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nsq_protocol::codec::ClientCodec;
use nsq_protocol::frame::HEARTBEAT;
use nsq_protocol::{Command, Frame, IdentifyResponse, MAGIC_V2};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::Framed;

use crate::config::Config;
use crate::error::ConnectError;
use crate::identify::{identify_body, parse_reply};
use crate::transport::{self, FramedConn, Transport};

/// Frames larger than this are treated as garbage (nsqd's largest is a
/// 5 MiB MPUB-sized message plus header).
const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// A connection that finished IDENTIFY (and AUTH).
pub struct Handshaken {
    /// The framed connection, ready for SUB / PUB.
    pub conn: FramedConn,
    /// What nsqd negotiated.
    pub settings: IdentifyResponse,
}

/// Dials `addr`, sends the magic, IDENTIFY and, if required, AUTH.
pub async fn open(addr: &str, config: &Config) -> Result<Handshaken, ConnectError> {
    let connector = if config.tls.enabled {
        Some(transport::tls_connector(config, addr)?)
    } else {
        None
    };
    let stream = dial(addr, config).await?;
    let mut conn = Framed::new(
        Transport::tcp(stream),
        ClientCodec {
            max_frame_size: Some(MAX_FRAME),
        },
    );
    conn.get_mut()
        .write_all(MAGIC_V2)
        .await
        .map_err(|source| io(addr, source))?;
    send(&mut conn, addr, Command::Identify(identify_body(config))).await?;
    let reply = read_response(&mut conn, addr, "IDENTIFY", config.read_timeout).await?;
    let settings = parse_reply(&reply).map_err(|detail| ConnectError::BadIdentifyReply {
        addr: addr.to_string(),
        detail,
    })?;
    let mut conn = transport::upgrade(conn, &settings, config, connector, addr).await?;
    if settings.auth_required {
        let Some(secret) = &config.auth_secret else {
            return Err(ConnectError::AuthRequired {
                addr: addr.to_string(),
            });
        };
        send(&mut conn, addr, Command::Auth(secret.clone().into())).await?;
        read_response(&mut conn, addr, "AUTH", config.read_timeout).await?;
    }
    Ok(Handshaken { conn, settings })
}

async fn dial(addr: &str, config: &Config) -> Result<TcpStream, ConnectError> {
    let attempt = async {
        match config.local_addr {
            None => TcpStream::connect(addr).await,
            Some(local) => {
                let remote = tokio::net::lookup_host(addr)
                    .await?
                    .find(|a| a.is_ipv4() == local.is_ipv4())
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::AddrNotAvailable,
                            "no address of the local_addr family",
                        )
                    })?;
                let socket = if local.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                socket.bind(local)?;
                socket.connect(remote).await
            }
        }
    };
    let stream = tokio::time::timeout(config.dial_timeout, attempt)
        .await
        .map_err(|_| ConnectError::DialTimeout {
            addr: addr.to_string(),
            timeout: config.dial_timeout,
        })?
        .map_err(|source| ConnectError::Dial {
            addr: addr.to_string(),
            source,
        })?;
    stream.set_nodelay(true).ok();
    Ok(stream)
}

fn io(addr: &str, source: std::io::Error) -> ConnectError {
    ConnectError::Io {
        addr: addr.to_string(),
        source,
    }
}

/// Writes and flushes one command.
pub async fn send(conn: &mut FramedConn, addr: &str, cmd: Command) -> Result<(), ConnectError> {
    conn.send(cmd).await.map_err(|source| io(addr, source))
}

/// Reads frames until a response other than a heartbeat (answered with
/// NOP) arrives; an error frame is a rejection of `step`.
pub async fn read_response(
    conn: &mut FramedConn,
    addr: &str,
    step: &'static str,
    timeout: Duration,
) -> Result<bytes::Bytes, ConnectError> {
    loop {
        let next = tokio::time::timeout(timeout, conn.next())
            .await
            .map_err(|_| ConnectError::Timeout {
                addr: addr.to_string(),
                step,
                timeout,
            })?;
        match next {
            None => {
                return Err(ConnectError::Closed {
                    addr: addr.to_string(),
                    step,
                })
            }
            Some(Err(source)) => {
                return Err(ConnectError::Frame {
                    addr: addr.to_string(),
                    source,
                })
            }
            Some(Ok(Frame::Response(data))) if data == HEARTBEAT => {
                send(conn, addr, Command::Nop).await?;
            }
            Some(Ok(Frame::Response(data))) => return Ok(data),
            Some(Ok(Frame::Error(data))) => {
                return Err(ConnectError::Rejected {
                    addr: addr.to_string(),
                    step,
                    error: String::from_utf8_lossy(&data).into_owned(),
                })
            }
            Some(Ok(Frame::Message(_))) => {
                return Err(ConnectError::BadIdentifyReply {
                    addr: addr.to_string(),
                    detail: format!("unexpected message frame during {step}"),
                })
            }
        }
    }
}
