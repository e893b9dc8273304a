//! The open-loop load generator: requests go out on a fixed schedule whatever the answers do
//! (a 1 ms tokio interval sends every request that has come due, each in its own task), over
//! pools of HTTP/1.1 keep-alive connections, alternating between the targets so that DIRECT
//! (client to mock) and GATEWAY (client to AuditPulse to mock) share the same moments of machine
//! noise. After a warm-up that is not counted, each target gets `rate` requests per second.
//!
//! The map: `Target` (where requests go, with which key), `Plan` (rate, duration, kind), `run`
//! (the schedule), `one` (one request, timed and checked).
//!
//! Invariant: a request counts as a success only when its status is 200 and its whole answer is
//! the mock's (usage included, and `data: [DONE]` last for a stream); anything else is an error
//! of a named kind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;

use crate::stats::Stats;

/// Where one side's requests go.
pub struct Target {
    pub name: String,
    pub url: String,
    pub authorization: String,
}

/// One step of the benchmark.
pub struct Plan {
    /// Requests per second to each target.
    pub rate: u32,
    pub warmup: Duration,
    pub measure: Duration,
    pub stream: bool,
    pub timeout: Duration,
    /// Requests in flight beyond which a due request is counted as an error instead of sent.
    pub max_in_flight: usize,
}

struct Side {
    target: Target,
    client: reqwest::Client,
    stats: Mutex<Stats>,
}

fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(4096)
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .context("cannot build the HTTP client")
}

fn body(stream: bool) -> Bytes {
    let extra = if stream {
        r#","stream":true,"stream_options":{"include_usage":true}"#
    } else {
        ""
    };
    Bytes::from(format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"Say hello."}}]{extra}}}"#
    ))
}

/// Runs `plan` against `targets`; the stats of each, in order.
pub async fn run(targets: Vec<Target>, plan: &Plan) -> anyhow::Result<Vec<Stats>> {
    let mut sides = Vec::new();
    for target in targets {
        sides.push(Arc::new(Side {
            target,
            client: client()?,
            stats: Mutex::new(Stats::default()),
        }));
    }
    let body = body(plan.stream);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let per_second = f64::from(plan.rate) * sides.len() as f64;
    let total = plan.warmup + plan.measure;
    let mut interval = tokio::time::interval(Duration::from_millis(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut sent: u64 = 0;
    loop {
        interval.tick().await;
        let elapsed = start.elapsed();
        let due = (elapsed.min(total).as_secs_f64() * per_second) as u64;
        while sent < due {
            let scheduled = start + Duration::from_secs_f64(sent as f64 / per_second);
            let side = sides[(sent % sides.len() as u64) as usize].clone();
            let measured = scheduled >= start + plan.warmup;
            sent += 1;
            if in_flight.load(Ordering::Relaxed) >= plan.max_in_flight {
                if measured {
                    lock(&side.stats).error("not sent: too many in flight".into(), 0);
                }
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let in_flight = in_flight.clone();
            let body = body.clone();
            let (stream, timeout) = (plan.stream, plan.timeout);
            tokio::spawn(async move {
                let lag = micros(scheduled.elapsed());
                let outcome = tokio::time::timeout(timeout, one(&side, body, stream)).await;
                if measured {
                    let mut stats = lock(&side.stats);
                    match outcome {
                        Ok(Ok((latency, ttfb))) => stats.ok(latency, ttfb, lag),
                        Ok(Err(kind)) => stats.error(kind, lag),
                        Err(_) => stats.error("timeout".into(), lag),
                    }
                }
                in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        if elapsed >= total {
            break;
        }
    }
    // Let the last requests finish (each is bounded by its timeout).
    let drain = Instant::now();
    while in_flight.load(Ordering::Relaxed) > 0 && drain.elapsed() < plan.timeout + plan.timeout {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut out = Vec::new();
    for side in sides {
        let mut stats = std::mem::take(&mut *lock(&side.stats));
        stats.sort();
        out.push(stats);
    }
    Ok(out)
}

fn lock(stats: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// One request: (send to last byte, send to first body byte) in microseconds, or the kind of
/// error.
async fn one(side: &Side, body: Bytes, stream: bool) -> Result<(u64, u64), String> {
    let sent = Instant::now();
    let mut response = side
        .client
        .post(&side.target.url)
        .header(reqwest::header::AUTHORIZATION, &side.target.authorization)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let kind = if e.is_connect() { "connect" } else { "send" };
            format!("{kind}: {}", root_cause(&e))
        })?;
    let status = response.status();
    let mut whole = Vec::with_capacity(2048);
    let mut first = None;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "body broke off".to_owned())?
    {
        first.get_or_insert_with(|| sent.elapsed());
        if whole.len() + chunk.len() > 1 << 20 {
            return Err("answer over 1 MiB".into());
        }
        whole.extend_from_slice(&chunk);
    }
    let latency = sent.elapsed();
    if status != reqwest::StatusCode::OK {
        return Err(format!("status {}", status.as_u16()));
    }
    if !complete(&whole, stream) {
        return Err("incomplete answer".into());
    }
    Ok((micros(latency), micros(first.unwrap_or(latency))))
}

/// The innermost cause of an error (e.g. "connection reset by peer"), for the error kind.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The mock's whole answer: its usage, and for a stream `[DONE]` last.
fn complete(body: &[u8], stream: bool) -> bool {
    let has_usage = body.windows(18).any(|w| w == b"\"total_tokens\":17,");
    has_usage && (!stream || body.ends_with(b"data: [DONE]\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_only_whole() {
        let plain =
            br#"{"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"x":0}}"#;
        assert!(complete(plain, false));
        assert!(!complete(b"{}", false));
        let stream = b"data: {\"usage\":{\"total_tokens\":17,\"a\":1}}\n\ndata: [DONE]\n\n";
        assert!(complete(stream, true));
        assert!(!complete(&stream[..stream.len() - 2], true));
    }
}
