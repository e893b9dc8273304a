//! Request bodies of the user routes and their validation. Pure, no I/O.
//!
//! Invariant: a body that passes `validate` names a known tenant role (never `system_admin`), an
//! e-mail of the accepted form, and a password that meets the policy; messages never echo values.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::domain::UserId;
use crate::error::FieldError;
use crate::identity::credentials::password::check_password;
use crate::identity::{User, UserPatch};
use crate::secret::SecretString;
use crate::web::Validate;

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
const ROLE_MESSAGE: &str = "must be one of viewer, auditor, admin";

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    /// Unique across the installation (login is by e-mail), compared without regard to case.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// 12 to 128 characters, not a common password, not containing the e-mail's name.
    #[serde(deserialize_with = "secret")]
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// `viewer`, `auditor` or `admin`.
    #[schema(value_type = crate::auth::Role)]
    pub role: String,
    /// Up to 100 characters.
    pub display_name: Option<String>,
}

/// Body of `PATCH /api/v1/users/{id}`: fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateUser {
    /// `viewer`, `auditor` or `admin`.
    #[schema(value_type = Option<crate::auth::Role>)]
    pub role: Option<String>,
    /// `false` deactivates the account and ends all its sessions.
    pub active: Option<bool>,
    /// `null` clears the display name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<UserId>,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::new)
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A tenant role by name; `system_admin` is not one and can never be given through the API.
pub fn parse_role(text: &str) -> Option<Role> {
    match text {
        "viewer" => Some(Role::Viewer),
        "auditor" => Some(Role::Auditor),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Auditor => "auditor",
        Role::Admin => "admin",
    }
}

/// A plain `local@domain.tld` address: no spaces or control characters, one `@`, a dot in the
/// domain. Deliverability is not checked.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    const MESSAGE: &str = "must be an e-mail address such as jane@example.com";
    let email = email.trim();
    if email.is_empty() || email.chars().count() > MAX_EMAIL_CHARS {
        return Err("must be 3 to 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MESSAGE);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(MESSAGE);
    };
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || local.chars().count() > 64 || !domain_ok {
        return Err(MESSAGE);
    }
    Ok(())
}

/// The display name as stored (trimmed), or the rule it breaks.
pub fn check_display_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err("must be 1 to 100 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

/// Every problem with a new account's e-mail, password and display name.
pub fn check_account(email: &str, password: &str, display_name: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(message) = check_email(email) {
        errors.push(FieldError::new("email", message));
    }
    if let Err(violation) = check_password(password, email.trim()) {
        errors.push(FieldError::new("password", violation.message()));
    }
    if let Some(Err(message)) = display_name.map(check_display_name) {
        errors.push(FieldError::new("display_name", message));
    }
    errors
}

impl Validate for CreateUser {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = check_account(
            &self.email,
            self.password.expose(),
            self.display_name.as_deref(),
        );
        if parse_role(&self.role).is_none() {
            errors.push(FieldError::new("role", ROLE_MESSAGE));
        }
        errors
    }
}

impl Validate for UpdateUser {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.role.is_none() && self.active.is_none() && self.display_name.is_none() {
            errors.push(FieldError::new(
                "",
                "give at least one of role, active, display_name",
            ));
        }
        if self
            .role
            .as_deref()
            .is_some_and(|r| parse_role(r).is_none())
        {
            errors.push(FieldError::new("role", ROLE_MESSAGE));
        }
        if let Some(Some(Err(message))) = self
            .display_name
            .as_ref()
            .map(|n| n.as_deref().map(check_display_name))
        {
            errors.push(FieldError::new("display_name", message));
        }
        errors
    }
}

impl UpdateUser {
    /// The change to store; call after `validate` found nothing.
    pub fn to_patch(&self) -> UserPatch {
        UserPatch {
            role: self.role.as_deref().and_then(parse_role),
            active: self.active,
            display_name: self
                .display_name
                .as_ref()
                .map(|n| n.as_deref().and_then(|n| check_display_name(n).ok())),
        }
    }

    /// Whether the change touches what decides the account's access (role or active flag).
    pub fn changes_access(&self) -> bool {
        self.role.is_some() || self.active.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned + Validate>(body: &[u8]) -> crate::Result<T> {
        let value: T = serde_json::from_slice(body)
            .map_err(|e| crate::Error::Validation(vec![FieldError::new("", e.to_string())]))?;
        let errors = value.validate();
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(crate::Error::Validation(errors))
        }
    }

    fn fields<T: serde::de::DeserializeOwned + Validate + std::fmt::Debug>(
        body: &str,
    ) -> Vec<String> {
        match parse::<T>(body.as_bytes()) {
            Err(crate::Error::Validation(f)) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation failure, got {other:?}"),
        }
    }

    #[test]
    fn a_new_user_reports_every_invalid_field_and_the_password_rule() {
        let got = fields::<CreateUser>(
            r#"{"email":"nope","password":"short","role":"system_admin","display_name":""}"#,
        );
        assert_eq!(got, vec!["email", "password", "display_name", "role"]);
        match parse::<CreateUser>(
            br#"{"email":"jane@example.com","password":"qwerty123456","role":"admin"}"#,
        ) {
            Err(crate::Error::Validation(f)) => {
                assert_eq!(f[0].field, "password");
                assert!(f[0].message.contains("common"), "{}", f[0].message);
                assert!(!f[0].message.contains("qwerty"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_new_user_passes_and_never_prints_its_password() {
        let body: CreateUser = parse(
            br#"{"email":" Jane@Example.com ","password":"correct horse battery","role":"auditor"}"#,
        )
        .unwrap();
        assert_eq!(parse_role(&body.role), Some(Role::Auditor));
        assert!(!format!("{body:?}").contains("horse"));
    }

    #[test]
    fn emails_of_the_usual_form_are_accepted() {
        for good in ["a@b.io", "jane.doe+x@mail.example.com"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.io", "a@.io", "a@b.io.", "a b@c.io", "a@b@c.io",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email(&format!("{}@b.io", "a".repeat(65))).is_err());
    }

    #[test]
    fn a_patch_tells_null_from_absent_and_needs_a_field() {
        let clear: UpdateUser = parse(br#"{"display_name":null}"#).unwrap();
        assert_eq!(clear.to_patch().display_name, Some(None));
        assert!(!clear.changes_access());
        let raise: UpdateUser = parse(br#"{"role":"admin","display_name":" Jo "}"#).unwrap();
        let patch = raise.to_patch();
        assert_eq!(patch.role, Some(Role::Admin));
        assert_eq!(patch.display_name, Some(Some("Jo".to_owned())));
        assert!(raise.changes_access());
        assert_eq!(fields::<UpdateUser>("{}"), vec![""]);
        assert_eq!(
            fields::<UpdateUser>(r#"{"role":"root","display_name":""}"#),
            vec!["role", "display_name"]
        );
    }
}
