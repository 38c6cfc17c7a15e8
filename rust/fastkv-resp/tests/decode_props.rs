//! Property tests for the reply decoder: encode → decode round trips in RESP3 and RESP2, the
//! `_incomplete` twin of each (every strict prefix is `Ok(None)`), and garbage that must never
//! panic or claim bytes it was not given.

use fastkv_resp::float::fmt_g17;
use fastkv_resp::{decode, encode, Frame};
use proptest::collection::vec;
use proptest::prelude::*;

/// Text that a simple string or simple error can carry (no CR, no LF).
fn line_text() -> impl Strategy<Value = String> {
    "[^\r\n]{0,12}"
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(|s| Frame::Simple(s.into())),
        line_text().prop_map(|s| Frame::Error(s.into())),
        any::<i64>().prop_map(Frame::Integer),
        vec(any::<u8>(), 0..20).prop_map(Frame::Bulk),
        Just(Frame::Null),
        Just(Frame::NullArray),
        any::<f64>().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "0|-?[1-9][0-9]{0,40}".prop_map(Frame::BigNumber),
        (any::<[u8; 3]>(), vec(any::<u8>(), 0..20))
            .prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ]
}

/// Arbitrary frame trees, up to 4 levels deep.
fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Frame::Array),
            vec((inner.clone(), inner.clone()), 0..4).prop_map(Frame::Map),
            vec(inner.clone(), 0..5).prop_map(Frame::Set),
            vec(inner, 0..5).prop_map(Frame::Push),
        ]
    })
}

fn enc(f: &Frame, resp3: bool) -> Vec<u8> {
    let mut out = Vec::new();
    encode(f, resp3, &mut out);
    out
}

