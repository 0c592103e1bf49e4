//! S3's XML both ways: the answers of the subset (ListAllMyBucketsResult,
//! ListBucketResult, Tagging, DeleteResult, CopyObjectResult, LocationConstraint), the
//! request bodies it reads (Tagging, Delete, CreateBucketConfiguration) and the error
//! document; and the two date forms S3 writes (ISO 8601 in XML, IMF-fixdate in headers).

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::list::{ListPage, ListQuery};
use super::request::percent_encode;
use super::{ErrorCode, S3Error, XMLNS};

/// The declaration every document starts with.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The owner every bucket and object of the local cloud has.
pub const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

/// The most tags a bucket may have.
pub const MAX_TAGS: usize = 50;

/// A bucket as ListBuckets shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSummary {
    /// Its name.
    pub name: String,
    /// When it was created, ms since the Unix epoch.
    pub created_ms: u64,
    /// Its region.
    pub region: String,
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Its key.
    pub key: String,
    /// Its ETag, quoted.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written, ms since the Unix epoch.
    pub last_modified_ms: u64,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    /// Its key.
    pub key: String,
    /// Its value.
    pub value: String,
}

/// A DeleteObjects request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// The keys, in the order sent.
    pub keys: Vec<String>,
    /// `<Quiet>true</Quiet>`: only errors are reported.
    pub quiet: bool,
}

/// The most keys one DeleteObjects may name.
pub const MAX_DELETE_KEYS: usize = 1000;

/// ListBuckets' answer.
pub fn list_buckets(buckets: &[BucketSummary], prefix: Option<&str>) -> String {
    let mut out = format!("{DECLARATION}<ListAllMyBucketsResult xmlns=\"{XMLNS}\">");
    owner(&mut out);
    out.push_str("<Buckets>");
    for bucket in buckets {
        let _ = write!(
            out,
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
            escape(&bucket.name),
            iso8601(bucket.created_ms),
            escape(&bucket.region),
        );
    }
    out.push_str("</Buckets>");
    if let Some(prefix) = prefix {
        let _ = write!(out, "<Prefix>{}</Prefix>", escape(prefix));
    }
    out.push_str("</ListAllMyBucketsResult>");
    out
}

fn owner(out: &mut String) {
    let _ = write!(
        out,
        "<Owner><ID>{OWNER_ID}</ID><DisplayName>spotlab</DisplayName></Owner>"
    );
}

