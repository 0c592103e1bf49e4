//! Formatting shared by the HTML page and the text summary: escaping, times, counts,
//! rates, percentages and money. Every formatter shows a non-finite value as `-`
//! instead of `NaN` or `inf`, so bad measurements never leak odd words into a report.

/// Escapes text for HTML element content and quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a terminal: control characters (escape sequences, newlines inside a
/// name) become spaces, so report text can neither colour nor break the tables.
pub fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Placeholder for a value that is missing or not a finite number.
pub const MISSING: &str = "-";

/// Virtual seconds as `m:ss`, or `h:mm:ss` from one hour on; negative times get a sign.
pub fn clock(seconds: f64) -> String {
    if !seconds.is_finite() {
        return MISSING.to_owned();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    // Rounding to whole seconds; the report's times are never finer than that.
    let total = seconds.abs().round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m}:{s:02}")
    }
}

/// A whole count with thousands separators: `12,345`.
pub fn count(n: u64) -> String {
    group(&n.to_string())
}

/// A number with `decimals` decimals and thousands separators: `1,234.5`.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_owned();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    // `-0.0` and values that round to zero print without a sign.
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&group(whole));
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A rate for reading: one decimal below 100, whole numbers above.
pub fn rate(value: f64) -> String {
    if value.abs() < 100.0 {
        number(value, 1)
    } else {
        number(value, 0)
    }
}

/// A ratio (0 to 1) as a percentage with enough decimals to tell small rates apart:
/// `0.42%`, `5.3%`, `100%`.
pub fn percent(ratio: f64) -> String {
    if !ratio.is_finite() {
        return MISSING.to_owned();
    }
    let pct = ratio * 100.0;
    let decimals = if pct == 0.0 || pct.abs() >= 99.95 {
        0
    } else if pct.abs() < 1.0 {
        2
    } else {
        1
    };
    format!("{}%", number(pct, decimals))
}

/// US dollars with cents, or below one dollar with at least four decimals and three
/// significant digits (Spot prices and per-request costs are small): `$12.34`,
/// `$0.0123`, `$0.000176`.
pub fn usd(value: f64) -> String {
    if !value.is_finite() {
        return MISSING.to_owned();
    }
    let decimals = if value.abs() < 1.0 && value != 0.0 {
        let leading_zeros = (-value.abs().log10()).floor().max(0.0) as usize;
        (leading_zeros + 3).clamp(4, 8)
    } else {
        2
    };
    let text = number(value, decimals);
    match text.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${text}"),
    }
}

/// A capacity in units: whole numbers bare, fractions with up to two decimals.
pub fn units(value: f64) -> String {
    if !value.is_finite() {
        return MISSING.to_owned();
    }
    if (value - value.round()).abs() < 1e-9 {
        number(value, 0)
    } else {
        let text = number(value, 2);
        text.trim_end_matches('0').to_owned()
    }
}

/// Milliseconds for latencies: one decimal below 10 ms, whole numbers above.
pub fn millis(value: f64) -> String {
    if value.abs() < 10.0 {
        number(value, 1)
    } else {
        number(value, 0)
    }
}

/// Formats an optional value with `f`, or the placeholder.
pub fn opt(value: Option<f64>, f: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| MISSING.to_owned(), f)
}

/// A phase's figures as both renderers show them, after its name and times: target
/// and fulfilled capacity, requests, rate, errors, error rate, p50 and p99 (plain
/// text, no markup).
pub fn phase_figures(p: &crate::model::Phase) -> Vec<String> {
    vec![
        opt(p.target_capacity, units),
        opt(p.fulfilled_capacity, units),
        count(p.requests()),
        opt(p.rate_per_s(), rate),
        count(p.errors),
        opt(p.error_rate(), percent),
        opt(p.p50_ms, millis),
        opt(p.p99_ms, millis),
    ]
}

/// Inserts a comma every three digits of a run of ASCII digits.
fn group(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<b a="1">Tom & 'Jerry'</b>"#),
            "&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(escape("c5.large us-east-1a"), "c5.large us-east-1a");
    }

    #[test]
    fn plain_text_drops_control_characters() {
        assert_eq!(plain("\u{1b}[31mred\u{1b}[0m\nnext"), " [31mred [0m next");
    }

    #[test]
    fn clocks() {
        let cases = [
            (0.0, "0:00"),
            (59.6, "1:00"),
            (125.0, "2:05"),
            (3599.0, "59:59"),
            (3600.0, "1:00:00"),
            (3725.0, "1:02:05"),
            (-30.0, "-0:30"),
            (f64::NAN, "-"),
            (f64::INFINITY, "-"),
        ];
        for (seconds, want) in cases {
            assert_eq!(clock(seconds), want, "{seconds}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(number(-1234.56, 1), "-1,234.6");
        assert_eq!(number(-0.01, 1), "0.0");
        assert_eq!(number(f64::NAN, 1), "-");
        assert_eq!(rate(12.345), "12.3");
        assert_eq!(rate(1234.6), "1,235");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.0042), "0.42%");
        assert_eq!(percent(0.053), "5.3%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(f64::NEG_INFINITY), "-");
        assert_eq!(usd(12.344), "$12.34");
        assert_eq!(usd(0.01234), "$0.0123");
        assert_eq!(usd(0.0341), "$0.0341");
        assert_eq!(usd(0.000176), "$0.000176");
        assert_eq!(usd(1e-12), "$0.00000000");
        assert_eq!(usd(-2.5), "-$2.50");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(units(4.0), "4");
        assert_eq!(units(2.5), "2.5");
        assert_eq!(units(f64::NAN), "-");
        assert_eq!(millis(3.21), "3.2");
        assert_eq!(millis(123.4), "123");
        assert_eq!(opt(None, units), "-");
    }
}
