//! CBOR data items (RFC 8949) both ways, knowing nothing of shapes.
//!
//! The reader accepts every well-formed encoding: definite and indefinite arrays, maps,
//! byte and text strings, half/single/double floats, tags, simple values, integers in
//! any head width. It answers malformed input (truncation, reserved additional
//! information, a stray break, a chunk of the wrong type, invalid UTF-8, nesting deeper
//! than [`MAX_DEPTH`]) with an error, never a panic, and allocates no more than the
//! input could hold.
//!
//! The writer emits only what the protocol's responses need, always in the shortest
//! head except for floats, which it always writes as float64 (see [`Writer::double`]).

/// Nesting deeper than this is refused: no CloudWatch shape is deeper than a handful of
/// levels, and recursion on attacker-chosen depth would exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// One decoded data item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// Major types 0 and 1: every value from -2^64 to 2^64 - 1.
    Integer(i128),
    /// Major type 2, chunks of an indefinite string joined.
    Bytes(Vec<u8>),
    /// Major type 3, chunks joined.
    Text(String),
    /// Major type 4.
    Array(Vec<Item>),
    /// Major type 5, pairs in the order sent.
    Map(Vec<(Item, Item)>),
    /// Major type 6: a tag number and the item it tags.
    Tag(u64, Box<Item>),
    /// Simple values 20 and 21.
    Bool(bool),
    /// Simple value 22.
    Null,
    /// Simple value 23.
    Undefined,
    /// Any other simple value (0..=19, 32..=255).
    Simple(u8),
    /// Half, single or double precision, widened.
    Float(f64),
}

/// Why bytes are not one well-formed data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// Offset of the byte where reading failed.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// Decodes exactly one data item: anything after it is an error.
pub(crate) fn decode(bytes: &[u8]) -> Result<Item, Malformed> {
    let mut reader = Reader { bytes, pos: 0 };
    let item = reader.item(0)?;
    if reader.pos != bytes.len() {
        return Err(reader.fail("trailing bytes after the data item"));
    }
    Ok(item)
}

