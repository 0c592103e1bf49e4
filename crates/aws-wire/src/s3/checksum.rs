//! What is computed over an object's bytes as they arrive: its ETag (the quoted hex MD5
//! of the payload) and, when the client sent one, its `x-amz-checksum-*` value, checked
//! against the header (`x-amz-checksum-crc32: <base64>`) or the trailer the client
//! announced (`x-amz-trailer: x-amz-checksum-crc32`), and `Content-MD5`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};

use super::{ErrorCode, S3Error};

/// A checksum algorithm S3 clients may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC), 4 bytes big-endian.
    Crc32,
    /// CRC-32C (Castagnoli), 4 bytes big-endian.
    Crc32c,
    /// CRC-64/NVME, 8 bytes big-endian.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The header (and trailer) carrying it, e.g. `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Its name in S3's messages, e.g. `CRC32`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The algorithm carried by header or trailer `name` (any case).
    pub fn from_header(name: &str) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }
}

/// Where the client put the checksum it wants verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// In a header, with this base64 value.
    Header(String),
    /// In the trailer of an `aws-chunked` body.
    Trailer,
}

/// What to check an upload against, read from its headers before the body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChecksumPlan {
    /// `Content-MD5`, decoded.
    pub content_md5: Option<[u8; 16]>,
    /// The `x-amz-checksum-*` to verify, and where its value is.
    pub checksum: Option<(ChecksumAlgorithm, Expected)>,
}

impl ChecksumPlan {
    /// Reads the plan from the request's headers (`header` looks one up, any case):
    /// `Content-MD5`, `x-amz-trailer`, then the first `x-amz-checksum-*` header.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Self, S3Error> {
        let content_md5 = match header("content-md5") {
            None => None,
            Some(value) => {
                let bytes = STANDARD
                    .decode(value.trim())
                    .ok()
                    .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                    .ok_or_else(|| S3Error::new(ErrorCode::InvalidDigest))?;
                Some(bytes)
            }
        };
        let checksum = if let Some(trailer) = header("x-amz-trailer") {
            let algorithm = ChecksumAlgorithm::from_header(trailer).ok_or_else(|| {
                S3Error::with_message(
                    ErrorCode::InvalidRequest,
                    format!("The value specified in the x-amz-trailer header is not supported: {trailer}"),
                )
            })?;
            Some((algorithm, Expected::Trailer))
        } else {
            ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
                header(algorithm.header())
                    .map(|value| (algorithm, Expected::Header(value.trim().to_owned())))
            })
        };
        Ok(ChecksumPlan {
            content_md5,
            checksum,
        })
    }

    /// A digest that computes what this plan checks.
    pub fn digest(&self) -> BodyDigest {
        BodyDigest::new(self.checksum.as_ref().map(|(algorithm, _)| *algorithm))
    }
}

/// A running checksum.
#[derive(Clone)]
enum Running {
    Crc(crc_fast::Digest, usize),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

/// The MD5 (and optionally one checksum) of a payload fed in pieces.
#[derive(Clone)]
pub struct BodyDigest {
    md5: Md5,
    checksum: Option<(ChecksumAlgorithm, Running)>,
    len: u64,
}

impl std::fmt::Debug for BodyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyDigest")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl BodyDigest {
    /// A digest of nothing yet, computing `checksum` too when given.
    pub fn new(checksum: Option<ChecksumAlgorithm>) -> BodyDigest {
        let running = checksum.map(|algorithm| {
            let running = match algorithm {
                ChecksumAlgorithm::Crc32 => Running::Crc(
                    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
                    4,
                ),
                ChecksumAlgorithm::Crc32c => {
                    Running::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi), 4)
                }
                ChecksumAlgorithm::Crc64Nvme => {
                    Running::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme), 8)
                }
                ChecksumAlgorithm::Sha1 => Running::Sha1(sha1::Sha1::new()),
                ChecksumAlgorithm::Sha256 => Running::Sha256(sha2::Sha256::new()),
            };
            (algorithm, running)
        });
        BodyDigest {
            md5: Md5::new(),
            checksum: running,
            len: 0,
        }
    }

    /// Adds the next payload bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.len += bytes.len() as u64;
        match &mut self.checksum {
            None => {}
            Some((_, Running::Crc(digest, _))) => digest.update(bytes),
            Some((_, Running::Sha1(digest))) => digest.update(bytes),
            Some((_, Running::Sha256(digest))) => digest.update(bytes),
        }
    }

    /// The payload's length, MD5 and checksum.
    pub fn finish(self) -> Digested {
        let md5: [u8; 16] = self.md5.finalize().into();
        let checksum = self.checksum.map(|(algorithm, running)| {
            let bytes = match running {
                Running::Crc(digest, width) => {
                    let value = digest.finalize().to_be_bytes();
                    value[value.len() - width..].to_vec()
                }
                Running::Sha1(digest) => digest.finalize().to_vec(),
                Running::Sha256(digest) => digest.finalize().to_vec(),
            };
            (algorithm, STANDARD.encode(bytes))
        });
        Digested {
            len: self.len,
            md5,
            checksum,
        }
    }
}

