//! RFC 8785 (JCS) canonical JSON: writing a value, and checking bytes without re-encoding.
//!
//! `serde_json_canonicalizer` is the reference here (the property tests compare against
//! it), but it buffers every member of every object separately and re-parses each key to
//! sort it, which made the canonical-form check the largest part of decoding an entry (and
//! so of `verify`). This module writes straight into one buffer and checks canonical form
//! in one pass over the bytes, with no tree. Numbers that are not small integers (the
//! entries hold none) are handed to the reference crate, which formats them the way
//! ECMAScript does.

use std::cmp::Ordering;
use std::io::Write;

use serde_json::{Number, Value};

/// Largest integer magnitude written as plain digits without going through a double: every
/// integer up to 2^53 is exact as a double, and ECMAScript prints it as its digits.
const EXACT_INTEGER: u64 = 1 << 53;
/// Nesting accepted by the check (serde_json's own parser stops at 128).
const MAX_DEPTH: usize = 128;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotEncodable(String);

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, NotEncodable> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), NotEncodable> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| key_order(a.0, b.0));
            out.push(b'{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_value(out, member)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number(out: &mut Vec<u8>, number: &Number) -> Result<(), NotEncodable> {
    if let Some(n) = number.as_u64().filter(|n| *n <= EXACT_INTEGER) {
        let _ = write!(out, "{n}");
    } else if let Some(n) = number
        .as_i64()
        .filter(|n| n.unsigned_abs() <= EXACT_INTEGER)
    {
        let _ = write!(out, "{n}");
    } else {
        let formatted = serde_json_canonicalizer::to_vec(&Value::Number(number.clone()))
            .map_err(|e| NotEncodable(e.to_string()))?;
        out.extend_from_slice(&formatted);
    }
    Ok(())
}

/// The escape JCS uses for a byte that cannot appear raw in a string, if any.
fn escape(byte: u8) -> Option<&'static [u8]> {
    Some(match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        _ => return None,
    })
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        match escape(byte) {
            Some(short) => out.extend_from_slice(short),
            None => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// JCS orders members by their names' UTF-16 code units (which differs from UTF-8 byte
/// order only beyond the Basic Multilingual Plane).
fn key_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Whether `bytes` are exactly the canonical encoding of some JSON value: one value, no
/// whitespace, members in order and unique, strings escaped only where JCS escapes, numbers
/// as ECMAScript prints them. Anything that is not JSON is not canonical either.
pub fn is_canonical(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut scanner = Scanner { text, pos: 0 };
    scanner.value(0).is_some() && scanner.pos == text.len()
}

/// Like [`is_canonical`], and in the same pass the raw text of the top-level members named
/// `names` (each value as written: a string with its quotes). `None` when the bytes are not
/// canonical; all `None` members when the value is not an object or lacks them.
pub fn canonical_members<'a, const N: usize>(
    bytes: &'a [u8],
    names: [&str; N],
) -> Option<[Option<&'a str>; N]> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut scanner = Scanner { text, pos: 0 };
    let mut found = [None; N];
    if scanner.peek()? == b'{' {
        scanner.object_with(0, |key, value| {
            if let Some(slot) = names.iter().position(|name| *name == key) {
                found[slot] = Some(value);
            }
        })?;
    } else {
        scanner.value(0)?;
    }
    (scanner.pos == text.len()).then_some(found)
}

