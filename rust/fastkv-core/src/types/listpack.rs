//! [`Listpack`]: the compact encoding of small collections — a sequence of byte-string and
//! integer entries kept in ONE contiguous `Vec<u8>`, in exactly Redis 7's listpack format.
//!
//! # Why Redis's own format
//!
//! A small hash, list or sorted set is mostly overhead when each element is its own heap
//! allocation: a 3-byte field in a `Box<[u8]>` costs a 16-byte pointer plus a 32-byte malloc
//! chunk. A listpack stores the same field in 5 bytes (1 byte of encoding, the data, 1 byte of
//! back-length) inside one allocation for the whole collection, and a canonical integer string
//! such as `"42"` in 2 bytes. We could have written a simpler self-describing layout (say,
//! varint length + data), but Redis's has two things a simpler one would reinvent anyway —
//! integer entries and a back-length that lets iteration run backwards (lists pop from both
//! ends, sorted sets walk down from a rank) — and one thing no other layout gives: the bytes
//! ARE the body of the `*_LISTPACK` RDB types. DUMP, BGSAVE and replication of a small
//! collection copy [`Listpack::as_bytes`] verbatim instead of re-encoding every entry. So there
//! is one listpack format in the codebase: this module's encoder produces byte-for-byte what
//! `rdb::listpack::Writer` produces (a property test checks it), and [`Listpack::from_bytes`]
//! validates an untrusted blob the way `rdb::listpack::decode` does.
//!
//! # Layout
//!
//! `<total bytes: u32 LE> <entry count: u16 LE, 65535 = unknown> <entries> 0xFF`. Each entry is
//! `<encoding + data> <backlen>`; backlen is the size of encoding + data in 1 to 5 bytes of 7
//! bits, most significant first, every byte but the first flagged with 0x80, so it can be read
//! from its last byte backwards. Encodings, by the first byte: `0xxxxxxx` 7-bit unsigned int;
//! `10xxxxxx` string of up to 63 bytes; `110xxxxx` 13-bit signed int; `1110xxxx` string of up
//! to 4095 bytes (12-bit length); `0xF0` string with a 32-bit length; `0xF1`..`0xF4` 16/24/32/
//! 64-bit signed ints, little endian. A string that is a canonical integer (what `string2ll`
//! accepts: no sign but `-`, no leading zero, no `-0`, at most 20 characters) is stored as an
//! integer, as Redis does; reading it back renders the same text, so callers never see the
//! difference except through [`Entry::Int`], which lets a counter or a score skip parsing.
//!
//! # Invariants and costs
//!
//! - The buffer is always a valid listpack: every mutation re-encodes only the entries it
//!   touches and rewrites the header. The count field is exact whenever it is below 65535;
//!   at 65535 or more it reads "unknown" and [`Listpack::len`] walks (as Redis's `lpLength`).
//! - Capacity is kept tight: growth reserves exactly what the new entry needs, and a shrink
//!   that frees at least [`SHRINK_SLACK`] bytes gives them back. That makes an insert O(n)
//!   (one memmove, sometimes one realloc) — the trade Redis makes: these collections are
//!   small by definition (the `*-max-listpack-*` thresholds), and the point is memory.
//! - Positions ([`Pos`]) are byte offsets of entries, handed out by this type. Like Redis's
//!   `unsigned char *p`, a `Pos` is valid until the next mutation; mutators return the
//!   position to continue from. A stale `Pos` can give wrong answers but never a panic: every
//!   read is bounds-checked (no `unsafe`, no unchecked indexing).
//! - Collections must call [`Listpack::safe_to_add`] before adding data and convert to their
//!   big encoding when it says no ([`MAX_SAFE_SIZE`], Redis's `LISTPACK_MAX_SAFETY_SIZE`), so
//!   the header's 32-bit total and string lengths never overflow.
//!
//! # Using it for a collection
//!
//! A hash is field, value, field, value… ([`Listpack::find`] with `skip = 1` looks at fields
//! only; [`Listpack::pairs`] iterates pairs). A sorted set would be member, score pairs kept in
//! score order (the score as its shortest text, which an integral score turns into an
//! [`Entry::Int`]); a list is its items in order, one listpack per quicklist node.

use fastkv_resp::request::parse_i64_strict;
use std::fmt;
use std::ops::{Deref, Range};

/// Header: total bytes (u32) + entry count (u16).
const HEADER_LEN: usize = 6;
/// The terminator byte, never the first byte of an entry.
const END: u8 = 0xFF;
/// The count field's "too many to count" value (Redis's `LP_HDR_NUMELE_UNKNOWN`).
const COUNT_UNKNOWN: u16 = u16::MAX;
/// An empty listpack: 7 bytes total, 0 entries, the terminator.
const EMPTY: [u8; 7] = [7, 0, 0, 0, 0, 0, END];
/// Largest size a collection should let a listpack reach (Redis's `LISTPACK_MAX_SAFETY_SIZE`,
/// 1 GiB): far below the header's 4 GiB limit, and where Redis converts to the big encoding.
pub const MAX_SAFE_SIZE: usize = 1 << 30;
/// Spare capacity worth a shrinking realloc: malloc hands out chunks in 16-byte steps, so
/// giving back less frees nothing.
const SHRINK_SLACK: usize = 16;
/// Longest canonical integer text, `-9223372036854775808`.
const MAX_INT_TEXT: usize = 20;

