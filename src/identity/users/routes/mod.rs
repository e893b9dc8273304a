//! `/api/v1/users`: a tenant's administrators list, create, read, change and delete the accounts
//! of their own tenant (permissions `users:read`, `users:write`).
//!
//! Invariant: every storage call is scoped to the caller's tenant, so another tenant's user answers
//! 404 exactly like a missing one. An administrator cannot change their own role or active flag or
//! delete themselves (no self-escalation, no lock-out), and only a system administrator changes a
//! system administrator's account.

pub mod sessions;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Permission, Principal, Role};
use crate::domain::{time, TenantId, UserId};
use crate::error::{Error, Result};
use crate::events::SecurityEventKind;
use crate::identity::admin::{emit, is_self, own_tenant, path_id};
use crate::identity::users::create::{create_user, UserDraft};
use crate::identity::users::model::{parse_role, role_name, CreateUser, UpdateUser, UserPage};
use crate::identity::IdentityState;
use crate::identity::{TenantScope, User};
use crate::store::Scope;
use crate::web::pagination::{page_size, split_page};
use crate::web::{ClientIp, ValidJson, ValidQuery};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Return users created after this one (the previous page's `next_after`).
    after: Option<UserId>,
}

/// The tenant's users, oldest first.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = UserPage), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    params: Result<ValidQuery<ListParams>, Error>,
) -> Result<Json<UserPage>> {
    principal.require(Permission::UsersRead)?;
    let (tenant, _) = own_tenant(&scope)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let items = state
        .store
        .list_users(tenant, params.after, limit + 1)
        .await?;
    let (items, next_after) = split_page(items, limit, |u| u.id);
    Ok(Json(UserPage { items, next_after }))
}

/// Create a user in the caller's tenant.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    security(("bearer" = [])),
    responses((status = 201, body = User),
        (status = 403, body = crate::web::ErrorEnvelope),
        (status = 409, description = "e-mail already in use", body = crate::web::ErrorEnvelope),
        (status = 422, description = "invalid field; a weak password names the rule on `password`", body = crate::web::ErrorEnvelope)))]
pub async fn create(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<CreateUser>,
) -> Result<(StatusCode, Json<User>)> {
    principal.require(Permission::UsersWrite)?;
    let (tenant, _) = own_tenant(&scope)?;
    // Validated already: `role` names a tenant role.
    let role = parse_role(&body.role).ok_or_else(|| Error::BadRequest("unknown role".into()))?;
    let draft = UserDraft {
        email: body.email,
        password: body.password,
        display_name: body.display_name,
        tenant: Some(tenant),
        role: Some(role),
        system_admin: false,
    };
    let user = create_user(state.store.as_ref(), &state.passwords, draft).await?;
    let details = json!({ "role": role_name(role) });
    state.admin_action(
        &principal,
        ip,
        "user.create",
        Some(("user", user.id.to_string())),
        Some(tenant),
        details,
    );
    if role == Role::Admin {
        // A new administrator is a grant of privilege like a promotion: the monitor sees it too.
        let kind = SecurityEventKind::RoleChanged {
            user: user.id.to_string(),
            tenant: Some(tenant),
            from: None,
            to: role_name(role).to_owned(),
        };
        emit(&state, &principal, ip, kind);
    }
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    Path(id): Path<String>,
) -> Result<Json<User>> {
    principal.require(Permission::UsersRead)?;
    let (_, scope) = own_tenant(&scope)?;
    let user = find(&state, scope, &id).await?;
    Ok(Json(user))
}

