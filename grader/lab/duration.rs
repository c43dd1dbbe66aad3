//! `wait:` durations written as `90s`, `5m` or `1m30s`.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How long a check keeps retrying until it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitFor(pub Duration);

impl WaitFor {
    /// Parses `90s`, `5m`, `1m30s`, `2h`. Bare numbers are refused, because a reader
    /// cannot tell seconds from minutes.
    pub fn parse(text: &str) -> Result<WaitFor, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration; write it like `90s`, `5m` or `1m30s`".into());
        }
        let mut total = 0u64;
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return Err(format!("`{text}` is not a duration: unknown unit `{c}`; use s, m or h, like `90s` or `5m`")),
            };
            let n: u64 = number
                .parse()
                .map_err(|_| format!("`{text}` is not a duration: a number must come before `{c}`; write it like `90s` or `5m`"))?;
            total = total.saturating_add(n.saturating_mul(unit));
            number.clear();
        }
        if !number.is_empty() {
            return Err(format!("`{text}` has no unit; write `{number}s` for seconds or `{number}m` for minutes"));
        }
        if total > 3600 {
            return Err(format!("`{text}` is longer than the 1h limit for a wait"));
        }
        Ok(WaitFor(Duration::from_secs(total)))
    }
}

impl fmt::Display for WaitFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        match (s / 60, s % 60) {
            (0, s) => write!(f, "{s}s"),
            (m, 0) => write!(f, "{m}m"),
            (m, s) => write!(f, "{m}m{s}s"),
        }
    }
}

impl<'de> Deserialize<'de> for WaitFor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WaitFor, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WaitFor;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `90s` or `5m`")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<WaitFor, E> {
                WaitFor::parse(text).map_err(E::custom)
            }
            // A bare number is refused with the same explanation as `"90"`.
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<WaitFor, E> {
                WaitFor::parse(&n.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<WaitFor, E> {
                WaitFor::parse(&n.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Serialize for WaitFor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for WaitFor {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WaitFor".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+[smh])+$",
            "description": "A duration such as `90s`, `5m` or `1m30s` (at most 1h)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_durations() {
        assert_eq!(WaitFor::parse("90s").unwrap().0, Duration::from_secs(90));
        assert_eq!(WaitFor::parse("1m30s").unwrap().to_string(), "1m30s");
        assert_eq!(WaitFor::parse("5m").unwrap().to_string(), "5m");
        assert!(WaitFor::parse("90").unwrap_err().contains("`90s`"));
        assert!(WaitFor::parse("5x").unwrap_err().contains("unknown unit"));
        assert!(WaitFor::parse("2h").unwrap_err().contains("1h limit"));
    }
}
