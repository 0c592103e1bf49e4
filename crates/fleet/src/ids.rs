//! Resource ids in AWS's formats, generated from a seeded stream so simulations are
//! reproducible: `fleet-` + UUID, `i-` + 17 hex digits, `sir-` + 8 lowercase
//! alphanumerics.

use std::fmt;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id string as received (e.g. from a request); no format check.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as AWS prints it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// `fleet-598fb973-87b7-422d-be4d-6b0809bfff0a`
    FleetId
);
id_type!(
    /// `i-0123456789abcdef0` (17 hex digits)
    InstanceId
);
id_type!(
    /// `sir-rmqske6h`
    SpotRequestId
);

/// Generates ids from a seeded ChaCha stream.
#[derive(Clone, Debug)]
pub struct IdGen {
    rng: ChaCha8Rng,
}

impl IdGen {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> IdGen {
        IdGen {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x1d50_f1d5),
        }
    }

    /// A new fleet id: `fleet-` + a version-4 UUID.
    pub fn fleet_id(&mut self) -> FleetId {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        FleetId(format!("fleet-{}", uuid.hyphenated()))
    }

    /// A new instance id: `i-` + 17 lowercase hex digits.
    pub fn instance_id(&mut self) -> InstanceId {
        InstanceId(format!("i-{}", self.chars(17, b"0123456789abcdef")))
    }

    /// A new Spot Instance request id: `sir-` + 8 lowercase alphanumerics.
    pub fn spot_request_id(&mut self) -> SpotRequestId {
        SpotRequestId(format!(
            "sir-{}",
            self.chars(8, b"abcdefghijklmnopqrstuvwxyz0123456789")
        ))
    }

    /// A generic id body of `len` hex digits, for other resource kinds (`r-`, `lt-`, ...).
    pub fn hex(&mut self, len: usize) -> String {
        self.chars(len, b"0123456789abcdef")
    }

    fn chars(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.rng.random_range(0..alphabet.len())]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_formats_and_are_reproducible() {
        let mut a = IdGen::new(7);
        let mut b = IdGen::new(7);
        let fleet = a.fleet_id();
        assert_eq!(fleet, b.fleet_id());
        assert_eq!(fleet.as_str().len(), "fleet-".len() + 36);
        assert_eq!(&fleet.as_str()[6 + 14..6 + 15], "4", "UUID version 4");
        let instance = a.instance_id();
        assert!(instance.as_str().starts_with("i-") && instance.as_str().len() == 19);
        let request = a.spot_request_id();
        assert!(request.as_str().starts_with("sir-") && request.as_str().len() == 12);
        assert_ne!(
            a.instance_id(),
            b.instance_id(),
            "streams advance independently"
        );
    }
}