// ---------------------------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------------------------

/// One entry, as stored: a byte string, or an integer (which reads as its decimal text).
///
/// As an argument to the mutators, `Entry::Str` holding a canonical integer string is stored
/// as an integer, so `Entry::from(&b"12"[..])` and `Entry::Int(12)` store the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> From<&'a [u8]> for Entry<'a> {
    fn from(s: &'a [u8]) -> Self {
        Entry::Str(s)
    }
}

impl From<i64> for Entry<'_> {
    fn from(n: i64) -> Self {
        Entry::Int(n)
    }
}

impl<'a> Entry<'a> {
    /// The entry's text, without allocating (an integer is rendered into the value itself).
    pub fn bytes(self) -> EntryBytes<'a> {
        match self {
            Entry::Str(s) => EntryBytes::Borrowed(s),
            Entry::Int(n) => EntryBytes::int(n),
        }
    }

    /// The entry's text, owned.
    pub fn to_vec(self) -> Vec<u8> {
        self.bytes().to_vec()
    }

    /// The entry as an integer if its text is a canonical integer.
    pub fn as_int(self) -> Option<i64> {
        match self {
            Entry::Int(n) => Some(n),
            Entry::Str(s) => parse_i64_strict(s),
        }
    }
}

/// A value to compare entries with, classified once (Redis's `lpFind` converts the search
/// string to an integer once, not per entry).
#[derive(Debug, Clone, Copy)]
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Needle {
            bytes,
            int: parse_i64_strict(bytes),
        }
    }

    /// Whether `e` reads as the same text. A string entry is compared by bytes too, so a
    /// non-canonical blob from [`Listpack::from_bytes`] (an integer stored as a string) still
    /// matches.
    fn matches(&self, e: Entry<'_>) -> bool {
        match e {
            Entry::Str(s) => s == self.bytes,
            Entry::Int(n) => self.int == Some(n),
        }
    }
}

/// An entry's text: borrowed from the listpack for a string entry, rendered in place (no
/// allocation) for an integer one. Derefs to `[u8]`; compares and hashes as its bytes.
#[derive(Clone, Copy)]
pub enum EntryBytes<'a> {
    Borrowed(&'a [u8]),
    /// Decimal digits right-aligned in `digits`, starting at `start`.
    Int {
        digits: [u8; MAX_INT_TEXT],
        start: u8,
    },
}

impl EntryBytes<'_> {
    fn int(n: i64) -> Self {
        let mut digits = [0u8; MAX_INT_TEXT];
        let mut at = MAX_INT_TEXT;
        let mut u = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        if n < 0 {
            at -= 1;
            digits[at] = b'-';
        }
        EntryBytes::Int {
            digits,
            start: at as u8,
        }
    }
}

impl Deref for EntryBytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            EntryBytes::Borrowed(s) => s,
            EntryBytes::Int { digits, start } => digits.get(usize::from(*start)..).unwrap_or(&[]),
        }
    }
}

impl AsRef<[u8]> for EntryBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for EntryBytes<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for EntryBytes<'_> {}

impl PartialEq<[u8]> for EntryBytes<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl std::hash::Hash for EntryBytes<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for EntryBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

// ---------------------------------------------------------------------------------------------
// The entry codec
// ---------------------------------------------------------------------------------------------

/// Bytes a backlen takes for an entry of `len` bytes (encoding + data).
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        2_097_152..=268_435_455 => 4,
        _ => 5,
    }
}

/// One entry encoded, ready to be spliced in without a temporary allocation: the encoding
/// bytes (for an integer, the whole entry body), the string data, and the backlen.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    data: &'a [u8],
    back: [u8; 5],
    back_len: usize,
}

impl<'a> Encoded<'a> {
    fn new(e: Entry<'a>) -> Self {
        let mut enc = Encoded {
            head: [0; 9],
            head_len: 0,
            data: &[],
            back: [0; 5],
            back_len: 0,
        };
        match e {
            Entry::Int(n) => enc.int(n),
            Entry::Str(s) => match parse_i64_strict(s) {
                Some(n) => enc.int(n),
                None => enc.str(s),
            },
        }
        enc.backlen(enc.head_len + enc.data.len());
        enc
    }

    fn set_head(&mut self, bytes: &[u8]) {
        self.head_len = bytes.len().min(self.head.len());
        for (d, s) in self.head.iter_mut().zip(bytes) {
            *d = *s;
        }
    }

