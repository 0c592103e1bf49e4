//! [`ApiError`]: what an EC2 call answers when the whole request fails — AWS's code, a
//! message in AWS's style and the HTTP status EC2 uses (400 for client errors, 412 for
//! DryRun, never 5xx for a predictable failure). Built from the fleet engine's and the
//! wire codec's errors, and by the handlers for everything else.

use std::fmt;

use aws_wire::ec2::InputError;
use fleet::FleetError;
use world::WorldError;

/// A whole-request failure of an EC2 call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    /// AWS's error code, e.g. `InvalidVpcID.NotFound`.
    pub code: String,
    /// A message in AWS's style.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ApiError {
    /// A client error (HTTP 400).
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_owned(),
            message: message.into(),
            status: 400,
        }
    }

    /// `InvalidParameterValue`.
    pub fn invalid_value(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidParameterValue", message)
    }

    /// `InvalidParameterCombination`.
    pub fn invalid_combination(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidParameterCombination", message)
    }

    /// `MissingParameter` for `name`.
    pub fn missing(name: &str) -> ApiError {
        ApiError::new(
            "MissingParameter",
            format!("The request must contain the parameter {name}"),
        )
    }

    /// The answer to a permitted DryRun (HTTP 412).
    pub fn dry_run() -> ApiError {
        ApiError {
            code: "DryRunOperation".to_owned(),
            message: "Request would have succeeded, but DryRun flag is set.".to_owned(),
            status: 412,
        }
    }

    /// `InvalidAction` for an action this endpoint does not serve.
    pub fn invalid_action(action: &str) -> ApiError {
        ApiError::new(
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )
    }

    /// An internal defect (HTTP 500): only for what no client input can cause.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            code: "InternalError".to_owned(),
            message: message.into(),
            status: 500,
        }
    }
}

impl From<FleetError> for ApiError {
    fn from(error: FleetError) -> ApiError {
        ApiError {
            code: error.code.as_str().to_owned(),
            message: error.message,
            status: error.code.http_status(),
        }
    }
}

impl From<WorldError> for ApiError {
    fn from(error: WorldError) -> ApiError {
        match error {
            WorldError::Api(error) => error.into(),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> ApiError {
        ApiError::new(error.code(), error.to_string())
    }
}
