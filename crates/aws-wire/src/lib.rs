//! AWS wire protocols for the local cloud, pure: bodies in, typed values out, and back.
//!
//! - [`query`]: the query protocol's request side as EC2 (and SNS) clients send it,
//!   `Action=...&Version=...` form bodies whose keys are dot paths with 1-based list
//!   indices, decoded into a JSON tree.
//! - [`model`]: botocore's service models, trimmed to the operations spotlab serves:
//!   every shape, member name and wire name.
//! - [`ec2`]: the EC2 protocol driven by the model: query trees to JSON named like the
//!   AWS CLI's `--cli-input-json`, answers to EC2's XML, EC2's error document.
//! - [`protocol`]: which service and protocol a request speaks (Smithy RPC v2 CBOR,
//!   AWS JSON 1.0/1.1, the query protocol, EC2's), from its path, headers and body, and
//!   the error types the codecs share.
//! - [`json`], [`awsquery`], [`cbor`]: the AWS JSON 1.0/1.1, query and RPC v2 CBOR
//!   protocols driven by the model, both ways, with each protocol's error document
//!   (CloudWatch's query-compatible error codes included).
//! - [`restjson`]: the REST-JSON protocol (FIS) driven by the model: routes from each
//!   operation's method and URI template, inputs from the body, labels and query string.
//! - [`sigv4`]: Signature Version 4 verification.
//! - [`s3`]: the S3 subset's path-style REST-XML requests, `aws-chunked` bodies,
//!   checksums, listings and XML answers.
//!
//! No sockets, no clocks, no files: the control plane hands bodies in and writes what
//! comes out.

pub mod awsquery;
pub mod cbor;
pub mod ec2;
pub mod json;
pub mod model;
pub mod protocol;
pub mod query;
pub mod restjson;
pub mod s3;
pub mod sigv4;
