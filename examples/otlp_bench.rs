//! The OTLP ingest benchmark's load generator, run by `bench/otlp.sh`: `--exporters` concurrent
//! exporters, each sending protobuf `ExportTraceServiceRequest`s of `--batch` GenAI spans (the
//! OpenTelemetry SDKs' default batch is 512) to `POST /v1/traces` back to back for `--seconds`,
//! every span new (distinct trace and span ids, a provider response id each), then prints one
//! `RESULT` line: spans accepted per second, requests, latency percentiles in microseconds and
//! errors by status.
//!
//! Invariant: a span counts only when its request was answered 200 without `partial_success`;
//! everything else is an error, so the figure is spans stored, not spans sent.

// A command-line benchmark: its figures go to standard output.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

#[derive(Parser)]
#[command(about = "AuditPulse OTLP ingest benchmark: concurrent exporters of GenAI spans")]
struct Cli {
    /// AuditPulse's base URL (http://127.0.0.1:PORT).
    #[arg(long)]
    target: String,
    /// The API key (`ingest:write`).
    #[arg(long, env = "BENCH_INGEST_KEY", hide_env_values = true)]
    key: String,
    /// Concurrent exporters.
    #[arg(long, default_value_t = 4)]
    exporters: usize,
    /// Spans per request.
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Seconds of load measured.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Distinguishes this run's span ids from another run's against the same database.
    #[arg(long, default_value_t = 0)]
    run: u32,
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// Request `seq` of exporter `exporter`: `batch` spans, each unique in the run.
fn request(run: u32, exporter: u32, seq: u64, batch: usize) -> Vec<u8> {
    let start = 1_796_378_400_000_000_000u64 + seq * 1_000_000;
    let spans = (0..batch)
        .map(|i| {
            let mut trace_id = [0u8; 16];
            trace_id[..4].copy_from_slice(&run.to_be_bytes());
            trace_id[4..8].copy_from_slice(&exporter.to_be_bytes());
            trace_id[8..].copy_from_slice(&seq.to_be_bytes());
            let span_id = (i as u64 + 1).to_be_bytes();
            Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id.to_vec(),
                name: "chat gpt-4o-mini".into(),
                start_time_unix_nano: start + i as u64,
                end_time_unix_nano: start + i as u64 + 850_000_000,
                attributes: vec![
                    text("gen_ai.provider.name", "openai"),
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.request.model", "gpt-4o-mini"),
                    text("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    text(
                        "gen_ai.response.id",
                        &format!("chatcmpl-{run}-{exporter}-{seq}-{i}"),
                    ),
                    int("gen_ai.usage.input_tokens", 1_200),
                    int("gen_ai.usage.cache_read.input_tokens", 256),
                    int("gen_ai.usage.output_tokens", 180),
                    text("user.id", &format!("user-{}", i % 50)),
                ],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "bench-app")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    spans: u64,
    errors: BTreeMap<String, u64>,
}

async fn exporter(cli: Arc<Cli>, id: u32, measuring: Arc<AtomicU64>, until: Instant) -> Tally {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_default();
    let url = format!("{}/v1/traces", cli.target.trim_end_matches('/'));
    let mut tally = Tally::default();
    let mut seq = 0u64;
    while Instant::now() < until {
        seq += 1;
        let body = request(cli.run, id, seq, cli.batch);
        let sent = Instant::now();
        let answer = client
            .post(&url)
            .bearer_auth(&cli.key)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await;
        let outcome = match answer {
            Ok(response) if response.status() == 200 => {
                let bytes = response.bytes().await.unwrap_or_default();
                match ExportTraceServiceResponse::decode(bytes) {
                    Ok(r) if r.partial_success.is_none() => Ok(()),
                    Ok(_) => Err("partial_success".to_owned()),
                    Err(_) => Err("undecodable answer".to_owned()),
                }
            }
            Ok(response) => Err(response.status().as_u16().to_string()),
            Err(e) => Err(if e.is_timeout() {
                "timeout"
            } else {
                "connection"
            }
            .to_owned()),
        };
        if measuring.load(Ordering::Relaxed) == 0 {
            continue;
        }
        match outcome {
            Ok(()) => {
                tally.spans += cli.batch as u64;
                tally
                    .latencies_us
                    .push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            Err(kind) => *tally.errors.entry(kind).or_default() += 1,
        }
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Arc::new(Cli::parse());
    anyhow::ensure!(
        cli.batch > 0 && cli.exporters > 0,
        "batch and exporters must be positive"
    );
    let measuring = Arc::new(AtomicU64::new(0));
    let begun = Instant::now();
    let until = begun + Duration::from_secs(cli.warmup + cli.seconds);
    let mut tasks = Vec::new();
    for id in 0..cli.exporters {
        let id = u32::try_from(id).context("too many exporters")?;
        tasks.push(tokio::spawn(exporter(
            cli.clone(),
            id,
            measuring.clone(),
            until,
        )));
    }
    tokio::time::sleep(Duration::from_secs(cli.warmup)).await;
    measuring.store(1, Ordering::Relaxed);
    let measured_from = Instant::now();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.context("an exporter panicked")?;
        all.spans += t.spans;
        all.latencies_us.extend(t.latencies_us);
        for (kind, n) in t.errors {
            *all.errors.entry(kind).or_default() += n;
        }
    }
    // The last requests may end after the deadline: count the time they took.
    let elapsed = measured_from.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let errors: Vec<String> = all.errors.iter().map(|(k, n)| format!("{k}:{n}")).collect();
    println!(
        "RESULT spans={} requests={} seconds={elapsed:.2} spans_per_s={:.0} p50_us={} p99_us={} max_us={} errors={}",
        all.spans,
        all.latencies_us.len(),
        all.spans as f64 / elapsed,
        percentile(&all.latencies_us, 50.0),
        percentile(&all.latencies_us, 99.0),
        all.latencies_us.last().copied().unwrap_or(0),
        if errors.is_empty() { "none".to_owned() } else { errors.join(",") },
    );
    Ok(())
}