    fn int(&mut self, n: i64) {
        let le = n.to_le_bytes();
        if (0..=127).contains(&n) {
            self.set_head(&[n as u8]);
        } else if (-4096..=4095).contains(&n) {
            let u = (n as u16) & 0x1fff;
            self.set_head(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if i16::try_from(n).is_ok() {
            self.set_head(&[0xF1, le[0], le[1]]);
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            self.set_head(&[0xF2, le[0], le[1], le[2]]);
        } else if i32::try_from(n).is_ok() {
            self.set_head(&[0xF3, le[0], le[1], le[2], le[3]]);
        } else {
            self.set_head(&[0xF4, le[0], le[1], le[2], le[3], le[4], le[5], le[6], le[7]]);
        }
    }

    fn str(&mut self, s: &'a [u8]) {
        let n = s.len();
        if n < 64 {
            self.set_head(&[0x80 | n as u8]);
        } else if n < 4096 {
            self.set_head(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            // Callers keep strings far below 4 GiB (`safe_to_add`); saturate rather than wrap.
            let l = u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
            self.set_head(&[0xF0, l[0], l[1], l[2], l[3]]);
        }
        self.data = s;
    }

    fn backlen(&mut self, l: usize) {
        let size = backlen_size(l);
        // Most significant 7-bit group first; every byte after the first carries 0x80.
        for i in 0..size {
            let shift = 7 * (size - 1 - i);
            let group = ((l >> shift) & 0x7f) as u8;
            self.back[i] = if i == 0 { group } else { group | 0x80 };
        }
        self.back_len = size;
    }

    fn len(&self) -> usize {
        self.head_len + self.data.len() + self.back_len
    }

    /// The entry's bytes; a chain of slices has an exact size hint, so `Vec::splice` moves
    /// the tail once.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let head = self.head.get(..self.head_len).unwrap_or(&[]);
        let back = self.back.get(..self.back_len).unwrap_or(&[]);
        head.iter().chain(self.data).chain(back).copied()
    }
}

/// Sign-extends a little-endian two's complement integer of 1..=8 bytes.
fn int_le(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    for (d, s) in buf.iter_mut().zip(bytes) {
        *d = *s;
    }
    let shift = 64 - 8 * bytes.len().clamp(1, 8) as u32;
    (i64::from_le_bytes(buf) << shift) >> shift
}

/// The entry at byte `p` of `buf` and the size of its encoding + data (without the backlen);
/// `None` at the terminator or if the bytes do not hold a whole entry.
fn decode_at(buf: &[u8], p: usize) -> Option<(Entry<'_>, usize)> {
    let first = *buf.get(p)?;
    let take =
        |at: usize, n: usize| buf.get(p.checked_add(at)?..p.checked_add(at)?.checked_add(n)?);
    Some(if first & 0x80 == 0 {
        (Entry::Int(i64::from(first)), 1)
    } else if first & 0xC0 == 0x80 {
        let n = usize::from(first & 0x3f);
        (Entry::Str(take(1, n)?), 1 + n)
    } else if first & 0xE0 == 0xC0 {
        let lo = *take(1, 1)?.first()?;
        let u = (u16::from(first & 0x1f) << 8) | u16::from(lo);
        // 13-bit two's complement.
        let v = if u >= 1 << 12 {
            i64::from(u) - (1 << 13)
        } else {
            i64::from(u)
        };
        (Entry::Int(v), 2)
    } else if first & 0xF0 == 0xE0 {
        let lo = *take(1, 1)?.first()?;
        let n = (usize::from(first & 0x0f) << 8) | usize::from(lo);
        (Entry::Str(take(2, n)?), 2 + n)
    } else {
        match first {
            0xF0 => {
                let l = take(1, 4)?;
                let n = u32::from_le_bytes([*l.first()?, *l.get(1)?, *l.get(2)?, *l.get(3)?]);
                let n = usize::try_from(n).ok()?;
                (Entry::Str(take(5, n)?), 5 + n)
            }
            0xF1 => (Entry::Int(int_le(take(1, 2)?)), 3),
            0xF2 => (Entry::Int(int_le(take(1, 3)?)), 4),
            0xF3 => (Entry::Int(int_le(take(1, 4)?)), 5),
            0xF4 => (Entry::Int(int_le(take(1, 8)?)), 9),
            _ => return None,
        }
    })
}

/// Reads the backlen whose last byte is at `last`: the size of the entry before it (encoding +
/// data) and the backlen's own size.
fn backlen_before(buf: &[u8], last: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for i in 0..5 {
        let b = *buf.get(last.checked_sub(i)?)?;
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The listpack
// ---------------------------------------------------------------------------------------------

/// The position of an entry (its byte offset), or of the end (where [`Listpack::insert`]
/// appends). Valid until the listpack is next changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos(usize);

/// A sequence of entries in one `Vec<u8>`, in Redis's listpack format (see the module essay).
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(Entry::bytes))
            .finish()
    }
}

/// Why [`Listpack::from_bytes`] refused a blob.
pub type Corrupt = &'static str;

impl Listpack {
    /// An empty listpack (7 bytes).
    pub fn new() -> Self {
        Listpack {
            buf: EMPTY.to_vec(),
        }
    }

