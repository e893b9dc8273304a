//! `auditpulse tenant create` and `auditpulse user create`: the operator's way to set up tenants
//! and accounts without the API (first administrators, recovery).
//!
//! Both need a database at the current schema (they never migrate it) and record what they did in
//! the audit trail with the actor `system`, like `keys rotate`. The password is read from standard
//! input when it is not a terminal, or prompted for twice without echo when it is; it is never
//! printed, logged or audited.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use super::commands::{load, start_logging};
use super::{Failure, RoleArg, TenantCommand, UserCommand};
use crate::app::{self, Store};
use crate::audit::{AuditLog, AuditSink};
use crate::config::SecretMode;
use crate::domain::TenantId;
use crate::error::{Error, FieldError};
use crate::events::{Events, SecurityEvent, SecurityEventKind};
use crate::identity::credentials::password::PasswordHasher;
use crate::identity::users::{check_account, create_user, role_name, UserDraft};
use crate::identity::SYSTEM_TENANT;
use crate::secret::SecretString;
use crate::tenants::{CreateTenant, Tenant};
use crate::web::Validate;

pub async fn tenant(command: &TenantCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let TenantCommand::Create { name, slug } = command;
    let body = CreateTenant {
        name: name.clone(),
        slug: slug.clone(),
    };
    refuse_invalid(body.validate())?;
    let store = open_store().await?;
    let result = store.create_tenant(&body.into_new()).await;
    let tenant = match result {
        Ok(tenant) => tenant,
        Err(error) => {
            store.close().await;
            return Err(error.into());
        }
    };
    let details = serde_json::json!({ "slug": tenant.slug, "name": tenant.name });
    record(
        store.clone(),
        "tenant.create",
        ("tenant", tenant.id.to_string()),
        Some(tenant.id),
        details,
    )
    .await;
    store.close().await;
    let _ = writeln!(out, "created tenant {} with id {}", tenant.slug, tenant.id);
    Ok(())
}

pub async fn user(command: &UserCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let UserCommand::Create {
        email,
        tenant,
        role,
        system_admin,
        display_name,
    } = command;
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let password = read_password()?;
    // Check the account before touching the database, so a weak password costs nothing.
    refuse_invalid(check_account(
        email,
        password.expose(),
        display_name.as_deref(),
    ))?;
    let draft = UserDraft {
        email: email.clone(),
        password,
        display_name: display_name.clone(),
        tenant: None,
        role: role.map(RoleArg::role),
        system_admin: *system_admin,
    };
    let store = connect(&loaded.config).await?;
    let result = create(store.clone(), tenant.as_deref(), draft).await;
    store.close().await;
    let user = result?;
    let what = match (user.role, user.system_admin) {
        (Some(role), true) => format!("{} and system administrator", role_name(role)),
        (Some(role), false) => role_name(role).to_owned(),
        (None, _) => "system administrator".to_owned(),
    };
    let tenant = tenant
        .as_deref()
        .map_or(String::new(), |t| format!(" of tenant {t}"));
    let _ = writeln!(
        out,
        "created user {} ({what}{tenant}) with id {}",
        user.email, user.id
    );
    Ok(())
}

async fn create(
    store: Arc<dyn Store>,
    tenant: Option<&str>,
    mut draft: UserDraft,
) -> Result<crate::identity::User, Failure> {
    if let Some(wanted) = tenant {
        draft.tenant = Some(find_tenant(store.as_ref(), wanted).await?.id);
    }
    let hasher = PasswordHasher::new(PasswordHasher::default_params(), 1)?;
    let user = create_user(store.as_ref(), &hasher, draft)
        .await
        .map_err(|e| match e {
            Error::Validation(fields) => failure(fields),
            other => other.into(),
        })?;
    let details = serde_json::json!({
        "role": user.role.map(role_name),
        "system_admin": user.system_admin,
    });
    record(
        store,
        "user.create",
        ("user", user.id.to_string()),
        user.tenant_id,
        details,
    )
    .await;
    Ok(user)
}

/// A tenant by slug (or id); never the reserved system tenant.
pub(super) async fn find_tenant(store: &dyn Store, wanted: &str) -> Result<Tenant, Failure> {
    let missing = || Failure {
        lines: vec![format!(
            "no tenant {wanted}; create it with `auditpulse tenant create`"
        )],
        causes: None,
    };
    if wanted == SYSTEM_TENANT {
        return Err(missing());
    }
    if let Ok(id) = wanted.parse::<TenantId>() {
        return store.get_tenant(id).await?.ok_or_else(missing);
    }
    crate::tenants::find_by_slug(store, wanted)
        .await?
        .ok_or_else(missing)
}

/// The password from standard input (its first line) when it is not a terminal; otherwise asked
/// for twice on the terminal without echo.
fn read_password() -> Result<SecretString, Failure> {
    let fail = |line: String| Failure {
        lines: vec![line],
        causes: None,
    };
    if !std::io::stdin().is_terminal() {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| fail(format!("cannot read the password from standard input: {e}")))?;
        let password = SecretString::new(line.trim_end_matches(['\n', '\r']).to_owned());
        if password.expose().is_empty() {
            return Err(fail("no password on standard input".into()));
        }
        return Ok(password);
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(SecretString::new)
            .map_err(|e| fail(format!("cannot read the password from the terminal: {e}")))
    };
    let first = ask("Password: ")?;
    let again = ask("Password again: ")?;
    if first.expose() != again.expose() {
        return Err(fail("the two passwords differ".into()));
    }
    Ok(first)
}

/// One line per invalid field, naming it as the command line does.
fn failure(fields: Vec<FieldError>) -> Failure {
    let lines = fields
        .into_iter()
        .map(|f| {
            let name = match f.field.as_str() {
                "email" => "--email",
                "display_name" => "--display-name",
                "slug" => "--slug",
                "name" => "NAME",
                other => other,
            };
            format!("{name} {}", f.message)
        })
        .collect();
    Failure {
        lines,
        causes: None,
    }
}

fn refuse_invalid(fields: Vec<FieldError>) -> Result<(), Failure> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(failure(fields))
    }
}

async fn open_store() -> Result<Arc<dyn Store>, Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    connect(&loaded.config).await
}

pub(super) async fn connect(config: &crate::Config) -> Result<Arc<dyn Store>, Failure> {
    let store = app::connect(&config.database_url, 2).await?;
    let status = match store.schema_status().await {
        Ok(status) => status,
        Err(error) => {
            store.close().await;
            return Err(error.into());
        }
    };
    if !status.is_current() {
        store.close().await;
        return Err(Error::Config(format!(
            "the database schema is at version {}, not {}; run `auditpulse migrate` first",
            status.applied.unwrap_or(0),
            status.latest
        ))
        .into());
    }
    Ok(store)
}

/// Puts the change in the audit trail with the actor `system`, and waits until it is committed:
/// the command's process ends right after.
pub(super) async fn record(
    store: Arc<dyn Store>,
    action: &'static str,
    target: (&'static str, String),
    tenant: Option<TenantId>,
    details: serde_json::Value,
) {
    let audit = AuditLog::start(store);
    let events = Events::new(vec![Arc::new(AuditSink::new(audit.clone()))]);
    events.emit(SecurityEvent {
        kind: SecurityEventKind::AdminAction {
            action,
            target: Some(target),
            tenant,
            details,
        },
        at: crate::domain::time::now(),
        ip: None,
        principal: None,
        route: None,
    });
    audit.shutdown().await;
}
