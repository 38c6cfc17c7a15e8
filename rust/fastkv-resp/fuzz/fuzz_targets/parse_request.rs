//! Feeds arbitrary bytes to `parse_request` the way a server does: parse, drop what was
//! consumed, repeat until `Incomplete` or an error. Asserts progress and bounds, and that a
//! parse taken on a shorter read stands when the rest arrives.
#![no_main]

use fastkv_resp::request::{parse_request, Limits, Parsed};
use libfuzzer_sys::fuzz_target;

fn consumed(p: &Parsed<'_>) -> Option<usize> {
    match p {
        Parsed::Incomplete => None,
        Parsed::Command { args, consumed } => {
            // Arguments are slices of the buffer, so they fit inside what was consumed.
            let total: usize = args.iter().map(|a| a.len()).sum();
            assert!(total <= *consumed);
            Some(*consumed)
        }
        Parsed::Inline { consumed, .. } => Some(*consumed),
    }
}

fuzz_target!(|data: &[u8]| {
    // A small proto-max-bulk-len too, so the limit check is reached by short inputs.
    let first = data.first().copied().unwrap_or(0);
    let limits = if first & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_bulk_len: u64::from(first),
        }
    };
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        let Ok(parsed) = parse_request(rest, &limits) else {
            break;
        };
        let Some(n) = consumed(&parsed) else {
            // Incomplete: every shorter read is incomplete too.
            let half = &rest[..rest.len() / 2];
            assert_eq!(parse_request(half, &limits), Ok(Parsed::Incomplete));
            break;
        };
        assert!(n > 0, "no progress");
        assert!(n <= rest.len(), "consumed {n} of {}", rest.len());
        // The request is self-delimiting: its own bytes parse the same way.
        assert_eq!(
            parse_request(&rest[..n], &limits),
            parse_request(rest, &limits)
        );
        start += n;
    }
});
