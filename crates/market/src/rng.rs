//! Seeded random streams, one per (seed, pool, purpose), and the few distributions the
//! market draws from.
//!
//! Each stream is a ChaCha8 generator whose 256-bit seed is expanded by SplitMix64 from a
//! mix of the market seed, a hash of the pool's *names* (so adding a type to the
//! catalogue does not reshuffle other pools) and the purpose. A pool's trajectory
//! therefore depends only on the seed and the pool, never on which other pools were
//! looked at, or in what order. Distributions are written out here (inverse transform,
//! Box-Muller) rather than taken from a crate, so the numbers a seed produces are fixed
//! by this file alone. This module knows nothing about prices or capacity.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simtime::SimDuration;

use crate::catalog::Pool;

/// What a stream is used for; each purpose gets an independent stream per pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The pool's fixed zone factor on the Spot price centre.
    ZoneFactor = 1,
    /// Times and sizes of Spot price changes.
    Price = 2,
    /// Times and sizes of spare-capacity moves.
    Capacity = 3,
    /// Reclaim times of our instances in the pool.
    Reclaim = 4,
}

/// One step of SplitMix64 (Steele, Lea & Flood 2014): a bijective 64-bit mix.
pub(crate) fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of the pool's display name (`c5.large/us-east-1a`): stable across catalogue
/// edits, unlike the pool's indices.
fn pool_key(pool: Pool) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    let bytes = pool
        .type_name()
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(pool.zone_name().bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// A seeded random stream.
#[derive(Clone, Debug)]
pub(crate) struct Stream(ChaCha8Rng);

impl Stream {
    /// The stream for `purpose` in `pool` under market seed `seed`.
    pub(crate) fn new(seed: u64, pool: Pool, purpose: Purpose) -> Stream {
        let mixed = splitmix64(splitmix64(splitmix64(seed) ^ pool_key(pool)) ^ purpose as u64);
        let mut key = [0u8; 32];
        let mut state = mixed;
        for chunk in key.chunks_exact_mut(8) {
            state = splitmix64(state);
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        Stream(ChaCha8Rng::from_seed(key))
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    fn uniform_open_at_zero(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Standard normal, by Box-Muller (one variate per call; the second is discarded so
    /// that every call consumes exactly two draws).
    pub(crate) fn normal(&mut self) -> f64 {
        let radius = (-2.0 * self.uniform_open_at_zero().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        radius * angle.cos()
    }

    /// Standard exponential (mean 1).
    pub(crate) fn standard_exponential(&mut self) -> f64 {
        -self.uniform_open_at_zero().ln()
    }

    /// An exponentially distributed gap with the given mean, at least 1 ms so that a
    /// process always moves forward.
    pub(crate) fn exponential_gap(&mut self, mean: SimDuration) -> SimDuration {
        duration_from_millis_f64(self.standard_exponential() * mean.as_millis() as f64)
    }
}

/// Rounds a non-negative number of milliseconds to a duration of at least 1 ms
/// (saturating: `as` clamps out-of-range floats).
pub(crate) fn duration_from_millis_f64(ms: f64) -> SimDuration {
    SimDuration::from_millis((ms.round() as u64).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    fn pool(index: usize) -> Pool {
        catalog().pools()[index]
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map(|_| Stream::new(7, pool(0), Purpose::Price).0.next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut firsts = vec![
            Stream::new(7, pool(0), Purpose::Price).0.next_u64(),
            Stream::new(7, pool(0), Purpose::Capacity).0.next_u64(),
            Stream::new(7, pool(1), Purpose::Price).0.next_u64(),
            Stream::new(8, pool(0), Purpose::Price).0.next_u64(),
        ];
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(firsts.len(), 4);
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut stream = Stream::new(1, pool(0), Purpose::Reclaim);
        let n = 20_000;
        let normals: Vec<f64> = (0..n).map(|_| stream.normal()).collect();
        let mean = normals.iter().sum::<f64>() / n as f64;
        let variance = normals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((variance - 1.0).abs() < 0.05, "{variance}");
        let exp_mean = (0..n).map(|_| stream.standard_exponential()).sum::<f64>() / n as f64;
        assert!((exp_mean - 1.0).abs() < 0.03, "{exp_mean}");
        assert!((0..n).all(|_| (0.0..1.0).contains(&stream.uniform())));
        assert_eq!(duration_from_millis_f64(0.0), SimDuration::from_millis(1));
        assert_eq!(
            duration_from_millis_f64(f64::INFINITY).as_millis(),
            u64::MAX
        );
    }
}