/// A cursor over the text being checked; every method returns `None` as soon as the text
/// is not canonical.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        self.text[self.pos..]
            .starts_with(word)
            .then(|| self.pos += word.len())
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.expect(b'[')?;
        if self.expect(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            if self.comma_or(b']')? {
                return Some(());
            }
        }
    }

    /// After a member or an item: `Some(false)` past a comma (another follows),
    /// `Some(true)` past `close` (the object or array ends), `None` otherwise.
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        let closed = match self.peek()? {
            b',' => false,
            byte if byte == close => true,
            _ => return None,
        };
        self.pos += 1;
        Some(closed)
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.object_with(depth, |_, _| {})
    }

    /// An object whose members are handed to `member` as (raw name, raw value) once checked.
    fn object_with(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&'a str, &'a str),
    ) -> Option<()> {
        self.expect(b'{')?;
        if self.expect(b'}').is_some() {
            return Some(());
        }
        let mut previous: Option<(&'a str, bool)> = None;
        loop {
            let (key, plain) = self.flagged_string()?;
            if let Some((before, before_plain)) = previous {
                let order = if plain && before_plain {
                    before.cmp(key)
                } else {
                    raw_key_order(before, key)
                };
                if order != Ordering::Less {
                    return None;
                }
            }
            previous = Some((key, plain));
            self.expect(b':')?;
            let start = self.pos;
            self.value(depth + 1)?;
            member(key, &self.text[start..self.pos]);
            if self.comma_or(b'}')? {
                return Some(());
            }
        }
    }

    /// A string in canonical form; returns its raw text between the quotes.
    fn string(&mut self) -> Option<&'a str> {
        self.flagged_string().map(|(text, _)| text)
    }

    /// A string in canonical form: its raw text between the quotes, and whether that text
    /// is plain ASCII without escapes (then it compares as it is, byte by byte).
    fn flagged_string(&mut self) -> Option<(&'a str, bool)> {
        self.expect(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut plain = true;
        loop {
            self.pos += plain_ascii_run(&bytes[self.pos..]);
            let byte = *bytes.get(self.pos)?;
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Some((&self.text[start..self.pos - 1], plain));
                }
                b'\\' => {
                    plain = false;
                    self.pos += canonical_escape_len(&bytes[self.pos..])?;
                }
                0x00..=0x1f => return None,
                // Beyond ASCII (the text is valid UTF-8 already).
                _ => {
                    plain = false;
                    self.pos += 1;
                }
            }
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = bytes.get(self.pos) {
            self.pos += 1;
        }
        let token = &self.text[start..self.pos];
        let digits = token.strip_prefix('-').unwrap_or(token);
        let plain_integer = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        // Up to 15 digits an integer is exact as a double and printed as its digits; "-0"
        // prints as "0".
        if plain_integer && digits.len() <= 15 {
            return (token != "-0").then_some(());
        }
        let parsed: Value = serde_json::from_str(token).ok()?;
        let canonical = serde_json_canonicalizer::to_vec(&parsed).ok()?;
        (canonical == token.as_bytes()).then_some(())
    }
}

/// How many leading bytes of `bytes` are printable ASCII other than `"` and `\\`: the
/// bytes a string's scan can step over. Eight at a time (SWAR): in the verification's
/// profile the byte-by-byte loop was the largest part of the canonical-form check.
fn plain_ascii_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A high bit for every byte of `word` equal to zero.
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    let mut run = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let special = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')))
            // below 0x20 (the borrow sets the high bit of a byte that had it clear) …
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGH)
            // … or beyond ASCII.
            | (word & HIGH);
        if special != 0 {
            break;
        }
        run += 8;
    }
    run + bytes[run..]
        .iter()
        .take_while(|&&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
        .count()
}

/// Length of the escape sequence at the start of `bytes` (which begins with `\`), if it is
/// the one JCS writes for its character.
fn canonical_escape_len(bytes: &[u8]) -> Option<usize> {
    match *bytes.get(1)? {
        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => {
            let hex = bytes.get(2..6)?;
            let lower_hex = |b: u8| -> Option<u8> {
                match b {
                    b'0'..=b'9' => Some(b - b'0'),
                    b'a'..=b'f' => Some(b - b'a' + 10),
                    _ => None,
                }
            };
            if hex[0] != b'0' || hex[1] != b'0' {
                return None;
            }
            let byte = lower_hex(hex[2])? << 4 | lower_hex(hex[3])?;
            // Only control characters without a short escape are written as \u00XX.
            (byte < 0x20 && escape(byte).is_none()).then_some(6)
        }
        _ => None,
    }
}

