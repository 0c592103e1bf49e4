//! The value matchers of a pattern's arrays: exact values and the operators (`prefix`,
//! `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `cidr`,
//! `exists`), each tested against one scalar leaf of an event.

use std::net::IpAddr;

use serde_json::{Number, Value};

/// Numbers take part in numeric comparisons only within ±5e9, as event-ruler's
/// `ComparableNumber` (AWS documents the same range).
pub(super) const NUMERIC_LIMIT: f64 = 5.0e9;

/// One alternative of a pattern field.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Matcher {
    /// A JSON value, compared type-sensitively.
    Exact(Literal),
    /// A string starting with this.
    Prefix(String),
    /// A string starting with this, ignoring case (kept lower-cased).
    PrefixIgnoreCase(String),
    /// A string ending with this.
    Suffix(String),
    /// A string ending with this, ignoring case (kept lower-cased).
    SuffixIgnoreCase(String),
    /// A string equal to this, ignoring case (kept lower-cased).
    EqualsIgnoreCase(String),
    /// A string matching a `*` pattern.
    Wildcard(Wildcard),
    /// Any leaf the exclusion does not catch (explicit `null` included).
    AnythingBut(Exclusion),
    /// A number within a range (both ends as comparable keys).
    Numeric(Range),
    /// An IP address string within a CIDR block.
    Cidr(IpRange),
    /// `{"exists": true}` matches any leaf; `false` only the absence of one.
    Exists(bool),
}

/// An exact value of a pattern.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    /// A string; one that is an IP address also matches other spellings of that address.
    String {
        /// The text.
        text: String,
        /// The address, when the text is one.
        ip: Option<IpAddr>,
    },
    /// A number: equal numbers match whatever their spelling (`300`, `3.0e2`).
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// What `anything-but` excludes.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Exclusion {
    /// These strings.
    Strings(Vec<String>),
    /// These numbers (comparable keys); only numeric leaves are excluded.
    Numbers(Vec<i64>),
    /// Strings with one of these prefixes.
    Prefixes(Vec<String>),
    /// Strings with one of these suffixes.
    Suffixes(Vec<String>),
    /// These strings, ignoring case (kept lower-cased).
    StringsIgnoreCase(Vec<String>),
    /// Strings matching one of these wildcards.
    Wildcards(Vec<Wildcard>),
}

/// A numeric range over comparable keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Range {
    pub(super) bottom: i64,
    pub(super) open_bottom: bool,
    pub(super) top: i64,
    pub(super) open_top: bool,
}

/// The addresses a CIDR pattern covers: from the address as written to the address with
/// every host bit set (event-ruler does not clear host bits of the base address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IpRange {
    pub(super) low: Vec<u8>,
    pub(super) high: Vec<u8>,
}

/// A wildcard pattern: literal pieces between `*`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Wildcard {
    /// The literal pieces; `pieces.len() - 1` stars sit between them.
    pieces: Vec<String>,
}

impl Matcher {
    /// Whether a leaf holding `value` matches.
    pub(super) fn matches(&self, value: &Value) -> bool {
        match self {
            Matcher::Exact(literal) => literal.matches(value),
            Matcher::Prefix(prefix) => text(value).is_some_and(|t| t.starts_with(prefix.as_str())),
            Matcher::PrefixIgnoreCase(prefix) => {
                text(value).is_some_and(|t| t.to_lowercase().starts_with(prefix.as_str()))
            }
            Matcher::Suffix(suffix) => text(value).is_some_and(|t| t.ends_with(suffix.as_str())),
            Matcher::SuffixIgnoreCase(suffix) => {
                text(value).is_some_and(|t| t.to_lowercase().ends_with(suffix.as_str()))
            }
            Matcher::EqualsIgnoreCase(expected) => {
                text(value).is_some_and(|t| t.to_lowercase() == *expected)
            }
            Matcher::Wildcard(wildcard) => text(value).is_some_and(|t| wildcard.matches(t)),
            Matcher::AnythingBut(exclusion) => !exclusion.excludes(value),
            Matcher::Numeric(range) => comparable_value(value).is_some_and(|k| range.contains(k)),
            Matcher::Cidr(range) => text(value)
                .and_then(|t| t.parse::<IpAddr>().ok())
                .is_some_and(|ip| range.contains(ip)),
            Matcher::Exists(exists) => *exists,
        }
    }

    /// Whether this alternative is satisfied by the field being absent.
    pub(super) fn matches_absence(&self) -> bool {
        matches!(self, Matcher::Exists(false))
    }
}

