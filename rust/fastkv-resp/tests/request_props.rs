//! Property tests for the request parser: multibulk commands with binary arguments parse back
//! to the same arguments, however the bytes are split across reads; inline commands (plain
//! and quoted) split back to the same arguments; garbage never panics, always makes progress
//! and never claims bytes it was not given.

use fastkv_resp::request::split_args;
use fastkv_resp::{parse_request, parse_request_into, Limits, Parsed, ParsedInto, ProtocolError};
use proptest::collection::vec;
use proptest::prelude::*;

fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut b = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        b.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        b.extend_from_slice(a);
        b.extend_from_slice(b"\r\n");
    }
    b
}

fn args_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..40), 1..8)
}

/// One command's arguments, owned.
type Args = Vec<Vec<u8>>;

/// Owned copy of a parse result's arguments (multibulk or inline), and its consumed length.
fn owned(p: &Parsed<'_>) -> Option<(Vec<Vec<u8>>, usize)> {
    match p {
        Parsed::Incomplete => None,
        Parsed::Command { args, consumed } => {
            Some((args.iter().map(|a| a.to_vec()).collect(), *consumed))
        }
        Parsed::Inline { args, consumed } => Some((args.clone(), *consumed)),
    }
}

/// A server's read loop: `chunks` arrive one after another; after each, every complete
/// request is parsed. Returns the commands seen (empty ones included) and the bytes consumed.
fn serve(chunks: &[&[u8]]) -> Result<(Vec<Args>, usize), TestCaseError> {
    let limits = Limits::default();
    let mut buf = Vec::new();
    let mut start = 0;
    let mut seen = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let parsed = parse_request(&buf[start..], &limits);
            let Ok(parsed) = parsed else {
                return Err(TestCaseError::fail(format!("{parsed:?}")));
            };
            let Some((args, consumed)) = owned(&parsed) else {
                break;
            };
            prop_assert!(consumed > 0 && start + consumed <= buf.len());
            seen.push(args);
            start += consumed;
        }
    }
    Ok((seen, start))
}

