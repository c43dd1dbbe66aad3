//! UTC timestamps as reports and receipts write them (RFC 3339, second precision).

use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// Now, e.g. `2026-11-27T18:05:09Z`.
pub fn now() -> String {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    of(&DateTime::from_secs(secs as i64))
}

/// A time from an AWS answer. Sub-second digits are dropped: some services answer in
/// milliseconds and others in seconds, and a receipt compares them across runs.
pub fn of(at: &DateTime) -> String {
    DateTime::from_secs(at.secs()).fmt(Format::DateTime).unwrap_or_else(|_| at.secs().to_string())
}

/// A time AWS gives as milliseconds since 1970 (CloudWatch Logs' `creationTime`).
pub fn of_millis(millis: i64) -> String {
    of(&DateTime::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_milliseconds_give_the_same_text() {
        assert_eq!(of(&DateTime::from_secs(1_764_266_709)), "2025-11-27T18:05:09Z");
        assert_eq!(of_millis(1_764_266_709_999), "2025-11-27T18:05:09Z");
        assert_eq!(of(&DateTime::from_fractional_secs(1_764_266_709, 0.5)), "2025-11-27T18:05:09Z");
    }
}
