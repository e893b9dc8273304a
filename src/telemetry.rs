//! Logging setup. Logs go to standard error (standard output is for command output): JSON lines
//! in production, compact readable lines in development, level from `LOG_LEVEL`.
//!
//! Invariant: every line passes through `mask::scrub` before it is written, whatever a call site
//! put into it.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::Config;
use crate::mask::ScrubbingWriter;

/// Libraries whose debug output is noise (and could include wire detail) unless asked for by name.
const QUIET: &[&str] = &[
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
    "tower=info",
    "sqlx=warn",
];

/// The filter for a `LOG_LEVEL` value: a bare level keeps noisy libraries quiet.
pub fn filter(level: &str) -> Result<EnvFilter, String> {
    let bare =
        ["error", "warn", "info", "debug", "trace"].contains(&level.to_ascii_lowercase().as_str());
    let directives = if bare {
        format!("{level},{}", QUIET.join(","))
    } else {
        level.to_owned()
    };
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e| format!("LOG_LEVEL: {e}"))
}

fn format_layer<S, W>(json: bool, ansi: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let writer = ScrubbingWriter(writer);
    if json {
        fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed()
    } else {
        fmt::layer()
            .compact()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed()
    }
}

/// The whole logging stack writing to `writer`: what `init` installs, and what tests inspect.
pub fn subscriber<W>(
    level: &str,
    json: bool,
    writer: W,
) -> Result<impl Subscriber + Send + Sync, String>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let ansi = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    Ok(tracing_subscriber::registry()
        .with(filter(level)?)
        .with(format_layer(json, ansi, writer)))
}

pub fn init(config: &Config) -> Result<(), String> {
    subscriber(&config.log_level, config.is_production(), std::io::stderr)?
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    const SECRETS: &[&str] = &[
        "abcdefgh12345678",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "sk-ant-api03-AbCdEfGh12345678",
        "sk-proj-AbCdEfGhIjKlMnOpQrSt",
        "s3cr3tS3cr3tS3cr3t",
        "4111 1111 1111 1111",
        "4111111111111111",
    ];

    fn log_secrets_through_the_real_stack(json: bool) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = subscriber("info", json, move || writer.clone()).unwrap();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", authorization = "Bearer abcdefgh12345678");
            let _entered = span.enter();
            tracing::info!(
                token = SECRETS[1],
                "provider key {} and {}",
                SECRETS[2],
                SECRETS[3]
            );
            tracing::warn!(
                key = "ap_7Kq2mXab_s3cr3tS3cr3tS3cr3t",
                card = SECRETS[5],
                "card {}",
                SECRETS[6]
            );
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("ap_7Kq2mXab_[REDACTED]") && text.contains("provider key"),
            "{text}"
        );
        text
    }

    #[test]
    fn secrets_never_reach_development_logs() {
        let text = log_secrets_through_the_real_stack(false);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
        }
    }

    #[test]
    fn secrets_never_reach_production_json_logs() {
        let text = log_secrets_through_the_real_stack(true);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("scrubbing broke JSON ({e}): {line}"));
        }
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
        }
    }
}