/// ListObjectsV2's answer. `objects` are the page's keys' summaries, in the page's order.
pub fn list_objects_v2(
    bucket: &str,
    query: &ListQuery,
    page: &ListPage<'_>,
    objects: &[ObjectSummary],
) -> String {
    let text = |value: &str| {
        if query.url_encoded {
            percent_encode(value, true)
        } else {
            escape(value)
        }
    };
    let mut out = format!("{DECLARATION}<ListBucketResult xmlns=\"{XMLNS}\">");
    let _ = write!(out, "<Name>{}</Name>", escape(bucket));
    let _ = write!(out, "<Prefix>{}</Prefix>", text(&query.prefix));
    if !query.delimiter.is_empty() {
        let _ = write!(out, "<Delimiter>{}</Delimiter>", text(&query.delimiter));
    }
    let _ = write!(
        out,
        "<MaxKeys>{}</MaxKeys><KeyCount>{}</KeyCount><IsTruncated>{}</IsTruncated>",
        query.max_keys,
        page.key_count(),
        page.is_truncated
    );
    if query.url_encoded {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    if let Some(token) = &query.continuation_token {
        let _ = write!(
            out,
            "<ContinuationToken>{}</ContinuationToken>",
            escape(token)
        );
    }
    if let Some(token) = &page.next_continuation_token {
        let _ = write!(
            out,
            "<NextContinuationToken>{}</NextContinuationToken>",
            escape(token)
        );
    }
    if let Some(after) = &query.start_after {
        let _ = write!(out, "<StartAfter>{}</StartAfter>", text(after));
    }
    for object in objects {
        let _ = write!(
            out,
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size>",
            text(&object.key),
            iso8601(object.last_modified_ms),
            escape(&object.etag),
            object.size
        );
        if query.fetch_owner {
            owner(&mut out);
        }
        out.push_str("<StorageClass>STANDARD</StorageClass></Contents>");
    }
    for prefix in &page.common_prefixes {
        let _ = write!(
            out,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            text(prefix)
        );
    }
    out.push_str("</ListBucketResult>");
    out
}

/// GetBucketTagging's answer.
pub fn tagging(tags: &[Tag]) -> String {
    let mut out = format!("{DECLARATION}<Tagging xmlns=\"{XMLNS}\"><TagSet>");
    for tag in tags {
        let _ = write!(
            out,
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            escape(&tag.key),
            escape(&tag.value)
        );
    }
    out.push_str("</TagSet></Tagging>");
    out
}

/// GetBucketLocation's answer (`us-east-1` is written as an empty constraint, as S3
/// does).
pub fn location(region: &str) -> String {
    if region == "us-east-1" {
        format!("{DECLARATION}<LocationConstraint xmlns=\"{XMLNS}\"/>")
    } else {
        format!(
            "{DECLARATION}<LocationConstraint xmlns=\"{XMLNS}\">{}</LocationConstraint>",
            escape(region)
        )
    }
}

/// CopyObject's answer.
pub fn copy_object_result(etag: &str, last_modified_ms: u64) -> String {
    format!(
        "{DECLARATION}<CopyObjectResult xmlns=\"{XMLNS}\"><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        iso8601(last_modified_ms),
        escape(etag)
    )
}

/// DeleteObjects' answer: the keys deleted (left out when `quiet`) and the failures.
pub fn delete_result(deleted: &[String], errors: &[(String, S3Error)], quiet: bool) -> String {
    let mut out = format!("{DECLARATION}<DeleteResult xmlns=\"{XMLNS}\">");
    if !quiet {
        for key in deleted {
            let _ = write!(out, "<Deleted><Key>{}</Key></Deleted>", escape(key));
        }
    }
    for (key, error) in errors {
        let _ = write!(
            out,
            "<Error><Key>{}</Key><Code>{}</Code><Message>{}</Message></Error>",
            escape(key),
            error.code.as_str(),
            escape(&error.message)
        );
    }
    out.push_str("</DeleteResult>");
    out
}

/// S3's error document.
pub fn error(error: &S3Error, resource: &str, bucket: Option<&str>, request_id: &str) -> String {
    let mut out = format!(
        "{DECLARATION}<Error><Code>{}</Code><Message>{}</Message>",
        error.code.as_str(),
        escape(&error.message)
    );
    if let Some(bucket) = bucket
        && matches!(
            error.code,
            ErrorCode::NoSuchBucket
                | ErrorCode::BucketNotEmpty
                | ErrorCode::BucketAlreadyOwnedByYou
                | ErrorCode::InvalidBucketName
                | ErrorCode::NoSuchTagSet
        )
    {
        let _ = write!(out, "<BucketName>{}</BucketName>", escape(bucket));
    }
    let _ = write!(
        out,
        "<Resource>{}</Resource><RequestId>{}</RequestId><HostId>{}</HostId></Error>",
        escape(resource),
        escape(request_id),
        escape(request_id)
    );
    out
}

/// A parsed element: its local name, text and children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// The deepest nesting accepted.
const MAX_DEPTH: usize = 16;

fn malformed() -> S3Error {
    S3Error::new(ErrorCode::MalformedXml)
}

/// Parses a small XML body into its root element (namespaces dropped).
fn parse(body: &[u8]) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|_| malformed())?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH || root.is_some() {
                    return Err(malformed());
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let element = Element {
                    name,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(malformed()),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let decoded = text.xml10_content().map_err(|_| malformed())?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&decoded);
                } else if !decoded.trim().is_empty() {
                    return Err(malformed());
                }
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|_| malformed())?;
                let current = stack.last_mut().ok_or_else(malformed)?;
                current.text.push_str(&decoded);
            }
            Event::GeneralRef(reference) => {
                let current = stack.last_mut().ok_or_else(malformed)?;
                let resolved = match reference.resolve_char_ref().map_err(|_| malformed())? {
                    Some(c) => c,
                    None => match reference.decode().map_err(|_| malformed())?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(malformed()),
                    },
                };
                current.text.push(resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed());
    }
    root.ok_or_else(malformed)
}

