//! The `auditpulse` command line.
//!
//! Exit codes: 0 success, 1 runtime or configuration error, 2 usage error. Errors are one line
//! each (`--verbose` adds the cause chain), never a panic backtrace.

mod budgets;
mod commands;
mod detect;
mod identity;
mod import;
mod jobs;
mod keys;
mod prices;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  auditpulse serve                     run on the embedded SQLite database in ./data
  DATABASE_URL=postgres://ap@localhost/ap auditpulse migrate
  AUDITPULSE_ENV=production auditpulse config check
  auditpulse keys rotate --reencrypt-data
  auditpulse tenant create \"Acme Corp\" --slug acme
  auditpulse user create --email jane@acme.example --tenant acme --role admin
  auditpulse jobs list --state dead
  auditpulse prices reprice --unpriced --tenant acme
  auditpulse budgets import budget-rules.yml --tenant acme

Configuration comes from environment variables and a .env file in the working directory;
see .env.example for every variable and its default.";

#[derive(Debug, Parser)]
#[command(name = "auditpulse", version, about = "Self-hosted, security-first spend audit service", after_help = EXAMPLES)]
pub struct Cli {
    /// Show the full cause of errors.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (applies pending database migrations first).
    #[command(
        after_help = "Example:\n  AUDITPULSE_LISTEN=0.0.0.0:8080 auditpulse serve\n\n\
        With no configuration it uses SQLite at ./data/auditpulse.db and generates development\n\
        secrets into ./data (mode 0600). Stops gracefully on SIGTERM or SIGINT."
    )]
    Serve,
    /// Apply database migrations and exit.
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://ap@db.internal/ap?sslmode=require auditpulse migrate\n\n\
        Refuses a database whose schema is newer than this binary."
    )]
    Migrate,
    /// Inspect the configuration.
    #[command(
        subcommand,
        after_help = "Example:\n  AUDITPULSE_ENV=production auditpulse config check"
    )]
    Config(ConfigCommand),
    /// Manage encryption keys: rotate master and tenant data keys, show which keys are in use.
    #[command(
        subcommand,
        after_help = "Examples:\n  auditpulse keys status\n  \
        AUDITPULSE_MASTER_KEYS=k2:<new key>,k1:<old key> auditpulse keys rotate --reencrypt-data"
    )]
    Keys(KeysCommand),
    /// Work with the audit trail.
    #[command(
        subcommand,
        after_help = "Example:\n  auditpulse audit verify\n\n\
        Exits 0 when the hash chain is intact, 1 naming the first event that breaks it."
    )]
    Audit(AuditCommand),
    /// Manage tenants from the command line.
    #[command(
        subcommand,
        after_help = "Example:\n  auditpulse tenant create \"Acme Corp\" --slug acme"
    )]
    Tenant(TenantCommand),
    /// Manage user accounts from the command line.
    #[command(
        subcommand,
        after_help = "Example:\n  \
        printf '%s\\n' \"$PW\" | auditpulse user create --email jo@acme.io --tenant acme --role admin"
    )]
    User(UserCommand),
    /// Inspect the background job queue.
    #[command(
        subcommand,
        after_help = "Example:\n  auditpulse jobs list --state failed --kind plaid.sync"
    )]
    Jobs(JobsCommand),
    /// Import a bank file (OFX, QFX or CSV) into a ledger account, all or nothing.
    #[command(
        after_help = "Examples:\n  auditpulse import statement.ofx --tenant acme --account 0190a1b2-...\n  \
        auditpulse import export.csv --tenant acme --account 0190a1b2-... --mapping first-bank\n\n\
        The format is read from the content. A file with any unreadable row is refused whole,\n\
        every bad row listed (line, column, reason); nothing is stored. Importing the same file\n\
        again adds nothing and says how many transactions were already there. Files over\n\
        AUDITPULSE_IMPORT_MAX_BYTES (20 MiB) or AUDITPULSE_IMPORT_MAX_ROWS rows are refused.\n\
        Shows a progress bar on a terminal. Recorded in the audit trail (actor system)."
    )]
    Import(import::ImportArgs),
    /// Detection: back-fill risk scores, retrain the isolation forest.
    #[command(subcommand)]
    Detect(detect::DetectCommand),
    /// The LLM price catalog: import a newer one, list it, reprice unpriced calls.
    #[command(subcommand)]
    Prices(prices::PricesCommand),
    /// Budgets: import the seed's `budget_rules:` YAML, list a tenant's budgets.
    #[command(subcommand)]
    Budgets(budgets::BudgetsCommand),
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first, as a table: id, kind, state, attempts, next run, tenant, last error.
    #[command(
        after_help = "Examples:\n  auditpulse jobs list\n  auditpulse jobs list --state dead --kind plaid.sync --limit 20\n\n\
        States: queued, running, succeeded, failed (retried at its next run), dead (out of\n\
        attempts). Reads every tenant's jobs; needs a database at the current schema."
    )]
    List {
        /// Only jobs in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<crate::jobs::JobState>,
        /// Only jobs of this kind.
        #[arg(long)]
        kind: Option<String>,
        /// At most this many jobs (1 to 1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}

fn parse_state(s: &str) -> Result<crate::jobs::JobState, String> {
    crate::jobs::JobState::parse(s)
        .ok_or_else(|| "expected queued, running, succeeded, failed or dead".to_owned())
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its slug and id.
    #[command(
        after_help = "Example:\n  auditpulse tenant create \"Acme Corp\" --slug acme\n\n\
        Prints `created tenant acme with id <uuid>`. The slug is derived from the name when\n\
        --slug is left out; a slug already in use, or the reserved `system`, is refused.\n\
        Recorded in the audit trail (actor system). Needs a database at the current schema\n\
        (`auditpulse migrate`)."
    )]
    Create {
        /// Display name, 1 to 200 characters.
        name: String,
        /// 2 to 63 lowercase letters, digits and hyphens.
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user: a tenant member (--tenant and --role), a global system administrator
    /// (--system-admin), or both at once (a tenant member who also administers the platform).
    #[command(
        group(clap::ArgGroup::new("kind").args(["tenant", "system_admin"]).required(true).multiple(true)),
        after_help = "Examples:\n  \
        printf '%s\\n' \"$PW\" | auditpulse user create --email jo@acme.io --tenant acme --role admin\n  \
        auditpulse user create --email ops@example.com --system-admin\n  \
        auditpulse user create --email root@acme.example --tenant acme --role admin --system-admin\n\n\
        The password is read from standard input (its first line) when that is not a terminal,\n\
        otherwise asked for twice without echo. It must be 12 to 128 characters, not a common\n\
        password, not one character or a short group repeated, and not contain the e-mail's\n\
        name. --system-admin alone makes a global system administrator without a tenant.\n\
        Recorded in the audit trail (actor system)."
    )]
    Create {
        /// The login e-mail, unique across the installation.
        #[arg(long)]
        email: String,
        /// The tenant's slug (or id); needs --role.
        #[arg(long, requires = "role")]
        tenant: Option<String>,
        /// The role in the tenant; needs --tenant.
        #[arg(long, value_enum, requires = "tenant")]
        role: Option<RoleArg>,
        /// Also (or, without --tenant, only) a system administrator: manages tenants, reads every
        /// tenant's audit trail and security alerts.
        #[arg(long)]
        system_admin: bool,
        /// A name to show instead of the e-mail.
        #[arg(long)]
        display_name: Option<String>,
    },
}

