//! Graceful shutdown on SIGINT / SIGTERM, as the Go daemons do.

use std::future::Future;

/// Installs SIGINT and SIGTERM handlers at once and returns a future that
/// completes when either arrives. Call it before binding listeners, so a
/// signal sent as soon as the daemon reports it is listening is never lost
/// to the default action. Must be called inside a tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
