//! `Content-Encoding: aws-chunked`, the framing S3 clients stream uploads in, decoded as
//! bytes arrive (a push decoder: the caller owns the socket and the buffers).
//!
//! ```text
//! <hex size>[;chunk-signature=<64 hex>]\r\n
//! <size bytes>\r\n
//! ...
//! 0[;chunk-signature=<64 hex>]\r\n
//! <trailer name>:<value>\r\n          (zero or more, e.g. x-amz-checksum-crc32)
//! [x-amz-trailer-signature:<64 hex>\r\n]
//! \r\n
//! ```
//!
//! `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` bodies carry no
//! signatures; `STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)` ones sign each chunk. The
//! chunk signatures are read and dropped, not verified (the seed signature is, by
//! [`crate::sigv4::verify`]). Only the payload comes out; trailers are kept apart for
//! checksum verification. A missing final empty line is tolerated (the body has ended
//! after the last chunk and its trailers).

/// The longest chunk header or trailer line accepted, without its CRLF.
pub const MAX_LINE: usize = 4096;
/// Most trailers accepted.
pub const MAX_TRAILERS: usize = 16;

/// Why a body is not well-framed `aws-chunked`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A chunk header whose size is not hexadecimal (or overflows 64 bits).
    #[error("invalid chunk size line {0:?}")]
    BadSize(String),
    /// A header or trailer line longer than [`MAX_LINE`].
    #[error("a chunk header or trailer line is longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// Chunk data not followed by CRLF.
    #[error("chunk data is not followed by CRLF")]
    MissingCrlf,
    /// A trailer line that is not `name:value`, or too many trailers.
    #[error("invalid trailer {0:?}")]
    BadTrailer(String),
    /// Bytes after the body's end.
    #[error("data after the end of the aws-chunked body")]
    TrailingData,
    /// The body ended before its last chunk (or inside a trailer).
    #[error("the aws-chunked body ended early")]
    Truncated,
}

/// Where the decoder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data: expecting `\r\n`, this many of its bytes seen.
    DataEnd(u8),
    /// After the zero-size chunk: reading trailer lines until an empty one.
    Trailers,
    /// The final empty line was read.
    Done,
}

/// A push decoder of one `aws-chunked` body.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// The header or trailer line being read, without its CRLF.
    line: Vec<u8>,
    /// Trailers read so far, names lowercased, values trimmed.
    trailers: Trailers,
    /// Payload bytes emitted so far.
    decoded: u64,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Header,
            line: Vec::new(),
            trailers: Vec::new(),
            decoded: 0,
        }
    }

    /// How many payload bytes came out so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Decodes the next bytes of the body, appending the payload they carry to `out`.
    /// After an error the decoder must not be fed again.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), ChunkError> {
        while !input.is_empty() {
            match self.state {
                State::Header | State::Trailers => {
                    let Some(line) = self.take_line(&mut input)? else {
                        return Ok(());
                    };
                    self.end_line(&line)?;
                }
                State::Data(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    self.decoded += take as u64;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd(0)
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd(seen) => {
                    let expected = b"\r\n"[usize::from(seen)];
                    if input[0] != expected {
                        return Err(ChunkError::MissingCrlf);
                    }
                    input = &input[1..];
                    self.state = if seen == 0 {
                        State::DataEnd(1)
                    } else {
                        State::Header
                    };
                }
                State::Done => return Err(ChunkError::TrailingData),
            }
        }
        Ok(())
    }

    /// Ends the body: checks it was complete and returns its trailers (names
    /// lowercased, e.g. `x-amz-checksum-crc32`).
    pub fn finish(self) -> Result<Trailers, ChunkError> {
        match self.state {
            State::Done => Ok(self.trailers),
            // The zero-size chunk and its trailers arrived; only the final empty line
            // is missing.
            State::Trailers if self.line.is_empty() => Ok(self.trailers),
            _ => Err(ChunkError::Truncated),
        }
    }

    /// Moves bytes into the current line; the line without its CRLF once complete.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, ChunkError> {
        match input.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.line.extend_from_slice(&input[..end]);
                *input = &input[end + 1..];
                if self.line.last() != Some(&b'\r') {
                    return Err(match self.state {
                        State::Header => {
                            ChunkError::BadSize(String::from_utf8_lossy(&self.line).into_owned())
                        }
                        _ => {
                            ChunkError::BadTrailer(String::from_utf8_lossy(&self.line).into_owned())
                        }
                    });
                }
                self.line.pop();
                if self.line.len() > MAX_LINE {
                    return Err(ChunkError::LineTooLong);
                }
                Ok(Some(std::mem::take(&mut self.line)))
            }
            None => {
                self.line.extend_from_slice(input);
                *input = &[];
                // One more byte for a CR that may end it.
                if self.line.len() > MAX_LINE + 1 {
                    return Err(ChunkError::LineTooLong);
                }
                Ok(None)
            }
        }
    }

    /// Acts on a complete header or trailer line.
    fn end_line(&mut self, line: &[u8]) -> Result<(), ChunkError> {
        let text = || String::from_utf8_lossy(line).into_owned();
        if self.state == State::Trailers {
            if line.is_empty() {
                self.state = State::Done;
                return Ok(());
            }
            let text = std::str::from_utf8(line).map_err(|_| ChunkError::BadTrailer(text()))?;
            let Some((name, value)) = text.split_once(':') else {
                return Err(ChunkError::BadTrailer(text.to_owned()));
            };
            let name = name.trim();
            if name.is_empty() || self.trailers.len() >= MAX_TRAILERS {
                return Err(ChunkError::BadTrailer(text.to_owned()));
            }
            self.trailers
                .push((name.to_ascii_lowercase(), value.trim().to_owned()));
            return Ok(());
        }
        let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text).map_err(|_| ChunkError::BadSize(text()))?;
        let size_text = size_text.trim();
        if size_text.is_empty() || size_text.len() > 16 {
            return Err(ChunkError::BadSize(text()));
        }
        let size = u64::from_str_radix(size_text, 16).map_err(|_| ChunkError::BadSize(text()))?;
        self.state = if size == 0 {
            State::Trailers
        } else {
            State::Data(size)
        };
        Ok(())
    }
}

