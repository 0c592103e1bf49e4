//! The `aws-chunked` decoder against any bytes (it never panics) and against bodies
//! framed the way aws-sdk-rust frames them, fed in arbitrary pieces (it gives back the
//! payload, whatever the chunk sizes and splits).

use aws_wire::s3::chunked::{ChunkedDecoder, decode};
use proptest::prelude::*;

const SIG: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";

/// Frames `payload` in chunks of `chunk` bytes, signed or not, with one trailer.
fn frame(payload: &[u8], chunk: usize, signed: bool, trailer: bool) -> Vec<u8> {
    let extension = if signed {
        format!(";chunk-signature={SIG}")
    } else {
        String::new()
    };
    let mut out = Vec::new();
    for piece in payload.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}{extension}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("0{extension}\r\n").as_bytes());
    if trailer {
        out.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n");
        if signed {
            out.extend_from_slice(format!("x-amz-trailer-signature:{SIG}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

proptest! {
    #[test]
    fn any_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&body);
    }

    #[test]
    fn near_valid_bodies_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..256),
        chunk in 1usize..64,
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut body = frame(&payload, chunk, true, true);
        let at = flip.index(body.len());
        body[at] = byte;
        let _ = decode(&body);
        body.truncate(at);
        let _ = decode(&body);
    }

    #[test]
    fn framed_payloads_come_back_whatever_the_splits(
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..700,
        signed in any::<bool>(),
        trailer in any::<bool>(),
        splits in proptest::collection::vec(1usize..300, 1..20),
    ) {
        let body = frame(&payload, chunk, signed, trailer);
        let mut decoder = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut rest = &body[..];
        let mut sizes = splits.iter().cycle();
        while !rest.is_empty() {
            let take = sizes.next().copied().unwrap_or(1).min(rest.len());
            decoder.feed(&rest[..take], &mut out).expect("well framed");
            rest = &rest[take..];
        }
        prop_assert_eq!(decoder.decoded_len(), payload.len() as u64);
        let trailers = decoder.finish().expect("complete");
        prop_assert_eq!(&out, &payload);
        prop_assert_eq!(trailers.len(), usize::from(trailer) * (1 + usize::from(signed)));
    }
}
