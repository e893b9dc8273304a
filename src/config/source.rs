//! Where configuration values come from: the process environment, then a `.env` file in the
//! working directory. The environment always wins over `.env`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Where a value came from, shown by `config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Environment,
    DotEnv,
    Default,
    /// Generated into the data directory (development only).
    Generated,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Environment => "environment",
            Origin::DotEnv => ".env",
            Origin::Default => "default",
            Origin::Generated => "generated file",
        })
    }
}

/// The raw variables, before validation.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    vars: BTreeMap<String, (String, Origin)>,
}

impl Sources {
    /// The process environment plus `dotenv_path` if that file exists.
    pub fn from_process(dotenv_path: &Path) -> Result<Self, String> {
        let mut sources = Self::default();
        if dotenv_path.exists() {
            let entries = dotenvy::from_path_iter(dotenv_path)
                .map_err(|e| format!("cannot read {}: {e}", dotenv_path.display()))?;
            for entry in entries {
                let (key, value) =
                    entry.map_err(|e| format!("invalid line in {}: {e}", dotenv_path.display()))?;
                sources.vars.insert(key, (value, Origin::DotEnv));
            }
        }
        for (key, value) in std::env::vars_os() {
            if let (Ok(key), Ok(value)) = (key.into_string(), value.into_string()) {
                sources.vars.insert(key, (value, Origin::Environment));
            }
        }
        Ok(sources)
    }

    /// Variables given directly, as if from the environment (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), (v.into(), Origin::Environment)))
            .collect();
        Self { vars }
    }

    /// The value of `name` and its origin; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<(&str, Origin)> {
        self.vars
            .get(name)
            .filter(|(value, _)| !value.trim().is_empty())
            .map(|(value, origin)| (value.trim(), *origin))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }
}