/// A body's trailers: names lowercased, values trimmed, in the order sent.
pub type Trailers = Vec<(String, String)>;

/// Decodes a whole body at once: the payload and the trailers.
pub fn decode(body: &[u8]) -> Result<(Vec<u8>, Trailers), ChunkError> {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::with_capacity(body.len());
    decoder.feed(body, &mut out)?;
    Ok((out, decoder.finish()?))
}

/// Whether a request's body is `aws-chunked`: `Content-Encoding` lists `aws-chunked`, or
/// `x-amz-content-sha256` is one of the `STREAMING-*` payload kinds.
pub fn is_aws_chunked(content_encoding: Option<&str>, content_sha256: Option<&str>) -> bool {
    let encoded = content_encoding.is_some_and(|value| {
        value
            .split(',')
            .any(|coding| coding.trim().eq_ignore_ascii_case("aws-chunked"))
    });
    encoded || content_sha256.is_some_and(|value| value.trim().starts_with("STREAMING-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";

    #[test]
    fn unsigned_body_with_a_trailer() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let (payload, trailers) = decode(body).expect("decodes");
        assert_eq!(payload, b"hello world");
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
        );
    }

    #[test]
    fn signed_body_drops_the_signatures() {
        let body = format!(
            "400;chunk-signature={SIG}\r\n{}\r\n0;chunk-signature={SIG}\r\n\r\n",
            "a".repeat(1024)
        );
        let (payload, trailers) = decode(body.as_bytes()).expect("decodes");
        assert_eq!(payload, "a".repeat(1024).as_bytes());
        assert!(trailers.is_empty());
    }

    #[test]
    fn signed_trailer_is_a_trailer_like_any_other() {
        let body = format!(
            "3;chunk-signature={SIG}\r\nabc\r\n0;chunk-signature={SIG}\r\nx-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:{SIG}\r\n\r\n"
        );
        let (payload, trailers) = decode(body.as_bytes()).expect("decodes");
        assert_eq!(payload, b"abc");
        assert_eq!(trailers.len(), 2);
        assert_eq!(trailers[1].0, "x-amz-trailer-signature");
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_payload() {
        let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-sha256:abc=\r\n\r\n";
        let mut decoder = ChunkedDecoder::new();
        let mut out = Vec::new();
        for byte in body {
            decoder
                .feed(std::slice::from_ref(byte), &mut out)
                .expect("feeds");
        }
        assert_eq!(out, b"hello");
        assert_eq!(decoder.finish().expect("complete").len(), 1);
    }

    #[test]
    fn a_missing_final_line_is_tolerated() {
        let (payload, _) = decode(b"2\r\nhi\r\n0\r\n").expect("decodes");
        assert_eq!(payload, b"hi");
    }

    #[test]
    fn broken_bodies_are_refused() {
        assert_eq!(decode(b"zz\r\n"), Err(ChunkError::BadSize("zz".to_owned())));
        assert_eq!(decode(b"5\r\nhel"), Err(ChunkError::Truncated));
        assert_eq!(decode(b"2\r\nhiXX0\r\n\r\n"), Err(ChunkError::MissingCrlf));
        assert_eq!(decode(b"0\r\n\r\nmore"), Err(ChunkError::TrailingData));
        assert_eq!(
            decode(b"0\r\nno colon\r\n\r\n"),
            Err(ChunkError::BadTrailer("no colon".to_owned()))
        );
        assert_eq!(decode(b""), Err(ChunkError::Truncated));
        assert_eq!(
            decode(b"fffffffffffffffff\r\n"),
            Err(ChunkError::BadSize("fffffffffffffffff".to_owned()))
        );
        let long = format!("{}\r\n", "1".repeat(MAX_LINE + 10));
        assert_eq!(decode(long.as_bytes()), Err(ChunkError::LineTooLong));
    }

    #[test]
    fn streaming_bodies_are_recognised() {
        assert!(is_aws_chunked(Some("aws-chunked"), None));
        assert!(is_aws_chunked(Some("gzip, aws-chunked"), None));
        assert!(is_aws_chunked(
            None,
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        ));
        assert!(!is_aws_chunked(None, Some("UNSIGNED-PAYLOAD")));
        assert!(!is_aws_chunked(Some("gzip"), None));
    }
}
