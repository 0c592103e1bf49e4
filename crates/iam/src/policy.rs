//! Policy documents as IAM returns them: URL-encoded (RFC 3986, every byte but the
//! unreserved characters as `%XX` of its UTF-8), which the AWS CLI and boto3 decode and
//! the SDKs hand over as is. And the size of a document as IAM's quotas count it
//! (characters other than whitespace).

/// `document` URL-encoded as IAM's answers carry policy documents.
pub fn url_encode(document: &str) -> String {
    let mut out = String::with_capacity(document.len() * 2);
    for byte in document.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex(byte >> 4));
            out.push(hex(byte & 0x0f));
        }
    }
    out
}

fn hex(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + nibble - 10
    })
}

/// A document's size as IAM's quotas count it: its characters other than whitespace.
pub(crate) fn quota_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_percent_encoded_but_for_unreserved_characters() {
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        // IAM's documented answer for this trust policy.
        assert_eq!(
            url_encode(document),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
        );
        assert_eq!(url_encode("a b\n\u{e9}"), "a%20b%0A%C3%A9");
        assert_eq!(quota_size("{ \"a\" :\n 1 }"), 7);
    }
}
