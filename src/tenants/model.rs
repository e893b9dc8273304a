//! Tenant values and the validation of a new tenant. Pure, no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{time::Timestamp, TenantId};
use crate::error::FieldError;
use crate::web::Validate;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tenant {
    pub id: TenantId,
    /// Short unique name used in URLs and the CLI, e.g. `acme-corp`.
    pub slug: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenant {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1)]
    pub name: String,
    /// 2 to 63 lowercase letters, digits and hyphens; derived from the name when omitted.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")]
    pub slug: Option<String>,
}

/// A validated tenant, ready to store.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantPage {
    pub items: Vec<Tenant>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<TenantId>,
}

impl Validate for CreateTenant {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be 1 to 200 characters"));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        match &self.slug {
            Some(slug) => {
                if let Err(message) = check_slug(slug) {
                    errors.push(FieldError::new("slug", message));
                }
            }
            None if !name.is_empty() && check_slug(&slugify(name)).is_err() => {
                let derived = slugify(name);
                let message = if is_reserved(&derived) {
                    RESERVED_DERIVED
                } else {
                    "cannot be derived from this name; give one"
                };
                errors.push(FieldError::new("slug", message));
            }
            None => {}
        }
        errors
    }
}

impl CreateTenant {
    /// The tenant to store; call after `validate` found nothing.
    pub fn into_new(self) -> NewTenant {
        let name = self.name.trim().to_owned();
        let slug = self.slug.unwrap_or_else(|| slugify(&name));
        NewTenant { name, slug }
    }
}

/// Slugs the service keeps for itself: `system` is the reserved tenant of global administrators.
const RESERVED_SLUGS: &[&str] = &["system"];
const RESERVED: &str = "is reserved; choose another slug";
const RESERVED_DERIVED: &str =
    "the slug derived from this name (`system`) is reserved; choose another name or slug";

fn is_reserved(slug: &str) -> bool {
    RESERVED_SLUGS.contains(&slug)
}

pub fn check_slug(slug: &str) -> Result<(), &'static str> {
    let valid_chars = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !(2..=63).contains(&slug.len())
        || !valid_chars
        || slug.starts_with('-')
        || slug.ends_with('-')
    {
        return Err("must be 2 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen");
    }
    if is_reserved(slug) {
        return Err(RESERVED);
    }
    Ok(())
}

/// `Acme Corp. (EU)` → `acme-corp-eu`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.truncate(63);
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(name: &str, slug: Option<&str>) -> CreateTenant {
        CreateTenant {
            name: name.into(),
            slug: slug.map(Into::into),
        }
    }

    #[test]
    fn slugs_are_derived_from_names() {
        assert_eq!(slugify("Acme Corp. (EU)"), "acme-corp-eu");
        assert_eq!(create("  Acme  ", None).into_new().slug, "acme");
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let errors = create("", Some("Bad_Slug")).validate();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "slug"]);
        assert_eq!(create("日本", None).validate()[0].field, "slug");
        assert!(create("Acme", Some("acme-1")).validate().is_empty());
        assert!(!create("x\u{7}y", None).validate().is_empty());
    }

    #[test]
    fn the_system_slug_is_reserved_not_taken() {
        let given = create("Anything", Some("system")).validate();
        assert_eq!(given[0].field, "slug");
        assert!(given[0].message.contains("reserved"), "{given:?}");
        let derived = create("System", None).validate();
        assert_eq!(derived[0].field, "slug");
        assert!(derived[0].message.contains("reserved"), "{derived:?}");
        assert!(create("System Two", None).validate().is_empty());
    }
}
