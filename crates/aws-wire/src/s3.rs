//! The S3 subset the local cloud serves, pure: path-style REST-XML requests
//! (`/{bucket}/{key}`) classified into operations, S3's naming rules, the `aws-chunked`
//! upload framing, body checksums, ListObjectsV2 pagination over a sorted key list, and
//! S3's XML answers and error document.
//!
//! - [`request`]: method, path, query and headers into an [`Operation`] naming its
//!   bucket and key; the `Range` and `x-amz-copy-source` headers; user metadata.
//! - [`names`]: bucket names (S3's general purpose bucket rules) and keys.
//! - [`chunked`]: a push decoder for `Content-Encoding: aws-chunked` bodies, signed
//!   (`;chunk-signature=`) or not, with trailers.
//! - [`checksum`]: the ETag (hex MD5) and the `x-amz-checksum-*` a client sends as a
//!   header or a trailer, verified.
//! - [`list`]: ListObjectsV2's page (prefix, delimiter, max-keys, start-after,
//!   continuation token).
//! - [`xml`]: the answers' XML, the small request bodies (tagging, DeleteObjects,
//!   CreateBucketConfiguration) and the error document.
//!
//! Deliberately absent: where objects live (the control plane's files), signatures
//! (see [`crate::sigv4`]), multipart uploads, versioning, ACLs and policies (answered
//! `NotImplemented`), virtual-hosted-style addressing.

pub mod checksum;
pub mod chunked;
pub mod list;
pub mod names;
pub mod request;
pub mod xml;

pub use request::{Operation, classify};

use crate::sigv4::AuthError;

/// The namespace of S3's XML documents.
pub const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The error codes the subset answers with. Each has its HTTP status and S3's usual
/// message ([`ErrorCode::status`], [`ErrorCode::message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The bucket does not exist (404).
    NoSuchBucket,
    /// The key does not exist (404).
    NoSuchKey,
    /// The bucket has no tags (404).
    NoSuchTagSet,
    /// CreateBucket of a bucket that exists (409).
    BucketAlreadyOwnedByYou,
    /// DeleteBucket of a bucket with objects (409).
    BucketNotEmpty,
    /// A bucket name outside S3's rules (400).
    InvalidBucketName,
    /// A parameter with a bad value (400).
    InvalidArgument,
    /// A `Range` past the object's end (416).
    InvalidRange,
    /// A request S3 refuses as a whole, e.g. copying an object onto itself (400).
    InvalidRequest,
    /// A tag set breaking the tagging rules (400).
    InvalidTag,
    /// A path that is not valid UTF-8 once decoded (400).
    InvalidUri,
    /// A key longer than 1,024 bytes (400).
    KeyTooLongError,
    /// An XML body that does not parse or has the wrong shape (400).
    MalformedXml,
    /// A method the resource does not have (405).
    MethodNotAllowed,
    /// A feature outside the subset (501).
    NotImplemented,
    /// `Content-MD5` or an `x-amz-checksum-*` differing from the body's (400).
    BadDigest,
    /// `Content-MD5` or an `x-amz-checksum-*` that is not a digest (400).
    InvalidDigest,
    /// A body shorter than declared, or an `aws-chunked` body that is not well framed
    /// (400).
    IncompleteBody,
    /// A body over the largest accepted (400).
    EntityTooLarge,
    /// A conditional request whose condition does not hold (412).
    PreconditionFailed,
    /// No credentials where they are required (403).
    AccessDenied,
    /// An access key the endpoint does not know (403).
    InvalidAccessKeyId,
    /// A signature that is not the request's (403).
    SignatureDoesNotMatch,
    /// A request dated too far from the server's clock, or an expired URL (403).
    RequestTimeTooSkewed,
    /// An `Authorization` header that cannot be read (400).
    AuthorizationHeaderMalformed,
    /// The server failed (500).
    InternalError,
}

