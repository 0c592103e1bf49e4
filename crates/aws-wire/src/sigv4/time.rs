//! The dates a signature carries: `X-Amz-Date` (`20150830T123600Z`), RFC 1123 `Date`
//! headers, and their Unix seconds, without a date library.

use super::*;

/// Parses `YYYYMMDDTHHMMSSZ` into Unix seconds.
pub(super) fn parse_amz_date(text: &str) -> Result<i64, AuthError> {
    let bad = || {
        malformed(format!(
            "Invalid date {text:?}: it must be in ISO 8601 basic format, YYYYMMDD'T'HHMMSS'Z'"
        ))
    };
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| digits(&bytes[range]).ok_or_else(bad);
    unix_seconds(
        number(0..4)?,
        number(4..6)?,
        number(6..8)?,
        number(9..11)?,
        number(11..13)?,
        number(13..15)?,
    )
    .ok_or_else(bad)
}

/// Parses an HTTP `Date` header, `Sun, 30 Aug 2015 12:36:00 GMT` (RFC 7231's preferred
/// form; botocore writes the zone as `-0000`), or the ISO 8601 basic form some clients use.
pub(super) fn parse_http_date(text: &str) -> Result<i64, AuthError> {
    if let Ok(seconds) = parse_amz_date(text) {
        return Ok(seconds);
    }
    let bad = || malformed(format!("Invalid Date header {text:?}"));
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, zone] = fields[..] else {
        return Err(bad());
    };
    if !weekday.ends_with(',') || !matches!(zone, "GMT" | "UTC" | "UT" | "+0000" | "-0000") {
        return Err(bad());
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .iter()
        .position(|name| *name == month)
        .ok_or_else(bad)?;
    let clock: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = clock[..] else {
        return Err(bad());
    };
    let number = |field: &str| {
        digits(field.as_bytes())
            .filter(|_| field.len() <= 4)
            .ok_or_else(bad)
    };
    unix_seconds(
        number(year)?,
        i64::try_from(month).map_err(|_| bad())? + 1,
        number(day)?,
        number(hour)?,
        number(minute)?,
        number(second)?,
    )
    .ok_or_else(bad)
}

pub(super) fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0_i64, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

/// Seconds since the Unix epoch for a UTC civil time, or `None` if a field is out of range.
pub(super) fn unix_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    let in_range = (1..=month_days).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    in_range
        .then(|| days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the era-based algorithm: 400-year
/// eras of 146 097 days, years counted from March so the leap day falls last).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ` (the inverse of [`days_from_civil`]).
pub(super) fn format_amz_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let second_of_day = unix_secs.rem_euclid(86_400);
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        second_of_day / 3_600,
        second_of_day % 3_600 / 60,
        second_of_day % 60
    )
}