/// Order of two member names as written in canonical text (escapes in names are rare: only
/// control characters, which are then decoded by serde_json before comparing).
fn raw_key_order(a: &str, b: &str) -> Ordering {
    if !a.contains('\\') && !b.contains('\\') {
        return key_order(a, b);
    }
    let decode = |raw: &str| {
        serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned())
    };
    key_order(&decode(a), &decode(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(value: &Value) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(value).expect("reference encodes")
    }

    /// What the check must say: bytes are canonical when they parse and the reference
    /// encoder gives them back unchanged.
    /// (With serde_json's arbitrary precision, which the `ssi` crates turn on, `1e999`
    /// parses; the reference then refuses to encode it, so it has no canonical form.)
    fn reference_canonical(bytes: &[u8]) -> bool {
        serde_json::from_slice::<Value>(bytes).is_ok_and(|v| {
            serde_json_canonicalizer::to_vec(&v).is_ok_and(|canonical| canonical == bytes)
        })
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,8}",
            // Control characters, quotes, backslashes, slashes, non-ASCII, beyond the BMP,
            // and the private-use area whose UTF-16 order differs from UTF-8's.
            proptest::collection::vec(
                prop_oneof![
                    Just('\u{0}'),
                    Just('\u{8}'),
                    Just('\t'),
                    Just('\n'),
                    Just('\u{b}'),
                    Just('\u{1f}'),
                    Just('"'),
                    Just('\\'),
                    Just('/'),
                    Just('\u{7f}'),
                    Just('é'),
                    Just('\u{e000}'),
                    Just('\u{ffff}'),
                    Just('😀'),
                    Just('\u{10000}'),
                    proptest::char::any(),
                ],
                0..6
            )
            .prop_map(|chars| chars.into_iter().collect()),
        ]
    }

    fn any_number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0u64..1000).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
        ]
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any_number(),
            any_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(any_string(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn writes_what_the_reference_writes(value in any_json()) {
            let written = to_vec(&value).expect("encodes");
            prop_assert_eq!(&written, &reference(&value));
            prop_assert!(is_canonical(&written));
        }

        /// One byte changed, inserted or removed anywhere: the check agrees with parsing
        /// and re-encoding.
        #[test]
        fn check_agrees_with_the_reference(
            value in any_json(),
            at in any::<prop::sample::Index>(),
            byte in prop_oneof![
                Just(b' '), Just(b','), Just(b'"'), Just(b'\\'), Just(b'0'), Just(b'1'),
                Just(b'-'), Just(b'.'), Just(b'e'), Just(b'u'), Just(b'a'), Just(b'}'),
                Just(b']'), Just(b'/'), any::<u8>(),
            ],
            edit in 0..3u8,
        ) {
            let mut bytes = reference(&value);
            let i = at.index(bytes.len() + 1);
            match edit {
                0 if i < bytes.len() => bytes[i] = byte,
                1 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
            prop_assert_eq!(is_canonical(&bytes), reference_canonical(&bytes), "{:?}", String::from_utf8_lossy(&bytes));
        }
    }

    proptest! {
        /// Members written in any order but JCS's (here: reversed) are refused.
        #[test]
        fn members_out_of_order_are_refused(
            members in proptest::collection::btree_map(any_string(), any_json(), 2..6),
        ) {
            let mut members: Vec<(String, Value)> = members.into_iter().collect();
            members.sort_by(|a, b| key_order(&b.0, &a.0));
            let mut bytes = b"{".to_vec();
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                write_string(&mut bytes, key);
                bytes.push(b':');
                bytes.extend_from_slice(&reference(value));
            }
            bytes.push(b'}');
            prop_assert!(!is_canonical(&bytes));
            prop_assert!(!reference_canonical(&bytes));
        }
    }

    proptest! {
        /// The eight-at-a-time run agrees with a byte-by-byte count on any bytes.
        #[test]
        fn plain_runs_match_the_byte_by_byte_count(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let expected = bytes
                .iter()
                .take_while(|&&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
                .count();
            prop_assert_eq!(plain_ascii_run(&bytes), expected);
        }
    }

    #[test]
    fn plain_runs_stop_at_every_special_byte() {
        for special in [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff] {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = special;
                assert_eq!(plain_ascii_run(&bytes), at, "byte {special:#x} at {at}");
            }
        }
        assert_eq!(plain_ascii_run(&[0x7f; 17]), 17, "DEL is written as it is");
    }

    #[test]
    fn members_are_found_in_the_checking_pass() {
        let text = br#"{"a":[1,{"type":"inner"}],"time":"2026-01-01T00:00:00.000Z","type":"x\u001f","v":2}"#;
        assert_eq!(
            canonical_members(text, ["type", "v", "time", "absent"]),
            Some([
                Some(r#""x\u001f""#),
                Some("2"),
                Some(r#""2026-01-01T00:00:00.000Z""#),
                None
            ])
        );
        assert_eq!(canonical_members(br#"[1,2]"#, ["type"]), Some([None]));
        assert_eq!(
            canonical_members(br#"{"v":1,"type":"x"}"#, ["type"]),
            None,
            "out of order"
        );
        assert_eq!(
            canonical_members(br#"{"type":"x"} "#, ["type"]),
            None,
            "trailing space"
        );
        assert_eq!(
            canonical_members(br#"{"type":"x""#, ["type"]),
            None,
            "truncated"
        );
    }

    proptest! {
        /// The members' check agrees with the plain check on any bytes.
        #[test]
        fn members_check_agrees_with_the_plain_check(value in any_json(), cut in any::<usize>()) {
            let bytes = reference(&value);
            prop_assert_eq!(canonical_members(&bytes, ["a"]).is_some(), is_canonical(&bytes));
            let cut = &bytes[..cut % (bytes.len() + 1)];
            prop_assert_eq!(canonical_members(cut, ["a"]).is_some(), is_canonical(cut));
        }
    }

    #[test]
    fn named_cases() {
        for (text, canonical) in [
            (r#"{"a":1,"b":[true,false,null]}"#, true),
            (r#"{"b":1,"a":2}"#, false),
            (r#"{"a":1,"a":1}"#, false),
            (r#"{"a": 1}"#, false),
            (r#" {"a":1}"#, false),
            (r#"{"a":1} "#, false),
            (r#""\/""#, false),
            (r#""/""#, true),
            (r#""\u0041""#, false),
            (r#""\u001f""#, true),
            (r#""\u001F""#, false),
            (r#""\u000a""#, false),
            (r#""\n""#, true),
            (r#""é""#, true),
            (r#""\u00e9""#, false),
            ("1.0", false),
            ("1.5", true),
            ("-0", false),
            ("0", true),
            ("1e2", false),
            ("100", true),
            ("1e+21", true),
            ("1e999", false),
            ("9007199254740992", true),
            ("9007199254740993", false),
            ("01", false),
            ("{\"\u{e000}\":1,\"😀\":2}", false),
            ("{\"😀\":2,\"\u{e000}\":1}", true),
            ("", false),
            ("[1,]", false),
            ("{}", true),
            // Escaped names are ordered by the characters they stand for: U+0001 < U+000A.
            (r#"{"\u0001":2,"\n":1}"#, true),
            (r#"{"\n":1,"\u0001":2}"#, false),
            ("[]", true),
        ] {
            assert_eq!(is_canonical(text.as_bytes()), canonical, "{text}");
            assert_eq!(
                reference_canonical(text.as_bytes()),
                canonical,
                "reference: {text}"
            );
        }
    }
}
