//! Instance metadata (IMDSv2) client: identity at start, interruption notices while
//! running.
//!
//! Tokens come from `PUT /latest/api/token` with a TTL header and ride on every GET in
//! `X-aws-ec2-metadata-token`; a 401 fetches a fresh token once. A 404 means "not there"
//! (no notice yet, no such tag). The endpoint is `AWS_EC2_METADATA_SERVICE_ENDPOINT`, the
//! variable the AWS SDKs honour, or the real `http://169.254.169.254`. Parsing the
//! notices is pure and lives at the bottom of this file.

use std::time::Duration;

use serde::Deserialize;
use simtime::SimTime;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// The real IMDS address.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254/";
/// The variable the AWS SDKs read for the IMDS endpoint.
pub const ENDPOINT_ENV: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// The variable the AWS SDKs read to disable IMDS.
pub const DISABLED_ENV: &str = "AWS_EC2_METADATA_DISABLED";
/// Token lifetime we ask for (the maximum).
const TOKEN_TTL_SECS: u64 = 21_600;
/// Per-request timeout, as the AWS SDKs use.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// An IMDS failure.
#[derive(Debug, thiserror::Error)]
pub enum ImdsError {
    /// The endpoint could not be reached or did not answer in time.
    #[error("instance metadata at {endpoint} unreachable: {source}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// An unexpected status.
    #[error("instance metadata {path} answered HTTP {status}")]
    Status {
        /// The path asked for.
        path: String,
        /// The status.
        status: u16,
    },
    /// A notice that does not parse.
    #[error("instance metadata {path} is malformed: {detail}")]
    Malformed {
        /// The path.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// The endpoint setting is not a URL.
    #[error("instance metadata endpoint {0:?} is not a URL")]
    BadEndpoint(String),
}

impl ImdsError {
    /// Whether trying again may succeed: the service did not answer in time, refused
    /// the connection, or answered 5xx. A busy host booting many instances at once can
    /// be slow to answer its first requests.
    pub fn is_transient(&self) -> bool {
        match self {
            ImdsError::Unreachable { .. } => true,
            ImdsError::Status { status, .. } => *status >= 500,
            ImdsError::Malformed { .. } | ImdsError::BadEndpoint(_) => false,
        }
    }
}

/// What the instance metadata says about this instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `instance-id`.
    pub instance_id: Option<String>,
    /// `instance-type`.
    pub instance_type: Option<String>,
    /// `placement/availability-zone`.
    pub availability_zone: Option<String>,
    /// `instance-life-cycle` (`spot` or `on-demand`).
    pub lifecycle: Option<String>,
    /// The `aws:ec2:fleet-id` tag, when instance tags are exposed in metadata.
    pub fleet_id: Option<String>,
}

/// `spot/instance-action`: EC2 will stop, hibernate or terminate the instance at `time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceAction {
    /// `terminate`, `stop` or `hibernate`.
    pub action: String,
    /// When EC2 acts.
    pub time: SimTime,
}

/// What one poll found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notices {
    /// An interruption notice.
    pub instance_action: Option<InstanceAction>,
    /// A rebalance recommendation's notice time.
    pub rebalance: Option<SimTime>,
}

/// An IMDSv2 client.
#[derive(Debug)]
pub struct Imds {
    /// HTTP client with short timeouts.
    client: reqwest::Client,
    /// Base URL, ending in `/`.
    base: Url,
    /// The current token and when to renew it (real time).
    token: Mutex<Option<(String, Instant)>>,
}

