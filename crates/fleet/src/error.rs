//! Errors with AWS's codes. A [`FleetError`] is what an EC2 API call answers when the
//! whole request fails; per-pool launch failures are data ([`LaunchErrorCode`]), never
//! errors. This module does not know about XML or HTTP beyond the status each code maps
//! to.

use std::fmt;

use serde::Serialize;

/// AWS error codes for whole-request failures of the fleet APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorCode {
    /// A value is out of range or not one of the allowed values.
    InvalidParameterValue,
    /// Two parameters that cannot be used together.
    InvalidParameterCombination,
    /// A required parameter is absent.
    MissingParameter,
    /// The fleet configuration is invalid (duplicate pools, unsupported types, ...).
    InvalidFleetConfig,
    /// Same ClientToken, different parameters.
    IdempotentParameterMismatch,
    /// DryRun succeeded (HTTP 412).
    DryRunOperation,
    /// `InvalidLaunchTemplateId.NotFound`
    InvalidLaunchTemplateIdNotFound,
    /// `InvalidLaunchTemplateName.NotFoundException`
    InvalidLaunchTemplateNameNotFound,
    /// `InvalidLaunchTemplateId.VersionNotFound`
    InvalidLaunchTemplateVersionNotFound,
    /// `InvalidSubnetID.NotFound`
    InvalidSubnetIdNotFound,
    /// `InvalidFleetId.NotFound`
    InvalidFleetIdNotFound,
    /// `InvalidInstanceID.NotFound`
    InvalidInstanceIdNotFound,
    /// `InvalidFleetId.Malformed`
    InvalidFleetIdMalformed,
    /// The operation is not supported for this resource (e.g. instant fleets).
    Unsupported,
    /// The fleet cannot be modified in its current state or type.
    FleetNotInModifiableState,
}

impl ErrorCode {
    /// The code exactly as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "InvalidParameterValue",
            ErrorCode::InvalidParameterCombination => "InvalidParameterCombination",
            ErrorCode::MissingParameter => "MissingParameter",
            ErrorCode::InvalidFleetConfig => "InvalidFleetConfig",
            ErrorCode::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            ErrorCode::DryRunOperation => "DryRunOperation",
            ErrorCode::InvalidLaunchTemplateIdNotFound => "InvalidLaunchTemplateId.NotFound",
            ErrorCode::InvalidLaunchTemplateNameNotFound => {
                "InvalidLaunchTemplateName.NotFoundException"
            }
            ErrorCode::InvalidLaunchTemplateVersionNotFound => {
                "InvalidLaunchTemplateId.VersionNotFound"
            }
            ErrorCode::InvalidSubnetIdNotFound => "InvalidSubnetID.NotFound",
            ErrorCode::InvalidFleetIdNotFound => "InvalidFleetId.NotFound",
            ErrorCode::InvalidInstanceIdNotFound => "InvalidInstanceID.NotFound",
            ErrorCode::InvalidFleetIdMalformed => "InvalidFleetId.Malformed",
            ErrorCode::Unsupported => "Unsupported",
            ErrorCode::FleetNotInModifiableState => "FleetNotInModifiableState",
        }
    }

    /// The HTTP status EC2 answers with: 412 for DryRun, 400 for every other client
    /// error (never 5xx for a predictable failure; SDKs retry those).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::DryRunOperation => 412,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole-request failure: an AWS code and a human message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{code}: {message}")]
pub struct FleetError {
    /// The AWS error code.
    pub code: ErrorCode,
    /// What went wrong, in AWS's style.
    pub message: String,
}

impl FleetError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> FleetError {
        FleetError {
            code,
            message: message.into(),
        }
    }

    /// The answer to a permitted DryRun.
    pub fn dry_run() -> FleetError {
        FleetError::new(
            ErrorCode::DryRunOperation,
            "Request would have succeeded, but DryRun flag is set.",
        )
    }
}

/// Why a pool could not supply instances. Reported per pool in CreateFleet's `errorSet`
/// (instant fleets) and in fleet history; never a failure of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LaunchErrorCode {
    /// The pool has no spare capacity.
    InsufficientInstanceCapacity,
    /// The Spot price is above the override's MaxPrice.
    SpotMaxPriceTooLow,
    /// The pool was not tried because capacity was found elsewhere or a limit stopped
    /// the launch (MaxTotalPrice, MinTargetCapacity).
    UnfulfillableCapacity,
}

impl LaunchErrorCode {
    /// The code as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            LaunchErrorCode::InsufficientInstanceCapacity => "InsufficientInstanceCapacity",
            LaunchErrorCode::SpotMaxPriceTooLow => "SpotMaxPriceTooLow",
            LaunchErrorCode::UnfulfillableCapacity => "UnfulfillableCapacity",
        }
    }
}

impl fmt::Display for LaunchErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
