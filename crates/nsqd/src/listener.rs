//! Listening sockets: `host:port` addresses are TCP, anything else is a unix
//! socket path, as nsqd v1.3.0 decides it.

use nsq_transport::BoxedIo;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::{TcpListener, UnixListener};

/// Where a listener is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP address.
    Inet(SocketAddr),
    /// A unix socket path.
    Unix(PathBuf),
}

impl ListenAddr {
    /// The port `/info` and lookupd see: the TCP port, or -1 for a unix socket.
    pub fn port(&self) -> i64 {
        match self {
            ListenAddr::Inet(a) => i64::from(a.port()),
            ListenAddr::Unix(_) => -1,
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A bound TCP or unix-socket listener.
#[derive(Debug)]
pub enum StreamListener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain socket.
    Unix(UnixListener, PathBuf),
}

/// Whether `addr` is `host:port` (TCP) rather than a socket path.
fn is_host_port(addr: &str) -> bool {
    addr.rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

impl StreamListener {
    /// Binds `addr`: TCP for `host:port`, otherwise a unix socket at that path.
    pub async fn bind(addr: &str) -> std::io::Result<StreamListener> {
        if is_host_port(addr) {
            let addr = addr
                .strip_prefix(':')
                .map_or(addr.to_string(), |p| format!("0.0.0.0:{p}"));
            Ok(StreamListener::Tcp(TcpListener::bind(addr).await?))
        } else {
            let path = PathBuf::from(addr);
            Ok(StreamListener::Unix(UnixListener::bind(&path)?, path))
        }
    }

    /// Where it is bound.
    pub fn local_addr(&self) -> std::io::Result<ListenAddr> {
        match self {
            StreamListener::Tcp(l) => l.local_addr().map(ListenAddr::Inet),
            StreamListener::Unix(_, p) => Ok(ListenAddr::Unix(p.clone())),
        }
    }

    /// Accepts a connection; the peer address is `None` for unix sockets.
    pub async fn accept(&self) -> std::io::Result<(BoxedIo, Option<SocketAddr>)> {
        match self {
            StreamListener::Tcp(l) => {
                let (s, remote) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok((Box::pin(s), Some(remote)))
            }
            StreamListener::Unix(l, _) => {
                let (s, _) = l.accept().await?;
                Ok((Box::pin(s), None))
            }
        }
    }
}

impl Drop for StreamListener {
    fn drop(&mut self) {
        if let StreamListener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_versus_path() {
        assert!(is_host_port("0.0.0.0:4150"));
        assert!(is_host_port("localhost:4150"));
        assert!(is_host_port("[::1]:4150"));
        assert!(is_host_port(":4150"));
        assert!(!is_host_port("/tmp/nsqd.sock"));
        assert!(!is_host_port("nsqd.sock"));
    }
}