    /// A listpack of `entries`, in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = Entry<'a>>) -> Self {
        let mut lp = Listpack::new();
        for e in entries {
            lp.push(e);
        }
        lp
    }

    /// Adopts an untrusted blob (an RDB `*_LISTPACK` body) after checking all of it: the total
    /// length, every entry's encoding and backlen, the terminator, and the count (which is
    /// then made exact if it was "unknown" but below 65535).
    pub fn from_bytes(blob: Vec<u8>) -> Result<Self, Corrupt> {
        let header = blob
            .get(..HEADER_LEN)
            .ok_or("listpack shorter than its header")?;
        let total = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let count = u16::from_le_bytes([header[4], header[5]]);
        if usize::try_from(total).ok() != Some(blob.len()) {
            return Err("listpack total length mismatch");
        }
        let mut n = 0usize;
        let mut p = HEADER_LEN;
        loop {
            match blob.get(p) {
                None => return Err("listpack without its terminator"),
                Some(&END) => {
                    if p + 1 != blob.len() {
                        return Err("listpack terminator before its end");
                    }
                    break;
                }
                Some(_) => {}
            }
            let (_, len) = decode_at(&blob, p).ok_or("bad listpack entry")?;
            let size = backlen_size(len);
            let end = p + len + size;
            if backlen_before(&blob, end - 1) != Some((len, size)) {
                return Err("listpack backlen mismatch");
            }
            p = end;
            n += 1;
        }
        if count != COUNT_UNKNOWN && usize::from(count) != n {
            return Err("listpack count mismatch");
        }
        let mut lp = Listpack { buf: blob };
        lp.set_count(n);
        Ok(lp)
    }

    /// The listpack itself, as Redis stores it: what DUMP and RDB files carry.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes used (the header's total).
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Whether `extra` more bytes of entry data keep the listpack within [`MAX_SAFE_SIZE`]
    /// (Redis's `lpSafeToAdd`).
    pub fn safe_to_add(&self, extra: usize) -> bool {
        self.buf.len().saturating_add(extra) <= MAX_SAFE_SIZE
    }

    /// The number of entries: the header's count, or a walk when it reads "unknown".
    pub fn len(&self) -> usize {
        match self.header_count() {
            COUNT_UNKNOWN => self.iter().count(),
            n => usize::from(n),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.get(HEADER_LEN).is_none_or(|&b| b == END)
    }

    fn header_count(&self) -> u16 {
        match self.buf.get(4..HEADER_LEN) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        }
    }

    fn set_count(&mut self, n: usize) {
        let c = u16::try_from(n).unwrap_or(COUNT_UNKNOWN).to_le_bytes();
        if let Some(h) = self.buf.get_mut(4..HEADER_LEN) {
            h.copy_from_slice(&c);
        }
    }

    fn write_total(&mut self) {
        let t = u32::try_from(self.buf.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes();
        if let Some(h) = self.buf.get_mut(..4) {
            h.copy_from_slice(&t);
        }
    }

    // --- navigation ---------------------------------------------------------------------------

    /// The first entry, or `None` when empty.
    pub fn first(&self) -> Option<Pos> {
        self.entry_or_none(HEADER_LEN)
    }

    /// The last entry, or `None` when empty.
    pub fn last(&self) -> Option<Pos> {
        self.prev(self.end())
    }

    /// The end: inserting here appends.
    pub fn end(&self) -> Pos {
        Pos(self.buf.len().saturating_sub(1))
    }

    /// The entry after `p`, or `None` after the last one.
    pub fn next(&self, p: Pos) -> Option<Pos> {
        self.entry_or_none(self.after(p)?)
    }

    /// The entry before `p` (which may be [`Listpack::end`]), or `None` before the first one.
    pub fn prev(&self, p: Pos) -> Option<Pos> {
        if p.0 <= HEADER_LEN {
            return None;
        }
        let (len, size) = backlen_before(&self.buf, p.0 - 1)?;
        p.0.checked_sub(len + size).map(Pos)
    }

    /// The entry at `p`; `None` at the end.
    pub fn get(&self, p: Pos) -> Option<Entry<'_>> {
        decode_at(&self.buf, p.0).map(|(e, _)| e)
    }

    /// The position of entry number `index` (0-based); `Some(end)` for `index == len`, so
    /// `insert(pos(len), ..)` appends; `None` past that. Walks from the nearer end when the
    /// count is known.
    pub fn pos(&self, index: usize) -> Option<Pos> {
        let n = self.header_count();
        if n != COUNT_UNKNOWN && index > usize::from(n) / 2 {
            let back = usize::from(n).checked_sub(index)?;
            let mut p = self.end();
            for _ in 0..back {
                p = self.prev(p)?;
            }
            return Some(p);
        }
        let mut p = Pos(HEADER_LEN);
        for _ in 0..index {
            p = Pos(self.after(p)?);
        }
        Some(p)
    }

