//! FIS on the endpoint: REST-JSON requests (signed for `fis`, or sent to FIS's paths)
//! routed by the model's URI templates, decoded, applied to the region as a
//! [`Command::Fis`] and answered in REST-JSON, errors included. The codec lives in
//! `aws_wire::restjson`, the service in `ec2`'s FIS module.

use aws_wire::model::Model;
use aws_wire::protocol::{EncodedError, RequestParts};
use aws_wire::restjson;
use axum::http::StatusCode;
use axum::response::Response;
use region::Command;

use crate::monitoring_api::respond;
use crate::shared::Shared;

/// The paths FIS's operations are served under.
const PATHS: &[&str] = &["/experimentTemplates", "/experiments", "/tags/"];

/// Whether a request is for FIS: signed for `fis`, or sent to one of its paths.
pub fn is_fis(request: &RequestParts<'_>) -> bool {
    aws_wire::protocol::scope_service(request).as_deref() == Some("fis")
        || PATHS.iter().any(|p| request.path.starts_with(p))
}

/// Serves one FIS request.
pub async fn serve(shared: &Shared, request: &RequestParts<'_>, request_id: &str) -> Response {
    let model = Model::fis();
    let routed = match restjson::route(model, request.method, request.path) {
        Ok(routed) => routed,
        Err(e) => {
            let mut response = error(e.code(), &e.to_string(), request_id);
            *response.status_mut() =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::NOT_FOUND);
            return response;
        }
    };
    let input = match restjson::decode_input(model, &routed, request.query, request.body) {
        Ok(input) => input,
        Err(e) => return error("ValidationException", &e.to_string(), request_id),
    };
    let command = Command::Fis {
        operation: routed.operation.clone(),
        input,
    };
    match shared.apply(command).await {
        Ok(output) => match restjson::encode_output(model, &routed.operation, &output) {
            Ok(body) => respond(
                200,
                vec![("Content-Type", restjson::CONTENT_TYPE.to_owned())],
                body,
                request_id,
            ),
            Err(e) => {
                tracing::error!(operation = %routed.operation, error = %e, "an answer did not fit its output shape");
                error(
                    "InternalServerException",
                    "The answer could not be rendered.",
                    request_id,
                )
            }
        },
        Err(failure) => {
            tracing::debug!(operation = %routed.operation, code = %failure.code(), message = %failure.message(), "FIS call refused");
            error(failure.code(), failure.message(), request_id)
        }
    }
}

/// An error in REST-JSON, with the status of its error shape.
pub fn error(code: &str, message: &str, request_id: &str) -> Response {
    let EncodedError {
        status,
        headers,
        body,
    } = restjson::encode_error(Model::fis(), code, message);
    respond(status, headers, body, request_id)
}
