//! The session lifecycle: starting one at login, judging whether one is still alive, and telling
//! the cache and the audit trail when sessions end.
//!
//! Invariant: a session is alive only while it has not ended, has been active within the idle
//! timeout, is before its absolute end, and its user is active. Whoever ends sessions evicts them
//! from the cache through [`ended`], so this process refuses their tokens at once.

use std::time::Duration;

use axum::http::HeaderValue;

use crate::domain::time::{self, Timestamp};
use crate::domain::SessionId;
use crate::error::Result;
use crate::events::SecurityEventKind;
use crate::identity::sessions::cookie::{self, RefreshToken};
use crate::identity::sessions::tokens::{self, TokenBody};
use crate::identity::IdentityState;
use crate::identity::{NewSession, SessionState, User};
use crate::web::ClientIp;

/// Why a session no longer authenticates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    Ended,
    Idle,
    Expired,
    UserInactive,
}

impl Dead {
    /// The end reason stored and audited when this process ends the session for it.
    pub fn reason(self) -> &'static str {
        match self {
            Dead::Ended => "ended",
            Dead::Idle => "idle_timeout",
            Dead::Expired => "expired",
            Dead::UserInactive => "user_inactive",
        }
    }
}

/// Whether the session is alive at `now`, judged with `last_seen` as its last activity. Pure.
pub fn check_live(
    state: &SessionState,
    last_seen: Timestamp,
    now: Timestamp,
    idle: Duration,
) -> Result<(), Dead> {
    let session = &state.session;
    if session.ended_at.is_some() {
        return Err(Dead::Ended);
    }
    if now >= session.expires_at {
        return Err(Dead::Expired);
    }
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    if now - last_seen > idle {
        return Err(Dead::Idle);
    }
    if !state.user.active || session.user_id != state.user.id {
        return Err(Dead::UserInactive);
    }
    Ok(())
}

/// How often activity is written to `last_seen_at`: every 30 seconds, more often for short idle
/// timeouts so the recorded activity never lags by more than a tenth of the timeout.
pub fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(30))
}

/// Live sessions a user may hold; a login beyond this ends the oldest ones, so repeated logins
/// cannot grow a user's session list (and every listing of it) without bound.
pub const MAX_SESSIONS_PER_USER: usize = 50;

/// A new session's access token and refresh cookie.
pub struct Started {
    pub body: TokenBody,
    pub cookie: HeaderValue,
    pub session: SessionId,
}

/// Starts a session for `user` (who has just proved who they are).
pub async fn start(
    state: &IdentityState,
    user: &User,
    ip: ClientIp,
    user_agent: Option<String>,
) -> Result<Started> {
    let config = &state.config.sessions;
    let now = time::now();
    let lifetime = chrono::Duration::from_std(config.max_lifetime)
        .map_err(|e| anyhow::anyhow!("session lifetime out of range: {e}"))?;
    let session = NewSession {
        id: SessionId::new(),
        user_id: user.id,
        tenant_id: user.tenant_id,
        created_at: now,
        expires_at: now + lifetime,
        ip: Some(ip.0.to_string()),
        user_agent,
    };
    let refresh = RefreshToken::generate(session.id);
    state
        .store
        .insert_session(&session, &refresh.hash())
        .await?;
    end_beyond_limit(state, user, ip, now).await?;
    let body = tokens::issue(
        &state.tokens,
        user,
        session.id,
        session.expires_at,
        now,
        config.access_token_ttl,
    )?;
    Ok(Started {
        body,
        cookie: cookie::set(&state.config, &refresh, config.max_lifetime),
        session: session.id,
    })
}

/// Ends the user's oldest sessions beyond [`MAX_SESSIONS_PER_USER`] (reason `session_limit`).
async fn end_beyond_limit(
    state: &IdentityState,
    user: &User,
    ip: ClientIp,
    now: Timestamp,
) -> Result<()> {
    let scope = crate::identity::login::second_factor::user_scope(user);
    // Newest first: whatever comes after the first MAX_SESSIONS_PER_USER is the oldest.
    let live = state.store.list_sessions(scope, user.id).await?;
    let mut ended_ids = Vec::new();
    for old in live.iter().skip(MAX_SESSIONS_PER_USER) {
        if state
            .store
            .end_session(scope, user.id, old.id, "session_limit", now)
            .await?
        {
            ended_ids.push(old.id);
        }
    }
    if !ended_ids.is_empty() {
        ended(state, &ended_ids);
        let principal = Some(user.id.to_string());
        revoked(
            state,
            ip,
            principal,
            "/api/v1/auth/login",
            user,
            "session_limit",
        );
    }
    Ok(())
}

/// Sessions ended elsewhere in this process: evicted from the cache so their access tokens are
/// refused from the next request on.
pub fn ended(state: &IdentityState, ids: &[SessionId]) {
    state.sessions.evict(ids);
}

/// Reports sessions of `user` ended before their time, and why.
pub fn revoked(
    state: &IdentityState,
    ip: ClientIp,
    principal: Option<String>,
    route: &'static str,
    user: &User,
    reason: &'static str,
) {
    crate::identity::request::emit(
        state,
        ip,
        principal,
        route,
        SecurityEventKind::TokenRevoked {
            user: user.id.to_string(),
            tenant: user.tenant_id,
            reason,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::identity::Session;

    fn state(now: Timestamp) -> SessionState {
        let user = User {
            id: UserId::new(),
            email: "a@example.com".into(),
            display_name: None,
            tenant_id: None,
            role: None,
            system_admin: true,
            active: true,
            totp_enabled: false,
            created_at: now,
            last_login_at: None,
        };
        SessionState {
            session: Session {
                id: SessionId::new(),
                user_id: user.id,
                tenant_id: None,
                created_at: now,
                last_seen_at: now,
                expires_at: now + chrono::Duration::hours(1),
                ended_at: None,
                ip: None,
                user_agent: None,
            },
            user,
            tenant_requires_totp: false,
        }
    }

    #[test]
    fn a_session_dies_when_ended_idle_expired_or_its_user_is_inactive() {
        let now = time::now();
        let idle = Duration::from_secs(60);
        let live = state(now);
        assert_eq!(check_live(&live, now, now, idle), Ok(()));
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(check_live(&live, now, later, idle), Err(Dead::Idle));
        assert_eq!(check_live(&live, later, later, idle), Ok(()));
        let mut ended = live.clone();
        ended.session.ended_at = Some(now);
        assert_eq!(check_live(&ended, now, now, idle), Err(Dead::Ended));
        let end = live.session.expires_at;
        assert_eq!(check_live(&live, end, end, idle), Err(Dead::Expired));
        let mut inactive = live.clone();
        inactive.user.active = false;
        assert_eq!(
            check_live(&inactive, now, now, idle),
            Err(Dead::UserInactive)
        );
    }

    #[test]
    fn activity_is_recorded_often_enough_for_the_idle_timeout() {
        assert_eq!(
            touch_interval(Duration::from_secs(1800)),
            Duration::from_secs(30)
        );
        assert_eq!(
            touch_interval(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
    }
}
