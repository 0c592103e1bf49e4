//! [`ApiError`]: a whole-call failure, with the query protocol's code.

use std::fmt;

/// A whole-call failure of a monitoring call.
///
/// `code` is the error's query code as the service model gives it
/// (`InvalidParameterValue`, `ResourceNotFound`, `NotFound`, `InvalidParameter`,
/// `ResourceNotFoundException`, ...); the wire layer finds the error shape, HTTP status
/// and protocol form from it, so services never deal in protocols.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    /// The query code, e.g. `InvalidParameterValue`.
    pub code: String,
    /// A message in AWS's style.
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_owned(),
            message: message.into(),
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
            format!("The parameter {name} is required."),
        )
    }
}
