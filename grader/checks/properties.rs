//! What a `resource` check expects of a resource's properties: paths into the properties
//! (`VersioningConfiguration.Status`, `KeySchema[0].AttributeName`, `Tags[*].Key`) and, for
//! each, a value or one operator. Parsed when the lab is read, so `grader validate` reports a
//! bad path or operator with its place in the file.

use std::fmt;

use schemars::JsonSchema;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
    /// `[*]`: every element of a list.
    All,
}

/// A path into a resource's properties.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyPath {
    text: String,
    segments: Vec<Segment>,
}

impl PropertyPath {
    pub fn parse(text: &str) -> Result<PropertyPath, String> {
        let bad = |why: &str| format!("`{text}` is not a property path: {why} (write e.g. `VersioningConfiguration.Status`, `KeySchema[0].AttributeName` or `Tags[*].Key`)");
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if name.is_empty() && (segments.is_empty() || rest.is_empty()) {
                return Err(bad("a property name is empty"));
            }
            if !name.is_empty() {
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return Err(bad(&format!("`{name}` has a character other than letters, digits, `_` and `-`")));
                }
                segments.push(Segment::Key(name.to_string()));
            }
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| bad("a `[` is not closed"))?;
                let inside = &rest[1..close];
                segments.push(match inside {
                    "*" => Segment::All,
                    n => Segment::Index(n.parse().map_err(|_| bad(&format!("`[{n}]` is neither an index nor `[*]`")))?),
                });
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(bad("text follows a `]` without a `.`"));
                }
            }
        }
        Ok(PropertyPath { text: text.to_string(), segments })
    }

    /// The values at this path (several through `[*]`; none when a step is missing).
    pub fn values<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut here = vec![root];
        for segment in &self.segments {
            here = here
                .into_iter()
                .flat_map(|v| -> Vec<&'a Value> {
                    match (segment, v) {
                        (Segment::Key(k), Value::Object(map)) => map.get(k).into_iter().collect(),
                        (Segment::Index(i), Value::Array(list)) => list.get(*i).into_iter().collect(),
                        (Segment::All, Value::Array(list)) => list.iter().collect(),
                        _ => Vec::new(),
                    }
                })
                .collect();
        }
        here
    }

    fn has_wildcard(&self) -> bool {
        self.segments.contains(&Segment::All)
    }
}

impl fmt::Display for PropertyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What must be at a path: a value (equal to it), or one operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    Equals(Value),
    Exists(bool),
    AnyOf(Vec<Value>),
    /// A string holds this text, or a list holds an element equal to it (an object element
    /// matches when it has every field given).
    Contains(Value),
    Matches(Pattern),
    AtLeast(f64),
    AtMost(f64),
}

const OPERATORS: &str = "exists, any_of, contains, matches, at_least, at_most";

