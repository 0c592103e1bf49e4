//! The Describe calls' shared machinery: `Filter.N.Name`/`Filter.N.Value.M` filters with
//! EC2's wildcards (`*`, `?`, `\` escapes), tag filters (`tag:KEY`, `tag-key`,
//! `tag-value`), and `MaxResults`/`NextToken` pagination. What a filter name means for
//! a resource is the resource's business: it answers [`Fields::field`].

use serde::Deserialize;

use crate::error::ApiError;
use crate::tags::Tags;

/// One `{Name, Values}` filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// e.g. `instance-state-name`, `tag:Name`.
    #[serde(default)]
    pub name: Option<String>,
    /// Accepted values; any may match.
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

/// What a resource says about itself to filters.
pub trait Fields {
    /// The values of filter `name` for this resource (several for multi-valued
    /// fields), or `None` if the resource does not know the filter.
    fn field(&self, name: &str) -> Option<Vec<String>>;
    /// The resource's tags.
    fn tags(&self) -> Option<&Tags> {
        None
    }
}

/// Checks that every filter is named and known (`known` lists the names a call
/// supports besides the tag filters), the way EC2 answers an unknown filter.
pub fn check(filters: &[Filter], known: &[&str]) -> Result<(), ApiError> {
    for filter in filters {
        let Some(name) = filter.name.as_deref() else {
            return Err(ApiError::missing("Filter.Name"));
        };
        let tag = name.starts_with("tag:") || name == "tag-key" || name == "tag-value";
        if !tag && !known.contains(&name) {
            return Err(ApiError::invalid_value(format!(
                "The filter '{name}' is invalid"
            )));
        }
    }
    Ok(())
}

/// Whether `resource` passes every filter (filters are ANDed, values ORed).
pub fn matches(filters: &[Filter], resource: &dyn Fields) -> bool {
    filters.iter().all(|filter| {
        let name = filter.name.as_deref().unwrap_or_default();
        let values = filter.values.as_deref().unwrap_or_default();
        let candidates: Vec<String> = if let Some(key) = name.strip_prefix("tag:") {
            resource
                .tags()
                .and_then(|t| t.get(key))
                .map(|v| vec![v.to_owned()])
                .unwrap_or_default()
        } else if name == "tag-key" {
            resource
                .tags()
                .map(|t| t.keys().map(str::to_owned).collect())
                .unwrap_or_default()
        } else if name == "tag-value" {
            resource
                .tags()
                .map(|t| t.values().map(str::to_owned).collect())
                .unwrap_or_default()
        } else {
            resource.field(name).unwrap_or_default()
        };
        values
            .iter()
            .any(|pattern| candidates.iter().any(|c| glob(pattern, c)))
    })
}

/// EC2's filter wildcards: `*` any run, `?` one character, `\` escapes the next.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let (token, width, literal) = match pattern.get(p) {
            Some('\\') => (pattern.get(p + 1).copied(), 2, true),
            Some(c) => (Some(*c), 1, false),
            None => (None, 0, false),
        };
        match token {
            Some('*') if !literal => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') if !literal => {
                p += 1;
                t += 1;
            }
            Some(c) if c == text[t] => {
                p += width;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while pattern.get(p) == Some(&'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Page bounds of a Describe call: the smallest and largest `MaxResults` it accepts
/// and the page size when none is given.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    /// Smallest accepted `MaxResults`.
    pub min: i64,
    /// Largest accepted `MaxResults`.
    pub max: i64,
    /// Page size without `MaxResults` (`None`: everything).
    pub default: Option<i64>,
}

impl PageLimits {
    /// `MaxResults` from `min` to `max`; everything in one page by default.
    pub const fn new(min: i64, max: i64) -> PageLimits {
        PageLimits {
            min,
            max,
            default: None,
        }
    }

    /// The same limits with a default page size.
    pub const fn default_page(self, size: i64) -> PageLimits {
        PageLimits {
            default: Some(size),
            ..self
        }
    }
}

/// One page of `items` and the token of the next, if any. Tokens are opaque to
/// callers (an offset here).
pub fn paginate<T>(
    items: Vec<T>,
    max_results: Option<i64>,
    next_token: Option<&str>,
    limits: PageLimits,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    if let Some(n) = max_results
        && !(limits.min..=limits.max).contains(&n)
    {
        return Err(ApiError::invalid_value(format!(
            "Value ( {n} ) for parameter maxResults is invalid. Expecting a value between {} and {}.",
            limits.min, limits.max
        )));
    }
    let start = match next_token {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("spotlab-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::invalid_value(format!("Invalid value '{token}' for nextToken"))
            })?,
    };
    let size = max_results.or(limits.default);
    let total = items.len();
    let page: Vec<T> = match size {
        Some(size) => items
            .into_iter()
            .skip(start)
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .collect(),
        None => items.into_iter().skip(start).collect(),
    };
    let end = start + page.len();
    let next = (end < total).then(|| format!("spotlab-{end}"));
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_ec2_documents() {
        assert!(glob("t2.*", "t2.small"));
        assert!(glob("*", ""));
        assert!(glob("us-east-1?", "us-east-1a"));
        assert!(!glob("us-east-1?", "us-east-1"));
        assert!(glob("*small*", "t2.small"));
        assert!(!glob("t3.*", "t2.small"));
        assert!(glob("a\\*b", "a*b"));
        assert!(!glob("a\\*b", "axb"));
        assert!(glob("*a*b*c", "xaxbxxc"));
    }

    #[test]
    fn pages_cover_everything_once() {
        let items: Vec<u32> = (0..12).collect();
        let limits = PageLimits::new(5, 1000);
        let (first, token) = paginate(items.clone(), Some(5), None, limits).expect("page 1");
        assert_eq!(first, [0, 1, 2, 3, 4]);
        let (second, token) =
            paginate(items.clone(), Some(5), token.as_deref(), limits).expect("page 2");
        assert_eq!(second, [5, 6, 7, 8, 9]);
        let (third, token) = paginate(items.clone(), Some(5), token.as_deref(), limits).expect("3");
        assert_eq!((third, token), (vec![10, 11], None));
        assert!(paginate(items.clone(), Some(4), None, limits).is_err());
        assert!(paginate(items, None, Some("bogus"), limits).is_err());
    }
}
