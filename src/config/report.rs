//! The effective configuration as `config check` prints it: every variable, its value and where
//! it came from, with every secret redacted.

use super::{vars, Config, Sources};
use crate::secret::REDACTED;

pub fn report(config: &Config, sources: &Sources) -> Vec<String> {
    vars::ALL
        .iter()
        .map(|var| {
            let origin = sources.get(var.name).map(|(_, o)| o.to_string()).unwrap_or_else(|| "default".to_owned());
            let value = match var.name {
                vars::DATABASE_URL => config.database_url.to_string(),
                vars::DATA_DIR => config.data_dir.display().to_string(),
                vars::LOG_LEVEL => config.log_level.clone(),
                vars::MASTER_KEYS => match &config.master_keys {
                    Some(keys) => {
                        let origin = keys.origin.to_string();
                        return format!("{}={REDACTED} (key ids: {}; active: {})  [{origin}]", var.name, keys.value.ids().join(", "), keys.value.active().id);
                    }
                    None => return format!("{}=(unset; a development key will be generated in the data dir on first start)  [default]", var.name),
                },
                _ if var.secret => REDACTED.to_owned(),
                _ => sources.get(var.name).map(|(v, _)| v.to_owned()).unwrap_or_else(|| var.default.to_owned()),
            };
            format!("{}={value}  [{origin}]", var.name)
        })
        .collect()
}
