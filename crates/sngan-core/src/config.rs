//! Checked configuration files: a JSON file is parsed into its typed config, and every key the
//! type does not know is an error naming the key and the nearest valid one (a misspelt optional
//! key would otherwise fall back to its default without a word). Values are then checked by the
//! type's own `validate`, whose errors are [`InvalidField`]s naming the field, the value and what
//! is allowed.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A configuration value outside what its field allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value}: {allowed}")]
pub struct InvalidField {
    /// Dotted path of the field, e.g. `discriminator.StdCnn.image_size`.
    pub field: String,
    /// The value found, as written.
    pub value: String,
    /// What the field allows.
    pub allowed: String,
}

impl InvalidField {
    /// `field = value: allowed`.
    pub fn new(field: impl Into<String>, value: impl Display, allowed: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// The same error for a field inside `prefix` (`prefix.field`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

/// `Ok` when `ok`, else `field = value: allowed`.
pub fn ensure(
    ok: bool,
    field: &str,
    value: impl Display,
    allowed: &str,
) -> Result<(), InvalidField> {
    match ok {
        true => Ok(()),
        false => Err(InvalidField::new(field, value, allowed)),
    }
}

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or not the shape of the config (a missing field, a wrong type, an unknown
    /// variant); serde's message names the field and the position.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// serde's description, with line and column.
        message: String,
    },
    /// A key the config does not have.
    #[error("{path}: unknown key `{key}`; the nearest valid key is `{nearest}`")]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// The known key at that place closest to it in edit distance.
        nearest: String,
    },
    /// A value outside what its field allows.
    #[error("{path}: {error}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field, its value and what is allowed.
        #[source]
        error: InvalidField,
    },
}

impl ConfigError {
    /// A value of the config at `path` outside what its field allows.
    pub fn invalid(path: &Path, error: InvalidField) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Reads the JSON config `T` from `path`, refusing unknown keys (see the module docs).
pub fn read_config<T: Serialize + DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_config(&text, path)
}

/// [`read_config`] of text already read; `path` labels errors.
pub fn parse_config<T: Serialize + DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, ConfigError> {
    let syntax = |e: serde_json::Error| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // Deserialised from the text, not the value, so that serde's errors carry line and column.
    let config: T = serde_json::from_str(text).map_err(syntax)?;
    let found: Value = serde_json::from_str(text).map_err(syntax)?;
    let known = serde_json::to_value(&config).map_err(syntax)?;
    match unknown_key(&found, &known, "") {
        Some((key, nearest)) => Err(ConfigError::UnknownKey {
            path: path.to_path_buf(),
            key,
            nearest,
        }),
        None => Ok(config),
    }
}

/// The first key of `found` that `known` (the same config serialised back, so with every key
/// its type has) lacks, with the nearest key `known` has at that place.
fn unknown_key(found: &Value, known: &Value, prefix: &str) -> Option<(String, String)> {
    let join = |key: &str| match prefix {
        "" => key.to_string(),
        p => format!("{p}.{key}"),
    };
    match (found, known) {
        (Value::Object(f), Value::Object(k)) => {
            f.iter().find_map(|(key, value)| match k.get(key) {
                Some(known_value) => unknown_key(value, known_value, &join(key)),
                None => {
                    let nearest = k
                        .keys()
                        .min_by_key(|c| strsim::levenshtein(key, c))
                        .cloned()
                        .unwrap_or_default();
                    Some((join(key), join(&nearest)))
                }
            })
        }
        (Value::Array(f), Value::Array(k)) => f
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (f, k))| unknown_key(f, k, &join(&i.to_string()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Inner {
        eps: f64,
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Outer {
        #[serde(default)]
        sample_every: usize,
        inner: Option<Inner>,
        layers: Vec<Inner>,
    }

    #[test]
    fn unknown_keys_name_the_nearest_known_key_at_any_depth() {
        let path = Path::new("x.json");
        let ok = r#"{"sample_every": 5, "inner": {"eps": 1}, "layers": []}"#;
        assert!(parse_config::<Outer>(ok, path).is_ok());
        let cases = [
            (
                r#"{"sample_everyy": 5, "inner": null, "layers": []}"#,
                "`sample_everyy`",
                "`sample_every`",
            ),
            (
                r#"{"inner": {"epss": 1, "eps": 2}, "layers": []}"#,
                "`inner.epss`",
                "`inner.eps`",
            ),
            (
                r#"{"inner": null, "layers": [{"eps": 1}, {"eps": 1, "e": 3}]}"#,
                "`layers.1.e`",
                "`layers.1.eps`",
            ),
        ];
        for (text, key, nearest) in cases {
            let e = parse_config::<Outer>(text, path)
                .err()
                .expect("refused")
                .to_string();
            assert!(
                e.starts_with("x.json: unknown key ") && e.contains(key) && e.ends_with(nearest),
                "{e}"
            );
        }
        let e = parse_config::<Outer>(r#"{"inner": {"eps": "one"}, "layers": []}"#, path)
            .err()
            .expect("refused");
        assert!(
            matches!(e, ConfigError::Syntax { .. }) && e.to_string().contains("line 1"),
            "{e}"
        );
    }
}
