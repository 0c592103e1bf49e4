//! How CloudWatch prints numbers and times in alarm texts: doubles the way Java's
//! `Double.toString` does (`50.0`, `0.1`, `99.50160229693434`, `1.0E7`), datapoint times
//! in state reasons as `dd/MM/yy HH:mm:ss` (UTC), and timestamps in JSON documents
//! (state reason data, SNS messages, history data) as `2025-05-15T15:29:00.000+0000`.

use simtime::SimTime;

/// `value` as Java's `Double.toString` prints it: the shortest digits that read back as
/// the same double, in plain notation with at least one fractional digit for magnitudes
/// in [10⁻³, 10⁷), and in computerized scientific notation (`1.0E7`, `1.5E-4`) outside.
pub fn java_double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: `9.950160229693434e1`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    if (1e-3..1e7).contains(&magnitude) {
        if exponent >= 0 {
            let point = usize::try_from(exponent).unwrap_or(0) + 1;
            let mut integer = digits.clone();
            while integer.len() < point {
                integer.push('0');
            }
            let fraction = integer.split_off(point);
            let fraction = if fraction.is_empty() {
                "0".to_owned()
            } else {
                fraction
            };
            format!("{sign}{integer}.{fraction}")
        } else {
            let zeros = usize::try_from(-exponent - 1).unwrap_or(0);
            format!("{sign}0.{}{digits}", "0".repeat(zeros))
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// A datapoint's time as state reasons print it: `02/10/19 16:59:00` (day, month, two-digit
/// year, UTC).
pub fn reason_time(time: SimTime) -> String {
    // `to_iso_seconds` is `YYYY-MM-DDTHH:MM:SSZ`, always 20 ASCII characters.
    let iso = time.to_iso_seconds();
    let part = |range: std::ops::Range<usize>| iso.get(range).unwrap_or_default().to_owned();
    format!(
        "{}/{}/{} {}",
        part(8..10),
        part(5..7),
        part(2..4),
        part(11..19)
    )
}

/// A timestamp as CloudWatch writes it inside JSON documents:
/// `2025-05-15T15:29:00.000+0000`.
pub fn cloudwatch_time(time: SimTime) -> String {
    let iso = time.to_iso_millis();
    let stem = iso.strip_suffix('Z').unwrap_or(&iso);
    format!("{stem}+0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_doubles_like_java() {
        for (value, text) in [
            (50.0, "50.0"),
            (0.1, "0.1"),
            (99.50160229693434, "99.50160229693434"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (0.00012345, "1.2345E-4"),
            (1234567.0, "1234567.0"),
            (9999999.5, "9999999.5"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (1e21, "1.0E21"),
            (0.04841402337228715, "0.04841402337228715"),
            (38.839999999999996, "38.839999999999996"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(java_double(value), text, "{value:?}");
        }
    }

    #[test]
    fn prints_times_like_cloudwatch() {
        let t = SimTime::parse("2019-10-02T16:59:00Z").expect("a valid timestamp");
        assert_eq!(reason_time(t), "02/10/19 16:59:00");
        let t = SimTime::parse("2025-05-15T15:29:00.984Z").expect("a valid timestamp");
        assert_eq!(cloudwatch_time(t), "2025-05-15T15:29:00.984+0000");
    }
}
