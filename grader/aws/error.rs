//! AWS errors, sorted into what the grader does about them.

use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What went wrong with a call, as far as the grader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The caller lacks an IAM permission (or a policy such as an SCP denies the call).
    AccessDenied,
    /// AWS rejected the credentials (invalid or expired keys, a bad signature).
    Credentials,
    /// No source of credentials was found at all.
    NoCredentials,
    /// A configured source of credentials failed before any call was made: an expired SSO
    /// session, a `credential_process` that exited with an error, a role that cannot be
    /// assumed.
    CredentialSource,
    /// Throttled, and still throttled after the SDK's retries.
    Throttled,
    /// The endpoint could not be reached (DNS, connection refused or reset).
    Unreachable,
    /// The endpoint accepted the connection but did not answer in time.
    Timeout,
    /// The named resource does not exist (the caller usually turns this into `None`).
    NotFound,
    /// Anything else.
    Other,
}

/// A failed AWS call: which action, the service's error code and message.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// `service:Action`, as in IAM policies.
    pub action: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn other(action: &'static str, message: impl Into<String>) -> AwsError {
        AwsError { kind: AwsErrorKind::Other, action, code: None, message: message.into() }
    }

    /// Whether AWS was only slow or busy (throttling past the retries, no answer in time), so
    /// that asking again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Throttled | AwsErrorKind::Timeout)
    }

    /// Whether the run cannot go on at all (exit 4) rather than one check being undecided.
    pub fn is_setup_problem(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Credentials | AwsErrorKind::NoCredentials | AwsErrorKind::CredentialSource | AwsErrorKind::Unreachable | AwsErrorKind::Timeout)
    }

    pub fn from_sdk<E>(action: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_string);
        // What went wrong before any answer came back is found by type, down the chain of
        // causes: the SDK wraps a credentials failure in a dispatch failure, so the variant
        // alone would call an expired SSO session a network problem.
        if let Some(kind) = transport_kind(&err) {
            let message = match kind {
                AwsErrorKind::NoCredentials => {
                    "no AWS credentials were found (looked in the environment, the shared config and credentials files, SSO, web identity and instance metadata)".into()
                }
                AwsErrorKind::CredentialSource => causes(&err).skip_while(|e| e.downcast_ref::<CredentialsError>().is_none()).map(|e| e.to_string()).collect::<Vec<_>>().join(": "),
                _ => readable(&err),
            };
            return AwsError { kind, action, code: None, message };
        }
        let kind = match code.as_deref() {
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess") => AwsErrorKind::AccessDenied,
            Some(
                "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredToken" | "ExpiredTokenException" | "SignatureDoesNotMatch" | "InvalidSignatureException"
                | "AuthFailure" | "IncompleteSignature" | "MissingAuthenticationToken",
            ) => AwsErrorKind::Credentials,
            Some("ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "TooManyRequestsException" | "RequestThrottled") => AwsErrorKind::Throttled,
            Some(
                "ClusterNotFoundException" | "ServiceNotFoundException" | "NoSuchEntity" | "ResourceNotFoundException" | "InvalidGroup.NotFound"
                | "InvalidNetworkInterfaceID.NotFound" | "InvalidVpcID.NotFound"
                | "LoadBalancerNotFound" | "TargetGroupNotFound" | "ListenerNotFound",
            ) => AwsErrorKind::NotFound,
            _ => AwsErrorKind::Other,
        };
        let message = err.message().map(str::to_string).unwrap_or_else(|| readable(&err));
        AwsError { kind, action, code, message }
    }
}

/// The error and its causes, outermost first.
fn causes<'a>(err: &'a (dyn std::error::Error + 'static)) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// The kind of a call that got no answer from AWS, or `None` when AWS answered.
fn transport_kind<E>(err: &SdkError<E, HttpResponse>) -> Option<AwsErrorKind>
where
    E: std::error::Error + 'static,
{
    if !matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
        return None;
    }
    for cause in causes(err) {
        if let Some(c) = cause.downcast_ref::<CredentialsError>() {
            return Some(match c {
                CredentialsError::CredentialsNotLoaded(_) => AwsErrorKind::NoCredentials,
                _ => AwsErrorKind::CredentialSource,
            });
        }
        if let Some(c) = cause.downcast_ref::<ConnectorError>() {
            if c.is_timeout() {
                return Some(AwsErrorKind::Timeout);
            }
            if c.is_io() {
                return Some(AwsErrorKind::Unreachable);
            }
        }
    }
    Some(if matches!(err, SdkError::TimeoutError(_)) { AwsErrorKind::Timeout } else { AwsErrorKind::Unreachable })
}