    /// The entry number `index`.
    pub fn get_index(&self, index: usize) -> Option<Entry<'_>> {
        self.get(self.pos(index)?)
    }

    /// Byte offset just after the entry at `p`; `None` at the end.
    fn after(&self, p: Pos) -> Option<usize> {
        let (_, len) = decode_at(&self.buf, p.0)?;
        Some(p.0 + len + backlen_size(len))
    }

    fn entry_or_none(&self, at: usize) -> Option<Pos> {
        match self.buf.get(at) {
            Some(&END) | None => None,
            Some(_) => Some(Pos(at)),
        }
    }

    // --- iteration ----------------------------------------------------------------------------

    /// Every entry, front to back (reversible).
    pub fn iter(&self) -> Iter<'_> {
        self.iter_at(Pos(HEADER_LEN))
    }

    /// The entries from `p` to the back (reversible: `.rev()` walks from the back down to
    /// `p`).
    pub fn iter_at(&self, p: Pos) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: p.0,
            back: self.end().0,
        }
    }

    /// The entries from `p` down to the front, `p` included (a sorted set's reverse range,
    /// a list's LRANGE with a negative step).
    pub fn iter_down_from(&self, p: Pos) -> std::iter::Rev<Iter<'_>> {
        let back = self.after(p).unwrap_or(HEADER_LEN);
        Iter {
            buf: &self.buf,
            front: HEADER_LEN,
            back,
        }
        .rev()
    }

    /// Consecutive pairs of entries from the front — (field, value) of a hash, (member,
    /// score) of a sorted set. A trailing odd entry is not returned.
    pub fn pairs(&self) -> impl Iterator<Item = (Entry<'_>, Entry<'_>)> + '_ {
        let mut it = self.iter();
        std::iter::from_fn(move || Some((it.next()?, it.next()?)))
    }

    /// The first entry from `from` on (or from the front) that reads as `value`, looking at
    /// one entry then skipping `skip` (Redis's `lpFind`: `skip = 1` looks at a hash's fields
    /// only).
    pub fn find(&self, from: Option<Pos>, value: &[u8], skip: usize) -> Option<Pos> {
        let needle = Needle::new(value);
        let mut p = from.unwrap_or(Pos(HEADER_LEN)).0;
        loop {
            let (e, len) = decode_at(&self.buf, p)?;
            if needle.matches(e) {
                return Some(Pos(p));
            }
            p += len + backlen_size(len);
            for _ in 0..skip {
                let (_, len) = decode_at(&self.buf, p)?;
                p += len + backlen_size(len);
            }
        }
    }

    // --- changes ------------------------------------------------------------------------------

    /// Appends an entry.
    pub fn push<'v>(&mut self, value: impl Into<Entry<'v>>) {
        self.insert(self.end(), value);
    }

    /// Inserts an entry before the one at `p` (at the end: appends); returns its position.
    pub fn insert<'v>(&mut self, p: Pos, value: impl Into<Entry<'v>>) -> Pos {
        let at = p.0.clamp(HEADER_LEN, self.end().0);
        let enc = Encoded::new(value.into());
        self.splice(at..at, &enc);
        match self.header_count() {
            COUNT_UNKNOWN => {}
            n => self.set_count(usize::from(n) + 1),
        }
        Pos(at)
    }

    /// Inserts two entries before the one at `p` (at the end: appends) with one move of the
    /// tail — a sorted set's member and score, a hash's field and value; returns the position
    /// of the first.
    pub fn insert_pair<'a, 'b>(
        &mut self,
        p: Pos,
        first: impl Into<Entry<'a>>,
        second: impl Into<Entry<'b>>,
    ) -> Pos {
        let at = p.0.clamp(HEADER_LEN, self.end().0);
        let (a, b) = (Encoded::new(first.into()), Encoded::new(second.into()));
        self.buf.reserve_exact(a.len() + b.len());
        self.buf.splice(at..at, a.bytes().chain(b.bytes()));
        self.write_total();
        match self.header_count() {
            COUNT_UNKNOWN => {}
            n => self.set_count(usize::from(n) + 2),
        }
        Pos(at)
    }

    /// Appends two entries (see [`Listpack::insert_pair`]).
    pub fn push_pair<'a, 'b>(&mut self, first: impl Into<Entry<'a>>, second: impl Into<Entry<'b>>) {
        self.insert_pair(self.end(), first, second);
    }

    /// Replaces the entry at `p` (nothing at the end); returns its position, unchanged.
    pub fn replace<'v>(&mut self, p: Pos, value: impl Into<Entry<'v>>) -> Pos {
        if let Some(after) = self.after(p) {
            let enc = Encoded::new(value.into());
            self.splice(p.0..after, &enc);
        }
        p
    }

    /// Removes the entry at `p`; returns the position of the entry that followed it (or the
    /// end).
    pub fn remove(&mut self, p: Pos) -> Pos {
        self.remove_range(p, 1).0
    }

    /// Removes up to `n` entries from `p` on; returns the position that followed them and how
    /// many were removed.
    pub fn remove_range(&mut self, p: Pos, n: usize) -> (Pos, usize) {
        let mut end = p.0;
        let mut removed = 0;
        while removed < n {
            match self.after(Pos(end)) {
                Some(a) => end = a,
                None => break,
            }
            removed += 1;
        }
        if removed == 0 {
            return (p, 0);
        }
        self.buf.drain(p.0..end);
        self.shrink();
        self.write_total();
        match self.header_count() {
            // Recount: the header is exact again once the listpack is back under 65535.
            COUNT_UNKNOWN => self.set_count(self.iter().count()),
            c => self.set_count(usize::from(c).saturating_sub(removed)),
        }
        (p, removed)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        *self = Listpack::new();
    }

    fn splice(&mut self, range: Range<usize>, enc: &Encoded<'_>) {
        let (old, new) = (range.len(), enc.len());
        if new > old {
            self.buf.reserve_exact(new - old);
        }
        self.buf.splice(range, enc.bytes());
        if new < old {
            self.shrink();
        }
        self.write_total();
    }

    fn shrink(&mut self) {
        if self.buf.capacity() - self.buf.len() >= SHRINK_SLACK {
            self.buf.shrink_to_fit();
        }
    }
}

