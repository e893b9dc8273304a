//! The gateway latency benchmark's two programs, run by `bench/gateway.sh`:
//! `gateway_bench mock` (a fast OpenAI-compatible upstream) and `gateway_bench load` (the
//! open-loop generator that measures DIRECT and GATEWAY side by side and prints the figures).
//!
//! The map: `mock` (the upstream), `load` (the schedule and the requests), `stats` (samples and
//! percentiles); this file parses the command line and prints the result lines.
//!
//! Invariant: the result lines (`RESULT`, `ADDED`, `ERROR`) are the script's only input; each
//! holds `key=value` fields, latencies in microseconds.

// A command-line benchmark: its figures go to standard output.
#![allow(clippy::print_stdout)]

mod load;
mod mock;
mod stats;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use stats::{percentile, Stats};

#[derive(Parser)]
#[command(about = "AuditPulse gateway latency benchmark: mock upstream and load generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the mock upstream until killed.
    Mock {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Runtime worker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// The provider key the mock accepts (`Authorization: Bearer <key>`).
        #[arg(long, env = "MOCK_LLM_KEY", hide_env_values = true)]
        key: String,
    },
    /// Send one step of load to DIRECT and GATEWAY, interleaved, and print the figures.
    Load {
        /// The mock's base URL (http://127.0.0.1:PORT).
        #[arg(long)]
        direct: String,
        /// AuditPulse's base URL.
        #[arg(long)]
        gateway: String,
        /// The provider key, sent to the mock directly.
        #[arg(long, env = "BENCH_PROVIDER_KEY", hide_env_values = true)]
        direct_key: String,
        /// The AuditPulse API key (`gateway:use`), sent to the gateway.
        #[arg(long, env = "BENCH_GATEWAY_KEY", hide_env_values = true)]
        gateway_key: String,
        /// Requests per second to EACH target.
        #[arg(long)]
        rate: u32,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 3.0)]
        warmup: f64,
        #[arg(long)]
        stream: bool,
        /// Runtime worker threads of the generator.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Per-request time limit, seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        #[arg(long, default_value_t = 20_000)]
        max_in_flight: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Mock {
            listen,
            threads,
            key,
        } => mock::serve(listen, threads, &key),
        Command::Load {
            direct,
            gateway,
            direct_key,
            gateway_key,
            rate,
            seconds,
            warmup,
            stream,
            threads,
            timeout,
            max_in_flight,
        } => {
            let targets = vec![
                target("direct", &direct, &direct_key),
                target("gateway", &gateway, &gateway_key),
            ];
            let plan = load::Plan {
                rate,
                warmup: secs(warmup, "--warmup")?,
                measure: secs(seconds, "--seconds")?,
                stream,
                timeout: secs(timeout, "--timeout")?,
                max_in_flight,
            };
            anyhow::ensure!(rate > 0, "--rate must be positive");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()
                .context("cannot start the runtime")?;
            let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
            let results = runtime.block_on(load::run(targets, &plan))?;
            report(&names, &results, &plan);
            Ok(())
        }
    }
}

fn target(name: &str, base: &str, key: &str) -> load::Target {
    load::Target {
        name: name.to_owned(),
        url: format!("{}/v1/chat/completions", base.trim_end_matches('/')),
        authorization: format!("Bearer {key}"),
    }
}

fn secs(value: f64, name: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{name} must be a duration in seconds"))
}

fn report(names: &[String], results: &[Stats], plan: &load::Plan) {
    let mode = if plan.stream { "stream" } else { "plain" };
    for (name, s) in names.iter().zip(results) {
        let ok = s.latency_us.len() as u64;
        let sent = ok + s.error_count();
        let p = |v: &[u64], q: f64| percentile(v, q);
        println!(
            "RESULT mode={mode} rate={} target={name} sent={sent} ok={ok} errors={} achieved_rps={:.0} \
             p50_us={} p90_us={} p99_us={} max_us={} ttfb_p50_us={} ttfb_p99_us={} lag_p99_us={}",
            plan.rate,
            s.error_count(),
            sent as f64 / plan.measure.as_secs_f64(),
            p(&s.latency_us, 50.0),
            p(&s.latency_us, 90.0),
            p(&s.latency_us, 99.0),
            s.latency_us.last().copied().unwrap_or(0),
            p(&s.ttfb_us, 50.0),
            p(&s.ttfb_us, 99.0),
            p(&s.lag_us, 99.0),
        );
        for (kind, count) in &s.errors {
            println!(
                "ERROR mode={mode} rate={} target={name} count={count} kind={kind:?}",
                plan.rate
            );
        }
    }
    if let [direct, gateway] = results {
        let added = |q: f64| {
            percentile(&gateway.latency_us, q) as i64 - percentile(&direct.latency_us, q) as i64
        };
        println!(
            "ADDED mode={mode} rate={} p50_us={} p90_us={} p99_us={}",
            plan.rate,
            added(50.0),
            added(90.0),
            added(99.0)
        );
    }
}
