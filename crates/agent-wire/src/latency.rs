//! [`Latency`]: a mergeable latency histogram in virtual microseconds.
//!
//! Backed by HdrHistogram (3 significant digits, 1 µs to 1 hour; larger values are
//! clamped to the top). On the wire it is the standard V2 "compressed" (deflate)
//! encoding in base64, the same text HdrHistogram's interval logs carry, so other
//! HdrHistogram tools can read it. Merging two histograms gives exactly the histogram of
//! all their samples: fleet-wide percentiles come from merges, never from averages.
//!
//! A decoded histogram keeps the text it came from until it changes, so passing a report
//! on (a receiver journaling what it received) writes that text again instead of
//! compressing the histogram anew.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Highest trackable latency: one hour in microseconds.
const HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    /// The text is not base64.
    #[error("latency histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a V2 HdrHistogram encoding.
    #[error("latency histogram is not an HdrHistogram V2 encoding: {0}")]
    Decode(String),
    /// The histogram's range differs from ours, so it cannot be merged.
    #[error("latency histogram cannot be merged: {0}")]
    Merge(String),
}

/// Latencies in virtual microseconds.
#[derive(Clone)]
pub struct Latency {
    /// The samples; always of our bounds (1 µs to [`HIGHEST_US`], 3 digits).
    histogram: Histogram<u64>,
    /// The text [`Latency::decode`] read, while the histogram is unchanged since: what
    /// [`Latency::encode`] answers without compressing again.
    wire: Option<String>,
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Latency {
        // Bounds are constants that HdrHistogram accepts; `new_with_bounds` only fails
        // for low == 0, high < 2 * low or more than 5 significant digits.
        match Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS) {
            Ok(histogram) => Latency {
                histogram,
                wire: None,
            },
            Err(_) => unreachable!("constant histogram bounds are valid"),
        }
    }

    /// Records one latency, in microseconds (0 is recorded as 1, huge values clamp).
    pub fn record_micros(&mut self, micros: u64) {
        self.wire = None;
        self.histogram
            .saturating_record(micros.clamp(1, HIGHEST_US));
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Latency) {
        self.wire = None;
        // Same bounds on both sides, so addition cannot fail; saturate defensively.
        if self.histogram.add(&other.histogram).is_err() {
            for value in other.histogram.iter_recorded() {
                self.histogram
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at `quantile` (0.0 to 1.0) in microseconds; 0 when empty.
    pub fn quantile_micros(&self, quantile: f64) -> u64 {
        if self.histogram.is_empty() {
            0
        } else {
            self.histogram.value_at_quantile(quantile)
        }
    }

    /// The largest sample in microseconds; 0 when empty.
    pub fn max_micros(&self) -> u64 {
        self.histogram.max()
    }

    /// The smallest sample in microseconds; 0 when empty.
    pub fn min_micros(&self) -> u64 {
        if self.histogram.is_empty() {
            0
        } else {
            self.histogram.min()
        }
    }

    /// The mean in microseconds; 0 when empty.
    pub fn mean_micros(&self) -> f64 {
        self.histogram.mean()
    }

    /// The underlying histogram, for statistics this type does not wrap.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// The base64 V2-deflate encoding (for a decoded histogram not changed since, the
    /// text it was decoded from, which decodes to the same histogram).
    pub fn encode(&self) -> String {
        if let Some(wire) = &self.wire {
            return wire.clone();
        }
        let mut bytes = Vec::new();
        // Serialising into a Vec cannot fail for a histogram of our bounds.
        match V2DeflateSerializer::new().serialize(&self.histogram, &mut bytes) {
            Ok(_) => STANDARD.encode(bytes),
            Err(error) => unreachable!("serialising into memory failed: {error:?}"),
        }
    }

    /// Decodes [`Latency::encode`]'s form (and plain V2, which HdrHistogram also reads).
    pub fn decode(text: &str) -> Result<Latency, LatencyError> {
        let text = text.trim();
        let bytes = STANDARD.decode(text)?;
        let decoded: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| LatencyError::Decode(format!("{e:?}")))?;
        let ours = decoded.low() == 1
            && decoded.high() == HIGHEST_US
            && decoded.sigfig() == SIGNIFICANT_DIGITS;
        if ours {
            // Our own bounds (every agent's): the decoded histogram is the one to keep,
            // with no second histogram to fill.
            return Ok(Latency {
                histogram: decoded,
                wire: Some(text.to_owned()),
            });
        }
        let mut latency = Latency::new();
        latency
            .histogram
            .add(&decoded)
            .map_err(|e| LatencyError::Merge(format!("{e:?}")))?;
        Ok(latency)
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

impl PartialEq for Latency {
    fn eq(&self, other: &Latency) -> bool {
        self.histogram == other.histogram
    }
}

impl fmt::Debug for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latency")
            .field("count", &self.count())
            .field("p50_us", &self.quantile_micros(0.5))
            .field("max_us", &self.max_micros())
            .finish()
    }
}

impl Serialize for Latency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Latency, D::Error> {
        let text = String::deserialize(deserializer)?;
        Latency::decode(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_round_trips() {
        let empty = Latency::new();
        let back = Latency::decode(&empty.encode()).expect("decodes");
        assert_eq!(back, empty);
        assert_eq!(back.count(), 0);
        assert_eq!(back.quantile_micros(0.99), 0);
    }

    // A decoded histogram passes its text on unchanged until it changes, and is the
    // histogram a merge into a fresh one gives.
    #[test]
    fn decoded_text_is_kept_until_the_histogram_changes() {
        let mut sent = Latency::new();
        for micros in [120, 480, 95_000, 7_200_000_000] {
            sent.record_micros(micros);
        }
        let text = format!(" {}\n", sent.encode());
        let received = Latency::decode(&text).expect("the text decodes");
        assert_eq!(received.encode(), text.trim());
        let mut merged = Latency::new();
        merged.merge(&received);
        assert_eq!(merged.histogram(), received.histogram());
        assert_eq!(received, sent);
        let mut changed = received.clone();
        changed.record_micros(3);
        assert_ne!(changed.encode(), text.trim());
        assert_eq!(
            Latency::decode(&changed.encode())
                .expect("its own encoding decodes")
                .count(),
            5
        );
        let mut grown = received;
        grown.merge(&sent);
        assert_eq!(
            Latency::decode(&grown.encode())
                .expect("its own encoding decodes")
                .count(),
            8
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            Latency::decode("%%%"),
            Err(LatencyError::Base64(_))
        ));
        assert!(matches!(
            Latency::decode("AAAA"),
            Err(LatencyError::Decode(_))
        ));
    }

    proptest! {
        #[test]
        fn encoding_round_trips_and_merge_is_exact(
            a in proptest::collection::vec(0u64..10_000_000_000, 0..200),
            b in proptest::collection::vec(0u64..10_000_000_000, 0..200),
        ) {
            let mut left = Latency::new();
            a.iter().for_each(|&v| left.record_micros(v));
            let mut right = Latency::new();
            b.iter().for_each(|&v| right.record_micros(v));
            let mut all = Latency::new();
            a.iter().chain(&b).for_each(|&v| all.record_micros(v));

            let left_back: Latency = serde_json::from_str(&serde_json::to_string(&left).expect("round-trips through JSON")).expect("round-trips through JSON");
            prop_assert_eq!(&left_back, &left);
            let mut merged = left_back;
            merged.merge(&right);
            prop_assert_eq!(merged.count(), (a.len() + b.len()) as u64);
            prop_assert_eq!(&merged, &all);
        }
    }
}