/// The chain of causes as one line, without the Debug dump the SDK's display appends.
fn readable<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    causes(err).skip(1).map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            AwsErrorKind::AccessDenied => write!(f, "missing permission `{}` ({})", self.action, self.message),
            AwsErrorKind::Throttled => write!(f, "`{}` was throttled by AWS after several retries; try again in a minute", self.action),
            AwsErrorKind::Unreachable => write!(f, "failed to reach AWS for `{}`: {}", self.action, self.message),
            AwsErrorKind::Timeout => write!(f, "AWS did not answer `{}` in time: {}", self.action, self.message),
            AwsErrorKind::Credentials => write!(f, "AWS rejected the credentials on `{}`: {}", self.action, self.message),
            AwsErrorKind::NoCredentials => write!(f, "{}", self.message),
            AwsErrorKind::CredentialSource => write!(f, "failed to get AWS credentials: {}", self.message),
            _ => match &self.code {
                Some(code) => write!(f, "`{}` failed: {code}: {}", self.action, self.message),
                None => write!(f, "`{}` failed: {}", self.action, self.message),
            },
        }
    }
}

impl std::error::Error for AwsError {}

#[cfg(test)]
mod tests {
    //! Real SDK failures, made without AWS: a credentials source that fails, a closed port,
    //! and a listener that accepts and never answers.
    use std::time::Duration;

    use aws_credential_types::Credentials;
    use aws_credential_types::provider::{ProvideCredentials, future};
    use aws_sdk_sts::config::{BehaviorVersion, Region, SharedCredentialsProvider};
    use aws_smithy_types::retry::RetryConfig;
    use aws_smithy_types::timeout::TimeoutConfig;

    use super::*;

    #[derive(Debug)]
    struct Failing(fn() -> CredentialsError);

    impl ProvideCredentials for Failing {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err((self.0)()))
        }
    }

    async fn sign_in(endpoint: &str, credentials: SharedCredentialsProvider) -> AwsError {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(crate::aws::http_client())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_millis(500)).operation_attempt_timeout(Duration::from_millis(500)).build())
            .build();
        let err = aws_sdk_sts::Client::from_conf(config).get_caller_identity().send().await.expect_err("the call must fail");
        AwsError::from_sdk("sts:GetCallerIdentity", err)
    }

    fn keys() -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
    }

    #[tokio::test]
    async fn a_failing_credentials_source_is_not_a_network_problem() {
        let sso = SharedCredentialsProvider::new(Failing(|| CredentialsError::provider_error("the SSO token has expired and cannot be refreshed")));
        let e = sign_in("http://127.0.0.1:1", sso).await;
        assert_eq!(e.kind, AwsErrorKind::CredentialSource, "{e:?}");
        assert!(e.message.contains("SSO token has expired"), "{}", e.message);
        assert!(e.is_setup_problem());
        let none = SharedCredentialsProvider::new(Failing(|| CredentialsError::not_loaded("nothing configured")));
        assert_eq!(sign_in("http://127.0.0.1:1", none).await.kind, AwsErrorKind::NoCredentials);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_a_silent_one_times_out() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = sign_in(&format!("http://127.0.0.1:{port}"), keys()).await;
        assert_eq!(e.kind, AwsErrorKind::Unreachable, "{e:?}");
        assert!(!e.message.contains("DispatchFailure"), "no Debug dump in messages: {}", e.message);

        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", silent.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                open.push(socket);
            }
        });
        let e = sign_in(&url, keys()).await;
        held.abort();
        assert_eq!(e.kind, AwsErrorKind::Timeout, "{e:?}");
    }
}
