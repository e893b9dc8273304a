//! What each command does.

use std::io::Write;
use std::path::Path;

use super::{AuditCommand, Command, ConfigCommand, Failure};
use crate::config::{self, Config, Loaded, SecretMode, Sources};
use crate::{audit, identity, telemetry, Application};

pub async fn run(command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        Command::Serve => serve().await,
        Command::Migrate => migrate(out).await,
        Command::Config(ConfigCommand::Check) => check(out),
        Command::Keys(command) => super::keys::run(command, out).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(out).await,
        Command::Tenant(command) => super::identity::tenant(command, out).await,
        Command::User(command) => super::identity::user(command, out).await,
        Command::Jobs(command) => super::jobs::run(command, out).await,
        Command::Import(args) => super::import::run(args, out).await,
        Command::Detect(command) => super::detect::run(command, out).await,
        Command::Prices(command) => super::prices::run(command, out).await,
        Command::Budgets(command) => super::budgets::run(command, out).await,
    }
}

pub(super) fn load(mode: SecretMode) -> Result<(Loaded, Sources), Failure> {
    let fail = |lines: Vec<String>| Failure {
        lines,
        causes: None,
    };
    let sources = Sources::from_process(Path::new(".env")).map_err(|e| fail(vec![e]))?;
    let loaded = Config::load(&sources, mode).map_err(fail)?;
    Ok((loaded, sources))
}

pub(super) fn start_logging(loaded: &Loaded) -> Result<(), Failure> {
    telemetry::init(&loaded.config).map_err(|e| Failure {
        lines: vec![e],
        causes: None,
    })?;
    for warning in loaded
        .warnings
        .iter()
        .chain(&config::generated_secret_warnings(&loaded.config))
    {
        tracing::warn!("{warning}");
    }
    Ok(())
}

async fn serve() -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Generate)?;
    start_logging(&loaded)?;
    let stop = crate::app::shutdown_signal().map_err(|e| Failure {
        lines: vec![format!("cannot install signal handlers: {e}")],
        causes: None,
    })?;
    let scheme = if loaded.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let environment = format!("{:?}", loaded.config.environment).to_lowercase();
    let tls = loaded.config.tls.is_some();
    let app = Application::build(loaded.config).await?;
    tracing::info!(
        address = %app.local_addr(),
        environment,
        database = app.store().backend(),
        metrics = %app.metrics_addr().map_or("off".to_owned(), |a| format!("http://{a}/metrics")),
        "AuditPulse listening on {scheme}://{}",
        app.local_addr()
    );
    announce_setup(&app, tls).await?;
    app.run_until(stop).await;
    tracing::info!("AuditPulse stopped");
    Ok(())
}

/// On first run (no user yet), prints the one-time setup URL to stderr: directly, never through
/// the logs, since it carries the setup token.
async fn announce_setup(app: &Application, tls: bool) -> Result<(), Failure> {
    let store = app.store();
    if let Some(token) = identity::setup::issue_token(store.as_ref()).await? {
        let url = identity::setup::url(app.local_addr(), tls, &token);
        eprintln!(
            "AuditPulse is not set up yet: open {} within the hour to create the first administrator",
            url.expose()
        );
    }
    Ok(())
}

async fn migrate(out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let config = &loaded.config;
    let store = crate::app::connect(&config.database_url, 1).await?;
    let result = store.migrate().await;
    let status = store.schema_status().await;
    store.close().await;
    result?;
    let status = status?;
    let _ = writeln!(
        out,
        "{} database {} is at schema version {}",
        store.backend(),
        config.database_url,
        status.applied.unwrap_or(0)
    );
    Ok(())
}

async fn audit_verify(out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let config = &loaded.config;
    let store = crate::app::connect(&config.database_url, 2).await?;
    let result = verify_store(store.as_ref(), config).await;
    store.close().await;
    match result? {
        audit::Verdict::Intact {
            events,
            checkpoint,
            last,
        } => {
            let after = checkpoint
                .map(|c| format!(", after the retention checkpoint at event {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "audit trail intact: {events} events verified, through event {last}{after}"
            );
            Ok(())
        }
        audit::Verdict::Broken { seq, reason } => Err(Failure {
            lines: vec![format!("audit trail broken at event {seq}: {reason}")],
            causes: None,
        }),
    }
}

async fn verify_store(
    store: &dyn crate::app::Store,
    config: &Config,
) -> Result<audit::Verdict, Failure> {
    let status = store.schema_status().await?;
    if !status.is_current() {
        return Err(Failure {
            lines: vec![format!(
                "the database schema is at version {}, not {}; run auditpulse migrate first",
                status.applied.unwrap_or(0),
                status.latest
            )],
            causes: None,
        });
    }
    let keys = config.master_keys.as_ref().map(|k| &k.value);
    Ok(audit::verify(store, keys).await?)
}

fn check(out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, sources) = load(SecretMode::Inspect)?;
    for line in config::report(&loaded.config, &sources) {
        let _ = writeln!(out, "{line}");
    }
    for warning in loaded
        .warnings
        .iter()
        .chain(&config::generated_secret_warnings(&loaded.config))
    {
        let _ = writeln!(out, "warning: {warning}");
    }
    let environment = format!("{:?}", loaded.config.environment).to_lowercase();
    let _ = writeln!(out, "configuration is valid ({environment})");
    Ok(())
}
