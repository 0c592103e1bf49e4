//! The EC2 query protocol at the cloud's edge: a request body becomes an action and its
//! JSON input (through the service model), and an answer becomes EC2's XML with its
//! HTTP status. The shell calls [`decode_request`], records the command if it changes
//! state, applies it, and sends [`encode_response`]'s bytes.

use aws_wire::ec2::{decode_input, encode_error, encode_output};
use aws_wire::model::Model;
use aws_wire::query::{self, QueryError};
use serde_json::Value;

use crate::api::is_served;
use crate::error::ApiError;

/// A decoded EC2 request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// e.g. `DescribeFleets`.
    pub action: String,
    /// Its input, named like the AWS CLI's JSON.
    pub input: Value,
}

/// Decodes a query-protocol request (URL query and form body).
pub fn decode_request(url_query: &str, body: &[u8]) -> Result<Request, ApiError> {
    let request = query::decode(url_query, body).map_err(|e| match e {
        QueryError::MissingAction => ApiError::new(
            "MissingAction",
            "The request must contain the parameter Action.",
        ),
        other => ApiError::invalid_value(other.to_string()),
    })?;
    let model = Model::ec2();
    if !is_served(&request.action) {
        return Err(ApiError::invalid_action(&request.action));
    }
    let operation = model
        .operation(&request.action)
        .ok_or_else(|| ApiError::invalid_action(&request.action))?;
    let input = match operation.input {
        Some(shape) => decode_input(model, shape, &request.params)?,
        None => Value::Object(serde_json::Map::new()),
    };
    Ok(Request {
        action: request.action,
        input,
    })
}

/// Renders an answer: `(HTTP status, XML body)`.
pub fn encode_response(
    action: &str,
    result: &Result<Value, ApiError>,
    request_id: &str,
) -> (u16, String) {
    match result {
        Ok(value) => {
            let model = Model::ec2();
            let output = model.operation(action).and_then(|o| o.output);
            match encode_output(model, action, output, value, request_id) {
                Ok(xml) => (200, xml),
                Err(error) => (
                    500,
                    encode_error("InternalError", &error.to_string(), request_id),
                ),
            }
        }
        Err(error) => (
            error.status,
            encode_error(&error.code, &error.message, request_id),
        ),
    }
}