/// Change a user's role, active flag or display name. Deactivating ends all their sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path, description = "user id")),
    security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = crate::web::ErrorEnvelope),
        (status = 409, description = "your own role or active flag", body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn update(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<UpdateUser>,
) -> Result<Json<User>> {
    principal.require(Permission::UsersWrite)?;
    let (tenant, scope) = own_tenant(&scope)?;
    let before = find(&state, scope, &id).await?;
    if body.changes_access() && is_self(&principal, &before.id) {
        return Err(Error::Conflict(
            "you cannot change your own role or active flag; ask another administrator".into(),
        ));
    }
    guard_system_admin(&principal, &before)?;
    let after = state
        .store
        .update_user(scope, before.id, &body.to_patch())
        .await?
        .ok_or(Error::NotFound)?;
    // Sessions read the user afresh on their next request: a new role or a deactivation applies
    // at once, not after the session cache's second.
    crate::identity::user_changed(&state.sessions, after.id);
    if before.active && !after.active {
        end_all_sessions(&state, &principal, ip, scope, &after, "user_deactivated").await?;
    }
    report_update(&state, &principal, ip, tenant, &body, &before, &after);
    Ok(Json(after))
}

/// Delete a user of the caller's tenant, with their sessions, TOTP and recovery codes.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::web::ErrorEnvelope),
        (status = 409, description = "your own account", body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::UsersWrite)?;
    let (tenant, scope) = own_tenant(&scope)?;
    let user = find(&state, scope, &id).await?;
    if is_self(&principal, &user.id) {
        return Err(Error::Conflict(
            "you cannot delete your own account; ask another administrator".into(),
        ));
    }
    guard_system_admin(&principal, &user)?;
    end_all_sessions(&state, &principal, ip, scope, &user, "user_deleted").await?;
    if !state.store.delete_user(scope, user.id).await? {
        return Err(Error::NotFound);
    }
    crate::identity::user_changed(&state.sessions, user.id);
    let details = json!({ "role": user.role.map(role_name) });
    state.admin_action(
        &principal,
        ip,
        "user.delete",
        Some(("user", user.id.to_string())),
        Some(tenant),
        details,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Audits a change: `user.update` always, `user.role_changed` (which the monitor judges for
/// privilege escalation) when the role moved.
fn report_update(
    state: &IdentityState,
    principal: &Principal,
    ip: ClientIp,
    tenant: TenantId,
    body: &UpdateUser,
    before: &User,
    after: &User,
) {
    let user = after.id.to_string();
    if before.role != after.role {
        let kind = SecurityEventKind::RoleChanged {
            user: user.clone(),
            tenant: Some(tenant),
            from: before.role.map(|r| role_name(r).to_owned()),
            to: after.role.map_or("none", role_name).to_owned(),
        };
        emit(state, principal, ip, kind);
    }
    let role = json!({"from": before.role.map(role_name), "to": after.role.map(role_name)});
    let details = json!({
        "role": body.role.as_ref().map(|_| role),
        "active": body.active,
        "display_name_changed": body.display_name.is_some(),
    });
    state.admin_action(
        principal,
        ip,
        "user.update",
        Some(("user", user)),
        Some(tenant),
        details,
    );
}

/// The user `id` names in `scope`; 404 when malformed, missing or another tenant's.
pub(super) async fn find(state: &IdentityState, scope: Scope, id: &str) -> Result<User> {
    let id: UserId = path_id(id)?;
    state
        .store
        .get_user(scope, id)
        .await?
        .ok_or(Error::NotFound)
}

/// A system administrator's account is changed only by a system administrator: a tenant
/// administrator cannot demote, deactivate, delete or sign out the platform's operator.
pub(super) fn guard_system_admin(principal: &Principal, target: &User) -> Result<()> {
    if target.system_admin && !principal.system_admin {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Ends every session of `user` and says so (`TokenRevoked`) when there were any.
pub(super) async fn end_all_sessions(
    state: &IdentityState,
    principal: &Principal,
    ip: ClientIp,
    scope: Scope,
    user: &User,
    reason: &'static str,
) -> Result<()> {
    let ended = state
        .store
        .end_user_sessions(scope, user.id, None, reason, time::now())
        .await?;
    crate::identity::sessions_ended(state, &ended);
    if !ended.is_empty() {
        let kind = SecurityEventKind::TokenRevoked {
            user: user.id.to_string(),
            tenant: user.tenant_id,
            reason,
        };
        emit(state, principal, ip, kind);
    }
    Ok(())
}
