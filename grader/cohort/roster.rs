//! The class roster: a CSV file with the header `label,account_id,role_arn` and optional
//! `external_id,region,profile` columns, `email,sis_id`, which only the gradebook uses, and
//! `teardown_role_arn`, the role a class teardown (`grader cleanup --apply`) deletes through.

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
    /// The learner's email and student-information-system id, carried to the gradebook so an
    /// LMS can match its rows to its students.
    pub email: Option<String>,
    pub sis_id: Option<String>,
    /// The role a class teardown deletes through (never the audit role, which only reads).
    pub teardown_role_arn: Option<String>,
}

/// The roster's columns; the first three are required.
const COLUMNS: [&str; 9] = ["label", "account_id", "role_arn", "external_id", "region", "profile", "email", "sis_id", "teardown_role_arn"];

/// Parses a roster, reporting every bad line with its number. Spreadsheets save CSV with a
/// byte-order mark, CRLF line ends and quoted cells (`"Doe, Jane"`); all of that is read as
/// the CSV standard says. Blank lines and lines starting with `#` are skipped.
pub fn parse_roster(file: &str, text: &str) -> Result<Vec<RosterEntry>, Failure> {
    // The reader would skip a byte-order mark itself; skipping it here keeps its byte
    // offsets, which line numbers are computed from, offsets into `text`.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Rows may stop short of the header's width (empty optional cells at the end). `comment`
    // skips a `#` line whole, even one with a stray quote; the filter also skips an indented
    // `#` line and a line of blank cells.
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).comment(Some(b'#')).from_reader(text.as_bytes());
    let mut records = reader.records().filter(|r| match r {
        Ok(r) => r.iter().any(|cell| !cell.is_empty()) && !r.get(0).is_some_and(|cell| cell.starts_with('#')),
        Err(_) => true,
    });
    let header = match records.next() {
        None => return Err(Failure::usage(format!("{file}: the roster is empty; it needs the header `label,account_id,role_arn`"))),
        Some(Err(e)) => return Err(Failure::usage(csv_problem(file, text, &e))),
        Some(Ok(header)) => header,
    };
    let header_line = line_of(text, &header);
    let columns: Vec<String> = header.iter().map(str::to_lowercase).collect();
    let mut problems = Vec::new();
    for c in &columns {
        if !COLUMNS.contains(&c.as_str()) {
            let hint = crate::lab::did_you_mean(c, COLUMNS).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            problems.push(format!("{file}:{header_line}: unknown column `{c}`{hint} (columns: {})", COLUMNS.join(", ")));
        }
    }
    for required in &COLUMNS[..3] {
        if !columns.iter().any(|c| c == required) {
            problems.push(format!("{file}:{header_line}: the header lacks `{required}`; it must start `label,account_id,role_arn`"));
        }
    }
    if !problems.is_empty() {
        return Err(Failure::usage(problems.join("\n")));
    }
    let index = |name: &str| columns.iter().position(|c| c == name);
    let mut entries = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(csv_problem(file, text, &e));
                continue;
            }
        };
        let get = |name: &str| index(name).and_then(|i| record.get(i)).filter(|s| !s.is_empty()).map(str::to_string);
        let line_no = line_of(text, &record);
        let account_id = get("account_id").unwrap_or_default();
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            problems.push(format!("{file}:{line_no}: `{account_id}` is not a 12-digit AWS account id"));
            continue;
        }
        let role_arn = get("role_arn");
        let profile = get("profile");
        if let Some(arn) = &role_arn {
            if !is_role_arn(arn) {
                problems.push(format!("{file}:{line_no}: `{arn}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"));
                continue;
            }
        } else if profile.is_none() {
            problems.push(format!("{file}:{line_no}: give a `role_arn` to assume, or a `profile` to use"));
            continue;
        }
        let teardown_role_arn = get("teardown_role_arn");
        if let Some(arn) = &teardown_role_arn {
            if !is_role_arn(arn) || arn.split(':').nth(4) != Some(account_id.as_str()) {
                problems.push(format!("{file}:{line_no}: teardown_role_arn `{arn}` is not an IAM role ARN in account {account_id}"));
                continue;
            }
        }
        entries.push(RosterEntry {
            label: get("label").unwrap_or_else(|| account_id.clone()),
            account_id,
            role_arn,
            external_id: get("external_id"),
            region: get("region"),
            profile,
            email: get("email"),
            sis_id: get("sis_id"),
            teardown_role_arn,
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

/// The line a record starts on, counting from 1.
fn line_of(text: &str, record: &csv::StringRecord) -> usize {
    line_at(text, record.position().expect("records read from a reader carry their position"))
}

fn csv_problem(file: &str, text: &str, e: &csv::Error) -> String {
    match e.position() {
        Some(at) => format!("{file}:{}: {e}", line_at(text, at)),
        None => format!("{file}: {e}"),
    }
}

/// The line of a reader position. The reader reports where it began reading a record: before
/// the rest of the previous line end and any blank and comment lines it skipped, so its own
/// line count is off after CRLF ends and comments. Skip those here and count.
fn line_at(text: &str, at: &csv::Position) -> usize {
    let mut rest = text.get(at.byte() as usize..).unwrap_or("");
    loop {
        if let Some(after) = rest.strip_prefix(['\r', '\n']) {
            rest = after;
        } else if rest.starts_with('#') {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    text[..text.len() - rest.len()].matches('\n').count() + 1
}

/// `arn:PARTITION:iam::ACCOUNT:role/NAME`, in any of the partitions a class can use.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", partition, "iam", "", account, resource] => {
            ["aws", "aws-cn", "aws-us-gov"].contains(&partition)
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty())
        }
        _ => false,
    }
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
    fn email_and_sis_id_are_optional_and_carried() {
        let text = "label,account_id,role_arn,email,sis_id\nJane,111122223333,arn:aws:iam::111122223333:role/audit,jane@example.edu,S-0042\nBob,444455556666,arn:aws:iam::444455556666:role/audit,,\n";
        let entries = parse_roster("r.csv", text).unwrap();
        assert_eq!((entries[0].email.as_deref(), entries[0].sis_id.as_deref()), (Some("jane@example.edu"), Some("S-0042")));
        assert_eq!((entries[1].email.as_deref(), entries[1].sis_id.as_deref()), (None, None));
        let e = parse_roster("r.csv", "label,account_id,role_arn,e_mail\n").unwrap_err();
        assert!(e.message.contains("did you mean `email`?"), "{}", e.message);
    }

    #[test]
    fn a_teardown_role_must_be_a_role_in_the_rows_own_account() {
        let text = "label,account_id,role_arn,teardown_role_arn\nJane,111122223333,arn:aws:iam::111122223333:role/audit,arn:aws:iam::111122223333:role/teardown\nBob,444455556666,arn:aws:iam::444455556666:role/audit,\n";
        let entries = parse_roster("r.csv", text).unwrap();
        assert_eq!(entries[0].teardown_role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/teardown"));
        assert_eq!(entries[1].teardown_role_arn, None);
        let text = "label,account_id,role_arn,teardown_role_arn\nJane,111122223333,arn:aws:iam::111122223333:role/audit,arn:aws:iam::999999999999:role/teardown\n";
        let e = parse_roster("r.csv", text).unwrap_err();
        assert!(e.message.starts_with("r.csv:2: teardown_role_arn `arn:aws:iam::999999999999:role/teardown` is not an IAM role ARN in account 111122223333"), "{}", e.message);
    }

    #[test]
    fn reads_what_spreadsheets_save() {
        // Excel's "CSV UTF-8": a byte-order mark, CRLF line ends, quotes around cells with
        // commas or quotes in them, and a quoted cell running over two lines.
        let text = "\u{feff}label,account_id,role_arn,external_id\r\n\"Doe, Jane\",111122223333,arn:aws:iam::111122223333:role/audit,\"a,b\"\r\n\"Bob \"\"B\"\"\nBuilder\",444455556666,arn:aws:iam::444455556666:role/audit,\r\n\r\n";
        let entries = parse_roster("r.csv", text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].label.as_str(), entries[0].account_id.as_str(), entries[0].external_id.as_deref()), ("Doe, Jane", "111122223333", Some("a,b")));
        assert_eq!(entries[0].role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/audit"), "no \\r is left at a line's end");
        assert_eq!(entries[1].label, "Bob \"B\"\nBuilder");
        assert_eq!(entries[1].external_id, None);
    }

    #[test]
    fn skips_comments_and_blank_lines() {
        let text = "# class 7\nlabel,account_id,role_arn\n\n  # dropped out\n,,\na,111122223333,arn:aws:iam::111122223333:role/audit\n";
        let entries = parse_roster("r.csv", text).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].label, "a");
    }

    #[test]
    fn accepts_role_arns_of_every_partition_a_class_uses() {
        for arn in ["arn:aws:iam::111122223333:role/audit", "arn:aws-cn:iam::111122223333:role/audit", "arn:aws-us-gov:iam::111122223333:role/path/audit"] {
            let text = format!("label,account_id,role_arn\na,111122223333,{arn}\n");
            assert_eq!(parse_roster("r.csv", &text).unwrap()[0].role_arn.as_deref(), Some(arn));
        }
        for arn in [
            "arn:aws:iam::111122223333:user/audit",
            "arn:awsx:iam::111122223333:role/audit",
            "arn:aws:s3::111122223333:role/audit",
            "arn:aws:iam::1111:role/audit",
            "arn:aws:iam::111122223333:role/",
        ] {
            let text = format!("label,account_id,role_arn\na,111122223333,{arn}\n");
            let e = parse_roster("r.csv", &text).unwrap_err();
            assert!(e.message.contains("r.csv:2:") && e.message.contains("is not an IAM role ARN"), "{arn}: {}", e.message);
        }
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers() {
        let e = parse_roster("r.csv", "label,account_id,role_arn\na,123,arn:aws:iam::123:role/x\n").unwrap_err();
        assert!(e.message.contains("r.csv:2:") && e.message.contains("12-digit"), "{}", e.message);
        let e = parse_roster("r.csv", "label,acount_id,role_arn\n").unwrap_err();
        assert!(e.message.contains("did you mean `account_id`?"), "{}", e.message);
        // Line numbers count physical lines: CRLF ends, comments, a blank line and a
        // two-line cell.
        let text = "# roster\r\nlabel,account_id,role_arn\r\n\"two\r\nlines\",111122223333,arn:aws:iam::111122223333:role/a\r\n\r\n# late\r\nb,12345,arn:aws:iam::111122223333:role/a\r\n";
        let e = parse_roster("r.csv", text).unwrap_err();
        assert!(e.message.starts_with("r.csv:7:") && e.message.contains("`12345`"), "{}", e.message);
    }
}
