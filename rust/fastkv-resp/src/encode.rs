//! Frame -> bytes, for RESP2 or RESP3 clients.

use crate::float::fmt_g17;
use crate::frame::Frame;

/// Appends `frame` to `out`, in RESP3 when `resp3` is true, else downgraded to RESP2 the way
/// Redis downgrades (maps flatten, sets become arrays, doubles become bulk strings, booleans
/// become integers, nulls become `$-1` or `*-1`).
pub fn encode(frame: &Frame, resp3: bool, out: &mut Vec<u8>) {
    match frame {
        Frame::Simple(s) => line(out, b'+', s.as_bytes()),
        Frame::Error(s) => line(out, b'-', s.as_bytes()),
        Frame::Integer(n) => {
            out.push(b':');
            push_int(out, *n);
            out.extend_from_slice(b"\r\n");
        }
        Frame::Bulk(b) => bulk(out, b),
        Frame::Null => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Frame::NullArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Frame::Array(items) => {
            header(out, b'*', items.len());
            for f in items {
                encode(f, resp3, out);
            }
        }
        Frame::Bulks(items) => {
            header(out, b'*', items.len());
            out.extend_from_slice(items.encoded());
        }
        Frame::Map(pairs) => {
            if resp3 {
                header(out, b'%', pairs.len());
            } else {
                header(out, b'*', pairs.len() * 2);
            }
            for (k, v) in pairs {
                encode(k, resp3, out);
                encode(v, resp3, out);
            }
        }
        Frame::Set(items) => {
            header(out, if resp3 { b'~' } else { b'*' }, items.len());
            for f in items {
                encode(f, resp3, out);
            }
        }
        Frame::Push(items) => {
            header(out, if resp3 { b'>' } else { b'*' }, items.len());
            for f in items {
                encode(f, resp3, out);
            }
        }
        Frame::Double(d) => {
            let s = fmt_g17(*d);
            if resp3 {
                line(out, b',', s.as_bytes());
            } else {
                bulk(out, s.as_bytes());
            }
        }
        Frame::Boolean(b) => {
            if resp3 {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" });
            }
        }
        Frame::BigNumber(s) => {
            if resp3 {
                line(out, b'(', s.as_bytes());
            } else {
                bulk(out, s.as_bytes());
            }
        }
        Frame::Verbatim { format, text } => {
            if resp3 {
                header(out, b'=', text.len() + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            } else {
                bulk(out, text);
            }
        }
    }
}

/// Appends a bulk string (`$len\r\nbytes\r\n`).
pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    header(out, b'$', b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Appends an aggregate or bulk header such as `*3\r\n`.
pub fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    push_int(out, len as i64);
    out.extend_from_slice(b"\r\n");
}

fn line(out: &mut Vec<u8>, tag: u8, s: &[u8]) {
    out.push(tag);
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn push_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let neg = n < 0;
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: &Frame, resp3: bool) -> Vec<u8> {
        let mut v = Vec::new();
        encode(f, resp3, &mut v);
        v
    }

    #[test]
    fn scalars() {
        assert_eq!(enc(&Frame::OK, false), b"+OK\r\n");
        assert_eq!(enc(&Frame::Integer(-42), false), b":-42\r\n");
        assert_eq!(
            enc(&Frame::Integer(i64::MIN), false),
            b":-9223372036854775808\r\n"
        );
        assert_eq!(enc(&Frame::bulk("ab"), true), b"$2\r\nab\r\n");
        assert_eq!(enc(&Frame::Null, false), b"$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, false), b"*-1\r\n");
        assert_eq!(enc(&Frame::Null, true), b"_\r\n");
    }

    #[test]
    fn resp3_downgrades() {
        let m = Frame::Map(vec![(Frame::bulk("a"), Frame::Double(1.5))]);
        assert_eq!(enc(&m, true), b"%1\r\n$1\r\na\r\n,1.5\r\n");
        assert_eq!(enc(&m, false), b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
        assert_eq!(enc(&Frame::Boolean(true), false), b":1\r\n");
        assert_eq!(enc(&Frame::Set(vec![]), true), b"~0\r\n");
        let v = Frame::Verbatim {
            format: *b"txt",
            text: b"hi".to_vec(),
        };
        assert_eq!(enc(&v, true), b"=6\r\ntxt:hi\r\n");
        assert_eq!(enc(&v, false), b"$2\r\nhi\r\n");
    }

    #[test]
    fn bulks_encode_and_compare_as_an_array_of_bulks() {
        let items: [&[u8]; 4] = [b"a", b"", b"0123456789ab", b"x\r\ny"];
        let flat: crate::BulkArray = items.iter().copied().collect();
        let arr = Frame::Array(items.iter().map(|b| Frame::bulk(*b)).collect());
        for resp3 in [false, true] {
            assert_eq!(enc(&Frame::Bulks(flat.clone()), resp3), enc(&arr, resp3));
        }
        assert_eq!(Frame::Bulks(flat.clone()), arr);
        assert_eq!(arr, Frame::Bulks(flat.clone()));
        assert_eq!(flat.iter().collect::<Vec<_>>(), items.to_vec());
        assert_eq!(Frame::Array(flat.to_frames()), arr);
        assert_ne!(Frame::Bulks(flat), Frame::Array(vec![]));
        let empty = crate::BulkArray::new();
        assert!(empty.is_empty());
        assert_eq!(enc(&Frame::Bulks(empty), true), b"*0\r\n");
    }
}
