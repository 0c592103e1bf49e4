//! [`Distribution`]: a compact, mergeable `value -> count` map of non-negative values,
//! exact while small and on a logarithmic grid once large.

/// Distinct values a stored distribution keeps exactly; one more switches it to the grid.
///
/// Large enough that one second of an HdrHistogram with 3 significant digits (2,048
/// buckets per power of two) over a realistic latency spread stays exact, so merged
/// histograms give HdrHistogram's own percentiles.
pub const EXACT_VALUES: usize = 4_096;

/// Relative error bound of the logarithmic grid (alpha = 1/2048, about 0.05 %, the
/// resolution of an HdrHistogram with 3 significant digits): a value `v` on the grid is
/// represented by some `r` with `|r - v| <= alpha * v`.
pub const RELATIVE_ACCURACY: f64 = 1.0 / 2048.0;

/// Ratio between consecutive grid boundaries: (1 + alpha) / (1 - alpha).
const GAMMA: f64 = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);

/// Non-negative values with their counts (weights), sorted by value, each value once.
///
/// Counts are `f64` because CloudWatch's `Counts` are doubles; percentile ranks count
/// whole expanded values (see [`Distribution::percentile`]). Once quantized, every value
/// added is snapped to the grid too, so merging stays associative.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distribution {
    /// (value, count), sorted by value, values distinct, counts > 0.
    entries: Vec<(f64, f64)>,
    /// Whether values are snapped to the logarithmic grid.
    quantized: bool,
}

/// The grid representative of `value` (0 stays 0).
fn snap(value: f64) -> f64 {
    if value <= 0.0 {
        return 0.0;
    }
    let ln_gamma = GAMMA.ln();
    let index = (value.ln() / ln_gamma).ceil();
    (index * ln_gamma).exp() * 2.0 / (GAMMA + 1.0)
}

/// Sorts by value and merges equal values.
fn coalesce(entries: &mut Vec<(f64, f64)>) {
    entries.sort_by(|a, b| a.0.total_cmp(&b.0));
    entries.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
}

impl Distribution {
    /// An empty distribution.
    pub fn new() -> Distribution {
        Distribution::default()
    }

    /// Builds a distribution from unsorted (value, count) pairs; values must be
    /// non-negative and finite, pairs with a zero count are dropped. `quantized` snaps
    /// every value to the grid. No size limit applies (query-time aggregates).
    pub fn from_pairs(mut entries: Vec<(f64, f64)>, quantized: bool) -> Distribution {
        entries.retain(|&(_, count)| count > 0.0);
        for entry in &mut entries {
            entry.0 = if quantized {
                snap(entry.0)
            } else {
                entry.0 + 0.0
            };
        }
        coalesce(&mut entries);
        Distribution { entries, quantized }
    }

    /// (value, count) pairs in increasing value order.
    pub fn entries(&self) -> &[(f64, f64)] {
        &self.entries
    }

