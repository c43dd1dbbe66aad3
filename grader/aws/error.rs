//! AWS errors, sorted into what the grader does about them.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What went wrong with a call, as far as the grader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The caller lacks an IAM permission.
    AccessDenied,
    /// Credentials are missing, invalid or expired.
    Credentials,
    /// Throttled, and still throttled after the SDK's retries.
    Throttled,
    /// The endpoint could not be reached (DNS, refused, timeout).
    Unreachable,
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

    /// Whether the run cannot go on at all (exit 4) rather than one check being undecided.
    pub fn is_setup_problem(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Credentials | AwsErrorKind::Unreachable)
    }

    pub fn from_sdk<E>(action: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_string);
        let text = DisplayErrorContext(&err).to_string();
        // The SDK reports missing credentials as a dispatch failure; tell it apart from a
        // network problem, because the fix is different.
        if text.contains("CredentialsNotLoaded") || text.contains("no credentials") {
            return AwsError {
                kind: AwsErrorKind::Credentials,
                action,
                code: None,
                message: "no AWS credentials were found (looked in the environment, the shared config and credentials files, web identity and instance metadata)".into(),
            };
        }
        let kind = match (&err, code.as_deref()) {
            (_, Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess")) => AwsErrorKind::AccessDenied,
            (
                _,
                Some(
                    "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredToken" | "ExpiredTokenException" | "SignatureDoesNotMatch"
                    | "InvalidSignatureException" | "AuthFailure" | "IncompleteSignature" | "MissingAuthenticationToken",
                ),
            ) => AwsErrorKind::Credentials,
            (_, Some("ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "TooManyRequestsException" | "RequestThrottled")) => AwsErrorKind::Throttled,
            (
                _,
                Some(
                    "ClusterNotFoundException" | "ServiceNotFoundException" | "NoSuchEntity" | "ResourceNotFoundException"
                    | "InvalidGroup.NotFound" | "InvalidNetworkInterfaceID.NotFound" | "InvalidVpcID.NotFound",
                ),
            ) => AwsErrorKind::NotFound,
            (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => AwsErrorKind::Unreachable,
            _ => AwsErrorKind::Other,
        };
        // DisplayErrorContext ends with the error's Debug form, which helps nobody reading a
        // report: keep the readable chain of causes before it.
        let readable = ["(DispatchFailure(", "(TimeoutError(", "(ConstructionFailure(", "(ResponseError("]
            .iter()
            .filter_map(|marker| text.find(marker))
            .min()
            .map(|i| text[..i].trim_end().to_string())
            .unwrap_or(text);
        let message = err.message().map(str::to_string).unwrap_or(readable);
        AwsError { kind, action, code, message }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            AwsErrorKind::AccessDenied => write!(f, "missing permission `{}` ({})", self.action, self.message),
            AwsErrorKind::Throttled => write!(f, "`{}` was throttled by AWS after several retries; try again in a minute", self.action),
            AwsErrorKind::Unreachable => write!(f, "failed to reach AWS for `{}`: {}", self.action, self.message),
            AwsErrorKind::Credentials => write!(f, "AWS rejected the credentials on `{}`: {}", self.action, self.message),
            _ => match &self.code {
                Some(code) => write!(f, "`{}` failed: {code}: {}", self.action, self.message),
                None => write!(f, "`{}` failed: {}", self.action, self.message),
            },
        }
    }
}

impl std::error::Error for AwsError {}