impl Expectation {
    fn from_value(value: Value) -> Result<Expectation, String> {
        let Value::Object(map) = &value else {
            return match value {
                Value::Array(_) => Err("a list cannot be compared whole; use `{contains: …}` or a path with an index".into()),
                Value::Null => Err("`null` expects nothing; use `{exists: false}` for a property that must be absent".into()),
                scalar => Ok(Expectation::Equals(scalar)),
            };
        };
        let mut entries = map.iter();
        let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
            return Err(format!("give one operator ({OPERATORS}), not {}", map.len()));
        };
        let number = |what: &str| arg.as_f64().ok_or_else(|| format!("`{what}` takes a number, not {arg}"));
        Ok(match op.as_str() {
            "exists" => Expectation::Exists(arg.as_bool().ok_or_else(|| format!("`exists` takes true or false, not {arg}"))?),
            "any_of" => match arg {
                Value::Array(items) if !items.is_empty() && items.iter().all(|i| !i.is_object() && !i.is_array() && !i.is_null()) => Expectation::AnyOf(items.clone()),
                _ => return Err(format!("`any_of` takes a list of values, not {arg}")),
            },
            "contains" if !arg.is_null() && !arg.is_array() => Expectation::Contains(arg.clone()),
            "contains" => return Err(format!("`contains` takes a value or an object of fields, not {arg}")),
            "matches" => {
                let pattern = arg.as_str().ok_or_else(|| format!("`matches` takes a regular expression, not {arg}"))?;
                Expectation::Matches(Pattern::new(pattern)?)
            }
            "at_least" => Expectation::AtLeast(number("at_least")?),
            "at_most" => Expectation::AtMost(number("at_most")?),
            other => return Err(format!("unknown operator `{other}` (operators: {OPERATORS})")),
        })
    }

    fn to_value(&self) -> Value {
        let op = |name: &str, arg: Value| serde_json::json!({ name: arg });
        match self {
            Expectation::Equals(v) => v.clone(),
            Expectation::Exists(b) => op("exists", Value::Bool(*b)),
            Expectation::AnyOf(items) => op("any_of", Value::Array(items.clone())),
            Expectation::Contains(v) => op("contains", v.clone()),
            Expectation::Matches(r) => op("matches", Value::String(r.source.clone())),
            Expectation::AtLeast(n) => op("at_least", serde_json::json!(n)),
            Expectation::AtMost(n) => op("at_most", serde_json::json!(n)),
        }
    }

    /// Whether one value found at the path satisfies this (`Exists` is judged on the whole).
    fn holds_for(&self, found: &Value) -> bool {
        match self {
            Expectation::Equals(want) => same(want, found),
            Expectation::Exists(want) => *want,
            Expectation::AnyOf(options) => options.iter().any(|o| same(o, found)),
            Expectation::Contains(part) => match found {
                Value::String(s) => part.as_str().is_some_and(|p| s.contains(p)) || (!part.is_string() && s.contains(&scalar_text(part))),
                Value::Array(items) => items.iter().any(|i| same(part, i) || fields_match(part, i)),
                _ => false,
            },
            Expectation::Matches(Pattern { regex: re, .. }) => match found {
                Value::String(s) => re.is_match(s),
                Value::Number(_) | Value::Bool(_) => re.is_match(&found.to_string()),
                _ => false,
            },
            Expectation::AtLeast(n) => magnitude(found).is_some_and(|v| v >= *n),
            Expectation::AtMost(n) => magnitude(found).is_some_and(|v| v <= *n),
        }
    }

    /// How a finding words what was wanted.
    fn wanted(&self) -> String {
        match self {
            Expectation::Equals(v) => scalar_text(v),
            Expectation::Exists(true) => "present".into(),
            Expectation::Exists(false) => "absent".into(),
            Expectation::AnyOf(items) => format!("one of {}", items.iter().map(scalar_text).collect::<Vec<_>>().join(", ")),
            Expectation::Contains(v) => format!("containing {}", scalar_text(v)),
            Expectation::Matches(r) => format!("matching /{}/", r.source),
            Expectation::AtLeast(n) => format!("at least {n}"),
            Expectation::AtMost(n) => format!("at most {n}"),
        }
    }
}

/// A regular expression, compared by its pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As the lab wrote it, `{{variables}}` included until the check is planned.
    source: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    /// A pattern may name variables (`^arn:aws:ecr:.*/{{repository}}$`). A lab file is
    /// checked before any value is known, so the rest of the pattern is checked with a plain
    /// stand-in for each; the check's plan fills the values in as written and compiles again.
    fn new(source: &str) -> Result<Pattern, String> {
        let names = crate::lab::template::references(source).unwrap_or_default();
        let stand_ins: std::collections::BTreeMap<String, String> = names.iter().map(|n| (n.to_string(), "x".to_string())).collect();
        let checked = if names.is_empty() { source.to_string() } else { crate::lab::template::render(source, &stand_ins)? };
        let regex = regex_lite::Regex::new(&checked).map_err(|e| format!("`{source}` is not a regular expression: {e}"))?;
        Ok(Pattern { source: source.to_string(), regex })
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Equality as a lab author means it: numbers by value (`80` is `80.0`), and a scalar equal
/// to its text (schemas give some numbers and booleans as strings).
fn same(want: &Value, found: &Value) -> bool {
    match (want, found) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => want == found,
        _ => scalar_text(want) == scalar_text(found),
    }
}

/// Whether `found` is an object with every field of `part` (a tag `{Key: course}` matches
/// `{Key: course, Value: fargate}`).
fn fields_match(part: &Value, found: &Value) -> bool {
    match (part, found) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(k, v)| have.get(k).is_some_and(|h| same(v, h) || fields_match(v, h))),
        _ => false,
    }
}

/// A number, a numeric string, or a list's or text's length, for `at_least` / `at_most`.
fn magnitude(found: &Value) -> Option<f64> {
    match found {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Array(items) => Some(items.len() as f64),
        _ => None,
    }
}

/// A value as a finding shows it: text without quotes, anything else as JSON.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a value found looks like in a finding, kept short. A list is shortened element by
/// element, so the element that is wrong (a dimension's value, a tag) still shows whole.
fn shown(v: &Value) -> String {
    const ELEMENTS: usize = 10;
    if let Value::Array(items) = v {
        let mut parts: Vec<String> = items.iter().take(ELEMENTS).map(shown).collect();
        if items.len() > ELEMENTS {
            parts.push(format!("… {} more", items.len() - ELEMENTS));
        }
        return format!("[{}]", parts.join(","));
    }
    let text = match v {
        Value::Object(_) => v.to_string(),
        _ => scalar_text(v),
    };
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

/// One path and what must be there.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyCheck {
    pub path: PropertyPath,
    pub expect: Expectation,
}

