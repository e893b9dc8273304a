//! The accept loop: plain or TLS connections served by hyper, and a graceful shutdown that stops
//! accepting, lets in-flight requests finish within a grace period, then returns.
//!
//! Invariant: no client holds a connection without sending a complete request: the first request's
//! headers (TLS handshake included) must arrive within the header timeout of the connection being
//! accepted, later ones within it of the previous response (hyper's keep-alive header timeout).
//! At most `max_connections` are open at once; one over the cap is closed at once, never queued.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::early_errors::EarlyErrors;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send its request headers (and finish a TLS handshake) within this.
    pub header: Duration,
    /// At shutdown, in-flight requests get this long to finish.
    pub grace: Duration,
    /// Open client connections at most; more are closed as soon as they are accepted.
    pub max_connections: usize,
}

type Builder = Arc<auto::Builder<TokioExecutor>>;

/// A plain or TLS connection: both are served the same way.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(64 * 1024)
        .max_concurrent_streams(100);
    let builder: Builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut full = false;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        // Dropping the stream closes it: the client learns at once, nothing queues.
                        if !std::mem::replace(&mut full, true) {
                            tracing::warn!(max = limits.max_connections, "connection limit reached; closing new connections");
                        }
                        continue;
                    };
                    full = false;
                    let task = Connection { peer, router: router.clone(), builder: builder.clone(), tls: tls.clone(), limits, slot };
                    tokio::spawn(task.serve(stream, graceful.watcher()));
                }
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no longer accepting; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.grace) => tracing::warn!("grace period over; closing remaining connections"),
    }
}

/// One accepted connection and what serving it needs; it holds its slot until it ends.
struct Connection {
    peer: SocketAddr,
    router: Router,
    builder: Builder,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn serve(self, stream: TcpStream, watcher: Watcher) {
        let Connection {
            peer,
            router,
            builder,
            tls,
            limits,
            slot,
        } = self;
        let _ = stream.set_nodelay(true);
        // Hyper's header timeout only starts once a first byte arrives; this one starts now.
        let deadline = tokio::time::Instant::now() + limits.header;
        let first_request = Arc::new(Notify::new());
        let arrived = first_request.clone();
        let service = TowerToHyperService::new(router.map_request(
            move |mut request: axum::http::Request<Incoming>| {
                arrived.notify_one();
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let secure = tls.is_some();
        let Ok(Some(io)) = tokio::time::timeout_at(deadline, handshake(stream, peer, tls)).await
        else {
            tracing::debug!(%peer, "TLS handshake failed or timed out");
            return;
        };
        let io = EarlyErrors::new(io, secure);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        let connection = watcher.watch(connection.into_owned());
        tokio::pin!(connection);
        let result = tokio::select! {
            result = &mut connection => result,
            () = first_request.notified() => connection.await,
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(%peer, "no request within the header timeout; closing");
                return;
            }
        };
        if let Err(error) = result {
            tracing::debug!(%peer, error = %error, "connection ended with an error");
        }
        drop(slot);
    }
}

/// The connection's byte stream: the TCP stream itself, or the TLS session over it.
async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> Option<Box<dyn Io>> {
    match tls {
        None => Some(Box::new(stream)),
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => Some(Box::new(stream)),
            Err(error) => {
                tracing::debug!(%peer, %error, "TLS handshake failed");
                None
            }
        },
    }
}
