//! Outcome classes of a request and the counters an interval keeps.

use serde::{Deserialize, Serialize};

/// How one request ended. Every request that was sent ends in exactly one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx response.
    Success,
    /// A 429 response.
    Throttled,
    /// Any other 4xx response (and the rare 1xx/3xx, which the agent does not follow).
    ClientError,
    /// A 5xx response.
    ServerError,
    /// No complete response within the timeout.
    Timeout,
    /// The connection could not be made, or broke before a response arrived.
    ConnectionError,
}

impl Outcome {
    /// Every class, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Throttled,
        Outcome::ClientError,
        Outcome::ServerError,
        Outcome::Timeout,
        Outcome::ConnectionError,
    ];

    /// The class of an HTTP status code.
    pub fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Success,
            429 => Outcome::Throttled,
            500..=599 => Outcome::ServerError,
            _ => Outcome::ClientError,
        }
    }

    /// Whether the class counts as an error in error rates (everything but success).
    pub fn is_error(self) -> bool {
        self != Outcome::Success
    }

    /// The snake_case name used on the wire and in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Throttled => "throttled",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
            Outcome::Timeout => "timeout",
            Outcome::ConnectionError => "connection_error",
        }
    }
}

/// Counters of one interval (or, summed, of a whole run).
///
/// `sent` counts requests put on the wire in the interval; the outcome classes count
/// requests that *completed* in the interval. Over a whole run that ends with nothing in
/// flight, `sent == completed()`. `late` counts sends that went out later than the agent's
/// lateness threshold after their scheduled time (they are also in `sent`); `skipped`
/// counts scheduled sends that were never made because the agent fell a whole period
/// behind (they are not in `sent`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Requests sent.
    pub sent: u64,
    /// 2xx responses.
    pub success: u64,
    /// 429 responses.
    pub throttled: u64,
    /// Other 4xx responses.
    pub client_error: u64,
    /// 5xx responses.
    pub server_error: u64,
    /// Requests that timed out.
    pub timeout: u64,
    /// Requests that failed to connect or lost their connection.
    pub connection_error: u64,
    /// Sends made later than the lateness threshold.
    pub late: u64,
    /// Scheduled sends skipped because the agent fell a whole period behind.
    pub skipped: u64,
}

impl Counts {
    /// Counts one completed request.
    pub fn record(&mut self, outcome: Outcome) {
        *self.slot(outcome) += 1;
    }

    /// The counter of one class.
    pub fn get(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Success => self.success,
            Outcome::Throttled => self.throttled,
            Outcome::ClientError => self.client_error,
            Outcome::ServerError => self.server_error,
            Outcome::Timeout => self.timeout,
            Outcome::ConnectionError => self.connection_error,
        }
    }

    fn slot(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Success => &mut self.success,
            Outcome::Throttled => &mut self.throttled,
            Outcome::ClientError => &mut self.client_error,
            Outcome::ServerError => &mut self.server_error,
            Outcome::Timeout => &mut self.timeout,
            Outcome::ConnectionError => &mut self.connection_error,
        }
    }

    /// Requests that completed, in any class.
    pub fn completed(&self) -> u64 {
        Outcome::ALL.iter().map(|&o| self.get(o)).sum()
    }

    /// Completed requests that were errors of any class.
    pub fn errors(&self) -> u64 {
        self.completed() - self.success
    }

    /// Errors as a share of completed requests (0 when nothing completed).
    pub fn error_rate(&self) -> f64 {
        match self.completed() {
            0 => 0.0,
            n => self.errors() as f64 / n as f64,
        }
    }

    /// Adds `other` to `self`.
    pub fn merge(&mut self, other: &Counts) {
        self.sent += other.sent;
        self.late += other.late;
        self.skipped += other.skipped;
        for outcome in Outcome::ALL {
            *self.slot(outcome) += other.get(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        assert_eq!(Outcome::of_status(200), Outcome::Success);
        assert_eq!(Outcome::of_status(204), Outcome::Success);
        assert_eq!(Outcome::of_status(429), Outcome::Throttled);
        assert_eq!(Outcome::of_status(404), Outcome::ClientError);
        assert_eq!(Outcome::of_status(301), Outcome::ClientError);
        assert_eq!(Outcome::of_status(503), Outcome::ServerError);
    }

    #[test]
    fn merges_and_rates() {
        let mut a = Counts {
            sent: 4,
            ..Counts::default()
        };
        for o in [
            Outcome::Success,
            Outcome::Success,
            Outcome::Throttled,
            Outcome::Timeout,
        ] {
            a.record(o);
        }
        let mut total = Counts::default();
        total.merge(&a);
        total.merge(&a);
        assert_eq!(total.sent, 8);
        assert_eq!(total.completed(), 8);
        assert_eq!(total.errors(), 4);
        assert!((total.error_rate() - 0.5).abs() < 1e-12);
        let json = serde_json::to_string(&a).expect("serialises to JSON");
        assert_eq!(
            serde_json::from_str::<Counts>(&json).expect("deserialises from JSON"),
            a
        );
        assert_eq!(
            serde_json::from_str::<Counts>("{}").expect("deserialises from JSON"),
            Counts::default()
        );
    }
}