impl PropertyCheck {
    /// `None` when the properties satisfy it, else what was seen ("VersioningConfiguration.Status
    /// is Suspended, expected Enabled"). Through `[*]` one matching element is enough (and
    /// `exists: false` means none has it).
    pub fn mismatch(&self, properties: &Value) -> Option<String> {
        let found = self.path.values(properties);
        let holds = match (&self.expect, found.is_empty()) {
            (Expectation::Exists(want), none) => *want != none,
            (_, true) => false,
            (expect, false) => found.iter().any(|v| expect.holds_for(v)),
        };
        if holds {
            return None;
        }
        let seen = match found.as_slice() {
            [] => "absent".to_string(),
            [one] if !self.path.has_wildcard() => shown(one),
            many => format!("[{}]", many.iter().map(|v| shown(v)).collect::<Vec<_>>().join(", ")),
        };
        Some(format!("{} is {seen}, expected {}", self.path, self.expect.wanted()))
    }
}

/// The `properties:` map of a check: paths to expectations, checked in path order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyChecks(pub Vec<PropertyCheck>);

impl<'de> Deserialize<'de> for PropertyChecks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let mut checks = Vec::new();
        for (path, want) in map {
            let path = PropertyPath::parse(&path).map_err(D::Error::custom)?;
            let expect = Expectation::from_value(want).map_err(|e| D::Error::custom(format!("`{path}`: {e}")))?;
            checks.push(PropertyCheck { path, expect });
        }
        Ok(PropertyChecks(checks))
    }
}

impl Serialize for PropertyChecks {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map: serde_json::Map<String, Value> = self.0.iter().map(|c| (c.path.text.clone(), c.expect.to_value())).collect();
        map.serialize(serializer)
    }
}

