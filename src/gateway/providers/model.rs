//! The values of provider keys: what an administrator sets, what a listing shows, and the
//! [`Upstream`] the proxy sends a call to; the pure checks on each input.
//!
//! Invariant: the API key is a [`SecretString`] in every type here and never part of a listing;
//! a listing shows only [`key_hint`]'s few last characters. Every check's message names the field
//! and the rule, never the value.

use serde::Serialize;
use url::Url;

use crate::domain::time::Timestamp;
use crate::domain::ProviderKeyId;
use crate::error::FieldError;
use crate::gateway::Provider;
use crate::secret::SecretString;

/// Longest API key accepted (providers' keys are well under 200 characters).
pub const MAX_API_KEY_CHARS: usize = 512;
/// Most model names one key may be limited to.
pub const MAX_ALLOWED_MODELS: usize = 200;
/// Longest model name accepted.
pub const MAX_MODEL_CHARS: usize = 128;
/// Longest label accepted.
pub const MAX_LABEL_CHARS: usize = 100;
/// Longest base URL accepted.
pub const MAX_BASE_URL_CHARS: usize = 2048;

/// Where a provider's public API lives: the gateway appends the call's path (`/v1/...`).
pub fn default_base_url(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => "https://api.openai.com/",
        Provider::Anthropic => "https://api.anthropic.com/",
    }
}

/// A stored provider key as responses show it: never the key, only its hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = LlmProviderKey)]
pub struct ProviderKey {
    pub id: ProviderKeyId,
    pub provider: Provider,
    pub label: Option<String>,
    /// The URL calls are sent to: the one set, or the provider's public API.
    pub base_url: String,
    /// Whether `base_url` was set explicitly (otherwise it is the provider's default).
    pub custom_base_url: bool,
    /// The only models callers may use with this key; `null` for every model.
    pub allowed_models: Option<Vec<String>>,
    /// The key's last characters, e.g. `…abcd`.
    pub key_hint: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The principal who set the key.
    pub created_by: String,
}

/// A key to set, checked: what [`super::Providers::set`] seals and stores.
#[derive(Debug)]
pub struct NewProviderKey {
    pub provider: Provider,
    pub label: Option<String>,
    pub api_key: SecretString,
    /// `None`: the provider's public API.
    pub base_url: Option<Url>,
    /// `None`: every model.
    pub allowed_models: Option<Vec<String>>,
}

/// Where the proxy sends a tenant's call, and with which key.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub base_url: Url,
    pub api_key: SecretString,
    /// `None`: every model.
    pub allowed_models: Option<Vec<String>>,
}

impl Upstream {
    /// Whether this key may be used for `model` (exact names; no list allows every model).
    pub fn allows(&self, model: &str) -> bool {
        self.allowed_models
            .as_ref()
            .is_none_or(|models| models.iter().any(|m| m == model))
    }
}

/// What a listing shows of `api_key`: `…` and its last four characters, fewer for a short key
/// (never more than a quarter of it).
pub fn key_hint(api_key: &str) -> String {
    let chars: Vec<char> = api_key.chars().collect();
    let shown = (chars.len() / 4).min(4);
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("…{tail}")
}

/// An API key is 1 to 512 printable ASCII characters, no space.
pub fn check_api_key(api_key: &str) -> Option<FieldError> {
    let valid = !api_key.is_empty()
        && api_key.len() <= MAX_API_KEY_CHARS
        && api_key.bytes().all(|b| b.is_ascii_graphic());
    (!valid).then(|| {
        FieldError::new(
            "api_key",
            format!("must be 1 to {MAX_API_KEY_CHARS} printable ASCII characters, without spaces"),
        )
    })
}

