//! AWS wire protocols for the local cloud, pure: bodies in, typed values out, and back.
//!
//! - [`query`]: the query protocol's request side as EC2 (and SNS) clients send it,
//!   `Action=...&Version=...` form bodies whose keys are dot paths with 1-based list
//!   indices, decoded into a JSON tree.
//!
//! No sockets, no clocks, no files: the control plane hands bodies in and writes what
//! comes out.

pub mod query;
