//! Timestamps between the canonical JSON (seconds since the Unix epoch, a JSON number)
//! and ISO 8601 text, without a date library.
//!
//! Reading accepts what clients send: `2024-01-02T03:04:05Z`, fractions of any length
//! (`.5Z`, `.500000Z`; kept to the microsecond, as botocore sends them), a numeric
//! offset (`+01:00`, `+0100`) or none (UTC). Writing gives AWS's form with
//! milliseconds, `2024-01-02T03:04:05.000Z`.

use serde_json::{Number, Value};

/// The canonical number for `micros` microseconds since the epoch: an integer when
/// whole, else a float (exact division, as botocore computes it).
pub fn seconds_from_micros(micros: i64) -> Number {
    if micros % 1_000_000 == 0 {
        Number::from(micros / 1_000_000)
    } else {
        // |micros| < 2^53 for every year 1..=9999, so the conversion is exact and the
        // division correctly rounded.
        #[allow(clippy::cast_precision_loss)]
        let seconds = micros as f64 / 1e6;
        Number::from_f64(seconds).unwrap_or_else(|| Number::from(micros / 1_000_000))
    }
}

/// Parses ISO 8601 date-time text into the canonical number of epoch seconds.
pub fn parse_iso8601(text: &str) -> Option<Number> {
    parse_micros(text.trim()).map(seconds_from_micros)
}

/// Microseconds since the epoch of an ISO 8601 date-time.
fn parse_micros(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !text.is_ascii() {
        return None;
    }
    let field = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &bytes[range];
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0_i64, |value, byte| value * 10 + i64::from(byte - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    let mut rest = &text[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        micros = fraction[..digits]
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(6)
            .fold(0_i64, |value, byte| value * 10 + i64::from(byte - b'0'));
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = rest[1..].replace(':', "");
            if zone.len() != 4 || !zone.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = zone[..2].parse().ok()?;
            let minutes: i64 = zone[2..].parse().ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// Formats epoch seconds as `2024-01-02T03:04:05.000Z` (rounded to the millisecond), or
/// `None` outside years 1 to 9999.
pub fn format_iso8601(seconds: f64) -> Option<String> {
    if !seconds.is_finite() {
        return None;
    }
    let millis = (seconds * 1000.0).round();
    // Years 1..=9999 span about ±2.6e14 ms; anything beyond is refused before the cast.
    if millis.abs() > 1e15 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let millis = millis as i64;
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    if !(1..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ))
}

/// The canonical epoch seconds of a JSON value: a number as is, ISO 8601 text parsed.
pub fn epoch_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        Value::String(text) => parse_iso8601(text).and_then(|n| n.as_f64()),
        _ => None,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_clients_send() {
        let whole = Number::from(1_704_164_645_i64);
        assert_eq!(parse_iso8601("2024-01-02T03:04:05Z"), Some(whole.clone()));
        assert_eq!(parse_iso8601("2024-01-02T03:04:05"), Some(whole.clone()));
        assert_eq!(
            parse_iso8601("2024-01-02T04:04:05+01:00"),
            Some(whole.clone())
        );
        assert_eq!(parse_iso8601("2024-01-02T02:04:05-0100"), Some(whole));
        let half = Number::from_f64(1_704_164_645.5);
        assert_eq!(parse_iso8601("2024-01-02T03:04:05.500000Z"), half);
        assert_eq!(parse_iso8601("2024-01-02T03:04:05.5Z"), half);
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(Number::from(0)));
        assert_eq!(
            parse_iso8601("1969-12-31T23:59:59Z"),
            Some(Number::from(-1))
        );
        for bad in [
            "",
            "2024-01-02",
            "2024-13-02T03:04:05Z",
            "2023-02-29T03:04:05Z",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05+1",
            "2024/01/02T03:04:05Z",
            "2024-01-02T03:04:05Zjunk",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_aws_form_with_milliseconds() {
        assert_eq!(
            format_iso8601(1_704_164_645.0).as_deref(),
            Some("2024-01-02T03:04:05.000Z")
        );
        assert_eq!(
            format_iso8601(1_704_164_645.5).as_deref(),
            Some("2024-01-02T03:04:05.500Z")
        );
        assert_eq!(
            format_iso8601(-0.001).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(format_iso8601(f64::NAN), None);
        assert_eq!(format_iso8601(1e300), None);
    }

    proptest! {
        #[test]
        fn milliseconds_round_trip(millis in -62_135_596_800_000_i64..253_402_300_799_999) {
            #[allow(clippy::cast_precision_loss)]
            let seconds = millis as f64 / 1000.0;
            let text = format_iso8601(seconds).expect("in range");
            let back = parse_micros(&text).expect("parses");
            prop_assert_eq!(back, millis * 1000);
        }

        #[test]
        fn any_text_parses_or_not_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_iso8601(&text);
        }
    }
}
