//! [`IamError`]: a whole-call failure, one variant per IAM error code a caller sees.

/// Why an IAM call was refused. Each variant is one of IAM's error codes
/// ([`IamError::code`]); the wire layer finds the status (404 for `NoSuchEntity`, 409
/// for the conflicts, 400 otherwise) in the service model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// `NoSuchEntity`: the role, instance profile or policy named does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists`: a role or instance profile of that name exists.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `DeleteConflict`: the entity still has what must be removed first.
    #[error("{0}")]
    DeleteConflict(String),
    /// `LimitExceeded`: a quota (a profile's one role, tags, attached policies).
    #[error("{0}")]
    LimitExceeded(String),
    /// `MalformedPolicyDocument`: a policy document that is not a JSON object.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `InvalidInput`: a value the model allows but IAM refuses (duplicate tag keys, an
    /// ARN that is not one).
    #[error("{0}")]
    InvalidInput(String),
    /// `ValidationError`: a missing member or one breaking the model's constraints
    /// (name patterns, lengths, ranges).
    #[error("{0}")]
    Validation(String),
    /// `InvalidAction`: an operation this IAM does not serve.
    #[error("{0}")]
    UnknownOperation(String),
}

impl IamError {
    /// IAM's error code, the query protocol's `Error.Code`.
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            IamError::DeleteConflict(_) => "DeleteConflict",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IamError::InvalidInput(_) => "InvalidInput",
            IamError::Validation(_) => "ValidationError",
            IamError::UnknownOperation(_) => "InvalidAction",
        }
    }

    /// The message, in IAM's words.
    pub fn message(&self) -> &str {
        match self {
            IamError::NoSuchEntity(m)
            | IamError::EntityAlreadyExists(m)
            | IamError::DeleteConflict(m)
            | IamError::LimitExceeded(m)
            | IamError::MalformedPolicyDocument(m)
            | IamError::InvalidInput(m)
            | IamError::Validation(m)
            | IamError::UnknownOperation(m) => m,
        }
    }
}
