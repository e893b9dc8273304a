//! Identity fixtures: tenants and users made straight through the store, logins over HTTP, and
//! the session helpers (refresh, logout-style posts and deletes) tests use with them.

use auditpulse::auth::Role;
use auditpulse::domain::{time, TenantId, UserId};
use auditpulse::identity::{NewUser, User};
use auditpulse::secret::SecretString;
use auditpulse::tenants::NewTenant;

use super::TestApp;

/// A password that meets the policy, for test users.
pub const PASSWORD: &str = "correct horse battery staple";

/// What a successful login hands back.
#[derive(Debug, Clone)]
pub struct Login {
    pub access_token: String,
    /// `name=value` of the refresh cookie, ready for a `Cookie` header.
    pub refresh_cookie: String,
}

/// The `name=value` part of a response's `Set-Cookie`, if it sets one.
pub fn set_cookie(response: &reqwest::Response) -> Option<String> {
    let header = response.headers().get("set-cookie")?.to_str().ok()?;
    Some(header.split(';').next()?.trim().to_owned())
}

impl TestApp {
    /// A tenant, straight through the store.
    pub async fn create_tenant(&self, slug: &str) -> TenantId {
        let tenant = NewTenant {
            name: slug.to_owned(),
            slug: slug.to_owned(),
        };
        self.state.store.create_tenant(&tenant).await.unwrap().id
    }

    /// A user with `password` (hashed like the service does), straight through the store.
    pub async fn create_user(
        &self,
        tenant: Option<TenantId>,
        email: &str,
        password: &str,
        role: Option<Role>,
        system_admin: bool,
    ) -> User {
        let hash = self
            .state
            .passwords
            .hash(&SecretString::new(password.to_owned()))
            .await
            .unwrap();
        let user = NewUser {
            id: UserId::new(),
            tenant_id: tenant,
            email: email.to_owned(),
            display_name: None,
            role,
            system_admin,
            password_hash: SecretString::new(hash),
            created_at: time::now(),
        };
        self.state.store.insert_user(&user).await.unwrap()
    }

    /// `POST /api/v1/auth/login` with any body.
    pub async fn login_with(&self, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Logs in, asserting it works.
    pub async fn login(&self, email: &str, password: &str) -> Login {
        let response = self
            .login_with(&serde_json::json!({"email": email, "password": password}))
            .await;
        assert_eq!(response.status(), 200, "login of {email}");
        let refresh_cookie = set_cookie(&response).expect("login sets the refresh cookie");
        let body: serde_json::Value = response.json().await.unwrap();
        Login {
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_cookie,
        }
    }

    /// A new user of `tenant` with `role` (password [`PASSWORD`]), logged in.
    pub async fn user_token(&self, tenant: TenantId, role: Role) -> (User, String) {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = self
            .create_user(Some(tenant), &email, PASSWORD, Some(role), false)
            .await;
        let login = self.login(&email, PASSWORD).await;
        (user, login.access_token)
    }

    /// `POST /api/v1/auth/refresh` with a `Cookie` header.
    pub async fn refresh(&self, cookie: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/refresh"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request sent")
    }

    /// A bodiless `POST` with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }
}
