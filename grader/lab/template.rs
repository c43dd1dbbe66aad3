//! `{{name}}` variables in lab files: finding them (for validation) and filling them in.

use std::collections::BTreeMap;

/// The variable names `text` refers to, in order, or the error for an unclosed `{{`.
pub fn references(text: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
        let name = after[..end].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{{{}}}}}` is not a variable name; use letters, digits and `_`", &after[..end]));
        }
        names.push(name);
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// `text` with every `{{name}}` replaced by its value.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
        let name = after[..end].trim();
        let value = vars.get(name).ok_or_else(|| format!("unknown variable `{name}`"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Fills in every string inside a JSON value, which is how a check kind's parameters are
/// rendered without each kind knowing about templates.
pub fn render_json(value: &mut serde_json::Value, vars: &BTreeMap<String, String>) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) => *s = render(s, vars)?,
        serde_json::Value::Array(items) => {
            for item in items {
                render_json(item, vars)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                render_json(item, vars)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every string inside a JSON value, for validation.
pub fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("cluster".to_string(), "fargate-course".to_string())].into()
    }

    #[test]
    fn renders_known_variables() {
        assert_eq!(render("c={{cluster}} {{ cluster }}", &vars()).unwrap(), "c=fargate-course fargate-course");
        assert_eq!(render("no vars", &vars()).unwrap(), "no vars");
    }

    #[test]
    fn rejects_unknown_and_unclosed() {
        assert_eq!(render("{{nope}}", &vars()).unwrap_err(), "unknown variable `nope`");
        assert!(render("{{cluster", &vars()).unwrap_err().contains("without a closing"));
        assert!(references("{{a b}}").is_err());
        assert_eq!(references("{{a}}-{{b}}").unwrap(), vec!["a", "b"]);
    }
}