/// What an initial byte announces.
enum Head {
    /// A definite argument (a value, length or tag number).
    Value(u64),
    /// Additional information 31.
    Indefinite,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn fail(&self, reason: &'static str) -> Malformed {
        Malformed {
            offset: self.pos,
            reason,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        if n > self.remaining() {
            return Err(self.fail("unexpected end of input"));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.bytes[start..self.pos])
    }

    fn byte(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn uint(&mut self, width: usize) -> Result<u64, Malformed> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Reads the argument that follows an initial byte's additional information.
    fn head(&mut self, info: u8) -> Result<Head, Malformed> {
        match info {
            0..=23 => Ok(Head::Value(u64::from(info))),
            24 => self.uint(1).map(Head::Value),
            25 => self.uint(2).map(Head::Value),
            26 => self.uint(4).map(Head::Value),
            27 => self.uint(8).map(Head::Value),
            31 => Ok(Head::Indefinite),
            _ => Err(self.fail("reserved additional information (28-30)")),
        }
    }

    /// A definite length, bounded by what is left of the input (each element takes at
    /// least one byte), so a forged length cannot make us allocate.
    fn capacity(&self, length: u64) -> usize {
        usize::try_from(length)
            .unwrap_or(usize::MAX)
            .min(self.remaining())
    }

    fn length(&self, length: u64) -> Result<usize, Malformed> {
        usize::try_from(length).map_err(|_| self.fail("length does not fit in memory"))
    }

    fn item(&mut self, depth: usize) -> Result<Item, Malformed> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        let start = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        match major {
            0 | 1 => {
                let Head::Value(n) = self.head(info)? else {
                    self.pos = start;
                    return Err(self.fail("integers have no indefinite length"));
                };
                let n = i128::from(n);
                Ok(Item::Integer(if major == 0 { n } else { -1 - n }))
            }
            2 | 3 => {
                let bytes = self.string(major, info)?;
                if major == 2 {
                    return Ok(Item::Bytes(bytes));
                }
                String::from_utf8(bytes)
                    .map(Item::Text)
                    .map_err(|_| Malformed {
                        offset: start,
                        reason: "text string is not valid UTF-8",
                    })
            }
            4 => match self.head(info)? {
                Head::Value(length) => {
                    let mut items = Vec::with_capacity(self.capacity(length));
                    for _ in 0..length {
                        items.push(self.item(depth + 1)?);
                    }
                    Ok(Item::Array(items))
                }
                Head::Indefinite => {
                    let mut items = Vec::new();
                    while !self.at_break()? {
                        items.push(self.item(depth + 1)?);
                    }
                    Ok(Item::Array(items))
                }
            },
            5 => match self.head(info)? {
                Head::Value(length) => {
                    let mut pairs = Vec::with_capacity(self.capacity(length) / 2);
                    for _ in 0..length {
                        let key = self.item(depth + 1)?;
                        let value = self.item(depth + 1)?;
                        pairs.push((key, value));
                    }
                    Ok(Item::Map(pairs))
                }
                Head::Indefinite => {
                    let mut pairs = Vec::new();
                    while !self.at_break()? {
                        let key = self.item(depth + 1)?;
                        if self.peek() == Some(0xff) {
                            return Err(self.fail("map ends between a key and its value"));
                        }
                        let value = self.item(depth + 1)?;
                        pairs.push((key, value));
                    }
                    Ok(Item::Map(pairs))
                }
            },
            6 => {
                let Head::Value(tag) = self.head(info)? else {
                    self.pos = start;
                    return Err(self.fail("tags have no indefinite form"));
                };
                Ok(Item::Tag(tag, Box::new(self.item(depth + 1)?)))
            }
            _ => self.simple(start, info),
        }
    }

    /// Consumes a break (0xff) if one is next; an indefinite container must end in one.
    fn at_break(&mut self) -> Result<bool, Malformed> {
        match self.peek() {
            None => Err(self.fail("indefinite-length item has no break")),
            Some(0xff) => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// A byte or text string's bytes; an indefinite one is a series of definite chunks of
    /// the same major type, each valid on its own (RFC 8949 3.2.3).
    fn string(&mut self, major: u8, info: u8) -> Result<Vec<u8>, Malformed> {
        match self.head(info)? {
            Head::Value(length) => {
                let length = self.length(length)?;
                Ok(self.take(length)?.to_vec())
            }
            Head::Indefinite => {
                let mut out = Vec::new();
                while !self.at_break()? {
                    let chunk_start = self.pos;
                    let initial = self.byte()?;
                    if initial >> 5 != major {
                        self.pos = chunk_start;
                        return Err(self.fail("indefinite string chunk of another major type"));
                    }
                    let Head::Value(length) = self.head(initial & 0x1f)? else {
                        self.pos = chunk_start;
                        return Err(self.fail("indefinite string chunk is itself indefinite"));
                    };
                    let length = self.length(length)?;
                    let chunk = self.take(length)?;
                    if major == 3 && std::str::from_utf8(chunk).is_err() {
                        self.pos = chunk_start;
                        return Err(self.fail("text string is not valid UTF-8"));
                    }
                    out.extend_from_slice(chunk);
                }
                Ok(out)
            }
        }
    }

    /// Major type 7: simple values and floats.
    fn simple(&mut self, start: usize, info: u8) -> Result<Item, Malformed> {
        match info {
            20 => Ok(Item::Bool(false)),
            21 => Ok(Item::Bool(true)),
            22 => Ok(Item::Null),
            23 => Ok(Item::Undefined),
            0..=19 => Ok(Item::Simple(info)),
            24 => {
                let value = self.byte()?;
                if value < 32 {
                    self.pos = start;
                    return Err(self.fail("two-byte simple value below 32"));
                }
                Ok(Item::Simple(value))
            }
            25 => Ok(Item::Float(half_to_f64(self.uint(2)? as u16))),
            26 => Ok(Item::Float(f64::from(f32::from_bits(self.uint(4)? as u32)))),
            27 => Ok(Item::Float(f64::from_bits(self.uint(8)?))),
            31 => {
                self.pos = start;
                Err(self.fail("break outside an indefinite-length item"))
            }
            _ => {
                self.pos = start;
                Err(self.fail("reserved additional information (28-30)"))
            }
        }
    }
}

/// IEEE 754 half precision to double (RFC 8949 appendix D).
fn half_to_f64(bits: u16) -> f64 {
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mantissa + 1024.0) * 2f64.powi(exponent - 25),
    };
    if bits & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Appends data items to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    /// The encoding so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// An initial byte and its argument in the shortest form.
    fn head(&mut self, major: u8, argument: u64) {
        let major = major << 5;
        match argument {
            0..=23 => self.bytes.push(major | argument as u8),
            24..=0xff => self.bytes.extend([major | 24, argument as u8]),
            0x100..=0xffff => {
                self.bytes.push(major | 25);
                self.bytes.extend((argument as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.bytes.push(major | 26);
                self.bytes.extend((argument as u32).to_be_bytes());
            }
            _ => {
                self.bytes.push(major | 27);
                self.bytes.extend(argument.to_be_bytes());
            }
        }
    }

    /// An integer (major type 0 or 1).
    pub fn integer(&mut self, value: i64) {
        if value >= 0 {
            self.head(0, value.unsigned_abs());
        } else {
            // -1 - value, computed without overflow for i64::MIN.
            self.head(1, (-(value + 1)).unsigned_abs());
        }
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) {
        self.head(2, value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    /// A text string.
    pub fn text(&mut self, value: &str) {
        self.head(3, value.len() as u64);
        self.bytes.extend_from_slice(value.as_bytes());
    }

    /// The head of a definite array of `length` items.
    pub fn array(&mut self, length: usize) {
        self.head(4, length as u64);
    }

    /// The head of a definite map of `length` pairs.
    pub fn map(&mut self, length: usize) {
        self.head(5, length as u64);
    }

    /// A tag number; the tagged item follows.
    pub fn tag(&mut self, tag: u64) {
        self.head(6, tag);
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, value: bool) {
        self.bytes.push(if value { 0xf5 } else { 0xf4 });
    }

    /// A float, always in double precision (`fb`), even when a shorter width or an
    /// integer would be exact: aws-sdk-rust rejects integers where a double is modeled,
    /// and a fixed width keeps the encoding independent of the value.
    pub fn double(&mut self, value: f64) {
        self.bytes.push(0xfb);
        self.bytes.extend(value.to_bits().to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// RFC 8949 appendix A: examples of encoded data items.
    #[test]
    fn rfc_8949_appendix_a_examples_decode() {
        let cases: Vec<(&str, Item)> = vec![
            ("00", Item::Integer(0)),
            ("17", Item::Integer(23)),
            ("1818", Item::Integer(24)),
            ("1903e8", Item::Integer(1000)),
            ("1a000f4240", Item::Integer(1_000_000)),
            ("1b000000e8d4a51000", Item::Integer(1_000_000_000_000)),
            (
                "1bffffffffffffffff",
                Item::Integer(18_446_744_073_709_551_615),
            ),
            (
                "3bffffffffffffffff",
                Item::Integer(-18_446_744_073_709_551_616),
            ),
            ("20", Item::Integer(-1)),
            ("3903e7", Item::Integer(-1000)),
            ("f90000", Item::Float(0.0)),
            ("f93c00", Item::Float(1.0)),
            ("f93e00", Item::Float(1.5)),
            ("f97bff", Item::Float(65504.0)),
            ("fa47c35000", Item::Float(100_000.0)),
            ("fb3ff199999999999a", Item::Float(1.1)),
            ("f90001", Item::Float(5.960_464_477_539_063e-8)),
            ("f9c400", Item::Float(-4.0)),
            ("f97c00", Item::Float(f64::INFINITY)),
            ("f9fc00", Item::Float(f64::NEG_INFINITY)),
            ("f4", Item::Bool(false)),
            ("f5", Item::Bool(true)),
            ("f6", Item::Null),
            ("f7", Item::Undefined),
            ("f0", Item::Simple(16)),
            ("f8ff", Item::Simple(255)),
            (
                "c11a514b67b0",
                Item::Tag(1, Box::new(Item::Integer(1_363_896_240))),
            ),
            (
                "c1fb41d452d9ec200000",
                Item::Tag(1, Box::new(Item::Float(1_363_896_240.5))),
            ),
            ("4401020304", Item::Bytes(vec![1, 2, 3, 4])),
            ("62c3bc", Item::Text("\u{fc}".to_owned())),
            ("5f42010243030405ff", Item::Bytes(vec![1, 2, 3, 4, 5])),
            (
                "7f657374726561646d696e67ff",
                Item::Text("streaming".to_owned()),
            ),
            (
                "83018202039f0405ff",
                Item::Array(vec![
                    Item::Integer(1),
                    Item::Array(vec![Item::Integer(2), Item::Integer(3)]),
                    Item::Array(vec![Item::Integer(4), Item::Integer(5)]),
                ]),
            ),
            (
                "bf61610161629f0203ffff",
                Item::Map(vec![
                    (Item::Text("a".to_owned()), Item::Integer(1)),
                    (
                        Item::Text("b".to_owned()),
                        Item::Array(vec![Item::Integer(2), Item::Integer(3)]),
                    ),
                ]),
            ),
            ("a0", Item::Map(vec![])),
            ("bfff", Item::Map(vec![])),
            ("9fff", Item::Array(vec![])),
        ];
        for (encoded, expected) in cases {
            assert_eq!(decode(&hex(encoded)), Ok(expected), "{encoded}");
        }
        let Ok(Item::Float(nan)) = decode(&hex("f97e00")) else {
            panic!("half NaN decodes");
        };
        assert!(nan.is_nan());
    }

    #[test]
    fn malformed_items_are_errors_with_offsets() {
        let cases = [
            ("", 0, "unexpected end of input"),
            ("1c", 1, "reserved additional information (28-30)"),
            ("1f", 0, "integers have no indefinite length"),
            ("ff", 0, "break outside an indefinite-length item"),
            ("a16161", 3, "unexpected end of input"),
            ("bf6161ff", 3, "map ends between a key and its value"),
            ("9f01", 2, "indefinite-length item has no break"),
            (
                "5f6161ff",
                1,
                "indefinite string chunk of another major type",
            ),
            (
                "7f7f6161ffff",
                1,
                "indefinite string chunk is itself indefinite",
            ),
            ("62ff61", 0, "text string is not valid UTF-8"),
            ("f818", 0, "two-byte simple value below 32"),
            ("0001", 1, "trailing bytes after the data item"),
            ("5bffffffffffffffff", 9, "unexpected end of input"),
        ];
        for (encoded, offset, reason) in cases {
            assert_eq!(
                decode(&hex(encoded)),
                Err(Malformed { offset, reason }),
                "{encoded}"
            );
        }
        let deep = vec![0x81u8; MAX_DEPTH + 2];
        assert_eq!(
            decode(&deep).map_err(|e| e.reason),
            Err("nested too deeply")
        );
    }

    #[test]
    fn the_writer_uses_the_shortest_heads_and_float64() {
        let mut w = Writer::default();
        for n in [
            0,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            4_294_967_296,
            -1,
            -1000,
        ] {
            w.integer(n);
        }
        w.integer(i64::MIN);
        w.double(3.0);
        w.tag(1);
        w.text("é");
        w.bytes(&[1]);
        w.array(2);
        w.map(24);
        w.boolean(true);
        assert_eq!(
            w.bytes,
            hex(
                "00 17 1818 18ff 190100 19ffff 1a00010000 1b0000000100000000 20 3903e7
                 3b7fffffffffffffff fb4008000000000000 c1 62c3a9 4101 82 b818 f5"
            )
        );
        assert_eq!(
            decode(&hex("3b7fffffffffffffff")),
            Ok(Item::Integer(i128::from(i64::MIN)))
        );
    }
}
