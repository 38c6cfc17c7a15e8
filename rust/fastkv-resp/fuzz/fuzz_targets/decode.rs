//! Feeds arbitrary bytes to `decode` as a client would read a reply stream: decode, drop what
//! was used, repeat. Asserts bounds and progress, that a value's own bytes decode alike, and
//! that re-encoding a decoded value as RESP3 decodes back to it (modulo the documented
//! normalisations).
#![no_main]

use fastkv_resp::{decode, encode, Frame};
use libfuzzer_sys::fuzz_target;

/// Equality with NaN equal to itself (the Debug text of a double is exact).
fn same(a: &Frame, b: &Frame) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Whether the encoder can write `f` faithfully: an error decoded from a blob error may hold
/// CR or LF, which a simple-error line cannot.
fn encodable(f: &Frame) -> bool {
    match f {
        Frame::Error(s) | Frame::Simple(s) => !s.contains(['\r', '\n']),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v.iter().all(encodable),
        Frame::Map(v) => v.iter().all(|(k, v)| encodable(k) && encodable(v)),
        _ => true,
    }
}

/// RESP3 spells both nulls `_`.
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

fuzz_target!(|data: &[u8]| {
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        let Ok(Some((frame, used))) = decode(rest) else {
            // Incomplete or malformed: a shorter read cannot have decoded a value.
            assert!(!matches!(decode(&rest[..rest.len() / 2]), Ok(Some(_))));
            break;
        };
        assert!(
            used > 0 && used <= rest.len(),
            "used {used} of {}",
            rest.len()
        );
        let again = decode(&rest[..used]);
        assert!(matches!(&again, Ok(Some((f, n))) if *n == used && same(f, &frame)));
        if encodable(&frame) {
            let mut out = Vec::new();
            encode(&frame, true, &mut out);
            match decode(&out) {
                Ok(Some((back, n))) => {
                    assert_eq!(n, out.len());
                    assert!(same(&back, &resp3_view(&frame)), "{frame:?} -> {back:?}");
                }
                other => panic!("re-encoded {frame:?} decodes to {other:?}"),
            }
        }
        start += used;
    }
});