/// Entries of a [`Listpack`] between two byte offsets; double-ended (the backlens make the
/// backward walk as cheap as the forward one).
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    /// Offset of the next entry from the front.
    front: usize,
    /// Offset just after the next entry from the back.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        if self.front >= self.back {
            return None;
        }
        let (e, len) = decode_at(self.buf, self.front)?;
        self.front += len + backlen_size(len);
        Some(e)
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.back <= self.front || self.back <= HEADER_LEN {
            return None;
        }
        let (len, size) = backlen_before(self.buf, self.back - 1)?;
        let start = self.back.checked_sub(len + size)?;
        let (e, _) = decode_at(self.buf, start)?;
        self.back = start;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::listpack as rdb_lp;
    use proptest::prelude::*;

    fn texts(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(Entry::to_vec).collect()
    }

    /// Entry texts that cover every encoding and its edges: integers at each width boundary
    /// (and non-canonical spellings of them), strings at the 6- and 12-bit length limits and
    /// the 1-, 2- and 3-byte backlen limits, arbitrary short bytes.
    fn entry_text() -> impl Strategy<Value = Vec<u8>> {
        let edges: Vec<i64> = vec![
            0,
            1,
            127,
            128,
            -1,
            -4096,
            -4097,
            4095,
            4096,
            i64::from(i16::MIN),
            i64::from(i16::MAX),
            40_000,
            -(1 << 23),
            (1 << 23) - 1,
            1 << 23,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            3_000_000_000,
            i64::MIN,
            i64::MAX,
        ];
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..8),
            3 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            3 => proptest::sample::select(edges).prop_map(|n| n.to_string().into_bytes()),
            1 => proptest::sample::select(vec!["01", "+1", "-0", "00", "1.5", " 1", "1 ", "-"])
                .prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::sample::select(vec![62usize, 63, 64, 125, 126, 127, 128, 4094, 4095,
                    4096, 16_380, 16_381, 16_382, 16_383, 16_384])
                .prop_map(|n| vec![b'x'; n]),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(Vec<u8>),
        Insert(usize, Vec<u8>),
        InsertPair(usize, Vec<u8>, Vec<u8>),
        Replace(usize, Vec<u8>),
        Remove(usize),
        RemoveRange(usize, usize),
        Find(Vec<u8>, usize, usize),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => entry_text().prop_map(Op::Push),
            3 => (any::<usize>(), entry_text()).prop_map(|(i, v)| Op::Insert(i, v)),
            2 => (any::<usize>(), entry_text(), entry_text())
                .prop_map(|(i, a, b)| Op::InsertPair(i, a, b)),
            3 => (any::<usize>(), entry_text()).prop_map(|(i, v)| Op::Replace(i, v)),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => (any::<usize>(), 0usize..4).prop_map(|(i, n)| Op::RemoveRange(i, n)),
            3 => (entry_text(), any::<usize>(), 0usize..3)
                .prop_map(|(v, from, skip)| Op::Find(v, from, skip)),
            1 => Just(Op::Clear),
        ]
    }

    /// Everything a listpack says about itself agrees with the model.
    fn check(lp: &Listpack, model: &[Vec<u8>]) -> Result<(), TestCaseError> {
        prop_assert_eq!(lp.len(), model.len());
        prop_assert_eq!(lp.is_empty(), model.is_empty());
        prop_assert_eq!(&texts(lp), model);
        let mut back: Vec<Vec<u8>> = lp.iter().rev().map(Entry::to_vec).collect();
        back.reverse();
        prop_assert_eq!(&back, model);
        // Navigation both ways and by index.
        let mut p = lp.first();
        for (i, want) in model.iter().enumerate() {
            let here = p.ok_or_else(|| TestCaseError::fail("walk ended early"))?;
            prop_assert_eq!(Some(here), lp.pos(i));
            prop_assert_eq!(lp.get(here).map(Entry::to_vec), Some(want.clone()));
            prop_assert_eq!(lp.prev(lp.next(here).unwrap_or(lp.end())), Some(here));
            let down: Vec<Vec<u8>> = lp.iter_down_from(here).map(Entry::to_vec).collect();
            let want_down: Vec<Vec<u8>> = model[..=i].iter().rev().cloned().collect();
            prop_assert_eq!(down, want_down);
            let up: Vec<Vec<u8>> = lp.iter_at(here).map(Entry::to_vec).collect();
            prop_assert_eq!(&up[..], &model[i..]);
            p = lp.next(here);
        }
        prop_assert_eq!(p, None);
        prop_assert_eq!(lp.pos(model.len()), Some(lp.end()));
        prop_assert_eq!(lp.pos(model.len() + 1), None);
        prop_assert_eq!(
            lp.last(),
            model.len().checked_sub(1).and_then(|i| lp.pos(i))
        );
        // One format: the bytes are what the RDB writer produces, they decode to the model,
        // and they load back as the same listpack.
        let mut w = rdb_lp::Writer::default();
        for m in model {
            w.push(m);
        }
        prop_assert_eq!(lp.as_bytes(), &w.finish()[..]);
        prop_assert_eq!(lp.bytes_len(), lp.as_bytes().len());
        let decoded: Vec<Vec<u8>> = rdb_lp::decode(lp.as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .into_iter()
            .map(rdb_lp::LpEntry::into_bytes)
            .collect();
        prop_assert_eq!(&decoded, model);
        prop_assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()), Ok(lp.clone()));
        // Capacity stays tight.
        prop_assert!(lp.buf.capacity() < lp.buf.len() + SHRINK_SLACK + 16);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Every operation against a `Vec<Vec<u8>>` model.
        #[test]
        fn operations_match_a_vec_model(ops in proptest::collection::vec(op(), 0..40)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(v) => {
                        lp.push(&v[..]);
                        model.push(v);
                    }
                    Op::Insert(i, v) => {
                        let i = i % (model.len() + 1);
                        let p = lp.pos(i).ok_or_else(|| TestCaseError::fail("no pos"))?;
                        let at = lp.insert(p, &v[..]);
                        prop_assert_eq!(lp.get(at).map(Entry::to_vec), Some(v.clone()));
                        model.insert(i, v);
                    }
                    Op::InsertPair(i, a, b) => {
                        let i = i % (model.len() + 1);
                        let p = lp.pos(i).ok_or_else(|| TestCaseError::fail("no pos"))?;
                        let at = lp.insert_pair(p, &a[..], &b[..]);
                        prop_assert_eq!(Some(at), lp.pos(i));
                        prop_assert_eq!(lp.get(at).map(Entry::to_vec), Some(a.clone()));
                        model.insert(i, b);
                        model.insert(i, a);
                    }
                    Op::Replace(i, v) => {
                        if model.is_empty() {
                            continue;
                        }
                        let i = i % model.len();
                        let p = lp.pos(i).ok_or_else(|| TestCaseError::fail("no pos"))?;
                        prop_assert_eq!(lp.replace(p, &v[..]), p);
                        model[i] = v;
                    }
                    Op::Remove(i) => {
                        if model.is_empty() {
                            continue;
                        }
                        let i = i % model.len();
                        let p = lp.pos(i).ok_or_else(|| TestCaseError::fail("no pos"))?;
                        let next = lp.remove(p);
                        model.remove(i);
                        prop_assert_eq!(Some(next), lp.pos(i));
                    }
                    Op::RemoveRange(i, n) => {
                        let i = i % (model.len() + 1);
                        let p = lp.pos(i).ok_or_else(|| TestCaseError::fail("no pos"))?;
                        let (next, removed) = lp.remove_range(p, n);
                        let want = n.min(model.len() - i);
                        prop_assert_eq!(removed, want);
                        model.drain(i..i + want);
                        prop_assert_eq!(Some(next), lp.pos(i));
                    }
                    Op::Find(v, from, skip) => {
                        let from = from % (model.len() + 1);
                        let start = lp.pos(from);
                        let want = (from..model.len())
                            .step_by(skip + 1)
                            .find(|&i| model[i] == v)
                            .and_then(|i| lp.pos(i));
                        prop_assert_eq!(lp.find(start, &v, skip), want);
                    }
                    Op::Clear => {
                        lp.clear();
                        model.clear();
                    }
                }
                check(&lp, &model)?;
            }
            let pairs: Vec<(Vec<u8>, Vec<u8>)> =
                lp.pairs().map(|(a, b)| (a.to_vec(), b.to_vec())).collect();
            let want: Vec<(Vec<u8>, Vec<u8>)> =
                model.chunks_exact(2).map(|c| (c[0].clone(), c[1].clone())).collect();
            prop_assert_eq!(pairs, want);
        }

        /// Entry texts survive the trip; canonical integers are stored as integers.
        #[test]
        fn entries_round_trip_and_integers_are_compact(v in entry_text()) {
            let lp = Listpack::from_entries([Entry::from(&v[..])]);
            let e = lp.get_index(0).ok_or_else(|| TestCaseError::fail("empty"))?;
            prop_assert_eq!(e.to_vec(), v.clone());
            prop_assert_eq!(matches!(e, Entry::Int(_)), parse_i64_strict(&v).is_some());
            prop_assert_eq!(&*e.bytes(), &v[..]);
            prop_assert_eq!(e.as_int(), parse_i64_strict(&v));
        }

        /// Truncated or altered blobs are refused or load as a valid listpack, never panic.
        #[test]
        fn from_bytes_survives_garbage(
            model in proptest::collection::vec(entry_text(), 0..6),
            cut in any::<usize>(),
            flip in any::<(usize, u8)>(),
        ) {
            let lp = Listpack::from_entries(model.iter().map(|m| Entry::from(&m[..])));
            let bytes = lp.as_bytes().to_vec();
            let short = bytes[..cut % (bytes.len() + 1)].to_vec();
            prop_assert_eq!(Listpack::from_bytes(short.clone()).is_ok(), short == bytes);
            let mut bad = bytes.clone();
            let i = flip.0 % bad.len();
            bad[i] ^= flip.1;
            if let Ok(got) = Listpack::from_bytes(bad) {
                // Whatever it holds, it is walkable both ways with the same entries.
                let fwd: Vec<Vec<u8>> = got.iter().map(Entry::to_vec).collect();
                let mut rev: Vec<Vec<u8>> = got.iter().rev().map(Entry::to_vec).collect();
                rev.reverse();
                prop_assert_eq!(&fwd, &rev);
                prop_assert_eq!(fwd.len(), got.len());
            }
        }
    }

    #[test]
    fn matches_redis_bytes() {
        // The listpack inside `DUMP` of `HSET h a 1` on redis-server 7.0.15.
        let lp = Listpack::from_entries([Entry::from(&b"a"[..]), Entry::Int(1)]);
        assert_eq!(
            lp.as_bytes(),
            [0x0c, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xff]
        );
        assert_eq!(Listpack::new().as_bytes(), EMPTY);
    }

    #[test]
    fn count_goes_unknown_past_65534_and_comes_back() {
        let mut w = rdb_lp::Writer::default();
        for i in 0..65_536u32 {
            w.push((i % 100).to_string().as_bytes());
        }
        let blob = w.finish();
        assert_eq!(blob[4..6], [0xff, 0xff]);
        let mut lp = Listpack::from_bytes(blob).unwrap_or_default();
        assert_eq!(lp.len(), 65_536);
        lp.push(&b"x"[..]);
        assert_eq!(lp.len(), 65_537);
        let last = lp.last().unwrap_or(lp.end());
        assert_eq!(lp.get(last), Some(Entry::Str(b"x")));
        let first = lp.first().unwrap_or(lp.end());
        let (_, n) = lp.remove_range(first, 3);
        assert_eq!(n, 3);
        assert_eq!(lp.len(), 65_534);
        assert_eq!(lp.as_bytes()[4..6], 65_534u16.to_le_bytes());
    }

    #[test]
    fn a_pair_insert_keeps_the_count_across_65535() {
        let mut w = rdb_lp::Writer::default();
        for _ in 0..65_533u32 {
            w.push(b"7");
        }
        let mut lp = Listpack::from_bytes(w.finish()).unwrap_or_default();
        assert_eq!(lp.len(), 65_533);
        lp.push_pair(&b"m"[..], Entry::Int(1));
        assert_eq!(lp.as_bytes()[4..6], [0xff, 0xff]);
        assert_eq!(lp.len(), 65_535);
        let at = lp.pos(1).unwrap_or(lp.end());
        lp.insert_pair(at, &b"a"[..], &b"b"[..]);
        assert_eq!(lp.len(), 65_537);
        assert_eq!(lp.get_index(1), Some(Entry::Str(b"a")));
        assert_eq!(lp.get_index(65_536), Some(Entry::Int(1)));
    }

    #[test]
    fn corrupt_blobs_are_refused() {
        for bad in [
            &[][..],
            &[0x07, 0, 0, 0, 1, 0, 0xff][..],
            &[0x08, 0, 0, 0, 1, 0, 0x01, 0x01][..],
            &[0x09, 0, 0, 0, 1, 0, 0x01, 0x02, 0xff][..],
            &[0x09, 0, 0, 0, 2, 0, 0x01, 0x01, 0xff][..],
            &[0x09, 0, 0, 0, 1, 0, 0x85, 0x01, 0xff][..],
            &[0x09, 0, 0, 0, 1, 0, 0xF5, 0x01, 0xff][..],
            &[0x08, 0, 0, 0, 0, 0, 0xff, 0xff][..],
        ] {
            assert!(Listpack::from_bytes(bad.to_vec()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn entry_bytes_render_integers_in_place() {
        for n in [0, 7, -7, 10, i64::MIN, i64::MAX] {
            assert_eq!(&*Entry::Int(n).bytes(), n.to_string().as_bytes());
        }
        let s = Entry::Str(b"5").bytes();
        assert_eq!(s, Entry::Int(5).bytes());
    }
}
