//! The report's colours, in one place so the page, its charts and the screenshot test
//! agree. Fills are opaque so a rendered chart shows these exact colours, which is how
//! the browser test tells that each series really drew.

/// Successful requests: the line.
pub const SUCCESS: &str = "#2f8557";
/// Successful requests: the area under the line.
pub const SUCCESS_FILL: &str = "#a9d8bb";
/// Failed requests and the error rate: the line.
pub const ERROR: &str = "#c23b48";
/// Failed requests: the area under the line.
pub const ERROR_FILL: &str = "#f0a7ad";
/// The alarm's ALARM state, behind the error rate.
pub const ALARM_BAND: &str = "#fbe1e3";
/// The alarm's OK state, behind the error rate.
pub const OK_BAND: &str = "#e3f3e8";
/// The alarm's INSUFFICIENT_DATA state, behind the error rate.
pub const INSUFFICIENT_BAND: &str = "#eceef1";
/// Reference lines: the alarm threshold, target capacity, phase boundaries.
pub const REFERENCE: &str = "#3c4148";
/// Interruption markers.
pub const INTERRUPTION: &str = "#d9480f";

/// One colour per pool, in the order pools sort; repeats past the end.
pub const POOLS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f", "#e15759", "#8cd17d",
];

/// The colour of the `index`th pool.
pub fn pool(index: usize) -> &'static str {
    POOLS[index % POOLS.len()]
}

/// The background band for an alarm state; unknown states are grey.
pub fn state_band(state: &str) -> &'static str {
    match state {
        "ALARM" => ALARM_BAND,
        "OK" => OK_BAND,
        _ => INSUFFICIENT_BAND,
    }
}

/// A `#rrggbb` colour as its three channels; `None` for anything else.
pub fn rgb(hex: &str) -> Option<[u8; 3]> {
    let hex = hex.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex() {
        assert_eq!(rgb("#4e79a7"), Some([0x4e, 0x79, 0xa7]));
        assert_eq!(rgb("4e79a7"), None);
        assert_eq!(rgb("#4e79"), None);
        assert_eq!(rgb("#zz79a7"), None);
    }
}
