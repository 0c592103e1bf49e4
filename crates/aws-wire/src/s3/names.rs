//! S3's naming rules: general purpose bucket names and object keys.
//!
//! Only names that pass [`check_bucket_name`] are ever created, which also makes every
//! bucket name a safe single file-name component (no `/`, never `.` or `..`).

use super::{ErrorCode, S3Error};

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Prefixes S3 reserves.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes S3 reserves (access point aliases, Object Lambda, directory and table
/// buckets, multi-region access points).
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Checks `name` against S3's rules for general purpose buckets: 3 to 63 characters
/// of lowercase letters, digits, dots and hyphens; beginning and ending with a letter or
/// digit; no two adjacent dots; not an IPv4 address; none of the reserved prefixes and
/// suffixes. Fails with `InvalidBucketName`.
pub fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    let invalid = |why: &str| {
        Err(S3Error::with_message(
            ErrorCode::InvalidBucketName,
            format!("The specified bucket is not valid: {why}."),
        ))
    };
    if !(3..=63).contains(&name.len()) {
        return invalid("a bucket name must be between 3 and 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return invalid(
            "a bucket name can consist only of lowercase letters, numbers, periods and hyphens",
        );
    }
    let alphanumeric = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !alphanumeric(name.bytes().next()) || !alphanumeric(name.bytes().last()) {
        return invalid("a bucket name must begin and end with a letter or number");
    }
    if name.contains("..") {
        return invalid("a bucket name must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("a bucket name must not be formatted as an IP address");
    }
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return invalid("the bucket name's prefix is reserved");
    }
    if RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return invalid("the bucket name's suffix is reserved");
    }
    Ok(())
}

/// Checks a key: not empty, at most [`MAX_KEY_BYTES`] bytes.
pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() {
        return Err(S3Error::with_message(
            ErrorCode::InvalidArgument,
            "An object key must not be empty.",
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(ErrorCode::KeyTooLongError));
    }
    Ok(())
}

/// The longest file name [`key_file_stem`] writes out in full.
const MAX_STEM: usize = 200;

/// A file name stem for `key` that stays inside one directory whatever the key: every
/// byte outside `A-Z a-z 0-9 - _ .` percent-encoded (so no `/`, and never `.` or `..`
/// once a suffix is added), or, when that is longer than 200 bytes, `~` and the key's
/// SHA-256 in hex (`~` is always encoded in the first form, so the forms never meet).
/// Distinct keys get distinct stems.
pub fn key_file_stem(key: &str) -> String {
    use sha2::Digest as _;
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.len() <= MAX_STEM {
        return out;
    }
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut hashed = String::with_capacity(65);
    hashed.push('~');
    for byte in digest.iter() {
        hashed.push_str(&format!("{byte:02x}"));
    }
    hashed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for good in [
            "abc",
            "my-bucket",
            "my.bucket.name",
            "a1b2c3",
            "docexamplebucket1",
            "user-reinvent-ec2spottestdev-bucket",
            &"a".repeat(63),
        ] {
            assert_eq!(check_bucket_name(good), Ok(()), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "my_bucket",
            "-bucket",
            "bucket-",
            ".bucket",
            "bucket.",
            "my..bucket",
            "192.168.5.4",
            "xn--bucket",
            "sthree-bucket",
            "amzn-s3-demo-bucket",
            "bucket-s3alias",
            "bucket--ol-s3",
            "bucket.mrap",
            "bucket--x-s3",
            "bucket--table-s3",
            "a/b",
            "",
        ] {
            let error = check_bucket_name(bad).expect_err(bad);
            assert_eq!(error.code, ErrorCode::InvalidBucketName, "{bad}");
        }
    }

    #[test]
    fn keys_become_single_file_names() {
        assert_eq!(
            key_file_stem("checkpoints/i-1/run.json"),
            "checkpoints%2Fi-1%2Frun.json"
        );
        assert_eq!(key_file_stem(".."), "..");
        assert_eq!(key_file_stem("a~b"), "a%7Eb");
        let long = key_file_stem(&"k".repeat(1024));
        assert!(long.starts_with('~') && long.len() == 65, "{long}");
        assert_ne!(key_file_stem(&"k".repeat(1023)), long);
        for key in ["a/b", "../../etc", "x\\y", "\u{0}", "é/ü"] {
            let stem = key_file_stem(key);
            assert!(
                !stem.contains('/') && !stem.contains('\\') && !stem.contains('\0'),
                "{stem}"
            );
        }
    }

    #[test]
    fn keys_are_bounded() {
        assert!(check_key("a/b/c").is_ok());
        assert!(check_key(&"é".repeat(512)).is_ok());
        assert_eq!(
            check_key(&"a".repeat(1025)).map_err(|e| e.code),
            Err(ErrorCode::KeyTooLongError)
        );
        assert!(check_key("").is_err());
    }
}
