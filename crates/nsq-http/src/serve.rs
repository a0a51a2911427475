//! Serving a router on a bound listener (HTTP/1.1, keep-alive, header names
//! written in Go's canonical case such as `X-Nsq-Content-Type`).

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and closes the open connections.
///
/// Each request carries `ConnectInfo<SocketAddr>` with the peer address.
/// Accept errors (e.g. too many open files) are logged and retried with a
/// growing pause (5 ms up to 1 s), as Go's server does.
pub async fn serve<F>(listener: TcpListener, app: axum::Router, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let mut connections = JoinSet::new();
    let mut backoff = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    backoff = Duration::ZERO;
                    connections.spawn(serve_connection(stream, remote, app.clone()));
                }
                Err(e) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    tracing::error!("http: Accept error: {e}; retrying in {}", crate::log::go_duration(backoff));
                    tokio::time::sleep(backoff).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, remote: SocketAddr, app: axum::Router) {
    let _ = stream.set_nodelay(true);
    serve_io(stream, remote, app).await;
}

/// Serves HTTP/1.1 on one already accepted connection of any kind (TLS,
/// unix socket), with `remote` as the peer address handlers see.
pub async fn serve_io<I>(io: I, remote: SocketAddr, app: axum::Router)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(req.map(Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .title_case_headers(true)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        tracing::debug!("HTTP connection from {remote} ended with an error: {e}");
    }
}
