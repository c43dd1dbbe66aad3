//! The class roster: a CSV file with the header `label,account_id,role_arn` and optional
//! `external_id,region,profile` columns.

use crate::exit::Failure;

/// One learner account to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub label: String,
    pub account_id: String,
    /// The audit role to assume; empty means "use the profile's or the base credentials".
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// Parses a roster, reporting every bad line with its number.
pub fn parse_roster(file: &str, text: &str) -> Result<Vec<RosterEntry>, Failure> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(Failure::usage(format!("{file}: the roster is empty; it needs the header `label,account_id,role_arn`")));
    };
    let columns: Vec<String> = split_csv(header).into_iter().map(|c| c.trim().to_lowercase()).collect();
    let known = ["label", "account_id", "role_arn", "external_id", "region", "profile"];
    for c in &columns {
        if !known.contains(&c.as_str()) {
            let hint = crate::lab::did_you_mean(c, known).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(Failure::usage(format!("{file}:1: unknown column `{c}`{hint} (columns: {})", known.join(", "))));
        }
    }
    for required in ["label", "account_id", "role_arn"] {
        if !columns.iter().any(|c| c == required) {
            return Err(Failure::usage(format!("{file}:1: the header lacks `{required}`; it must start `label,account_id,role_arn`")));
        }
    }
    let index = |name: &str| columns.iter().position(|c| c == name);
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in lines {
        let cells = split_csv(line);
        let get = |name: &str| index(name).and_then(|i| cells.get(i)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let line_no = n + 1;
        let account_id = get("account_id").unwrap_or_default();
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            problems.push(format!("{file}:{line_no}: `{account_id}` is not a 12-digit AWS account id"));
            continue;
        }
        let role_arn = get("role_arn");
        let profile = get("profile");
        if let Some(arn) = &role_arn {
            if !arn.starts_with("arn:aws") || !arn.contains(":role/") {
                problems.push(format!("{file}:{line_no}: `{arn}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"));
                continue;
            }
        } else if profile.is_none() {
            problems.push(format!("{file}:{line_no}: give a `role_arn` to assume, or a `profile` to use"));
            continue;
        }
        entries.push(RosterEntry {
            label: get("label").unwrap_or_else(|| account_id.clone()),
            account_id,
            role_arn,
            external_id: get("external_id"),
            region: get("region"),
            profile,
        });
    }
    if !problems.is_empty() {
        return Err(Failure::usage(problems.join("\n")));
    }
    if entries.is_empty() {
        return Err(Failure::usage(format!("{file}: the roster lists no accounts")));
    }
    Ok(entries)
}

/// Splits one CSV line, honouring double quotes ("a, b" and "" for a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_required_and_optional_columns() {
        let text = "label,account_id,role_arn,external_id,region\n\"Doe, Jane\",111122223333,arn:aws:iam::111122223333:role/audit,class-7,eu-west-1\nbob,444455556666,arn:aws:iam::444455556666:role/audit,,\n";
        let entries = parse_roster("r.csv", text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].label, "Doe, Jane");
        assert_eq!(entries[0].external_id.as_deref(), Some("class-7"));
        assert_eq!(entries[1].region, None);
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers() {
        let e = parse_roster("r.csv", "label,account_id,role_arn\na,123,arn:aws:iam::123:role/x\n").unwrap_err();
        assert!(e.message.contains("r.csv:2:") && e.message.contains("12-digit"), "{}", e.message);
        let e = parse_roster("r.csv", "label,acount_id,role_arn\n").unwrap_err();
        assert!(e.message.contains("did you mean `account_id`?"), "{}", e.message);
    }
}