impl Literal {
    fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Literal::String { text, ip }, Value::String(actual)) => {
                actual == text
                    || ip.is_some_and(|ip| actual.parse::<IpAddr>().is_ok_and(|a| a == ip))
            }
            (Literal::Number(expected), Value::Number(actual)) => numbers_equal(expected, actual),
            (Literal::Bool(expected), Value::Bool(actual)) => expected == actual,
            (Literal::Null, Value::Null) => true,
            _ => false,
        }
    }
}

impl Exclusion {
    fn excludes(&self, value: &Value) -> bool {
        match self {
            Exclusion::Strings(strings) => {
                text(value).is_some_and(|t| strings.iter().any(|s| s == t))
            }
            Exclusion::Numbers(keys) => comparable_value(value).is_some_and(|k| keys.contains(&k)),
            Exclusion::Prefixes(prefixes) => {
                text(value).is_some_and(|t| prefixes.iter().any(|p| t.starts_with(p.as_str())))
            }
            Exclusion::Suffixes(suffixes) => {
                text(value).is_some_and(|t| suffixes.iter().any(|s| t.ends_with(s.as_str())))
            }
            Exclusion::StringsIgnoreCase(strings) => text(value).is_some_and(|t| {
                let lower = t.to_lowercase();
                strings.contains(&lower)
            }),
            Exclusion::Wildcards(wildcards) => {
                text(value).is_some_and(|t| wildcards.iter().any(|w| w.matches(t)))
            }
        }
    }
}

impl Range {
    fn contains(&self, key: i64) -> bool {
        let above = if self.open_bottom {
            key > self.bottom
        } else {
            key >= self.bottom
        };
        let below = if self.open_top {
            key < self.top
        } else {
            key <= self.top
        };
        above && below
    }
}

impl IpRange {
    fn contains(&self, ip: IpAddr) -> bool {
        let bytes = ip_bytes(ip);
        bytes.len() == self.low.len() && self.low <= bytes && bytes <= self.high
    }
}

impl Wildcard {
    /// Parses a wildcard pattern: `*` is any run of characters, `\*` a literal star and
    /// `\\` a literal backslash; any other escape and `**` are errors (event-ruler's
    /// reasons, positions in bytes).
    pub(super) fn parse(pattern: &str) -> Result<Wildcard, String> {
        let bytes = pattern.as_bytes();
        let mut pieces = vec![String::new()];
        let mut chars = pattern.char_indices().peekable();
        while let Some((position, c)) = chars.next() {
            match c {
                '*' => {
                    if bytes.get(position + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {position}"));
                    }
                    pieces.push(String::new());
                }
                '\\' => match chars.peek() {
                    Some(&(_, next @ ('*' | '\\'))) => {
                        if let Some(piece) = pieces.last_mut() {
                            piece.push(next);
                        }
                        chars.next();
                    }
                    _ => return Err(format!("Invalid escape character at pos {position}")),
                },
                other => {
                    if let Some(piece) = pieces.last_mut() {
                        piece.push(other);
                    }
                }
            }
        }
        Ok(Wildcard { pieces })
    }

    /// Whether `text` matches: the first piece is a prefix, the last a suffix, and the
    /// middle pieces occur in order between them (leftmost occurrence suffices).
    pub(super) fn matches(&self, text: &str) -> bool {
        let Some((first, rest)) = self.pieces.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return text == first;
        };
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.len() >= last.len() && remaining.ends_with(last.as_str())
    }
}

/// The string a leaf holds, if it holds one.
fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// The comparable key of a numeric leaf within ±5e9.
fn comparable_value(value: &Value) -> Option<i64> {
    value.as_f64().and_then(comparable)
}

/// event-ruler's `ComparableNumber`: `(1e6 * (5e9 + f))` truncated, so numbers compare
/// to six decimal places; `None` outside ±5e9.
pub(super) fn comparable(number: f64) -> Option<i64> {
    if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&number) {
        return None;
    }
    // In range the product is below 1e16, well inside i64; truncation is the point.
    Some((1.0e6 * (NUMERIC_LIMIT + number)) as i64)
}

/// Exact-value equality of numbers: integers exactly, others as event-ruler compares
/// them (its comparable form within ±5e9, the double value beyond).
fn numbers_equal(expected: &Number, actual: &Number) -> bool {
    if let (Some(a), Some(b)) = (expected.as_i64(), actual.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (expected.as_u64(), actual.as_u64()) {
        return a == b;
    }
    match (expected.as_f64(), actual.as_f64()) {
        (Some(a), Some(b)) => match (comparable(a), comparable(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => false,
    }
}

/// An address as bytes (4 for IPv4, 16 for IPv6).
pub(super) fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}