/// A tenant role as the command line spells it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Auditor,
    Viewer,
}

impl RoleArg {
    pub fn role(self) -> crate::auth::Role {
        match self {
            RoleArg::Admin => crate::auth::Role::Admin,
            RoleArg::Auditor => crate::auth::Role::Auditor,
            RoleArg::Viewer => crate::auth::Role::Viewer,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-wrap every tenant data key under the active (first) master key. Online, idempotent and
    /// resumable: run it again after an interruption.
    #[command(
        after_help = "Example:\n  AUDITPULSE_MASTER_KEYS=k2:<new key>,k1:<old key> auditpulse keys rotate\n\n\
        Then `auditpulse keys status` shows k1 wrapping 0 keys, and k1 can be removed from\n\
        AUDITPULSE_MASTER_KEYS. The server may keep running meanwhile."
    )]
    Rotate {
        /// Also give every tenant a new data key and re-encrypt its fields in batches.
        #[arg(long)]
        reencrypt_data: bool,
    },
    /// Show which master keys are in use and how many tenant keys and fields each protects.
    #[command(after_help = "Example:\n  auditpulse keys status")]
    Status,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit trail's hash chain (and its newest retention checkpoint).
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://ap@db.internal/ap?sslmode=require auditpulse audit verify\n\n\
        Exits 0 when the chain is intact, printing how many events were checked. Exits 1 naming the\n\
        first event whose content, order or deletion breaks the chain. Checkpoints left by retention\n\
        are trusted only when their signature checks under AUDITPULSE_MASTER_KEYS."
    )]
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    #[command(
        after_help = "Example:\n  AUDITPULSE_ENV=production auditpulse config check\n\n\
        Exits 1 with one line per problem when any value is invalid or, in production, unsafe."
    )]
    Check,
}

/// A command's failure: one or more lines for the user, and the cause chain for `--verbose`.
#[derive(Debug)]
pub struct Failure {
    pub lines: Vec<String>,
    pub causes: Option<String>,
}

impl From<crate::Error> for Failure {
    fn from(error: crate::Error) -> Self {
        Failure {
            lines: vec![error.to_string()],
            causes: Some(crate::error::cause_chain(&error)),
        }
    }
}

pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (please report it): {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(commands::run(&cli.command, &mut stdout)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = stdout.flush();
            for line in &failure.lines {
                eprintln!("error: {line}");
            }
            if cli.verbose {
                if let Some(causes) = failure.causes {
                    eprintln!("cause: {causes}");
                }
            }
            ExitCode::from(1)
        }
    }
}