impl ErrorCode {
    /// The code as S3 writes it in `<Code>`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoSuchBucket => "NoSuchBucket",
            ErrorCode::NoSuchKey => "NoSuchKey",
            ErrorCode::NoSuchTagSet => "NoSuchTagSet",
            ErrorCode::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            ErrorCode::BucketNotEmpty => "BucketNotEmpty",
            ErrorCode::InvalidBucketName => "InvalidBucketName",
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::InvalidRange => "InvalidRange",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::InvalidTag => "InvalidTag",
            ErrorCode::InvalidUri => "InvalidURI",
            ErrorCode::KeyTooLongError => "KeyTooLongError",
            ErrorCode::MalformedXml => "MalformedXML",
            ErrorCode::MethodNotAllowed => "MethodNotAllowed",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::BadDigest => "BadDigest",
            ErrorCode::InvalidDigest => "InvalidDigest",
            ErrorCode::IncompleteBody => "IncompleteBody",
            ErrorCode::EntityTooLarge => "EntityTooLarge",
            ErrorCode::PreconditionFailed => "PreconditionFailed",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::InvalidAccessKeyId => "InvalidAccessKeyId",
            ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            ErrorCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            ErrorCode::AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            ErrorCode::InternalError => "InternalError",
        }
    }

    /// The HTTP status S3 answers the code with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::NoSuchBucket | ErrorCode::NoSuchKey | ErrorCode::NoSuchTagSet => 404,
            ErrorCode::BucketAlreadyOwnedByYou | ErrorCode::BucketNotEmpty => 409,
            ErrorCode::InvalidRange => 416,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::NotImplemented => 501,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::AccessDenied
            | ErrorCode::InvalidAccessKeyId
            | ErrorCode::SignatureDoesNotMatch
            | ErrorCode::RequestTimeTooSkewed => 403,
            ErrorCode::InternalError => 500,
            ErrorCode::InvalidBucketName
            | ErrorCode::InvalidArgument
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidTag
            | ErrorCode::InvalidUri
            | ErrorCode::KeyTooLongError
            | ErrorCode::MalformedXml
            | ErrorCode::BadDigest
            | ErrorCode::InvalidDigest
            | ErrorCode::IncompleteBody
            | ErrorCode::EntityTooLarge
            | ErrorCode::AuthorizationHeaderMalformed => 400,
        }
    }

    /// S3's usual message for the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::NoSuchBucket => "The specified bucket does not exist",
            ErrorCode::NoSuchKey => "The specified key does not exist.",
            ErrorCode::NoSuchTagSet => "The TagSet does not exist",
            ErrorCode::BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            ErrorCode::BucketNotEmpty => "The bucket you tried to delete is not empty",
            ErrorCode::InvalidBucketName => "The specified bucket is not valid.",
            ErrorCode::InvalidArgument => "Invalid Argument",
            ErrorCode::InvalidRange => "The requested range is not satisfiable",
            ErrorCode::InvalidRequest => "Invalid Request",
            ErrorCode::InvalidTag => "The TagSet is not valid.",
            ErrorCode::InvalidUri => "Couldn't parse the specified URI.",
            ErrorCode::KeyTooLongError => "Your key is too long",
            ErrorCode::MalformedXml => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            ErrorCode::MethodNotAllowed => {
                "The specified method is not allowed against this resource."
            }
            ErrorCode::NotImplemented => {
                "A header you provided implies functionality that is not implemented"
            }
            ErrorCode::BadDigest => "The Content-MD5 you specified did not match what we received.",
            ErrorCode::InvalidDigest => "The Content-MD5 you specified is not valid.",
            ErrorCode::IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header"
            }
            ErrorCode::EntityTooLarge => {
                "Your proposed upload exceeds the maximum allowed object size."
            }
            ErrorCode::PreconditionFailed => {
                "At least one of the pre-conditions you specified did not hold"
            }
            ErrorCode::AccessDenied => "Access Denied",
            ErrorCode::InvalidAccessKeyId => {
                "The AWS Access Key Id you provided does not exist in our records."
            }
            ErrorCode::SignatureDoesNotMatch => {
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            }
            ErrorCode::RequestTimeTooSkewed => {
                "The difference between the request time and the current time is too large."
            }
            ErrorCode::AuthorizationHeaderMalformed => "The authorization header is malformed.",
            ErrorCode::InternalError => "We encountered an internal error. Please try again.",
        }
    }
}

/// A refused S3 request: its code and the message to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", .code.as_str())]
pub struct S3Error {
    /// The code, which decides the status.
    pub code: ErrorCode,
    /// The `<Message>`.
    pub message: String,
}

impl S3Error {
    /// The code with S3's usual message.
    pub fn new(code: ErrorCode) -> S3Error {
        S3Error {
            code,
            message: code.message().to_owned(),
        }
    }

    /// The code with a message of its own.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// A signature failure as S3 answers it.
    pub fn from_auth(error: &AuthError) -> S3Error {
        let code = match error {
            AuthError::Missing => ErrorCode::AccessDenied,
            AuthError::Malformed(_) | AuthError::UnsupportedAlgorithm(_) => {
                ErrorCode::AuthorizationHeaderMalformed
            }
            AuthError::UnknownAccessKey(_) => ErrorCode::InvalidAccessKeyId,
            AuthError::SignatureMismatch { .. } | AuthError::PayloadHashMismatch => {
                ErrorCode::SignatureDoesNotMatch
            }
            AuthError::Expired(_) => ErrorCode::RequestTimeTooSkewed,
        };
        S3Error::with_message(code, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_s3s_statuses() {
        assert_eq!(S3Error::new(ErrorCode::NoSuchBucket).status(), 404);
        assert_eq!(S3Error::new(ErrorCode::BucketNotEmpty).status(), 409);
        assert_eq!(S3Error::new(ErrorCode::InvalidBucketName).status(), 400);
        assert_eq!(ErrorCode::MalformedXml.as_str(), "MalformedXML");
        assert_eq!(ErrorCode::InvalidUri.as_str(), "InvalidURI");
    }

    #[test]
    fn signature_failures_map_to_s3_codes() {
        let error = S3Error::from_auth(&AuthError::UnknownAccessKey("AKID".to_owned()));
        assert_eq!(error.code, ErrorCode::InvalidAccessKeyId);
        assert_eq!(error.status(), 403);
    }
}
