//! Errors hyper answers by itself, before any request reaches the router: a request head it cannot
//! parse (400), a URI or header section over the limit (414, 431).
//!
//! Invariant: such an answer looks like every other API error: the JSON envelope of
//! `web::context` with a fresh request id, the security headers of `web::headers`, never a byte of
//! the rejected request. Only a write that is exactly hyper's bodiless automatic answer is
//! replaced; our own responses always carry `x-request-id` and a JSON body never holds a raw CRLF,
//! so no response of ours can be mistaken for one.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::context::{EnvelopeBody, ErrorEnvelope};
use super::headers::{DEFAULTS, HSTS};
use crate::error::ErrorBody;

/// The statuses hyper sends on its own (`hyper::proto::h1::role::Server::on_error`).
const AUTOMATIC: &[StatusCode] = &[
    StatusCode::BAD_REQUEST,
    StatusCode::URI_TOO_LONG,
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
];

/// A connection's byte stream that rewrites hyper's automatic error answers.
pub struct EarlyErrors<T> {
    inner: T,
    tls: bool,
    /// The replacement answer and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> EarlyErrors<T> {
    pub fn new(inner: T, tls: bool) -> Self {
        Self {
            inner,
            tls,
            pending: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> EarlyErrors<T> {
    /// Writes what is left of the replacement answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` in place of hyper's answer when it is one; the replacement goes out on flush.
    fn replace(&mut self, buf: &[u8]) -> bool {
        match automatic_answer(buf) {
            Some((status, date)) => {
                self.pending = Some((answer(status, date, self.tls), 0));
                true
            }
            None => false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EarlyErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EarlyErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if self.replace(buf) {
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next()) {
            if self.replace(only) {
                return Poll::Ready(Ok(only.len()));
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The status and `date` of `buf` when it is exactly hyper's automatic answer:
/// `HTTP/1.1 431 Reason\r\nconnection: close\r\ncontent-length: 0\r\ndate: ...\r\n\r\n`.
fn automatic_answer(buf: &[u8]) -> Option<(StatusCode, &str)> {
    let text = std::str::from_utf8(buf).ok()?;
    let head = text.strip_prefix("HTTP/1.1 ")?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.get(..3)?.parse::<u16>().ok()?;
    let status = StatusCode::from_u16(status).ok()?;
    if !AUTOMATIC.contains(&status) {
        return None;
    }
    let (mut date, mut empty) = (None, false);
    for line in lines {
        match line.split_once(": ")? {
            ("connection", "close") => {}
            ("content-length", "0") => empty = true,
            ("date", value) => date = Some(value),
            _ => return None,
        }
    }
    date.filter(|_| empty).map(|date| (status, date))
}

/// The full answer: status line, security headers, request id and the JSON error envelope.
fn answer(status: StatusCode, date: &str, tls: bool) -> Vec<u8> {
    let request_id = uuid::Uuid::now_v7().simple().to_string();
    tracing::info!(%request_id, status = status.as_u16(), "request refused before routing");
    let envelope = ErrorEnvelope {
        error: EnvelopeBody {
            body: ErrorBody::for_status(status),
            request_id: request_id.clone(),
        },
    };
    let body = serde_json::to_string(&envelope)
        .unwrap_or_else(|_| "{\"error\":{\"code\":\"bad_request\"}}".to_owned());
    let mut head = format!(
        "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: application/json\r\n\
         content-length: {}\r\ndate: {date}\r\nx-request-id: {request_id}\r\n",
        body.len()
    );
    for (name, value) in DEFAULTS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if tls {
        head.push_str(&format!("strict-transport-security: {HSTS}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    head.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
        content-length: 0\r\ndate: Tue, 01 Dec 2026 22:25:17 GMT\r\n\r\n";

    #[test]
    fn only_hyper_s_bodiless_automatic_answers_are_recognised() {
        assert_eq!(
            automatic_answer(HYPER_431),
            Some((
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Tue, 01 Dec 2026 22:25:17 GMT"
            ))
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: 1\r\n\
            date: Tue, 01 Dec 2026 22:25:17 GMT\r\n\r\n";
        assert_eq!(automatic_answer(ours), None);
        let with_body = [HYPER_431, b"{}"].concat();
        assert_eq!(automatic_answer(&with_body), None);
        let not_automatic = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\
            date: Tue, 01 Dec 2026 22:25:17 GMT\r\n\r\n";
        assert_eq!(automatic_answer(not_automatic), None);
    }

    #[test]
    fn the_replacement_is_a_complete_json_error_with_a_request_id() {
        let text = String::from_utf8(answer(StatusCode::BAD_REQUEST, "D", true)).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
        assert!(head.contains("x-content-type-options: nosniff"));
        assert!(head.contains("strict-transport-security: "));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
        assert_eq!(body["error"]["request_id"].as_str().unwrap().len(), 32);
    }
}
