//! ListObjectsV2's page over a bucket's keys in UTF-8 byte order: `prefix` filters,
//! `delimiter` rolls keys up into common prefixes, `start-after` skips keys, and
//! `max-keys` bounds the entries (keys and common prefixes together) with a
//! continuation token to carry on from.
//!
//! The token is the last entry returned, base64url: entries (a key, or the common
//! prefix it rolls up into) never decrease along sorted keys, so the next page is every
//! entry after it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{ErrorCode, S3Error};

/// The most keys a page returns, and the default.
pub const MAX_KEYS: usize = 1000;

/// ListObjectsV2's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Only keys beginning with this.
    pub prefix: String,
    /// Roll keys up at the first occurrence of this after the prefix (empty: none).
    pub delimiter: String,
    /// At most this many entries (at most [`MAX_KEYS`]).
    pub max_keys: usize,
    /// The token of the previous page, as sent.
    pub continuation_token: Option<String>,
    /// Only keys after this one.
    pub start_after: Option<String>,
    /// `encoding-type=url`: keys and prefixes in the answer are URL-encoded.
    pub url_encoded: bool,
    /// `fetch-owner=true`: each key carries its owner.
    pub fetch_owner: bool,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage<'a> {
    /// The keys, in order.
    pub contents: Vec<&'a str>,
    /// The common prefixes, in order.
    pub common_prefixes: Vec<&'a str>,
    /// Whether entries remain after this page.
    pub is_truncated: bool,
    /// The token to pass for the next page, when truncated.
    pub next_continuation_token: Option<String>,
}

impl ListPage<'_> {
    /// `KeyCount`: keys and common prefixes on the page.
    pub fn key_count(&self) -> usize {
        self.contents.len() + self.common_prefixes.len()
    }
}

/// The page of `keys` (sorted ascending, no duplicates) that `query` asks for. Fails
/// with `InvalidArgument` for a continuation token this function did not make.
pub fn page<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    query: &ListQuery,
) -> Result<ListPage<'a>, S3Error> {
    let marker = match &query.continuation_token {
        None => None,
        Some(token) => Some(decode_token(token)?),
    };
    let mut out = ListPage::default();
    if query.max_keys == 0 {
        return Ok(out);
    }
    let mut last: Option<&'a str> = None;
    for key in keys {
        let Some(rest) = key.strip_prefix(query.prefix.as_str()) else {
            continue;
        };
        if query
            .start_after
            .as_deref()
            .is_some_and(|after| key <= after)
        {
            continue;
        }
        let rolled = (!query.delimiter.is_empty())
            .then(|| rest.find(query.delimiter.as_str()))
            .flatten()
            .map(|at| &key[..query.prefix.len() + at + query.delimiter.len()]);
        let entry = rolled.unwrap_or(key);
        if marker.as_deref().is_some_and(|marker| entry <= marker) || last == Some(entry) {
            continue;
        }
        if out.key_count() == query.max_keys.min(MAX_KEYS) {
            out.is_truncated = true;
            out.next_continuation_token = last.map(encode_token);
            break;
        }
        match rolled {
            Some(common) => out.common_prefixes.push(common),
            None => out.contents.push(key),
        }
        last = Some(entry);
    }
    Ok(out)
}

fn encode_token(entry: &str) -> String {
    URL_SAFE_NO_PAD.encode(entry.as_bytes())
}

fn decode_token(token: &str) -> Result<String, S3Error> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            S3Error::with_message(
                ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 7] = [
        "a.txt",
        "dir/one",
        "dir/sub/two",
        "dir/three",
        "dir2/four",
        "other/five",
        "z",
    ];

    fn sorted() -> Vec<&'static str> {
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        keys
    }

    fn query(prefix: &str, delimiter: &str, max_keys: usize) -> ListQuery {
        ListQuery {
            prefix: prefix.to_owned(),
            delimiter: delimiter.to_owned(),
            max_keys,
            ..ListQuery::default()
        }
    }

    /// Every entry of every page, following tokens.
    fn walk(query: &ListQuery) -> (Vec<String>, usize) {
        let keys = sorted();
        let mut query = query.clone();
        let mut entries = Vec::new();
        let mut pages = 0;
        loop {
            let page = page(keys.iter().copied(), &query).expect("page");
            pages += 1;
            entries.extend(page.contents.iter().map(|k| (*k).to_owned()));
            entries.extend(page.common_prefixes.iter().map(|p| format!("{p}*")));
            if !page.is_truncated {
                return (entries, pages);
            }
            query.continuation_token = page.next_continuation_token;
            assert!(pages < 100, "pagination does not end");
        }
    }

    #[test]
    fn prefix_and_delimiter_roll_keys_up() {
        let keys = sorted();
        let page = page(keys.iter().copied(), &query("dir/", "/", 1000)).expect("page");
        assert_eq!(page.contents, vec!["dir/one", "dir/three"]);
        assert_eq!(page.common_prefixes, vec!["dir/sub/"]);
        assert_eq!(page.key_count(), 3);
        assert!(!page.is_truncated);
        let top = super::page(keys.iter().copied(), &query("", "/", 1000)).expect("page");
        assert_eq!(top.contents, vec!["a.txt", "z"]);
        assert_eq!(top.common_prefixes, vec!["dir/", "dir2/", "other/"]);
    }

    #[test]
    fn pages_of_one_visit_every_entry_once() {
        let (all, _) = walk(&query("", "", 1000));
        let (paged, pages) = walk(&query("", "", 1));
        assert_eq!(all, paged);
        assert_eq!(pages, KEYS.len());
        let (rolled, pages) = walk(&query("", "/", 1));
        assert_eq!(rolled, vec!["a.txt", "dir/*", "dir2/*", "other/*", "z"]);
        assert_eq!(pages, 5);
    }

    #[test]
    fn start_after_skips_keys() {
        let keys = sorted();
        let q = ListQuery {
            start_after: Some("dir/three".to_owned()),
            ..query("", "", 1000)
        };
        let page = page(keys.iter().copied(), &q).expect("page");
        assert_eq!(page.contents, vec!["dir2/four", "other/five", "z"]);
    }

    #[test]
    fn zero_max_keys_is_an_empty_complete_page() {
        let keys = sorted();
        let page = page(keys.iter().copied(), &query("", "", 0)).expect("page");
        assert_eq!(page.key_count(), 0);
        assert!(!page.is_truncated);
    }

    #[test]
    fn foreign_tokens_are_refused() {
        let q = ListQuery {
            continuation_token: Some("!!!".to_owned()),
            ..query("", "", 10)
        };
        assert_eq!(
            page(sorted(), &q).map_err(|e| e.code),
            Err(ErrorCode::InvalidArgument)
        );
    }
}