/// Checks the invariants every parse result must satisfy on arbitrary input, and that a
/// decision taken on a prefix (a command, or an error) stands once more bytes arrive: the
/// rescanning parser must agree with Redis's stateful one whatever the read boundaries.
fn check_garbage(bytes: &[u8]) -> Result<(), TestCaseError> {
    let limits = Limits::default();
    let full = parse_request(bytes, &limits);
    if let Ok(p) = &full {
        if let Some((_, consumed)) = owned(p) {
            prop_assert!(
                consumed > 0 && consumed <= bytes.len(),
                "consumed {}",
                consumed
            );
        }
    }
    for cut in 0..bytes.len() {
        match parse_request(&bytes[..cut], &limits) {
            Ok(Parsed::Incomplete) => {}
            early => prop_assert_eq!(&early, &full, "decided at {}", cut),
        }
    }
    // The reusing parser agrees with the allocating one, whatever its vector held before.
    let mut reused: Vec<&[u8]> = vec![b"stale", b""];
    for cut in 0..=bytes.len() {
        let want = parse_request(&bytes[..cut], &limits);
        let got = parse_request_into(&bytes[..cut], &limits, &mut reused);
        match (&want, &got) {
            (Ok(Parsed::Command { args, consumed }), Ok(ParsedInto::Command { consumed: c })) => {
                prop_assert_eq!(args, &reused);
                prop_assert_eq!(consumed, c);
            }
            (
                Ok(Parsed::Inline { args, consumed }),
                Ok(ParsedInto::Inline {
                    args: a,
                    consumed: c,
                }),
            ) => {
                prop_assert_eq!(args, a);
                prop_assert_eq!(consumed, c);
            }
            (Ok(Parsed::Incomplete), Ok(ParsedInto::Incomplete { needed })) => {
                // The size hint lies past what arrived and never past the request's end.
                if let Some(n) = *needed {
                    prop_assert!(n > cut, "hint {} at {}", n, cut);
                    if let Ok(Parsed::Command { consumed, .. }) = &full {
                        prop_assert!(n <= *consumed, "hint {} past {}", n, consumed);
                    }
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "{:?} vs {:?} at {}", want, got, cut),
        }
    }
    // A server loop over the whole buffer terminates and stays in bounds.
    let mut start = 0;
    while let Ok(p) = parse_request(&bytes[start..], &limits) {
        let Some((_, consumed)) = owned(&p) else {
            break;
        };
        prop_assert!(consumed > 0 && start + consumed <= bytes.len());
        start += consumed;
    }
    Ok(())
}

/// Request-looking noise: the parser's tokens, numbers and line ends.
fn request_noise() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(b"*$+\"' \t\\x0".to_vec()).prop_map(|b| vec![b]),
        "-?[0-9]{1,3}".prop_map(String::into_bytes),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Quotes `arg` for an inline command: printable bytes as they are, everything else (and the
/// quote and backslash) as `\xHH`.
fn quote(arg: &[u8]) -> Vec<u8> {
    let mut q = vec![b'"'];
    for &b in arg {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            q.push(b);
        } else {
            q.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    q.push(b'"');
    q
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn multibulk_roundtrip(args in args_strategy()) {
        let bytes = multibulk(&args);
        let parsed = parse_request(&bytes, &Limits::default());
        prop_assert_eq!(
            parsed.as_ref().ok().and_then(owned),
            Some((args.clone(), bytes.len()))
        );
    }

    #[test]
    fn multibulk_roundtrip_incomplete(args in args_strategy()) {
        let bytes = multibulk(&args);
        for cut in 0..bytes.len() {
            prop_assert_eq!(parse_request(&bytes[..cut], &Limits::default()), Ok(Parsed::Incomplete));
        }
    }

    /// Two pipelined commands, the stream split in two reads at every byte boundary.
    #[test]
    fn split_at_every_boundary(a in args_strategy(), b in args_strategy()) {
        let bytes = [multibulk(&a), multibulk(&b)].concat();
        for cut in 0..=bytes.len() {
            let (seen, consumed) = serve(&[&bytes[..cut], &bytes[cut..]])?;
            prop_assert_eq!(&seen, &vec![a.clone(), b.clone()], "cut at {}", cut);
            prop_assert_eq!(consumed, bytes.len());
        }
    }

    /// A pipeline delivered in reads of arbitrary sizes.
    #[test]
    fn pipeline_in_random_reads(cmds in vec(args_strategy(), 1..6), sizes in vec(1usize..48, 1..64)) {
        let bytes: Vec<u8> = cmds.iter().flat_map(|c| multibulk(c)).collect();
        let mut chunks = Vec::new();
        let mut pos = 0;
        for s in sizes.iter().cycle() {
            if pos >= bytes.len() {
                break;
            }
            let end = (pos + s).min(bytes.len());
            chunks.push(&bytes[pos..end]);
            pos = end;
        }
        let (seen, consumed) = serve(&chunks)?;
        prop_assert_eq!(seen, cmds);
        prop_assert_eq!(consumed, bytes.len());
    }

    /// Plain words (a leading `*` would make a multibulk request).
    #[test]
    fn inline_roundtrip(args in vec("[!-~&&[^\"'*]][!-~&&[^\"']]{0,11}", 1..6), crlf in any::<bool>()) {
        let mut line = args.join(" ").into_bytes();
        line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let want: Vec<Vec<u8>> = args.iter().map(|a| a.clone().into_bytes()).collect();
        prop_assert_eq!(
            parse_request(&line, &Limits::default()),
            Ok(Parsed::Inline { args: want, consumed: line.len() })
        );
        for cut in 0..line.len() {
            prop_assert_eq!(parse_request(&line[..cut], &Limits::default()), Ok(Parsed::Incomplete));
        }
    }

    /// Binary arguments survive inline quoting with `\xHH` escapes.
    #[test]
    fn inline_quoted_roundtrip(args in vec(vec(any::<u8>(), 0..20), 1..6)) {
        let quoted: Vec<Vec<u8>> = args.iter().map(|a| quote(a)).collect();
        let line = quoted.join(&b' ');
        prop_assert_eq!(split_args(&line), Some(args.clone()));
        let mut req = b"ECHO ".to_vec();
        req.extend_from_slice(&line);
        req.extend_from_slice(b"\r\n");
        let mut want = vec![b"ECHO".to_vec()];
        want.extend(args);
        prop_assert_eq!(
            parse_request(&req, &Limits::default()),
            Ok(Parsed::Inline { args: want, consumed: req.len() })
        );
    }

    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..128)) {
        check_garbage(&bytes)?;
    }

    #[test]
    fn request_noise_never_panics(bytes in request_noise()) {
        check_garbage(&bytes)?;
    }

    /// A valid multibulk command with one byte changed.
    #[test]
    fn mutated_commands(args in args_strategy(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = multibulk(&args);
        let i = at.index(bytes.len());
        bytes[i] = b;
        check_garbage(&bytes)?;
    }

    /// Any error is one of Redis's texts.
    #[test]
    fn errors_have_redis_texts(bytes in request_noise()) {
        if let Err(e) = parse_request(&bytes, &Limits::default()) {
            let text = e.to_string();
            prop_assert!(text.starts_with("Protocol error: "));
            prop_assert!(!text.contains('\r') && !text.contains('\n'));
            let known = matches!(
                e,
                ProtocolError::InvalidMultibulkLength
                    | ProtocolError::InvalidBulkLength
                    | ProtocolError::ExpectedDollar(_)
                    | ProtocolError::UnbalancedQuotes
            );
            prop_assert!(known, "{:?} from short input", e);
        }
    }
}
