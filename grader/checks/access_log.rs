//! Reading a web server's access log as evidence: nginx's default `main` format, the lines
//! the lab's container writes to CloudWatch Logs for every request it answers.
//!
//! A run from elsewhere (an autograder, a cohort audit) cannot reach a site that a security
//! group keeps for the learner's own address; the site's access log still tells whether it
//! answered the learner.

/// One request the server answered, as its access log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The address the connection came from (`$remote_addr`).
    pub client: String,
    pub method: String,
    /// The path without its query string.
    pub path: String,
    pub status: u16,
    pub user_agent: String,
    /// `$http_x_forwarded_for`: set when a load balancer or proxy forwarded the request.
    pub forwarded_for: Option<String>,
}

impl Request {
    /// Parses one line of nginx's `main` (or `combined`) log format:
    /// `ADDR - USER [TIME] "METHOD PATH PROTOCOL" STATUS BYTES "REFERER" "AGENT" "XFF"`.
    /// Anything else (start-up notices, error lines) is `None`.
    pub fn parse(line: &str) -> Option<Request> {
        let (client, rest) = line.split_once(' ')?;
        let rest = rest.split_once(" [")?.1;
        let rest = rest.split_once("] \"")?.1;
        let (request, rest) = rest.split_once('"')?;
        let mut words = request.split(' ');
        let method = words.next()?.to_string();
        let target = words.next()?;
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) || !target.starts_with('/') {
            return None;
        }
        let mut fields = rest.trim_start().splitn(3, ' ');
        let status: u16 = fields.next()?.parse().ok()?;
        let _bytes = fields.next()?;
        let quoted: Vec<&str> = fields.next().unwrap_or_default().split('"').skip(1).step_by(2).collect();
        let user_agent = quoted.get(1).copied().unwrap_or("-").to_string();
        let forwarded_for = quoted.get(2).copied().filter(|x| !x.is_empty() && *x != "-").map(str::to_string);
        Some(Request {
            client: client.to_string(),
            method,
            path: target.split('?').next().unwrap_or(target).to_string(),
            status,
            user_agent,
            forwarded_for,
        })
    }

    /// A request a person (or their curl) sent straight to the task: not a load balancer's
    /// health check, nothing forwarded through a proxy.
    pub fn is_direct(&self) -> bool {
        self.forwarded_for.is_none() && !self.user_agent.starts_with("ELB-HealthChecker")
    }
}

/// The newest logged request that a GET of `path` answered with `status`, sent straight to
/// the task, with the time CloudWatch Logs gives its event (milliseconds since 1970).
/// `events` are `(timestamp, message)` in any order.
pub fn newest_answer<'a>(events: impl IntoIterator<Item = (i64, &'a str)>, path: &str, status: u16) -> Option<(i64, Request)> {
    events
        .into_iter()
        .filter_map(|(at, line)| Request::parse(line).map(|r| (at, r)))
        .filter(|(_, r)| matches!(r.method.as_str(), "GET" | "HEAD") && r.path == path && r.status == status && r.is_direct())
        .max_by_key(|(at, _)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as the nginx image's default configuration writes them (`log_format main`).
    const CURL: &str = r#"203.0.113.10 - - [03/Dec/2026:08:01:02 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-""#;
    const HEALTH: &str = r#"10.0.1.20 - - [03/Dec/2026:08:01:05 +0000] "GET / HTTP/1.1" 200 615 "-" "ELB-HealthChecker/2.0" "-""#;
    const VIA_ALB: &str = r#"10.0.1.20 - - [03/Dec/2026:08:01:07 +0000] "GET /?x=1 HTTP/1.1" 200 615 "-" "curl/8.5.0" "203.0.113.10""#;
    const MISSING: &str = r#"198.51.100.7 - - [03/Dec/2026:08:02:00 +0000] "GET /nope HTTP/1.1" 404 153 "-" "Mozilla/5.0 (X11; Linux x86_64)" "-""#;
    const NOTICE: &str = "2026/12/03 08:00:01 [notice] 1#1: start worker processes";

    #[test]
    fn a_request_line_is_read_field_by_field() {
        let r = Request::parse(CURL).unwrap();
        assert_eq!((r.client.as_str(), r.method.as_str(), r.path.as_str(), r.status), ("203.0.113.10", "GET", "/", 200));
        assert_eq!(r.user_agent, "curl/8.5.0");
        assert!(r.is_direct());
        let agent_with_spaces = Request::parse(MISSING).unwrap();
        assert_eq!(agent_with_spaces.user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
        assert_eq!(agent_with_spaces.status, 404);
        let forwarded = Request::parse(VIA_ALB).unwrap();
        assert_eq!(forwarded.path, "/");
        assert_eq!(forwarded.forwarded_for.as_deref(), Some("203.0.113.10"));
        assert!(!forwarded.is_direct());
        assert!(!Request::parse(HEALTH).unwrap().is_direct());
    }

    #[test]
    fn lines_that_are_not_requests_are_skipped() {
        for line in [NOTICE, "", "-", "a b [c] \"d\"", r#"1.2.3.4 - - [x] "GET / HTTP/1.1" abc 1 "-" "-""#] {
            assert_eq!(Request::parse(line), None, "{line}");
        }
    }

    #[test]
    fn only_a_direct_answer_with_the_status_on_the_path_is_evidence() {
        let events = [(1, NOTICE), (2, HEALTH), (3, VIA_ALB), (4, MISSING)];
        assert_eq!(newest_answer(events, "/", 200), None);
        let (at, r) = newest_answer([(5, CURL), (2, HEALTH), (9, CURL)], "/", 200).unwrap();
        assert_eq!((at, r.client.as_str()), (9, "203.0.113.10"));
        assert_eq!(newest_answer([(5, CURL)], "/", 404), None);
        assert_eq!(newest_answer([(5, CURL)], "/index.html", 200), None);
    }
}
