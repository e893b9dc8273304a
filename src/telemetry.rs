//! Logging setup. Logs go to standard error (standard output is for command output): JSON lines
//! in production, compact readable lines in development, level from `LOG_LEVEL`.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::Config;

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

pub fn init(config: &Config) -> Result<(), String> {
    let filter = filter(&config.log_level)?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = if config.is_production() {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        registry
            .with(
                fmt::layer()
                    .compact()
                    .with_target(false)
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    };
    result.map_err(|e| format!("cannot start logging: {e}"))
}