/// PutBucketTagging's body: `<Tagging><TagSet><Tag><Key/><Value/></Tag>...`. Fails with
/// `MalformedXML` for another shape, `InvalidTag` for a tag S3 refuses (an empty or
/// over-128-character key, an over-256-character value, a key twice, an `aws:` key),
/// `BadRequest`-like `InvalidTag` for more than [`MAX_TAGS`].
pub fn parse_tagging(body: &[u8]) -> Result<Vec<Tag>, S3Error> {
    let root = parse(body)?;
    if root.name != "Tagging" {
        return Err(malformed());
    }
    let set = root.child("TagSet").ok_or_else(malformed)?;
    let mut tags: Vec<Tag> = Vec::new();
    for tag in set.children("Tag") {
        let key = tag.child("Key").ok_or_else(malformed)?.text.clone();
        let value = tag
            .child("Value")
            .map(|v| v.text.clone())
            .unwrap_or_default();
        let invalid = |why: String| Err(S3Error::with_message(ErrorCode::InvalidTag, why));
        if key.is_empty() || key.chars().count() > 128 {
            return invalid(format!("The TagKey you have provided is invalid: {key:?}"));
        }
        if value.chars().count() > 256 {
            return invalid(format!(
                "The TagValue you have provided is invalid: {value:?}"
            ));
        }
        if key.starts_with("aws:") {
            return invalid("System tags cannot be added/updated by requester".to_owned());
        }
        if tags.iter().any(|t| t.key == key) {
            return invalid("Cannot provide multiple Tags with the same key".to_owned());
        }
        tags.push(Tag { key, value });
    }
    if tags.len() > MAX_TAGS {
        return Err(S3Error::with_message(
            ErrorCode::InvalidTag,
            format!("Object tags cannot be greater than {MAX_TAGS}"),
        ));
    }
    Ok(tags)
}

