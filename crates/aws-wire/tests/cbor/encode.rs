//! Test-side CBOR writers, independent of the codec under test: [`C`], a literal data
//! item for hand-built vectors, and [`variant`], which encodes canonical JSON of a shape
//! in any of the forms RFC 8949 allows, steered by a stream of choices.

use aws_wire::model::{Model, Scalar, Shape, ShapeId, find_member};
use base64::Engine as _;
use serde_json::Value;

/// A data item written literally, every encoding choice explicit.
#[derive(Clone, Debug)]
pub enum C {
    /// Unsigned integer, shortest head.
    U(u64),
    /// Negative integer `-1 - n`, shortest head.
    N(u64),
    /// Unsigned integer with a forced head width (1, 2, 4 or 8 bytes).
    Wide(u64, usize),
    /// Text string.
    T(&'static str),
    /// Owned text string.
    S(String),
    /// Indefinite text string made of these chunks.
    TI(Vec<String>),
    /// Byte string.
    B(Vec<u8>),
    /// Indefinite byte string made of these chunks.
    BI(Vec<Vec<u8>>),
    /// Definite array.
    A(Vec<C>),
    /// Indefinite array.
    AI(Vec<C>),
    /// Definite map.
    M(Vec<(C, C)>),
    /// Indefinite map.
    MI(Vec<(C, C)>),
    /// Tagged item.
    Tag(u64, Box<C>),
    /// Half float, as raw bits.
    F16(u16),
    /// Single float.
    F32(f32),
    /// Double float.
    F64(f64),
    /// Boolean.
    Bool(bool),
    /// Null.
    Null,
    /// Undefined.
    Undefined,
}

impl C {
    /// The encoding.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            C::U(n) => head(out, 0, *n),
            C::N(n) => head(out, 1, *n),
            C::Wide(n, width) => {
                let info = match width {
                    1 => 24,
                    2 => 25,
                    4 => 26,
                    _ => 27,
                };
                out.push(info);
                out.extend(&n.to_be_bytes()[8 - width..]);
            }
            C::T(text) => {
                head(out, 3, text.len() as u64);
                out.extend(text.as_bytes());
            }
            C::S(text) => {
                head(out, 3, text.len() as u64);
                out.extend(text.as_bytes());
            }
            C::TI(chunks) => {
                out.push(0x7f);
                for chunk in chunks {
                    head(out, 3, chunk.len() as u64);
                    out.extend(chunk.as_bytes());
                }
                out.push(0xff);
            }
            C::B(bytes) => {
                head(out, 2, bytes.len() as u64);
                out.extend(bytes);
            }
            C::BI(chunks) => {
                out.push(0x5f);
                for chunk in chunks {
                    head(out, 2, chunk.len() as u64);
                    out.extend(chunk);
                }
                out.push(0xff);
            }
            C::A(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|i| i.write(out));
            }
            C::AI(items) => {
                out.push(0x9f);
                items.iter().for_each(|i| i.write(out));
                out.push(0xff);
            }
            C::M(pairs) => {
                head(out, 5, pairs.len() as u64);
                for (k, v) in pairs {
                    k.write(out);
                    v.write(out);
                }
            }
            C::MI(pairs) => {
                out.push(0xbf);
                for (k, v) in pairs {
                    k.write(out);
                    v.write(out);
                }
                out.push(0xff);
            }
            C::Tag(tag, item) => {
                head(out, 6, *tag);
                item.write(out);
            }
            C::F16(bits) => {
                out.push(0xf9);
                out.extend(bits.to_be_bytes());
            }
            C::F32(v) => {
                out.push(0xfa);
                out.extend(v.to_bits().to_be_bytes());
            }
            C::F64(v) => {
                out.push(0xfb);
                out.extend(v.to_bits().to_be_bytes());
            }
            C::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
            C::Null => out.push(0xf6),
            C::Undefined => out.push(0xf7),
        }
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        out.push(major | n as u8);
    } else if n <= 0xff {
        out.extend([major | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(major | 25);
        out.extend((n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(major | 26);
        out.extend((n as u32).to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend(n.to_be_bytes());
    }
}

/// Bytes from hex text, spaces allowed.
pub fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The IEEE half-precision bits of `v`, when a half holds it exactly.
pub fn half_bits(v: f64) -> Option<u16> {
    let sign: u16 = if v.is_sign_negative() { 0x8000 } else { 0 };
    let a = v.abs();
    if a == 0.0 {
        return Some(sign);
    }
    if a.is_infinite() {
        return Some(sign | 0x7c00);
    }
    let subnormal = a * 2f64.powi(24);
    if subnormal < 1024.0 && subnormal.fract() == 0.0 {
        return Some(sign | subnormal as u16);
    }
    let exponent = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    if !(-14..=15).contains(&exponent) {
        return None;
    }
    let mantissa = a * 2f64.powi(10 - exponent) - 1024.0;
    (mantissa.fract() == 0.0 && (0.0..1024.0).contains(&mantissa))
        .then(|| sign | (((exponent + 15) as u16) << 10) | mantissa as u16)
}

/// A stream of encoding decisions, cycled.
pub struct Choices {
    bytes: Vec<u8>,
    next: usize,
}

impl Choices {
    /// Decisions from proptest's bytes (an empty stream always chooses 0).
    pub fn new(bytes: Vec<u8>) -> Choices {
        Choices { bytes, next: 0 }
    }

    fn pick(&mut self, n: u8) -> u8 {
        if self.bytes.is_empty() {
            return 0;
        }
        let b = self.bytes[self.next % self.bytes.len()];
        self.next += 1;
        b % n
    }
}

/// Canonical JSON of `shape` as one of the many CBOR encodings that must decode to it.
pub fn variant(model: &Model, shape: ShapeId, value: &Value, choices: &mut Choices) -> C {
    let item = encode(model, shape, value, choices);
    if choices.pick(4) == 0 {
        C::Tag(55_799, Box::new(item))
    } else {
        item
    }
}

fn text(value: &str, choices: &mut Choices) -> C {
    match choices.pick(3) {
        0 => C::S(value.to_owned()),
        1 => {
            // Chunks split at character boundaries (each chunk must be valid UTF-8).
            let cut = value
                .char_indices()
                .map(|(i, _)| i)
                .nth(value.chars().count() / 2)
                .unwrap_or(value.len());
            C::TI(vec![
                value[..cut].to_owned(),
                String::new(),
                value[cut..].to_owned(),
            ])
        }
        _ => C::TI(vec![value.to_owned()]),
    }
}

fn map(pairs: Vec<(C, C)>, choices: &mut Choices) -> C {
    if choices.pick(2) == 0 {
        C::M(pairs)
    } else {
        C::MI(pairs)
    }
}

fn number(v: f64, choices: &mut Choices) -> C {
    match choices.pick(4) {
        0 if half_bits(v).is_some() => C::F16(half_bits(v).unwrap_or(0)),
        1 if f64::from(v as f32) == v => C::F32(v as f32),
        2 if v.fract() == 0.0 && v.abs() < 9.0e15 => {
            if v >= 0.0 {
                C::U(v as u64)
            } else {
                C::N((-1.0 - v) as u64)
            }
        }
        _ => C::F64(v),
    }
}

fn integer(n: i64, choices: &mut Choices) -> C {
    let wide = choices.pick(3) == 0;
    match (n >= 0, wide) {
        (true, true) => C::Wide(n as u64, 8),
        (true, false) => C::U(n as u64),
        (false, _) => C::N((-1 - n) as u64),
    }
}

fn encode(model: &Model, shape: ShapeId, value: &Value, choices: &mut Choices) -> C {
    match (model.shape(shape), value) {
        (Shape::Structure { members, .. }, Value::Object(object)) => {
            let mut pairs: Vec<(C, C)> = object
                .iter()
                .map(|(k, v)| {
                    let member = find_member(members, k).expect("generated member");
                    (text(k, choices), encode(model, member.shape, v, choices))
                })
                .collect();
            // Members the model does not have are ignored, and so are nulls.
            match choices.pick(4) {
                0 => pairs.push((
                    C::T("ZzFromANewerClient"),
                    C::MI(vec![(
                        C::T("x"),
                        C::Tag(4, Box::new(C::A(vec![C::N(1), C::U(5)]))),
                    )]),
                )),
                1 => pairs.insert(0, (C::T("AaNull"), C::Null)),
                _ => {}
            }
            if choices.pick(3) == 0 {
                pairs.reverse();
            }
            map(pairs, choices)
        }
        (Shape::List { member, .. }, Value::Array(items)) => {
            let items = items
                .iter()
                .map(|item| encode(model, member.shape, item, choices))
                .collect();
            if choices.pick(2) == 0 {
                C::A(items)
            } else {
                C::AI(items)
            }
        }
        (Shape::Map { value: element, .. }, Value::Object(object)) => {
            let pairs = object
                .iter()
                .map(|(k, v)| (text(k, choices), encode(model, element.shape, v, choices)))
                .collect();
            map(pairs, choices)
        }
        (Shape::Scalar(scalar), value) => scalar_item(*scalar, value, choices),
        (shape, value) => panic!("generated {value} for {shape:?}"),
    }
}

fn scalar_item(scalar: Scalar, value: &Value, choices: &mut Choices) -> C {
    match (scalar, value) {
        (Scalar::String, Value::String(s)) => text(s, choices),
        (Scalar::Boolean, Value::Bool(b)) => C::Bool(*b),
        (Scalar::Integer | Scalar::Long, Value::Number(n)) => {
            integer(n.as_i64().expect("integer"), choices)
        }
        (Scalar::Double | Scalar::Float, Value::Number(n)) => {
            number(n.as_f64().expect("number"), choices)
        }
        (Scalar::Timestamp, Value::Number(n)) => {
            let seconds = match n.as_i64() {
                Some(whole) if choices.pick(2) == 0 => integer(whole, choices),
                _ => number(n.as_f64().expect("seconds"), choices),
            };
            C::Tag(1, Box::new(seconds))
        }
        (Scalar::Blob, Value::String(b64)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64");
            if choices.pick(2) == 0 {
                C::B(bytes)
            } else {
                let (a, b) = bytes.split_at(bytes.len() / 2);
                C::BI(vec![a.to_vec(), b.to_vec()])
            }
        }
        (scalar, value) => panic!("generated {value} for {scalar:?}"),
    }
}
