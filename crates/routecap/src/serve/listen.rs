//! Accepting connections: TLS first when configured, then HTTP/1.1, each
//! connection on a task of its own.
//!
//! A client cannot hold the service: a request's header must arrive
//! within `header_timeout` (so must a TLS handshake; an idle keep-alive
//! connection is closed after as long), and a body must keep arriving
//! (`body_timeout`, see [`super::extract`]). On shutdown the listener
//! closes at once, connections finish the requests they are answering,
//! and after `shutdown_grace` whatever is left is closed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::{app, Service};

/// Serve `service` on `listener` (HTTPS with `tls`) until `shutdown`
/// resolves; then drain as the module docs say and return.
pub async fn serve(
    service: Arc<Service>,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let options = service.options.clone();
    let router = app::router(service);
    let acceptor = tls.map(TlsAcceptor::from);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // out of file descriptors and the like: pause, go on
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            http: http.clone(),
            service: TowerToHyperService::new(router.clone()),
            handshake_timeout: options.header_timeout,
        };
        tokio::spawn(connection.run(tcp, acceptor.clone(), graceful.watcher()));
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        connections = open,
        "no longer accepting; finishing the requests in flight"
    );
    let grace = options.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "connections still open after the shutdown grace period are closed"
        );
    }
    Ok(())
}

/// One accepted connection and how to serve it.
struct Connection {
    http: http1::Builder,
    service: TowerToHyperService<axum::Router>,
    handshake_timeout: Duration,
}

impl Connection {
    /// Serve the connection to its end, or until a shutdown closes it.
    async fn run(self, tcp: TcpStream, tls: Option<TlsAcceptor>, watcher: Watcher) {
        let Some(acceptor) = tls else {
            let conn = self.http.serve_connection(TokioIo::new(tcp), self.service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection closed");
            }
            return;
        };
        match tokio::time::timeout(self.handshake_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => {
                let conn = self
                    .http
                    .serve_connection(TokioIo::new(stream), self.service);
                if let Err(e) = watcher.watch(conn).await {
                    tracing::debug!(error = %e, "connection closed");
                }
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }
}