/// DeleteObjects' body: `<Delete><Object><Key/></Object>...<Quiet/></Delete>`, 1 to
/// [`MAX_DELETE_KEYS`] keys.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, S3Error> {
    let root = parse(body)?;
    if root.name != "Delete" {
        return Err(malformed());
    }
    let keys = root
        .children("Object")
        .map(|object| {
            object
                .child("Key")
                .map(|k| k.text.clone())
                .ok_or_else(malformed)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() || keys.len() > MAX_DELETE_KEYS {
        return Err(malformed());
    }
    let quiet = root
        .child("Quiet")
        .is_some_and(|q| q.text.trim().eq_ignore_ascii_case("true"));
    Ok(DeleteRequest { keys, quiet })
}

/// CreateBucket's optional body: the `LocationConstraint` of a
/// `<CreateBucketConfiguration>`, if any. An empty body is no constraint.
pub fn parse_create_bucket(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let root = parse(body)?;
    if root.name != "CreateBucketConfiguration" {
        return Err(malformed());
    }
    Ok(root
        .child("LocationConstraint")
        .map(|c| c.text.trim().to_owned())
        .filter(|c| !c.is_empty()))
}

/// Escapes text for an element. Characters XML 1.0 cannot carry become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c if (c < ' ' && !matches!(c, '\t' | '\n')) || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push('\u{FFFD}');
            }
            c => out.push(c),
        }
    }
    out
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2024-01-31T12:00:00.000Z`, as S3 writes times in XML.
pub fn iso8601(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (year, month, day) = civil(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        ms % 1000
    )
}

/// `Wed, 31 Jan 2024 12:00:00 GMT` (IMF-fixdate), as S3 writes `Last-Modified`.
pub fn http_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let (year, month, day) = civil(days);
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_take_both_forms() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_706_702_400_123), "2024-01-31T12:00:00.123Z");
        assert_eq!(
            http_date(1_706_702_400_123),
            "Wed, 31 Jan 2024 12:00:00 GMT"
        );
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn tagging_round_trips_and_is_checked() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>
  <Tag><Key>team</Key><Value>a &amp; b</Value></Tag>
  <Tag><Key>empty</Key><Value></Value></Tag>
</TagSet></Tagging>"#;
        let tags = parse_tagging(body).expect("parses");
        assert_eq!(
            tags,
            vec![
                Tag {
                    key: "team".to_owned(),
                    value: "a & b".to_owned()
                },
                Tag {
                    key: "empty".to_owned(),
                    value: String::new()
                },
            ]
        );
        assert_eq!(parse_tagging(tagging(&tags).as_bytes()), Ok(tags));
        let twice = b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>";
        assert_eq!(
            parse_tagging(twice).map_err(|e| e.code),
            Err(ErrorCode::InvalidTag)
        );
        assert_eq!(
            parse_tagging(b"<Tagging><TagSet>").map_err(|e| e.code),
            Err(ErrorCode::MalformedXml)
        );
        assert_eq!(
            parse_tagging(b"<Other/>").map_err(|e| e.code),
            Err(ErrorCode::MalformedXml)
        );
    }

    #[test]
    fn delete_bodies_are_read() {
        let body = br#"<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a/b</Key></Object><Object><Key>c&lt;d</Key><VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>"#;
        let request = parse_delete(body).expect("parses");
        assert_eq!(request.keys, vec!["a/b", "c<d"]);
        assert!(request.quiet);
        assert_eq!(
            parse_delete(b"<Delete></Delete>").map_err(|e| e.code),
            Err(ErrorCode::MalformedXml)
        );
    }

    #[test]
    fn create_bucket_configuration_is_optional() {
        assert_eq!(parse_create_bucket(b""), Ok(None));
        let body = b"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
        assert_eq!(parse_create_bucket(body), Ok(Some("eu-west-1".to_owned())));
    }

    #[test]
    fn error_document_names_code_and_resource() {
        let error = S3Error::new(ErrorCode::NoSuchBucket);
        let document = super::error(&error, "/nope", Some("nope"), "req-1");
        assert_eq!(
            document,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nope</BucketName><Resource>/nope</Resource><RequestId>req-1</RequestId><HostId>req-1</HostId></Error>"
        );
    }

    #[test]
    fn url_encoded_listings_encode_keys() {
        let query = ListQuery {
            prefix: "a b/".to_owned(),
            max_keys: 1000,
            url_encoded: true,
            ..ListQuery::default()
        };
        let page = ListPage {
            contents: vec!["a b/c&d"],
            ..ListPage::default()
        };
        let objects = [ObjectSummary {
            key: "a b/c&d".to_owned(),
            etag: "\"x\"".to_owned(),
            size: 3,
            last_modified_ms: 0,
        }];
        let xml = list_objects_v2("bucket", &query, &page, &objects);
        assert!(xml.contains("<Key>a%20b/c%26d</Key>"), "{xml}");
        assert!(xml.contains("<Prefix>a%20b/</Prefix>"), "{xml}");
        assert!(xml.contains("<KeyCount>1</KeyCount>"), "{xml}");
        assert!(xml.contains("<ETag>&quot;x&quot;</ETag>"), "{xml}");
    }
}
