//! Every exit code `grader` can return, in one place (DESIGN.md's contract).

use std::process::ExitCode;

/// What a `grader` process tells its caller through its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every check that ran passed.
    Ok = 0,
    /// At least one check failed, could not decide (`error`), or was skipped because of one.
    CheckFailed = 1,
    /// The command line was wrong: unknown step, bad flag, unreadable roster.
    Usage = 2,
    /// A lab file could not be loaded or did not validate.
    InvalidLab = 3,
    /// AWS could not be reached before any check ran: no credentials, unknown region,
    /// endpoint unreachable.
    AwsSetup = 4,
    /// Ctrl-C stopped the run; what was decided so far was printed.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// An error that ends the process with a specific exit code and a message for the user.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { exit: Exit::Usage, message: message.into() }
    }
    pub fn invalid_lab(message: impl Into<String>) -> Failure {
        Failure { exit: Exit::InvalidLab, message: message.into() }
    }
    pub fn aws_setup(message: impl Into<String>) -> Failure {
        Failure { exit: Exit::AwsSetup, message: message.into() }
    }
}

// The one place where the errors of the modules below become exit codes.

impl From<crate::aws::SetupError> for Failure {
    fn from(e: crate::aws::SetupError) -> Failure {
        Failure::aws_setup(e.0)
    }
}

impl From<crate::grading::PlanError> for Failure {
    fn from(e: crate::grading::PlanError) -> Failure {
        Failure::usage(e.0)
    }
}

impl From<crate::lab::UnknownLab> for Failure {
    fn from(e: crate::lab::UnknownLab) -> Failure {
        Failure::usage(e.0)
    }
}

impl From<crate::lab::Diagnostics> for Failure {
    fn from(e: crate::lab::Diagnostics) -> Failure {
        Failure::invalid_lab(e.to_string())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