/// What a RESP3 encoding decodes to: the only RESP3 loss is `NullArray`, which RESP3 spells
/// `_` like any null.
fn resp3_view(f: &Frame) -> Frame {
    match f {
        Frame::NullArray => Frame::Null,
        Frame::Array(v) => Frame::Array(v.iter().map(resp3_view).collect()),
        Frame::Set(v) => Frame::Set(v.iter().map(resp3_view).collect()),
        Frame::Push(v) => Frame::Push(v.iter().map(resp3_view).collect()),
        Frame::Map(v) => Frame::Map(
            v.iter()
                .map(|(k, v)| (resp3_view(k), resp3_view(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a RESP2 encoding decodes to: the encoder's documented downgrades.
fn resp2_view(f: &Frame) -> Frame {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            Frame::Array(v.iter().map(resp2_view).collect())
        }
        Frame::Map(v) => Frame::Array(
            v.iter()
                .flat_map(|(k, v)| [resp2_view(k), resp2_view(v)])
                .collect(),
        ),
        Frame::Double(d) => Frame::Bulk(fmt_g17(*d).into_bytes()),
        Frame::Boolean(b) => Frame::Integer(i64::from(*b)),
        Frame::BigNumber(s) => Frame::Bulk(s.clone().into_bytes()),
        Frame::Verbatim { text, .. } => Frame::Bulk(text.clone()),
        other => other.clone(),
    }
}

/// Structural equality where a double equals itself bit for bit (NaN == NaN, -0 != 0).
fn same(a: &Frame, b: &Frame) -> bool {
    let all =
        |x: &[Frame], y: &[Frame]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q));
    match (a, b) {
        (Frame::Double(x), Frame::Double(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => all(x, y),
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        _ => a == b,
    }
}

fn assert_decodes(bytes: &[u8], want: &Frame) -> Result<(), TestCaseError> {
    match decode(bytes) {
        Ok(Some((got, used))) => {
            prop_assert_eq!(used, bytes.len());
            prop_assert!(same(&got, want), "got {:?}\nwant {:?}", got, want);
        }
        other => prop_assert!(false, "{:?} for {:?}", other, bytes),
    }
    Ok(())
}

fn assert_prefixes_incomplete(bytes: &[u8]) -> Result<(), TestCaseError> {
    for cut in 0..bytes.len() {
        prop_assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {}", cut);
    }
    Ok(())
}

/// RESP-looking noise: type bytes, numbers, line ends and random bytes, concatenated. Reaches
/// far deeper into the decoder than uniform bytes do.
fn resp_noise() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(b"+-:$*_,#(=%~>!|;.?".to_vec()).prop_map(|b| vec![b]),
        "-?[0-9]{1,3}|inf|nan|t|f|txt:".prop_map(String::into_bytes),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Results compared through `Debug`, which spells every double exactly and NaN as `NaN`
/// (`PartialEq` says NaN != NaN).
fn same_result<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Decoding never panics, never claims more than the buffer, and a decision (frame or error)
/// taken on a prefix stands when more bytes arrive.
fn check_garbage(bytes: &[u8]) -> Result<(), TestCaseError> {
    let full = decode(bytes);
    if let Ok(Some((_, used))) = &full {
        prop_assert!(*used > 0 && *used <= bytes.len());
        // The value is self-delimiting: exactly its own bytes decode the same way.
        let own = decode(&bytes[..*used]);
        prop_assert!(same_result(&own, &full), "{:?} vs {:?}", own, full);
    }
    for cut in 0..bytes.len() {
        match decode(&bytes[..cut]) {
            Ok(None) => {}
            early => prop_assert!(
                same_result(&early, &full),
                "decided {:?} at {}, then {:?}",
                early,
                cut,
                full
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn resp3_roundtrip(f in frame()) {
        assert_decodes(&enc(&f, true), &resp3_view(&f))?;
    }

    #[test]
    fn resp3_roundtrip_incomplete(f in frame()) {
        assert_prefixes_incomplete(&enc(&f, true))?;
    }

    #[test]
    fn resp2_downgrades(f in frame()) {
        assert_decodes(&enc(&f, false), &resp2_view(&f))?;
    }

    #[test]
    fn resp2_downgrades_incomplete(f in frame()) {
        assert_prefixes_incomplete(&enc(&f, false))?;
    }

    /// Back-to-back values: each decode takes exactly its own bytes.
    #[test]
    fn pipelined_values(fs in vec(frame(), 1..5), resp3 in any::<bool>()) {
        let mut bytes = Vec::new();
        for f in &fs {
            encode(f, resp3, &mut bytes);
        }
        let mut pos = 0;
        for f in &fs {
            let want = if resp3 { resp3_view(f) } else { resp2_view(f) };
            let one = enc(f, resp3);
            match decode(&bytes[pos..]) {
                Ok(Some((got, used))) => {
                    prop_assert_eq!(used, one.len());
                    prop_assert!(same(&got, &want));
                    pos += used;
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(pos, bytes.len());
        prop_assert_eq!(decode(&bytes[pos..]), Ok(None));
    }

    /// An attribute in front of a value is skipped; the value is what decodes.
    #[test]
    fn attributes_skipped(f in frame(), attrs in vec((frame(), frame()), 0..3)) {
        let mut bytes = Vec::new();
        fastkv_resp::encode::header(&mut bytes, b'|', attrs.len());
        for (k, v) in &attrs {
            encode(k, true, &mut bytes);
            encode(v, true, &mut bytes);
        }
        encode(&f, true, &mut bytes);
        assert_decodes(&bytes, &resp3_view(&f))?;
        assert_prefixes_incomplete(&bytes)?;
    }

    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..128)) {
        check_garbage(&bytes)?;
    }

    #[test]
    fn resp_noise_never_panics(bytes in resp_noise()) {
        check_garbage(&bytes)?;
    }

    /// A valid encoding with one byte changed: decodes to something or fails cleanly.
    #[test]
    fn mutated_encodings(f in frame(), resp3 in any::<bool>(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = enc(&f, resp3);
        let i = at.index(bytes.len());
        bytes[i] = b;
        check_garbage(&bytes)?;
    }
}