/// A model name as providers spell them (`gpt-4o-mini`, `claude-sonnet-4-5`,
/// `ft:gpt-4o-mini:org::id`, `accounts/x/models/y`).
fn is_model_name(name: &str) -> bool {
    (1..=MAX_MODEL_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@".contains(&b))
}

/// At most 200 sane model names; every bad entry is named.
pub fn check_allowed_models(models: &[String]) -> Vec<FieldError> {
    if models.len() > MAX_ALLOWED_MODELS {
        return vec![FieldError::new(
            "allowed_models",
            format!("at most {MAX_ALLOWED_MODELS} models"),
        )];
    }
    models
        .iter()
        .enumerate()
        .filter(|(_, m)| !is_model_name(m))
        .map(|(i, _)| {
            FieldError::new(
                format!("allowed_models[{i}]"),
                format!("must be 1 to {MAX_MODEL_CHARS} letters, digits or - _ . : / @"),
            )
        })
        .collect()
}

/// The list as stored: duplicates dropped (first kept), and an empty list meaning every model.
pub fn normalize_models(models: Option<Vec<String>>) -> Option<Vec<String>> {
    let mut kept: Vec<String> = Vec::new();
    for model in models? {
        if !kept.contains(&model) {
            kept.push(model);
        }
    }
    (!kept.is_empty()).then_some(kept)
}

/// A label is up to 100 characters without control characters; blank means none.
pub fn check_label(label: &str) -> Option<FieldError> {
    let valid =
        label.trim().chars().count() <= MAX_LABEL_CHARS && !label.chars().any(char::is_control);
    (!valid).then(|| {
        FieldError::new(
            "label",
            format!("must be at most {MAX_LABEL_CHARS} characters, without control characters"),
        )
    })
}

/// A base URL's shape (the address rules are the outbound policy's): it parses, is short, has
/// no query or fragment. The message never quotes the URL.
pub fn parse_base_url(text: &str) -> Result<Url, String> {
    if text.len() > MAX_BASE_URL_CHARS {
        return Err(format!(
            "base_url is longer than {MAX_BASE_URL_CHARS} characters"
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("base_url is not a URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("base_url must not have a query or a fragment".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn default_base_urls_are_the_providers_https_origins() {
        for provider in Provider::ALL {
            let url = parse_base_url(default_base_url(*provider)).unwrap();
            assert!(crate::outbound::OutboundPolicy::STRICT.check(&url).is_ok());
        }
        assert_eq!(
            default_base_url(Provider::OpenAi),
            "https://api.openai.com/"
        );
    }

    #[test]
    fn the_hint_shows_at_most_four_last_characters_and_never_a_short_key() {
        assert_eq!(key_hint("sk-proj-0123456789abcd"), "…abcd");
        assert_eq!(key_hint("12345678"), "…78");
        assert_eq!(key_hint("abc"), "…");
    }

    #[test]
    fn api_keys_are_printable_ascii_without_spaces_and_bounded() {
        assert!(check_api_key("sk-ant-api03-AbC_d-1234").is_none());
        for bad in [
            "",
            "sk has space",
            "sk-\n",
            "sk-\t1",
            "sk-é",
            &"k".repeat(513),
        ] {
            let error = check_api_key(bad).expect("refused");
            assert_eq!(error.field, "api_key");
            assert!(bad.is_empty() || !error.message.contains(bad), "{error:?}");
        }
        assert!(check_api_key(&"k".repeat(512)).is_none());
    }

    #[test]
    fn allowed_models_are_sane_names_and_bounded() {
        let good: Vec<String> = [
            "gpt-4o-mini",
            "ft:gpt-4o-mini:acme::x1",
            "accounts/a/models/b",
        ]
        .map(String::from)
        .to_vec();
        assert!(check_allowed_models(&good).is_empty());
        let bad: Vec<String> = vec!["ok".into(), "".into(), "has space".into(), "x".repeat(129)];
        let fields: Vec<String> = check_allowed_models(&bad)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "allowed_models[1]",
                "allowed_models[2]",
                "allowed_models[3]"
            ]
        );
        let many = vec!["m".to_owned(); 201];
        assert_eq!(check_allowed_models(&many)[0].field, "allowed_models");
    }

    #[test]
    fn an_empty_model_list_means_every_model_and_duplicates_go() {
        assert_eq!(normalize_models(Some(Vec::new())), None);
        assert_eq!(normalize_models(None), None);
        assert_eq!(
            normalize_models(Some(vec!["b".into(), "a".into(), "b".into()])),
            Some(vec!["b".to_owned(), "a".to_owned()])
        );
    }

    #[test]
    fn an_upstream_allows_listed_models_only_or_all_without_a_list() {
        let mut upstream = Upstream {
            base_url: Url::parse(default_base_url(Provider::OpenAi)).unwrap(),
            api_key: SecretString::new("sk-test-1234".into()),
            allowed_models: None,
        };
        assert!(upstream.allows("gpt-4o"));
        upstream.allowed_models = Some(vec!["gpt-4o-mini".into()]);
        assert!(upstream.allows("gpt-4o-mini"));
        assert!(!upstream.allows("gpt-4o"));
        assert!(!upstream.allows("GPT-4O-MINI"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let new = NewProviderKey {
            provider: Provider::Anthropic,
            label: None,
            api_key: SecretString::new("sk-ant-very-secret-9876".into()),
            base_url: None,
            allowed_models: None,
        };
        let upstream = Upstream {
            base_url: Url::parse(default_base_url(Provider::Anthropic)).unwrap(),
            api_key: SecretString::new("sk-ant-very-secret-9876".into()),
            allowed_models: None,
        };
        for printed in [format!("{new:?}"), format!("{upstream:?}")] {
            assert!(!printed.contains("very-secret"), "{printed}");
            assert!(printed.contains("[REDACTED]"), "{printed}");
        }
    }

    #[test]
    fn base_urls_parse_without_query_or_fragment_and_are_never_quoted() {
        assert!(parse_base_url("https://llm.example.com/openai").is_ok());
        for bad in [
            "not a url sk-secret",
            "https://llm.example.com/?key=sk-secret",
            "https://llm.example.com/#sk-secret",
        ] {
            let error = parse_base_url(bad).unwrap_err();
            assert!(!error.contains("sk-secret"), "{error}");
        }
        assert!(parse_base_url(&format!("https://x.example/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn labels_are_short_and_printable() {
        assert!(check_label("Production key").is_none());
        assert!(check_label("a\u{7}b").is_some());
        assert!(check_label(&"l".repeat(101)).is_some());
    }
}