    /// Whether the values are on the logarithmic grid (no longer exact).
    pub fn is_quantized(&self) -> bool {
        self.quantized
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sum of the counts.
    pub fn total(&self) -> f64 {
        self.entries.iter().map(|e| e.1).sum()
    }

    /// Adds `count` copies of `value` (non-negative, finite).
    pub(crate) fn add(&mut self, value: f64, count: f64) {
        if count <= 0.0 {
            return;
        }
        // `+ 0.0` turns -0.0 into 0.0 so equal values meet.
        let value = if self.quantized {
            snap(value)
        } else {
            value + 0.0
        };
        match self
            .entries
            .binary_search_by(|entry| entry.0.total_cmp(&value))
        {
            Ok(at) => self.entries[at].1 += count,
            Err(at) => {
                self.entries.insert(at, (value, count));
                self.limit();
            }
        }
    }

    /// Merges `other` in; the result is quantized if either side was.
    pub(crate) fn merge(&mut self, other: &Distribution) {
        if other.quantized && !self.quantized {
            self.quantize();
        }
        self.merge_sorted(&other.entries);
    }

    /// Merges (value, count) pairs sorted by value (as [`Distribution::entries`] and
    /// HdrHistogram's iteration give them) in one linear pass.
    pub(crate) fn merge_sorted(&mut self, sorted: &[(f64, f64)]) {
        let quantized = self.quantized;
        let incoming = sorted
            .iter()
            .filter(|pair| pair.1 > 0.0)
            .map(|&(value, count)| {
                let value = if quantized { snap(value) } else { value + 0.0 };
                (value, count)
            });
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(self.entries.len() + sorted.len());
        let mut mine = self.entries.iter().copied().peekable();
        let mut push = |pair: (f64, f64)| match merged.last_mut() {
            Some(last) if last.0 == pair.0 => last.1 += pair.1,
            _ => merged.push(pair),
        };
        for pair in incoming {
            while let Some(&next) = mine.peek() {
                if next.0 > pair.0 {
                    break;
                }
                push(next);
                mine.next();
            }
            push(pair);
        }
        mine.for_each(&mut push);
        self.entries = merged;
        self.limit();
    }

    /// Switches to the grid once there are more than [`EXACT_VALUES`] distinct values.
    fn limit(&mut self) {
        if !self.quantized && self.entries.len() > EXACT_VALUES {
            self.quantize();
        }
    }

    /// Snaps every value to the grid.
    fn quantize(&mut self) {
        self.quantized = true;
        for entry in &mut self.entries {
            entry.0 = snap(entry.0);
        }
        coalesce(&mut self.entries);
    }

    /// The nearest-rank percentile `p` (0 to 100): the smallest value whose cumulative
    /// count reaches `ceil(p / 100 x total)` (at least the first value). `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let target = (p * total / 100.0).ceil().max(1.0).min(total);
        let mut cumulative = 0.0;
        for &(value, count) in &self.entries {
            cumulative += count;
            if cumulative >= target {
                return Some(value);
            }
        }
        self.entries.last().map(|e| e.0)
    }

    /// The values whose ranks (1-based positions among the expanded sorted values) lie
    /// in `(lower, upper]`, with how many of their copies do.
    pub(crate) fn rank_window(
        &self,
        lower: f64,
        upper: f64,
    ) -> impl Iterator<Item = (f64, f64)> + '_ {
        let mut cumulative = 0.0;
        self.entries.iter().filter_map(move |&(value, count)| {
            let before = cumulative;
            cumulative += count;
            let inside = upper.min(cumulative).floor() - lower.max(before).floor();
            (inside > 0.0).then_some((value, inside))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_stays_within_the_relative_bound_and_is_idempotent() {
        for value in [1e-9, 0.5, 1.0, 1.5, 3.0, 12.5, 1000.0, 1234.5678, 1e12] {
            let snapped = snap(value);
            assert!((snapped - value).abs() <= RELATIVE_ACCURACY * value * 1.000_001);
            let again = snap(snapped);
            assert!((again - snapped).abs() <= snapped * 1e-12, "{value}");
        }
        assert_eq!(snap(0.0), 0.0);
    }

    #[test]
    fn exact_until_the_limit_then_on_the_grid() {
        let mut distribution = Distribution::new();
        for i in 0..EXACT_VALUES {
            distribution.add(i as f64, 1.0);
        }
        assert!(!distribution.is_quantized());
        assert_eq!(distribution.entries().len(), EXACT_VALUES);
        distribution.add(10_000.5, 1.0);
        assert!(distribution.is_quantized());
        assert_eq!(distribution.total(), EXACT_VALUES as f64 + 1.0);
    }

    #[test]
    fn rank_window_counts_whole_ranks() {
        let distribution =
            Distribution::from_pairs(vec![(1.0, 3.0), (2.0, 3.0), (3.0, 4.0)], false);
        let window: Vec<_> = distribution.rank_window(2.5, 6.5).collect();
        assert_eq!(window, vec![(1.0, 1.0), (2.0, 3.0)]);
    }
}