impl Imds {
    /// A client for `endpoint`; checks that it answers by fetching a token.
    pub async fn connect(endpoint: &str) -> Result<Imds, ImdsError> {
        let mut base =
            Url::parse(endpoint).map_err(|_| ImdsError::BadEndpoint(endpoint.to_owned()))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|source| ImdsError::Unreachable {
                endpoint: endpoint.to_owned(),
                source,
            })?;
        let imds = Imds {
            client,
            base,
            token: Mutex::new(None),
        };
        imds.token(true).await?;
        Ok(imds)
    }

    fn url(&self, path: &str) -> Result<Url, ImdsError> {
        self.base
            .join(path)
            .map_err(|_| ImdsError::BadEndpoint(format!("{}{path}", self.base)))
    }

    fn unreachable(&self, source: reqwest::Error) -> ImdsError {
        ImdsError::Unreachable {
            endpoint: self.base.to_string(),
            source,
        }
    }

    async fn token(&self, renew: bool) -> Result<String, ImdsError> {
        let mut slot = self.token.lock().await;
        if let Some((token, renew_at)) = slot.as_ref()
            && !renew
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let path = "latest/api/token";
        let response = self
            .client
            .put(self.url(path)?)
            .header("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECS)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ImdsError::Status {
                path: path.to_owned(),
                status,
            });
        }
        let token = response.text().await.map_err(|e| self.unreachable(e))?;
        // Renew well before expiry, in real time: a local IMDS may count the TTL in
        // virtual seconds, and a 401 renews anyway.
        let renew_at = Instant::now() + Duration::from_secs(60);
        *slot = Some((token.clone(), renew_at));
        Ok(token)
    }

    /// GETs `latest/meta-data/<path>`: `Some(body)` on 200, `None` on 404.
    pub async fn get(&self, path: &str) -> Result<Option<String>, ImdsError> {
        let full = format!("latest/meta-data/{path}");
        let url = self.url(&full)?;
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            let response = self
                .client
                .get(url.clone())
                .header("X-aws-ec2-metadata-token", token)
                .send()
                .await
                .map_err(|e| self.unreachable(e))?;
            match response.status().as_u16() {
                200 => {
                    return response
                        .text()
                        .await
                        .map(Some)
                        .map_err(|e| self.unreachable(e));
                }
                404 => return Ok(None),
                401 if attempt == 0 => continue,
                status => {
                    return Err(ImdsError::Status { path: full, status });
                }
            }
        }
        Err(ImdsError::Status {
            path: full,
            status: 401,
        })
    }

    /// Reads the instance's identity; missing entries stay `None`.
    pub async fn identity(&self) -> Result<Identity, ImdsError> {
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(Identity {
            instance_id: trimmed(self.get("instance-id").await?),
            instance_type: trimmed(self.get("instance-type").await?),
            availability_zone: trimmed(self.get("placement/availability-zone").await?),
            lifecycle: trimmed(self.get("instance-life-cycle").await?),
            // Tags appear in metadata only when the instance allows it; a 404 is normal.
            fleet_id: trimmed(
                self.get("tags/instance/aws:ec2:fleet-id")
                    .await
                    .unwrap_or(None),
            ),
        })
    }

    /// Reads both notice paths.
    pub async fn poll(&self) -> Result<Notices, ImdsError> {
        let action_path = "spot/instance-action";
        let rebalance_path = "events/recommendations/rebalance";
        let instance_action = match self.get(action_path).await? {
            Some(body) => {
                Some(
                    parse_instance_action(&body).map_err(|detail| ImdsError::Malformed {
                        path: action_path.to_owned(),
                        detail,
                    })?,
                )
            }
            None => None,
        };
        let rebalance = match self.get(rebalance_path).await? {
            Some(body) => Some(
                parse_rebalance(&body).map_err(|detail| ImdsError::Malformed {
                    path: rebalance_path.to_owned(),
                    detail,
                })?,
            ),
            None => None,
        };
        Ok(Notices {
            instance_action,
            rebalance,
        })
    }
}

/// Parses `spot/instance-action`: `{"action": "terminate", "time": "2024-05-01T10:02:00Z"}`.
pub fn parse_instance_action(body: &str) -> Result<InstanceAction, String> {
    #[derive(Deserialize)]
    struct Wire {
        action: String,
        time: String,
    }
    let wire: Wire = serde_json::from_str(body).map_err(|e| e.to_string())?;
    if !matches!(wire.action.as_str(), "terminate" | "stop" | "hibernate") {
        return Err(format!("unknown action {:?}", wire.action));
    }
    let time = SimTime::parse(&wire.time).map_err(|e| e.to_string())?;
    Ok(InstanceAction {
        action: wire.action,
        time,
    })
}

/// Parses `events/recommendations/rebalance`: `{"noticeTime": "2024-05-01T10:00:00Z"}`.
pub fn parse_rebalance(body: &str) -> Result<SimTime, String> {
    #[derive(Deserialize)]
    struct Wire {
        #[serde(rename = "noticeTime")]
        notice_time: String,
    }
    let wire: Wire = serde_json::from_str(body).map_err(|e| e.to_string())?;
    SimTime::parse(&wire.notice_time).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_notices() {
        let action =
            parse_instance_action(r#"{"action": "terminate", "time": "2024-05-01T10:02:00Z"}"#)
                .expect("the test's input is valid");
        assert_eq!(action.action, "terminate");
        assert_eq!(action.time.to_iso_seconds(), "2024-05-01T10:02:00Z");
        assert!(
            parse_instance_action(r#"{"action": "explode", "time": "2024-05-01T10:02:00Z"}"#)
                .is_err()
        );
        assert!(parse_instance_action("<html>404</html>").is_err());
        assert_eq!(
            parse_rebalance(r#"{"noticeTime": "2024-05-01T10:00:00Z"}"#)
                .expect("the test's input is valid")
                .to_iso_seconds(),
            "2024-05-01T10:00:00Z"
        );
    }
}