impl JsonSchema for PropertyChecks {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PropertyChecks".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Paths into the resource's properties (`A.B`, `List[0].C`, `List[*].C`), each with the value that must be there or one operator: `{exists: true|false}`, `{any_of: [...]}`, `{contains: X}`, `{matches: REGEX}`, `{at_least: N}`, `{at_most: N}`.",
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    { "type": ["string", "number", "boolean"] },
                    { "type": "object", "minProperties": 1, "maxProperties": 1,
                      "properties": {
                        "exists": { "type": "boolean" },
                        "any_of": { "type": "array", "items": { "type": ["string", "number", "boolean"] }, "minItems": 1 },
                        "contains": {},
                        "matches": { "type": "string" },
                        "at_least": { "type": "number" },
                        "at_most": { "type": "number" }
                      },
                      "additionalProperties": false }
                ]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(path: &str, want: Value) -> PropertyCheck {
        PropertyCheck { path: PropertyPath::parse(path).unwrap(), expect: Expectation::from_value(want).unwrap() }
    }

    fn bucket() -> Value {
        json!({
            "BucketName": "course-bucket",
            "VersioningConfiguration": { "Status": "Suspended" },
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
            "Tags": [{ "Key": "course", "Value": "fargate" }, { "Key": "owner", "Value": "ana" }],
            "VisibilityTimeout": 45,
            "Threshold": 80.0
        })
    }

    #[test]
    fn paths_parse_or_say_why_not() {
        assert!(PropertyPath::parse("A.B[0].C[*]").is_ok());
        for bad in ["", "A..B", ".A", "A[", "A[x]", "A[0]B", "A B"] {
            let e = PropertyPath::parse(bad).unwrap_err();
            assert!(e.contains("is not a property path"), "{bad}: {e}");
        }
    }

    #[test]
    fn each_operator_passes_and_fails_with_the_value_it_saw() {
        let b = bucket();
        let cases = [
            ("VersioningConfiguration.Status", json!("Enabled"), Some("VersioningConfiguration.Status is Suspended, expected Enabled")),
            ("VersioningConfiguration.Status", json!("Suspended"), None),
            ("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm", json!({"any_of": ["aws:kms", "AES256"]}), None),
            ("Tags[*].Key", json!("owner"), None),
            ("Tags[*].Key", json!("team"), Some("Tags[*].Key is [course, owner], expected team")),
            ("Tags", json!({"contains": {"Key": "course"}}), None),
            ("Tags", json!({"contains": {"Key": "course", "Value": "x"}}), Some("Tags is [{\"Key\":\"course\",\"Value\":\"fargate\"},{\"Key\":\"owner\",\"Value\":\"ana\"}], expected containing {\"Key\":\"course\",\"Value\":\"x\"}")),
            ("BucketName", json!({"matches": "^course-"}), None),
            ("BucketName", json!({"contains": "bucket"}), None),
            ("VisibilityTimeout", json!({"at_least": 30}), None),
            ("VisibilityTimeout", json!({"at_most": 30}), Some("VisibilityTimeout is 45, expected at most 30")),
            ("Threshold", json!(80), None),
            ("Tags", json!({"at_least": 3}), Some("Tags is [{\"Key\":\"course\",\"Value\":\"fargate\"},{\"Key\":\"owner\",\"Value\":\"ana\"}], expected at least 3")),
            ("LoggingConfiguration", json!({"exists": false}), None),
            ("LoggingConfiguration.DestinationBucketName", json!({"exists": true}), Some("LoggingConfiguration.DestinationBucketName is absent, expected present")),
            ("BucketName", json!({"exists": false}), Some("BucketName is course-bucket, expected absent")),
            ("Missing", json!("x"), Some("Missing is absent, expected x")),
        ];
        for (path, want, expected) in cases {
            assert_eq!(check(path, want.clone()).mismatch(&b).as_deref(), expected, "{path}: {want}");
        }
    }

    #[test]
    fn operators_are_checked_when_the_lab_is_read() {
        for (want, says) in [
            (json!({"exist": true}), "unknown operator `exist`"),
            (json!({"exists": true, "at_least": 1}), "give one operator"),
            (json!({"matches": "("}), "is not a regular expression"),
            (json!({"at_least": "many"}), "`at_least` takes a number"),
            (json!(["a"]), "a list cannot be compared whole"),
            (json!(null), "use `{exists: false}`"),
        ] {
            let e = Expectation::from_value(want.clone()).unwrap_err();
            assert!(e.contains(says), "{want}: {e}");
        }
    }

    #[test]
    fn a_long_list_is_shortened_element_by_element_so_the_wrong_one_shows() {
        let dimension = |name: &str, value: &str| json!({ "Name": name, "Value": value });
        let alarm = json!({ "Dimensions": [dimension("ClusterName", "fargate-course-with-a-long-name-for-a-cluster"), dimension("ServiceName", "Web-Nginx")] });
        let seen = check("Dimensions", json!({"contains": {"Name": "ServiceName", "Value": "web-nginx"}})).mismatch(&alarm).unwrap();
        assert!(seen.contains("{\"Name\":\"ServiceName\",\"Value\":\"Web-Nginx\"}]"), "{seen}");
        let many = json!({ "Tags": (0..12).map(|i| json!(i)).collect::<Vec<_>>() });
        assert_eq!(check("Tags", json!({"at_most": 3})).mismatch(&many).unwrap(), "Tags is [0,1,2,3,4,5,6,7,8,9,… 2 more], expected at most 3");
    }

    #[test]
    fn a_pattern_may_name_variables_filled_in_when_the_check_is_planned() {
        let yaml = "RepositoryUri: {matches: '\\.amazonaws\\.com/{{repository}}$'}\n";
        let checks: PropertyChecks = serde_yaml::from_str(yaml).expect("a pattern with a variable is read");
        let mut value = serde_json::to_value(&checks).unwrap();
        let vars = [("repository".to_string(), "fargate-course/nginx".to_string())].into();
        crate::lab::template::render_json(&mut value, &vars).unwrap();
        let planned: PropertyChecks = serde_json::from_value(value).unwrap();
        let uri = |u: &str| json!({ "RepositoryUri": u });
        assert_eq!(planned.0[0].mismatch(&uri("1.dkr.ecr.us-east-1.amazonaws.com/fargate-course/nginx")), None);
        let other = planned.0[0].mismatch(&uri("1.dkr.ecr.us-east-1.amazonaws.com/other")).unwrap();
        assert!(other.contains("expected matching /\\.amazonaws\\.com/fargate-course/nginx$/"), "{other}");
        // The rest of the pattern is still checked when the lab is read.
        let e = Expectation::from_value(json!({"matches": "({{repository}}"})).unwrap_err();
        assert!(e.contains("is not a regular expression"), "{e}");
    }

    #[test]
    fn the_map_round_trips_through_json_for_templating() {
        let yaml = "VersioningConfiguration.Status: Enabled\nTags: {contains: {Key: course}}\nBucketName: {matches: '^c'}\n";
        let checks: PropertyChecks = serde_yaml::from_str(yaml).unwrap();
        let again: PropertyChecks = serde_json::from_value(serde_json::to_value(&checks).unwrap()).unwrap();
        assert_eq!(checks, again);
        let paths: Vec<String> = checks.0.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(paths, ["BucketName", "Tags", "VersioningConfiguration.Status"], "checked in path order");
    }
}