/// A payload's digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// Its length in bytes.
    pub len: u64,
    /// Its MD5.
    pub md5: [u8; 16],
    /// The checksum computed, base64 as S3 writes it.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

impl Digested {
    /// The ETag S3 gives a single-part object: the hex MD5 in double quotes.
    pub fn etag(&self) -> String {
        etag_of(&self.md5)
    }

    /// Checks the payload against `plan`, with the trailers of an `aws-chunked` body
    /// (names lowercased). Fails with `BadDigest` on a mismatch, `InvalidRequest` when
    /// an announced trailer is missing.
    pub fn verify(
        &self,
        plan: &ChecksumPlan,
        trailers: &[(String, String)],
    ) -> Result<(), S3Error> {
        if let Some(md5) = plan.content_md5
            && md5 != self.md5
        {
            return Err(S3Error::new(ErrorCode::BadDigest));
        }
        let Some((algorithm, expected)) = &plan.checksum else {
            return Ok(());
        };
        let expected = match expected {
            Expected::Header(value) => value.as_str(),
            Expected::Trailer => trailers
                .iter()
                .find(|(name, _)| name == algorithm.header())
                .map(|(_, value)| value.as_str())
                .ok_or_else(|| {
                    S3Error::with_message(
                        ErrorCode::InvalidRequest,
                        format!(
                            "The {} trailer announced in x-amz-trailer was not sent.",
                            algorithm.header()
                        ),
                    )
                })?,
        };
        match &self.checksum {
            Some((_, actual)) if actual == expected => Ok(()),
            _ => Err(S3Error::with_message(
                ErrorCode::BadDigest,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.name()
                ),
            )),
        }
    }
}

/// The ETag of a payload whose MD5 is `md5`.
pub fn etag_of(md5: &[u8; 16]) -> String {
    let mut out = String::with_capacity(34);
    out.push('"');
    for byte in md5 {
        out.push_str(&format!("{byte:02x}"));
    }
    out.push('"');
    out
}

/// The MD5 of `bytes` (for bodies already in memory).
pub fn md5_of(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(algorithm: ChecksumAlgorithm, body: &[u8]) -> Digested {
        let mut digest = BodyDigest::new(Some(algorithm));
        let (a, b) = body.split_at(body.len() / 2);
        digest.update(a);
        digest.update(b);
        digest.finish()
    }

    #[test]
    fn etag_is_the_quoted_hex_md5() {
        let digested = BodyDigest::new(None).finish();
        assert_eq!(digested.etag(), "\"d41d8cd98f00b204e9800998ecf8427e\"");
        assert_eq!(
            etag_of(&md5_of(b"hello world")),
            "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""
        );
    }

    #[test]
    fn checksums_match_the_standard_check_values() {
        // "123456789" is every CRC catalogue's check input.
        let check = |algorithm, hex: &str| {
            let (_, value) = digest(algorithm, b"123456789").checksum.expect("computed");
            let bytes = STANDARD.decode(value).expect("base64");
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(text, hex, "{algorithm:?}");
        };
        check(ChecksumAlgorithm::Crc32, "cbf43926");
        check(ChecksumAlgorithm::Crc32c, "e3069283");
        check(ChecksumAlgorithm::Crc64Nvme, "ae8b14860a799888");
        check(
            ChecksumAlgorithm::Sha1,
            "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
        );
    }

    #[test]
    fn plans_come_from_headers_or_trailers() {
        let headers = [("x-amz-trailer", "x-amz-checksum-crc32")];
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let plan = ChecksumPlan::from_headers(lookup).expect("plan");
        assert_eq!(
            plan.checksum,
            Some((ChecksumAlgorithm::Crc32, Expected::Trailer))
        );
        let digested = {
            let mut digest = plan.digest();
            digest.update(b"hello world");
            digest.finish()
        };
        let good = [("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())];
        assert_eq!(digested.verify(&plan, &good), Ok(()));
        let bad = [("x-amz-checksum-crc32".to_owned(), "AAAAAA==".to_owned())];
        assert_eq!(
            digested.verify(&plan, &bad).map_err(|e| e.code),
            Err(ErrorCode::BadDigest)
        );
        assert_eq!(
            digested.verify(&plan, &[]).map_err(|e| e.code),
            Err(ErrorCode::InvalidRequest)
        );
    }

    #[test]
    fn content_md5_is_checked() {
        let md5 = STANDARD.encode(md5_of(b"abc"));
        let plan =
            ChecksumPlan::from_headers(|name| (name == "content-md5").then_some(md5.as_str()))
                .expect("plan");
        let mut digest = plan.digest();
        digest.update(b"abd");
        assert_eq!(
            digest.finish().verify(&plan, &[]).map_err(|e| e.code),
            Err(ErrorCode::BadDigest)
        );
        let invalid = ChecksumPlan::from_headers(|name| (name == "content-md5").then_some("nope"));
        assert_eq!(invalid.map_err(|e| e.code), Err(ErrorCode::InvalidDigest));
    }
}
