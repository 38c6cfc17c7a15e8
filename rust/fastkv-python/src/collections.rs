//! `fastkv.Store`'s hash, set, sorted-set, list and SORT methods, with redis-py's names,
//! arguments and return values: each returns what `redis.Redis(protocol=3)` returns for the
//! same call (redis-py 8.1, RESP3, its default "legacy" response shapes).
//!
//! A second `#[pymethods]` block on [`PyStore`] (pyo3's `multiple-pymethods`), so the store's
//! core in `store.rs` stays small. The rules are the same as there: arguments are borrowed
//! from their Python objects ([`Arg::new`]), fixed-shape command lines are built on the stack
//! ([`Argv`]), variadic ones in one `Vec`, and replies are converted straight from frames.
//! The checks redis-py makes before sending anything (its `DataError`s) are repeated with its
//! messages, so a bad call fails the same way in both.
//!
//! The reply conventions, from redis-py's RESP3 response callbacks:
//! - plain RESP3 types where redis-py has no callback: maps -> `dict` (HGETALL), doubles ->
//!   `float` (ZSCORE, ZADD INCR), integers stay `int` (SISMEMBER, SMISMEMBER); but RESP3 sets
//!   are lists (redis-py's parser reads `~` as a list), so SPOP with a count gives a `list`,
//!   and only SMEMBERS, SINTER, SUNION and SDIFF (which have a `set(...)` callback) a `set`;
//! - `bool` for HEXISTS, HMSET, SMOVE; `bool_ok` for LSET, LTRIM; `float` for HINCRBYFLOAT;
//! - scored ranges (ZRANGE, ZRANGEBYSCORE, ZREVRANGE, ZREVRANGEBYSCORE, ZUNION) with scores:
//!   `[[member, score_cast_func(score)], ...]`; ZRANK/ZREVRANK WITHSCORE: `[rank, score]`;
//! - HSCAN `(cursor, dict)`, SSCAN `(cursor, list)`, ZSCAN `(cursor, [(member, score), ...])`
//!   (ZSCAN's scores are bulk strings, cast as redis-py's `_wrap_score_cast_func` does);
//! - SORT with `groups`: a list of tuples of `len(get)` items.
//!
//! `score_cast_func=float` (the default) is applied natively; any other callable is called
//! once per score, as redis-py does.

use crate::args::{self, Arg, Argv};
use crate::errors;
use crate::reply;
use crate::store::PyStore;
use fastkv_core::Frame;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple};
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Room for the longest fixed-shape command line built here:
/// `ZRANGESTORE dst src min max BYSCORE REV LIMIT offset count` (10) with a margin.
const MAX_FIXED_ARGS: usize = 12;

// ------------------------------------------------------------------------------------------
// Arguments
// ------------------------------------------------------------------------------------------

/// An optional argument, borrowed.
fn opt<'a>(obj: Option<&'a Bound<'_, PyAny>>) -> PyResult<Option<Arg<'a>>> {
    obj.map(Arg::new).transpose()
}

/// An argument redis-py sends even when it is `None` (and so fails to encode, with its
/// `DataError` for `NoneType`).
fn required<'a>(py: Python<'_>, obj: Option<&'a Bound<'_, PyAny>>) -> PyResult<Arg<'a>> {
    match obj {
        Some(o) => Arg::new(o),
        None => Arg::owned(py.None().into_bound(py)),
    }
}

/// An argument defaulting to a constant (`amount=1`, `cursor=0`).
fn or_static<'a>(obj: Option<&'a Bound<'_, PyAny>>, default: &'static [u8]) -> PyResult<Arg<'a>> {
    match obj {
        Some(o) => Arg::new(o),
        None => Ok(Arg::Static(default)),
    }
}

/// Python truthiness of an optional argument (`if mapping:`).
fn truthy(obj: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    obj.map_or(Ok(false), |o| o.is_truthy())
}

/// Every item of an iterable, converted.
fn each(obj: &Bound<'_, PyAny>, out: &mut Vec<Arg<'_>>) -> PyResult<()> {
    for item in obj.try_iter()? {
        out.push(Arg::owned(item?)?);
    }
    Ok(())
}

/// A mapping's `items()` flattened to `k1 v1 k2 v2 ...`, or `v1 k1 ...` when `swap` (ZADD).
fn each_pair(mapping: &Bound<'_, PyAny>, swap: bool, out: &mut Vec<Arg<'_>>) -> PyResult<()> {
    for pair in mapping.call_method0("items")?.try_iter()? {
        let pair = pair?;
        let mut parts = pair.try_iter()?;
        let (Some(k), Some(v)) = (parts.next(), parts.next()) else {
            return Err(PyValueError::new_err("mapping items must be pairs"));
        };
        let (k, v) = (Arg::owned(k?)?, Arg::owned(v?)?);
        if swap {
            out.extend([v, k]);
        } else {
            out.extend([k, v]);
        }
    }
    Ok(())
}

/// redis-py's `list_or_args(keys, args)`, converted.
fn keys_and_args<'a>(keys: &Bound<'_, PyAny>, rest: &Bound<'_, PyTuple>) -> PyResult<Vec<Arg<'a>>> {
    args::owned_all(args::list_or_args(keys, rest)?)
}

/// `len(obj)` as a command argument (redis-py's `[len(keys), *keys]`).
fn len_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg<'static>> {
    let n = obj.len()?;
    Ok(Arg::int(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn data_error(py: Python<'_>, msg: &str) -> PyErr {
    errors::data_error(py, msg.to_string())
}

/// redis-py's check on `LIMIT`-style pairs: both or neither.
fn both_or_neither(
    py: Python<'_>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
    msg: &str,
) -> PyResult<()> {
    if a.is_some() != b.is_some() {
        return Err(data_error(py, msg));
    }
    Ok(())
}

const START_NUM: &str = "``start`` and ``num`` must both be specified";

// ------------------------------------------------------------------------------------------
// Replies
// ------------------------------------------------------------------------------------------

fn unexpected(what: &str) -> PyErr {
    PyValueError::new_err(format!("unexpected {what} reply"))
}

/// redis-py's `score_cast_func`.
enum ScoreCast<'py> {
    /// `float`, the default: applied natively.
    Float,
    Func(Bound<'py, PyAny>),
}

impl<'py> ScoreCast<'py> {
    fn new(py: Python<'py>, func: Option<&Bound<'py, PyAny>>) -> Self {
        match func {
            Some(f) if !f.is(py.get_type::<PyFloat>()) => ScoreCast::Func(f.clone()),
            _ => ScoreCast::Float,
        }
    }

    /// A score in a RESP3 reply (a double): `score_cast_func(float)`.
    fn double(&self, py: Python<'py>, d: f64) -> PyResult<Py<PyAny>> {
        let f = PyFloat::new(py, d).into_any();
        match self {
            ScoreCast::Float => Ok(f.unbind()),
            ScoreCast::Func(func) => Ok(func.call1((f,))?.unbind()),
        }
    }

    /// A score sent as text (ZSCAN): redis-py's `_wrap_score_cast_func` calls the function on
    /// the bytes (`str` when decoding) and, if that raises `ValueError` or `TypeError`, on
    /// `float(text)`.
    fn text(&self, py: Python<'py>, b: &[u8], decode: bool) -> PyResult<Py<PyAny>> {
        match self {
            ScoreCast::Float => match std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()) {
                Some(d) => Ok(PyFloat::new(py, d).into_any().unbind()),
                // Whatever Python's float() says about it (its error, for one).
                None => {
                    let text = reply::bytes_or_str(py, b, decode)?;
                    Ok(py.get_type::<PyFloat>().call1((text,))?.unbind())
                }
            },
            ScoreCast::Func(func) => {
                let text = reply::bytes_or_str(py, b, decode)?;
                match func.call1((text.bind(py),)) {
                    Ok(v) => Ok(v.unbind()),
                    Err(e)
                        if e.is_instance_of::<PyValueError>(py)
                            || e.is_instance_of::<PyTypeError>(py) =>
                    {
                        let f = py.get_type::<PyFloat>().call1((text,))?;
                        Ok(func.call1((f,))?.unbind())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// One score frame, whichever way it came.
    fn frame(&self, py: Python<'py>, f: Frame, decode: bool) -> PyResult<Py<PyAny>> {
        match f {
            Frame::Double(d) => self.double(py, d),
            Frame::Bulk(b) => self.text(py, &b, decode),
            Frame::Integer(n) => self.double(py, n as f64),
            other => reply::to_py(py, other, decode),
        }
    }
}

/// A two-element array frame's items.
fn pair(f: Frame) -> PyResult<(Frame, Frame)> {
    match f {
        Frame::Array(items) => {
            let mut it = items.into_iter();
            match (it.next(), it.next(), it.next()) {
                (Some(a), Some(b), None) => Ok((a, b)),
                _ => Err(unexpected("pair")),
            }
        }
        _ => Err(unexpected("pair")),
    }
}

/// redis-py's `zset_score_pairs_resp3`: with scores, `[[member, cast(score)], ...]`; without
/// (or an empty reply), the reply as is.
fn scored(
    py: Python<'_>,
    frame: Frame,
    withscores: bool,
    cast: &ScoreCast<'_>,
    decode: bool,
) -> PyResult<Py<PyAny>> {
    match reply::check(py, frame)? {
        Frame::Array(items) if withscores && !items.is_empty() => {
            let out = PyList::empty(py);
            for item in items {
                let (member, score) = pair(item)?;
                let row = [
                    reply::to_py(py, member, decode)?,
                    cast.frame(py, score, decode)?,
                ];
                out.append(PyList::new(py, row)?)?;
            }
            Ok(out.into_any().unbind())
        }
        other => reply::to_py(py, other, decode),
    }
}

/// A SCAN-family reply split into its cursor and its flat array of elements.
fn scan_page(py: Python<'_>, frame: Frame) -> PyResult<(u64, Vec<Frame>)> {
    let (cursor, items) = pair(reply::check(py, frame)?)?;
    let cursor = match cursor {
        Frame::Bulk(b) => std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.parse::<u64>().ok()),
        Frame::Integer(n) => u64::try_from(n).ok(),
        _ => None,
    }
    .ok_or_else(|| unexpected("SCAN cursor"))?;
    match items {
        Frame::Array(v) | Frame::Set(v) => Ok((cursor, v)),
        Frame::Null | Frame::NullArray => Ok((cursor, Vec::new())),
        _ => Err(unexpected("SCAN")),
    }
}

/// Which SCAN-family command, and how its elements are shaped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScanKind {
    /// HSCAN: field/value pairs, or fields alone (`fields_only`). redis-py sends NOVALUES
    /// whenever `no_values` is not None (`novalues`), and returns fields alone only when it
    /// is true.
    Hash { fields_only: bool, novalues: bool },
    /// SSCAN: members.
    Set,
    /// ZSCAN: member/score pairs.
    ZSet,
}

impl ScanKind {
    fn command(self) -> &'static [u8] {
        match self {
            ScanKind::Hash { .. } => b"HSCAN",
            ScanKind::Set => b"SSCAN",
            ScanKind::ZSet => b"ZSCAN",
        }
    }

    /// A page's elements as the `*scan_iter` methods yield them: members, or
    /// `(field, value)` / `(member, score)` tuples.
    fn elements(
        self,
        py: Python<'_>,
        items: Vec<Frame>,
        cast: &ScoreCast<'_>,
        decode: bool,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let paired = matches!(
            self,
            ScanKind::Hash {
                fields_only: false,
                ..
            } | ScanKind::ZSet
        );
        let mut out = Vec::with_capacity(if paired { items.len() / 2 } else { items.len() });
        let mut it = items.into_iter();
        while let Some(first) = it.next() {
            let first = reply::to_py(py, first, decode)?;
            if !paired {
                out.push(first);
                continue;
            }
            let second = it.next().ok_or_else(|| unexpected("SCAN"))?;
            let second = match self {
                ScanKind::ZSet => cast.frame(py, second, decode)?,
                _ => reply::to_py(py, second, decode)?,
            };
            out.push(PyTuple::new(py, [first, second])?.into_any().unbind());
        }
        Ok(out)
    }
}

/// redis-py's `sort_return_tuples`: the flat reply cut into tuples of `n`.
fn groups_of(py: Python<'_>, frame: Frame, n: usize, decode: bool) -> PyResult<Py<PyAny>> {
    match reply::check(py, frame)? {
        Frame::Array(items) if n > 0 && !items.is_empty() => {
            let out = PyList::empty(py);
            let mut row = Vec::with_capacity(n);
            for item in items {
                row.push(reply::to_py(py, item, decode)?);
                if row.len() == n {
                    out.append(PyTuple::new(py, row.drain(..))?)?;
                }
            }
            // zip() drops an incomplete last group.
            Ok(out.into_any().unbind())
        }
        other => reply::to_py(py, other, decode),
    }
}

// ------------------------------------------------------------------------------------------
// Shared shapes
// ------------------------------------------------------------------------------------------

impl PyStore {
    /// Runs a command; the reply with no callback.
    fn plain(&self, py: Python<'_>, argv: &[&[u8]]) -> PyResult<Py<PyAny>> {
        let frame = self.run(py, argv);
        self.to_py(py, frame)
    }

    /// Runs `head` followed by `rest`; the reply with no callback.
    fn plain_args(&self, py: Python<'_>, head: &[&[u8]], rest: &[Arg<'_>]) -> PyResult<Py<PyAny>> {
        let frame = self.run_args(py, head, rest);
        self.to_py(py, frame)
    }

    /// `CMD key value...` (SADD, SREM, ZREM, HDEL, LPUSH...): an integer.
    fn key_values(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = Vec::with_capacity(values.len() + 1);
        rest.push(Arg::new(name)?);
        each(values.as_any(), &mut rest)?;
        reply::int(py, self.run_args(py, &[cmd], &rest))
    }

    /// `CMD key [count]` (SPOP, SRANDMEMBER, LPOP, RPOP): redis-py sends the count when it
    /// is not `None`.
    fn key_count(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Frame> {
        let key = Arg::new(name)?;
        let n = opt(count)?;
        Ok(match &n {
            Some(n) => self.run(py, &[cmd, &key, n]),
            None => self.run(py, &[cmd, &key]),
        })
    }

    /// One HSCAN/SSCAN/ZSCAN call.
    fn scan_generic(
        &self,
        py: Python<'_>,
        kind: ScanKind,
        name: &[u8],
        cursor: &[u8],
        pattern: Option<&[u8]>,
        count: Option<&[u8]>,
    ) -> Frame {
        let mut argv = Argv::<'_, 8>::new(kind.command());
        // At most 7 arguments: the pushes cannot overflow.
        let _ = argv.push(name);
        let _ = argv.push(cursor);
        if let Some(p) = pattern {
            let _ = argv.push(b"MATCH");
            let _ = argv.push(p);
        }
        if let Some(c) = count {
            let _ = argv.push(b"COUNT");
            let _ = argv.push(c);
        }
        if let ScanKind::Hash { novalues: true, .. } = kind {
            let _ = argv.push(b"NOVALUES");
        }
        self.run(py, argv.as_slice())
    }

    /// ZRANGE / ZRANGESTORE with redis-py's `_zrange` options.
    #[allow(clippy::too_many_arguments)]
    fn zrange_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        dest: Option<&Bound<'_, PyAny>>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
        desc: bool,
        byscore: bool,
        bylex: bool,
        withscores: bool,
        offset: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Frame> {
        if byscore && bylex {
            return Err(data_error(
                py,
                "``byscore`` and ``bylex`` can not be specified together.",
            ));
        }
        both_or_neither(
            py,
            offset,
            num,
            "``offset`` and ``num`` must both be specified.",
        )?;
        if bylex && withscores {
            return Err(data_error(
                py,
                "``withscores`` not supported in combination with ``bylex``.",
            ));
        }
        let dest = match dest {
            Some(d) if d.is_truthy()? => Some(Arg::new(d)?),
            _ => None,
        };
        let (key, s, e) = (Arg::new(name)?, Arg::new(start)?, Arg::new(end)?);
        let (off, n) = (opt(offset)?, opt(num)?);
        let mut argv = Argv::<'_, MAX_FIXED_ARGS>::new(cmd);
        if let Some(d) = &dest {
            argv.push(d)?;
        }
        argv.push(&key)?;
        argv.push(&s)?;
        argv.push(&e)?;
        for (on, token) in [
            (byscore, &b"BYSCORE"[..]),
            (bylex, b"BYLEX"),
            (desc, b"REV"),
        ] {
            if on {
                argv.push(token)?;
            }
        }
        if let (Some(o), Some(n)) = (&off, &n) {
            argv.push(b"LIMIT")?;
            argv.push(o)?;
            argv.push(n)?;
        }
        if withscores {
            argv.push(b"WITHSCORES")?;
        }
        Ok(self.run(py, argv.as_slice()))
    }

    /// ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX / ZREVRANGEBYLEX.
    #[allow(clippy::too_many_arguments)]
    fn zrangeby_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        first: &Bound<'_, PyAny>,
        second: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        withscores: bool,
    ) -> PyResult<Frame> {
        both_or_neither(py, start, num, START_NUM)?;
        let (key, a, b) = (Arg::new(name)?, Arg::new(first)?, Arg::new(second)?);
        let (s, n) = (opt(start)?, opt(num)?);
        let mut argv = Argv::<'_, 8>::new(cmd);
        argv.push(&key)?;
        argv.push(&a)?;
        argv.push(&b)?;
        if let (Some(s), Some(n)) = (&s, &n) {
            argv.push(b"LIMIT")?;
            argv.push(s)?;
            argv.push(n)?;
        }
        if withscores {
            argv.push(b"WITHSCORES")?;
        }
        Ok(self.run(py, argv.as_slice()))
    }

    /// ZUNION / ZINTER / ZUNIONSTORE / ZINTERSTORE (redis-py's `_zaggregate`): `keys` is a
    /// sequence of keys, or a dict of key -> weight.
    fn zaggregate(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        dest: Option<&Bound<'_, PyAny>>,
        keys: &Bound<'_, PyAny>,
        aggregate: Option<&Bound<'_, PyAny>>,
        withscores: bool,
    ) -> PyResult<Frame> {
        let mut rest = Vec::new();
        if let Some(d) = dest {
            rest.push(Arg::new(d)?);
        }
        rest.push(len_arg(keys)?);
        if let Ok(weights) = keys.cast::<PyDict>() {
            let mut ws = Vec::with_capacity(weights.len());
            for (k, w) in weights.iter() {
                rest.push(Arg::owned(k)?);
                ws.push(w);
            }
            if !ws.is_empty() {
                rest.push(Arg::Static(b"WEIGHTS"));
                rest.extend(args::owned_all(ws)?);
            }
        } else {
            each(keys, &mut rest)?;
        }
        if let Some(agg) = aggregate {
            if agg.is_truthy()? {
                let upper = agg.call_method0("upper")?;
                let mut known = false;
                for name in ["SUM", "MIN", "MAX", "COUNT"] {
                    known |= upper.eq(name)?;
                }
                if !known {
                    return Err(data_error(py, "aggregate can be sum, min, max or count."));
                }
                rest.push(Arg::Static(b"AGGREGATE"));
                rest.push(Arg::new(agg)?);
            }
        }
        if withscores {
            rest.push(Arg::Static(b"WITHSCORES"));
        }
        Ok(self.run_args(py, &[cmd], &rest))
    }

    /// ZRANK / ZREVRANK [WITHSCORE].
    fn zrank_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        withscore: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (key, member) = (Arg::new(name)?, Arg::new(value)?);
        let frame = if withscore {
            self.run(py, &[cmd, &key, &member, b"WITHSCORE"])
        } else {
            self.run(py, &[cmd, &key, &member])
        };
        match reply::check(py, frame)? {
            // zset_score_for_rank_resp3: [rank, cast(score)]
            Frame::Array(items) if withscore && !items.is_empty() => {
                let (rank, score) = pair(Frame::Array(items))?;
                let cast = ScoreCast::new(py, score_cast_func);
                let row = [
                    reply::to_py(py, rank, self.decode)?,
                    cast.frame(py, score, self.decode)?,
                ];
                Ok(PyList::new(py, row)?.into_any().unbind())
            }
            other => self.to_py(py, other),
        }
    }

    /// BLPOP / BRPOP: redis-py's `list_or_args(keys)` then the timeout (None: 0).
    fn bpop_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        keys: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let none = PyTuple::empty(py);
        let mut rest = keys_and_args(keys, &none)?;
        rest.push(or_static(timeout, b"0")?);
        let mut argv: Vec<&[u8]> = Vec::with_capacity(rest.len() + 1);
        argv.push(cmd);
        argv.extend(rest.iter().map(|a| &**a));
        let frame = self.run_blocking(py, &argv)?;
        self.to_py(py, frame)
    }

    /// ZMPOP / BZMPOP's `MIN|MAX` from redis-py's `min`/`max` flags.
    fn min_or_max(min: Option<bool>, max: Option<bool>) -> Option<&'static [u8]> {
        match (min.unwrap_or(false), max.unwrap_or(false)) {
            (true, false) => Some(b"MIN"),
            (false, true) => Some(b"MAX"),
            _ => None,
        }
    }

    /// SORT / SORT_RO with redis-py's options.
    #[allow(clippy::too_many_arguments)]
    fn sort_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        by: Option<&Bound<'_, PyAny>>,
        get: Option<&Bound<'_, PyAny>>,
        desc: bool,
        alpha: bool,
        store: Option<&Bound<'_, PyAny>>,
        groups: bool,
    ) -> PyResult<Py<PyAny>> {
        both_or_neither(py, start, num, START_NUM)?;
        let mut rest = vec![Arg::new(name)?];
        if let Some(b) = by {
            rest.push(Arg::Static(b"BY"));
            rest.push(Arg::new(b)?);
        }
        if let (Some(s), Some(n)) = (start, num) {
            rest.push(Arg::Static(b"LIMIT"));
            rest.push(Arg::new(s)?);
            rest.push(Arg::new(n)?);
        }
        // A single str/bytes pattern is one GET; anything else is iterated.
        let single_get =
            get.is_some_and(|g| g.is_instance_of::<PyBytes>() || g.is_instance_of::<PyString>());
        let mut n_get = 0;
        if let Some(g) = get {
            if single_get {
                rest.push(Arg::Static(b"GET"));
                rest.push(Arg::new(g)?);
            } else {
                for pattern in g.try_iter()? {
                    rest.push(Arg::Static(b"GET"));
                    rest.push(Arg::owned(pattern?)?);
                    n_get += 1;
                }
            }
        }
        if desc {
            rest.push(Arg::Static(b"DESC"));
        }
        if alpha {
            rest.push(Arg::Static(b"ALPHA"));
        }
        if let Some(s) = store {
            rest.push(Arg::Static(b"STORE"));
            rest.push(Arg::new(s)?);
        }
        if groups {
            let enough = match get {
                Some(g) => g.is_truthy()? && !single_get && g.len()? >= 2,
                None => false,
            };
            if !enough {
                return Err(data_error(
                    py,
                    "when using \"groups\" the \"get\" argument must be specified and contain \
                     at least two keys",
                ));
            }
        }
        let frame = self.run_args(py, &[cmd], &rest);
        if groups {
            groups_of(py, frame, n_get, self.decode)
        } else {
            self.to_py(py, frame)
        }
    }
}

// ------------------------------------------------------------------------------------------
// The methods
// ------------------------------------------------------------------------------------------

#[pymethods]
impl PyStore {
    // ---- Hashes --------------------------------------------------------------------------

    /// HSET name [items...] [key value] [mapping...] -> number of new fields
    #[pyo3(signature = (name, key=None, value=None, mapping=None, items=None))]
    fn hset(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        value: Option<&Bound<'_, PyAny>>,
        mapping: Option<&Bound<'_, PyAny>>,
        items: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (has_mapping, has_items) = (truthy(mapping)?, truthy(items)?);
        if key.is_none() && !has_mapping && !has_items {
            return Err(data_error(py, "'hset' with no key value pairs"));
        }
        if let (Some(k), false, false) = (key, has_mapping, has_items) {
            // One field: the command line on the stack.
            let (n, f, v) = (Arg::new(name)?, Arg::new(k)?, required(py, value)?);
            return reply::int(
                py,
                self.run_prepared(py, self.hot.hset, &[b"HSET", &n, &f, &v]),
            );
        }
        let mut rest = vec![Arg::new(name)?];
        if let (Some(i), true) = (items, has_items) {
            each(i, &mut rest)?;
        }
        if let Some(k) = key {
            rest.push(Arg::new(k)?);
            rest.push(required(py, value)?);
        }
        if let (Some(m), true) = (mapping, has_mapping) {
            each_pair(m, false, &mut rest)?;
        }
        reply::int(
            py,
            self.run_args_prepared(py, self.hot.hset, b"HSET", &rest),
        )
    }

    /// HSETNX name key value -> 1 if set, 0 if the field existed
    fn hsetnx(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, f, v) = (Arg::new(name)?, Arg::new(key)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"HSETNX", &k, &f, &v]))
    }

    /// HGET name key
    fn hget(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, f) = (Arg::new(name)?, Arg::new(key)?);
        let frame = self.run_prepared(py, self.hot.hget, &[b"HGET", &k, &f]);
        self.to_py(py, frame)
    }

    /// HMGET name keys... (`keys`: one field or an iterable; `args` are appended)
    #[pyo3(signature = (name, keys, *args))]
    fn hmget(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(name)?];
        rest.extend(keys_and_args(keys, args)?);
        self.plain_args(py, &[b"HMGET"], &rest)
    }

    /// HMSET name mapping -> True (deprecated in redis-py, which warns; so does this)
    fn hmset(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        mapping: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyDeprecationWarning>(),
            c"Call to deprecated hmset. (Use 'hset' instead.) -- Deprecated since version 4.0.0.",
            1,
        )?;
        if !mapping.is_truthy()? {
            return Err(data_error(py, "'hmset' with 'mapping' of length 0"));
        }
        let mut rest = vec![Arg::new(name)?];
        each_pair(mapping, false, &mut rest)?;
        reply::int_bool(py, self.run_args(py, &[b"HMSET"], &rest))
    }

    /// HGETALL name -> dict
    fn hgetall(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        self.plain(py, &[b"HGETALL", &k])
    }

    /// HDEL name key [key ...] -> number removed
    #[pyo3(signature = (name, *keys))]
    fn hdel(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"HDEL", name, keys)
    }

    /// HEXISTS name key -> bool
    fn hexists(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (k, f) = (Arg::new(name)?, Arg::new(key)?);
        reply::int_bool(py, self.run(py, &[b"HEXISTS", &k, &f]))
    }

    /// HLEN name
    fn hlen(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"HLEN", &k]))
    }

    /// HSTRLEN name key
    fn hstrlen(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, f) = (Arg::new(name)?, Arg::new(key)?);
        reply::int(py, self.run(py, &[b"HSTRLEN", &k, &f]))
    }

    /// HKEYS name -> list
    fn hkeys(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        self.plain(py, &[b"HKEYS", &k])
    }

    /// HVALS name -> list
    fn hvals(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        self.plain(py, &[b"HVALS", &k])
    }

    /// HINCRBY name key amount -> new value
    #[pyo3(signature = (name, key, amount=None), text_signature = "($self, name, key, amount=1)")]
    fn hincrby(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (k, f, by) = (Arg::new(name)?, Arg::new(key)?, or_static(amount, b"1")?);
        reply::int(py, self.run(py, &[b"HINCRBY", &k, &f, &by]))
    }

    /// HINCRBYFLOAT name key amount -> float
    #[pyo3(
        signature = (name, key, amount=None),
        text_signature = "($self, name, key, amount=1.0)"
    )]
    fn hincrbyfloat(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (k, f, by) = (Arg::new(name)?, Arg::new(key)?, or_static(amount, b"1.0")?);
        reply::float(py, self.run(py, &[b"HINCRBYFLOAT", &k, &f, &by]))
    }

    /// HRANDFIELD key [count [WITHVALUES]]
    #[pyo3(signature = (key, count=None, withvalues=false))]
    fn hrandfield(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
        withvalues: bool,
    ) -> PyResult<Py<PyAny>> {
        let (k, n) = (Arg::new(key)?, opt(count)?);
        let mut argv = Argv::<'_, 4>::new(b"HRANDFIELD");
        argv.push(&k)?;
        if let Some(n) = &n {
            argv.push(n)?;
        }
        if withvalues {
            argv.push(b"WITHVALUES")?;
        }
        self.plain(py, argv.as_slice())
    }

    /// HSCAN name cursor [MATCH m] [COUNT c] [NOVALUES] -> (cursor, dict), or
    /// (cursor, fields) with `no_values`
    #[pyo3(
        signature = (name, cursor=None, r#match=None, count=None, no_values=None),
        text_signature = "($self, name, cursor=0, match=None, count=None, no_values=None)"
    )]
    fn hscan(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        cursor: Option<&Bound<'_, PyAny>>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        no_values: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, Py<PyAny>)> {
        let (k, cur) = (Arg::new(name)?, or_static(cursor, b"0")?);
        let (pat, cnt) = (opt(r#match)?, opt(count)?);
        let fields_only = truthy(no_values)?;
        let kind = ScanKind::Hash {
            fields_only,
            novalues: no_values.is_some(),
        };
        let frame = self.scan_generic(py, kind, &k, &cur, pat.as_deref(), cnt.as_deref());
        let (next, items) = scan_page(py, frame)?;
        if fields_only {
            let out = PyList::empty(py);
            for f in items {
                out.append(self.to_py(py, f)?)?;
            }
            return Ok((next, out.into_any().unbind()));
        }
        let dict = PyDict::new(py);
        let mut it = items.into_iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            dict.set_item(self.to_py(py, f)?, self.to_py(py, v)?)?;
        }
        Ok((next, dict.into_any().unbind()))
    }

    /// An iterator over `(field, value)` pairs (fields alone with `no_values`), page by page.
    #[pyo3(signature = (name, r#match=None, count=None, no_values=None))]
    fn hscan_iter(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        no_values: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CollectionScanIterator> {
        let kind = ScanKind::Hash {
            fields_only: truthy(no_values)?,
            novalues: no_values.is_some(),
        };
        CollectionScanIterator::new(slf, kind, name, r#match, count, None)
    }

    // ---- Sets ----------------------------------------------------------------------------

    /// SADD name value [value ...] -> number added
    #[pyo3(signature = (name, *values))]
    fn sadd(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"SADD", name, values)
    }

    /// SREM name value [value ...] -> number removed
    #[pyo3(signature = (name, *values))]
    fn srem(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"SREM", name, values)
    }

    /// SMEMBERS name -> set
    fn smembers(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        self.plain(py, &[b"SMEMBERS", &k])
    }

    /// SISMEMBER name value -> 0 or 1
    fn sismember(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, v) = (Arg::new(name)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"SISMEMBER", &k, &v]))
    }

    /// SMISMEMBER name values... -> list of 0/1
    #[pyo3(signature = (name, values, *args))]
    fn smismember(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(name)?];
        rest.extend(keys_and_args(values, args)?);
        self.plain_args(py, &[b"SMISMEMBER"], &rest)
    }

    /// SCARD name
    fn scard(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"SCARD", &k]))
    }

    /// SPOP name [count] -> a member or None; with a count, a list
    #[pyo3(signature = (name, count=None))]
    fn spop(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        // redis-py reads a RESP3 set as a list, and has no callback for SPOP.
        let frame = match self.key_count(py, b"SPOP", name, count)? {
            Frame::Set(members) => Frame::Array(members),
            other => other,
        };
        self.to_py(py, frame)
    }

    /// SRANDMEMBER name [number] -> a member or None; with a number, a list
    #[pyo3(signature = (name, number=None))]
    fn srandmember(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        number: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.key_count(py, b"SRANDMEMBER", name, number)?;
        self.to_py(py, frame)
    }

    /// SMOVE src dst value -> bool
    fn smove(
        &self,
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (s, d, v) = (Arg::new(src)?, Arg::new(dst)?, Arg::new(value)?);
        reply::int_bool(py, self.run(py, &[b"SMOVE", &s, &d, &v]))
    }

    /// SINTER keys... -> set
    #[pyo3(signature = (keys, *args))]
    fn sinter(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.plain_args(py, &[b"SINTER"], &keys_and_args(keys, args)?)
    }

    /// SINTERCARD numkeys keys... LIMIT limit
    #[pyo3(signature = (numkeys, keys, limit=None), text_signature = "($self, numkeys, keys, limit=0)")]
    fn sintercard(
        &self,
        py: Python<'_>,
        numkeys: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(numkeys)?];
        each(keys, &mut rest)?;
        rest.push(Arg::Static(b"LIMIT"));
        rest.push(or_static(limit, b"0")?);
        reply::int(py, self.run_args(py, &[b"SINTERCARD"], &rest))
    }

    /// SUNION keys... -> set
    #[pyo3(signature = (keys, *args))]
    fn sunion(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.plain_args(py, &[b"SUNION"], &keys_and_args(keys, args)?)
    }

    /// SDIFF keys... -> set
    #[pyo3(signature = (keys, *args))]
    fn sdiff(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.plain_args(py, &[b"SDIFF"], &keys_and_args(keys, args)?)
    }

    /// SINTERSTORE dest keys... -> size of dest
    #[pyo3(signature = (dest, keys, *args))]
    fn sinterstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(dest)?];
        rest.extend(keys_and_args(keys, args)?);
        reply::int(py, self.run_args(py, &[b"SINTERSTORE"], &rest))
    }

    /// SUNIONSTORE dest keys... -> size of dest
    #[pyo3(signature = (dest, keys, *args))]
    fn sunionstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(dest)?];
        rest.extend(keys_and_args(keys, args)?);
        reply::int(py, self.run_args(py, &[b"SUNIONSTORE"], &rest))
    }

    /// SDIFFSTORE dest keys... -> size of dest
    #[pyo3(signature = (dest, keys, *args))]
    fn sdiffstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(dest)?];
        rest.extend(keys_and_args(keys, args)?);
        reply::int(py, self.run_args(py, &[b"SDIFFSTORE"], &rest))
    }

    /// SSCAN name cursor [MATCH m] [COUNT c] -> (cursor, members)
    #[pyo3(
        signature = (name, cursor=None, r#match=None, count=None),
        text_signature = "($self, name, cursor=0, match=None, count=None)"
    )]
    fn sscan(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        cursor: Option<&Bound<'_, PyAny>>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, Py<PyAny>)> {
        let (k, cur) = (Arg::new(name)?, or_static(cursor, b"0")?);
        let (pat, cnt) = (opt(r#match)?, opt(count)?);
        let frame = self.scan_generic(py, ScanKind::Set, &k, &cur, pat.as_deref(), cnt.as_deref());
        let (next, items) = scan_page(py, frame)?;
        let out = PyList::empty(py);
        for m in items {
            out.append(self.to_py(py, m)?)?;
        }
        Ok((next, out.into_any().unbind()))
    }

    /// An iterator over a set's members, page by page (SSCAN).
    #[pyo3(signature = (name, r#match=None, count=None))]
    fn sscan_iter(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CollectionScanIterator> {
        CollectionScanIterator::new(slf, ScanKind::Set, name, r#match, count, None)
    }

    // ---- Sorted sets ---------------------------------------------------------------------

    /// ZADD name [NX|XX] [CH] [INCR] [GT|LT] score member ... -> number added (changed with
    /// `ch`), or the new score with `incr` (None if not applied)
    #[pyo3(signature = (name, mapping, nx=false, xx=false, ch=false, incr=false, gt=false, lt=false))]
    #[allow(clippy::too_many_arguments)]
    fn zadd(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        mapping: &Bound<'_, PyAny>,
        nx: bool,
        xx: bool,
        ch: bool,
        incr: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<Py<PyAny>> {
        if !mapping.is_truthy()? {
            return Err(data_error(
                py,
                "ZADD requires at least one element/score pair",
            ));
        }
        if nx && xx {
            return Err(data_error(py, "ZADD allows either 'nx' or 'xx', not both"));
        }
        if gt && lt {
            return Err(data_error(py, "ZADD allows either 'gt' or 'lt', not both"));
        }
        if incr && mapping.len()? != 1 {
            return Err(data_error(
                py,
                "ZADD option 'incr' only works when passing a single element/score pair",
            ));
        }
        if nx && (gt || lt) {
            return Err(data_error(
                py,
                "Only one of 'nx', 'lt', or 'gr' may be defined.",
            ));
        }
        let mut rest = vec![Arg::new(name)?];
        for (on, flag) in [
            (nx, &b"NX"[..]),
            (xx, b"XX"),
            (ch, b"CH"),
            (incr, b"INCR"),
            (gt, b"GT"),
            (lt, b"LT"),
        ] {
            if on {
                rest.push(Arg::Static(flag));
            }
        }
        each_pair(mapping, true, &mut rest)?;
        let frame = self.run_args_prepared(py, self.hot.zadd, b"ZADD", &rest);
        self.to_py(py, frame)
    }

    /// ZINCRBY name amount value -> the new score
    fn zincrby(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, by, m) = (Arg::new(name)?, Arg::new(amount)?, Arg::new(value)?);
        self.plain(py, &[b"ZINCRBY", &k, &by, &m])
    }

    /// ZREM name value [value ...] -> number removed
    #[pyo3(signature = (name, *values))]
    fn zrem(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"ZREM", name, values)
    }

    /// ZCARD name
    fn zcard(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"ZCARD", &k]))
    }

    /// ZCOUNT name min max
    fn zcount(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, lo, hi) = (Arg::new(name)?, Arg::new(min)?, Arg::new(max)?);
        reply::int(py, self.run(py, &[b"ZCOUNT", &k, &lo, &hi]))
    }

    /// ZLEXCOUNT name min max
    fn zlexcount(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, lo, hi) = (Arg::new(name)?, Arg::new(min)?, Arg::new(max)?);
        reply::int(py, self.run(py, &[b"ZLEXCOUNT", &k, &lo, &hi]))
    }

    /// ZSCORE name value -> float or None
    fn zscore(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, m) = (Arg::new(name)?, Arg::new(value)?);
        self.plain(py, &[b"ZSCORE", &k, &m])
    }

    /// ZMSCORE key member [member ...] -> list of float or None
    fn zmscore(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        members: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        if !members.is_truthy()? {
            return Err(data_error(py, "ZMSCORE members must be a non-empty list"));
        }
        let mut rest = vec![Arg::new(key)?];
        each(members, &mut rest)?;
        self.plain_args(py, &[b"ZMSCORE"], &rest)
    }

    /// ZRANK name value [WITHSCORE] -> rank or None; `[rank, score]` with `withscore`
    #[pyo3(signature = (name, value, withscore=false, score_cast_func=None))]
    fn zrank(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        withscore: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.zrank_generic(py, b"ZRANK", name, value, withscore, score_cast_func)
    }

    /// ZREVRANK name value [WITHSCORE]
    #[pyo3(signature = (name, value, withscore=false, score_cast_func=None))]
    fn zrevrank(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        withscore: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.zrank_generic(py, b"ZREVRANK", name, value, withscore, score_cast_func)
    }

    /// ZRANGE name start end [BYSCORE|BYLEX] [REV] [LIMIT offset num] [WITHSCORES]
    #[pyo3(signature = (
        name, start, end, desc=false, withscores=false, score_cast_func=None, byscore=false,
        bylex=false, offset=None, num=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn zrange(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
        desc: bool,
        withscores: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
        byscore: bool,
        bylex: bool,
        offset: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        // As redis-py: a plain reversed range by rank is sent as ZREVRANGE.
        if desc && !byscore && !bylex && offset.is_none() && num.is_none() {
            return self.zrevrange(py, name, start, end, withscores, score_cast_func);
        }
        let frame = self.zrange_generic(
            py, b"ZRANGE", None, name, start, end, desc, byscore, bylex, withscores, offset, num,
        )?;
        let cast = ScoreCast::new(py, score_cast_func);
        scored(py, frame, withscores, &cast, self.decode)
    }

    /// ZRANGESTORE dest name start end [BYSCORE|BYLEX] [REV] [LIMIT offset num] -> count
    #[pyo3(signature = (
        dest, name, start, end, byscore=false, bylex=false, desc=false, offset=None, num=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn zrangestore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
        byscore: bool,
        bylex: bool,
        desc: bool,
        offset: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zrange_generic(
            py,
            b"ZRANGESTORE",
            Some(dest),
            name,
            start,
            end,
            desc,
            byscore,
            bylex,
            false,
            offset,
            num,
        )?;
        reply::int(py, frame)
    }

    /// ZREVRANGE name start end [WITHSCORES]
    #[pyo3(signature = (name, start, end, withscores=false, score_cast_func=None))]
    fn zrevrange(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
        withscores: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (k, s, e) = (Arg::new(name)?, Arg::new(start)?, Arg::new(end)?);
        let frame = if withscores {
            self.run(py, &[b"ZREVRANGE", &k, &s, &e, b"WITHSCORES"])
        } else {
            self.run(py, &[b"ZREVRANGE", &k, &s, &e])
        };
        let cast = ScoreCast::new(py, score_cast_func);
        scored(py, frame, withscores, &cast, self.decode)
    }

    /// ZRANGEBYSCORE name min max [LIMIT start num] [WITHSCORES]
    #[pyo3(signature = (name, min, max, start=None, num=None, withscores=false, score_cast_func=None))]
    #[allow(clippy::too_many_arguments)]
    fn zrangebyscore(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        withscores: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame =
            self.zrangeby_generic(py, b"ZRANGEBYSCORE", name, min, max, start, num, withscores)?;
        let cast = ScoreCast::new(py, score_cast_func);
        scored(py, frame, withscores, &cast, self.decode)
    }

    /// ZREVRANGEBYSCORE name max min [LIMIT start num] [WITHSCORES]
    #[pyo3(signature = (name, max, min, start=None, num=None, withscores=false, score_cast_func=None))]
    #[allow(clippy::too_many_arguments)]
    fn zrevrangebyscore(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        withscores: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zrangeby_generic(
            py,
            b"ZREVRANGEBYSCORE",
            name,
            max,
            min,
            start,
            num,
            withscores,
        )?;
        let cast = ScoreCast::new(py, score_cast_func);
        scored(py, frame, withscores, &cast, self.decode)
    }

    /// ZRANGEBYLEX name min max [LIMIT start num]
    #[pyo3(signature = (name, min, max, start=None, num=None))]
    fn zrangebylex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zrangeby_generic(py, b"ZRANGEBYLEX", name, min, max, start, num, false)?;
        self.to_py(py, frame)
    }

    /// ZREVRANGEBYLEX name max min [LIMIT start num]
    #[pyo3(signature = (name, max, min, start=None, num=None))]
    fn zrevrangebylex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame =
            self.zrangeby_generic(py, b"ZREVRANGEBYLEX", name, max, min, start, num, false)?;
        self.to_py(py, frame)
    }

    /// ZREMRANGEBYRANK name min max -> number removed
    fn zremrangebyrank(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, lo, hi) = (Arg::new(name)?, Arg::new(min)?, Arg::new(max)?);
        reply::int(py, self.run(py, &[b"ZREMRANGEBYRANK", &k, &lo, &hi]))
    }

    /// ZREMRANGEBYSCORE name min max -> number removed
    fn zremrangebyscore(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, lo, hi) = (Arg::new(name)?, Arg::new(min)?, Arg::new(max)?);
        reply::int(py, self.run(py, &[b"ZREMRANGEBYSCORE", &k, &lo, &hi]))
    }

    /// ZREMRANGEBYLEX name min max -> number removed
    fn zremrangebylex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        min: &Bound<'_, PyAny>,
        max: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, lo, hi) = (Arg::new(name)?, Arg::new(min)?, Arg::new(max)?);
        reply::int(py, self.run(py, &[b"ZREMRANGEBYLEX", &k, &lo, &hi]))
    }

    /// ZPOPMIN name [count] -> `[member, score]`; with a count, `[[member, score], ...]`
    #[pyo3(signature = (name, count=None))]
    fn zpopmin(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.key_count(py, b"ZPOPMIN", name, count)?;
        self.to_py(py, frame)
    }

    /// ZPOPMAX name [count]
    #[pyo3(signature = (name, count=None))]
    fn zpopmax(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.key_count(py, b"ZPOPMAX", name, count)?;
        self.to_py(py, frame)
    }

    /// ZMPOP num_keys keys... MIN|MAX [COUNT count] -> `[key, [[member, score], ...]]` or None
    #[pyo3(
        signature = (num_keys, keys, min=Some(false), max=Some(false), count=Some(1)),
        text_signature = "($self, num_keys, keys, min=False, max=False, count=1)"
    )]
    fn zmpop(
        &self,
        py: Python<'_>,
        num_keys: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        min: Option<bool>,
        max: Option<bool>,
        count: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(num_keys)?];
        each(keys, &mut rest)?;
        // redis-py raises a bare DataError here.
        let which = Self::min_or_max(min, max).ok_or_else(|| data_error(py, ""))?;
        rest.push(Arg::Static(which));
        if count != Some(1) {
            rest.push(Arg::Static(b"COUNT"));
            rest.push(match count {
                Some(n) => Arg::int(n),
                None => required(py, None)?,
            });
        }
        self.plain_args(py, &[b"ZMPOP"], &rest)
    }

    /// ZRANDMEMBER key [count [WITHSCORES]]
    #[pyo3(signature = (key, count=None, withscores=false))]
    fn zrandmember(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
        withscores: bool,
    ) -> PyResult<Py<PyAny>> {
        let (k, n) = (Arg::new(key)?, opt(count)?);
        let mut argv = Argv::<'_, 4>::new(b"ZRANDMEMBER");
        argv.push(&k)?;
        if let Some(n) = &n {
            argv.push(n)?;
        }
        if withscores {
            argv.push(b"WITHSCORES")?;
        }
        self.plain(py, argv.as_slice())
    }

    /// ZUNION numkeys keys... [WEIGHTS ...] [AGGREGATE a] [WITHSCORES]
    #[pyo3(signature = (keys, aggregate=None, withscores=false, score_cast_func=None))]
    fn zunion(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        aggregate: Option<&Bound<'_, PyAny>>,
        withscores: bool,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zaggregate(py, b"ZUNION", None, keys, aggregate, withscores)?;
        let cast = ScoreCast::new(py, score_cast_func);
        scored(py, frame, withscores, &cast, self.decode)
    }

    /// ZINTER numkeys keys... [WEIGHTS ...] [AGGREGATE a] [WITHSCORES]
    #[pyo3(signature = (keys, aggregate=None, withscores=false))]
    fn zinter(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        aggregate: Option<&Bound<'_, PyAny>>,
        withscores: bool,
    ) -> PyResult<Py<PyAny>> {
        // No score callback for ZINTER in redis-py: the RESP3 pairs as they come.
        let frame = self.zaggregate(py, b"ZINTER", None, keys, aggregate, withscores)?;
        self.to_py(py, frame)
    }

    /// ZDIFF numkeys keys... [WITHSCORES]
    #[pyo3(signature = (keys, withscores=false))]
    fn zdiff(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        withscores: bool,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![len_arg(keys)?];
        each(keys, &mut rest)?;
        if withscores {
            rest.push(Arg::Static(b"WITHSCORES"));
        }
        self.plain_args(py, &[b"ZDIFF"], &rest)
    }

    /// ZUNIONSTORE dest numkeys keys... [WEIGHTS ...] [AGGREGATE a] -> size of dest
    #[pyo3(signature = (dest, keys, aggregate=None))]
    fn zunionstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        aggregate: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zaggregate(py, b"ZUNIONSTORE", Some(dest), keys, aggregate, false)?;
        reply::int(py, frame)
    }

    /// ZINTERSTORE dest numkeys keys... [WEIGHTS ...] [AGGREGATE a] -> size of dest
    #[pyo3(signature = (dest, keys, aggregate=None))]
    fn zinterstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        aggregate: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.zaggregate(py, b"ZINTERSTORE", Some(dest), keys, aggregate, false)?;
        reply::int(py, frame)
    }

    /// ZDIFFSTORE dest numkeys keys... -> size of dest
    fn zdiffstore(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(dest)?, len_arg(keys)?];
        each(keys, &mut rest)?;
        reply::int(py, self.run_args(py, &[b"ZDIFFSTORE"], &rest))
    }

    /// ZINTERCARD numkeys keys... LIMIT limit
    #[pyo3(signature = (numkeys, keys, limit=None), text_signature = "($self, numkeys, keys, limit=0)")]
    fn zintercard(
        &self,
        py: Python<'_>,
        numkeys: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(numkeys)?];
        each(keys, &mut rest)?;
        rest.push(Arg::Static(b"LIMIT"));
        rest.push(or_static(limit, b"0")?);
        reply::int(py, self.run_args(py, &[b"ZINTERCARD"], &rest))
    }

    /// ZSCAN name cursor [MATCH m] [COUNT c] -> (cursor, [(member, score), ...])
    #[pyo3(
        signature = (name, cursor=None, r#match=None, count=None, score_cast_func=None),
        text_signature = "($self, name, cursor=0, match=None, count=None, score_cast_func=None)"
    )]
    fn zscan(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        cursor: Option<&Bound<'_, PyAny>>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, Py<PyAny>)> {
        let (k, cur) = (Arg::new(name)?, or_static(cursor, b"0")?);
        let (pat, cnt) = (opt(r#match)?, opt(count)?);
        let frame = self.scan_generic(py, ScanKind::ZSet, &k, &cur, pat.as_deref(), cnt.as_deref());
        let (next, items) = scan_page(py, frame)?;
        let cast = ScoreCast::new(py, score_cast_func);
        let pairs = ScanKind::ZSet.elements(py, items, &cast, self.decode)?;
        Ok((next, PyList::new(py, pairs)?.into_any().unbind()))
    }

    /// An iterator over `(member, score)` pairs, page by page (ZSCAN).
    #[pyo3(signature = (name, r#match=None, count=None, score_cast_func=None))]
    fn zscan_iter(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CollectionScanIterator> {
        CollectionScanIterator::new(slf, ScanKind::ZSet, name, r#match, count, score_cast_func)
    }

    // ---- Lists ---------------------------------------------------------------------------

    /// LPUSH name value [value ...] -> the new length
    #[pyo3(signature = (name, *values))]
    fn lpush(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"LPUSH", name, values)
    }

    /// RPUSH name value [value ...] -> the new length
    #[pyo3(signature = (name, *values))]
    fn rpush(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"RPUSH", name, values)
    }

    /// LPUSHX name value [value ...] -> the new length (0: no list)
    #[pyo3(signature = (name, *values))]
    fn lpushx(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"LPUSHX", name, values)
    }

    /// RPUSHX name value [value ...] -> the new length (0: no list)
    #[pyo3(signature = (name, *values))]
    fn rpushx(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.key_values(py, b"RPUSHX", name, values)
    }

    /// LPOP name [count] -> a value or None; with a count, a list or None
    #[pyo3(signature = (name, count=None))]
    fn lpop(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.key_count(py, b"LPOP", name, count)?;
        self.to_py(py, frame)
    }

    /// RPOP name [count] -> a value or None; with a count, a list or None
    #[pyo3(signature = (name, count=None))]
    fn rpop(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let frame = self.key_count(py, b"RPOP", name, count)?;
        self.to_py(py, frame)
    }

    /// LLEN name
    fn llen(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let k = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"LLEN", &k]))
    }

    /// LRANGE name start end -> list
    fn lrange(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, s, e) = (Arg::new(name)?, Arg::new(start)?, Arg::new(end)?);
        self.plain(py, &[b"LRANGE", &k, &s, &e])
    }

    /// LINDEX name index -> a value or None
    fn lindex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        index: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, i) = (Arg::new(name)?, Arg::new(index)?);
        self.plain(py, &[b"LINDEX", &k, &i])
    }

    /// LSET name index value -> True
    fn lset(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        index: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (k, i, v) = (Arg::new(name)?, Arg::new(index)?, Arg::new(value)?);
        reply::bool_ok(py, self.run(py, &[b"LSET", &k, &i, &v]))
    }

    /// LINSERT name BEFORE|AFTER refvalue value -> the new length, -1 if `refvalue` is
    /// missing, 0 if the list is
    fn linsert(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        r#where: &Bound<'_, PyAny>,
        refvalue: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, w) = (Arg::new(name)?, Arg::new(r#where)?);
        let (pivot, v) = (Arg::new(refvalue)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"LINSERT", &k, &w, &pivot, &v]))
    }

    /// LREM name count value -> number removed
    fn lrem(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        count: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, n, v) = (Arg::new(name)?, Arg::new(count)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"LREM", &k, &n, &v]))
    }

    /// LTRIM name start end -> True
    fn ltrim(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (k, s, e) = (Arg::new(name)?, Arg::new(start)?, Arg::new(end)?);
        reply::bool_ok(py, self.run(py, &[b"LTRIM", &k, &s, &e]))
    }

    /// LPOS name value [RANK r] [COUNT c] [MAXLEN m] -> an index or None; with a count, a
    /// list of indexes
    #[pyo3(signature = (name, value, rank=None, count=None, maxlen=None))]
    fn lpos(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        rank: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        maxlen: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (k, v) = (Arg::new(name)?, Arg::new(value)?);
        let options = [
            (&b"RANK"[..], opt(rank)?),
            (b"COUNT", opt(count)?),
            (b"MAXLEN", opt(maxlen)?),
        ];
        let mut argv = Argv::<'_, 9>::new(b"LPOS");
        argv.push(&k)?;
        argv.push(&v)?;
        for (token, arg) in &options {
            if let Some(a) = arg {
                argv.push(token)?;
                argv.push(a)?;
            }
        }
        self.plain(py, argv.as_slice())
    }

    /// LMOVE first_list second_list LEFT|RIGHT LEFT|RIGHT -> the moved value or None
    #[pyo3(
        signature = (first_list, second_list, src=None, dest=None),
        text_signature = "($self, first_list, second_list, src='LEFT', dest='RIGHT')"
    )]
    fn lmove(
        &self,
        py: Python<'_>,
        first_list: &Bound<'_, PyAny>,
        second_list: &Bound<'_, PyAny>,
        src: Option<&Bound<'_, PyAny>>,
        dest: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (a, b) = (Arg::new(first_list)?, Arg::new(second_list)?);
        let (from, to) = (or_static(src, b"LEFT")?, or_static(dest, b"RIGHT")?);
        self.plain(py, &[b"LMOVE", &a, &b, &from, &to])
    }

    /// RPOPLPUSH src dst -> the moved value or None
    fn rpoplpush(
        &self,
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (s, d) = (Arg::new(src)?, Arg::new(dst)?);
        self.plain(py, &[b"RPOPLPUSH", &s, &d])
    }

    /// LMPOP num_keys key... LEFT|RIGHT [COUNT count] -> `[key, [value, ...]]` or None
    #[pyo3(
        signature = (num_keys, *args, direction, count=Some(1)),
        text_signature = "($self, num_keys, *args, direction, count=1)"
    )]
    fn lmpop(
        &self,
        py: Python<'_>,
        num_keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        direction: &Bound<'_, PyAny>,
        count: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(num_keys)?];
        each(args.as_any(), &mut rest)?;
        rest.push(Arg::new(direction)?);
        if count != Some(1) {
            rest.push(Arg::Static(b"COUNT"));
            rest.push(match count {
                Some(n) => Arg::int(n),
                None => required(py, None)?,
            });
        }
        self.plain_args(py, &[b"LMPOP"], &rest)
    }

    // ---- Blocking list pops: wait with the GIL released (`PyStore::run_blocking`) -------

    /// BLPOP keys... timeout -> `[key, value]`, or None on timeout (`timeout` 0 or None:
    /// wait forever)
    #[pyo3(signature = (keys, timeout=None), text_signature = "($self, keys, timeout=0)")]
    fn blpop(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.bpop_generic(py, b"BLPOP", keys, timeout)
    }

    /// BRPOP keys... timeout -> `[key, value]`, or None on timeout
    #[pyo3(signature = (keys, timeout=None), text_signature = "($self, keys, timeout=0)")]
    fn brpop(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.bpop_generic(py, b"BRPOP", keys, timeout)
    }

    /// BRPOPLPUSH src dst timeout -> the moved value, or None on timeout
    #[pyo3(signature = (src, dst, timeout=None), text_signature = "($self, src, dst, timeout=0)")]
    fn brpoplpush(
        &self,
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (s, d, t) = (Arg::new(src)?, Arg::new(dst)?, or_static(timeout, b"0")?);
        let frame = self.run_blocking(py, &[b"BRPOPLPUSH", &s, &d, &t])?;
        self.to_py(py, frame)
    }

    /// BLMOVE first_list second_list LEFT|RIGHT LEFT|RIGHT timeout -> the moved value, or
    /// None on timeout
    #[pyo3(
        signature = (first_list, second_list, timeout, src=None, dest=None),
        text_signature = "($self, first_list, second_list, timeout, src='LEFT', dest='RIGHT')"
    )]
    fn blmove(
        &self,
        py: Python<'_>,
        first_list: &Bound<'_, PyAny>,
        second_list: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        src: Option<&Bound<'_, PyAny>>,
        dest: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (a, b, t) = (
            Arg::new(first_list)?,
            Arg::new(second_list)?,
            Arg::new(timeout)?,
        );
        let (from, to) = (or_static(src, b"LEFT")?, or_static(dest, b"RIGHT")?);
        let frame = self.run_blocking(py, &[b"BLMOVE", &a, &b, &from, &to, &t])?;
        self.to_py(py, frame)
    }

    /// BLMPOP timeout numkeys key... LEFT|RIGHT COUNT count -> `[key, [value, ...]]`, or None
    /// on timeout
    #[pyo3(
        signature = (timeout, numkeys, *args, direction, count=None),
        text_signature = "($self, timeout, numkeys, *args, direction, count=1)"
    )]
    fn blmpop(
        &self,
        py: Python<'_>,
        timeout: &Bound<'_, PyAny>,
        numkeys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        direction: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![Arg::new(timeout)?, Arg::new(numkeys)?];
        each(args.as_any(), &mut rest)?;
        rest.push(Arg::new(direction)?);
        rest.push(Arg::Static(b"COUNT"));
        rest.push(or_static(count, b"1")?);
        let mut argv: Vec<&[u8]> = Vec::with_capacity(rest.len() + 1);
        argv.push(b"BLMPOP");
        argv.extend(rest.iter().map(|a| &**a));
        let frame = self.run_blocking(py, &argv)?;
        self.to_py(py, frame)
    }

    // ---- Blocking sorted-set pops: as the blocking list pops -----------------------------

    /// BZPOPMIN keys... timeout -> `[key, member, score]`, or None on timeout (`timeout` 0 or
    /// None: wait forever)
    #[pyo3(signature = (keys, timeout=None), text_signature = "($self, keys, timeout=0)")]
    fn bzpopmin(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.bpop_generic(py, b"BZPOPMIN", keys, timeout)
    }

    /// BZPOPMAX keys... timeout -> `[key, member, score]`, or None on timeout
    #[pyo3(signature = (keys, timeout=None), text_signature = "($self, keys, timeout=0)")]
    fn bzpopmax(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.bpop_generic(py, b"BZPOPMAX", keys, timeout)
    }

    /// BZMPOP timeout numkeys keys... MIN|MAX COUNT count -> `[key, [[member, score], ...]]`,
    /// or None on timeout. As redis-py: the keys are unpacked, then `min`/`max` checked (by
    /// truthiness), then every argument encoded; COUNT is always sent.
    #[pyo3(
        signature = (timeout, numkeys, keys, min=None, max=None, count=Some(1)),
        text_signature = "($self, timeout, numkeys, keys, min=False, max=False, count=1)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn bzmpop(
        &self,
        py: Python<'_>,
        timeout: &Bound<'_, PyAny>,
        numkeys: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
        count: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let key_objs = keys.try_iter()?.collect::<PyResult<Vec<_>>>()?;
        let which = Self::min_or_max(Some(truthy(min)?), Some(truthy(max)?))
            .ok_or_else(|| data_error(py, "Either min or max, but not both must be set"))?;
        let mut rest = vec![Arg::new(timeout)?, Arg::new(numkeys)?];
        for k in key_objs {
            rest.push(Arg::owned(k)?);
        }
        rest.push(Arg::Static(which));
        rest.push(Arg::Static(b"COUNT"));
        rest.push(match count {
            Some(n) => Arg::int(n),
            None => required(py, None)?,
        });
        let mut argv: Vec<&[u8]> = Vec::with_capacity(rest.len() + 1);
        argv.push(b"BZMPOP");
        argv.extend(rest.iter().map(|a| &**a));
        let frame = self.run_blocking(py, &argv)?;
        self.to_py(py, frame)
    }

    // ---- SORT ----------------------------------------------------------------------------

    /// SORT name [BY p] [LIMIT start num] [GET p ...] [DESC] [ALPHA] [STORE dst] -> list
    /// (tuples of `len(get)` with `groups`), or the stored count with `store`
    #[pyo3(signature = (
        name, start=None, num=None, by=None, get=None, desc=false, alpha=false, store=None,
        groups=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn sort(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        by: Option<&Bound<'_, PyAny>>,
        get: Option<&Bound<'_, PyAny>>,
        desc: bool,
        alpha: bool,
        store: Option<&Bound<'_, PyAny>>,
        groups: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        self.sort_generic(
            py,
            b"SORT",
            name,
            start,
            num,
            by,
            get,
            desc,
            alpha,
            store,
            groups.unwrap_or(false),
        )
    }

    /// SORT_RO key [BY p] [LIMIT start num] [GET p ...] [DESC] [ALPHA] -> list
    #[pyo3(signature = (key, start=None, num=None, by=None, get=None, desc=false, alpha=false))]
    #[allow(clippy::too_many_arguments)]
    fn sort_ro(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        num: Option<&Bound<'_, PyAny>>,
        by: Option<&Bound<'_, PyAny>>,
        get: Option<&Bound<'_, PyAny>>,
        desc: bool,
        alpha: bool,
    ) -> PyResult<Py<PyAny>> {
        self.sort_generic(
            py, b"SORT_RO", key, start, num, by, get, desc, alpha, None, false,
        )
    }
}

// ------------------------------------------------------------------------------------------
// hscan_iter / sscan_iter / zscan_iter
// ------------------------------------------------------------------------------------------

struct PageState {
    /// The next cursor to ask for; `None` once the scan has returned 0.
    cursor: Option<u64>,
    /// Elements of the last page not yet yielded.
    pending: VecDeque<Py<PyAny>>,
}

/// What `Store.hscan_iter()`, `sscan_iter()` and `zscan_iter()` return: a key's elements,
/// one HSCAN/SSCAN/ZSCAN per page.
#[pyclass(name = "CollectionScanIterator", module = "fastkv._fastkv", frozen)]
pub(crate) struct CollectionScanIterator {
    store: Py<PyStore>,
    kind: ScanKind,
    key: Vec<u8>,
    pattern: Option<Vec<u8>>,
    count: Option<Vec<u8>>,
    score_cast_func: Option<Py<PyAny>>,
    state: Mutex<PageState>,
}

impl CollectionScanIterator {
    fn new(
        store: &Bound<'_, PyStore>,
        kind: ScanKind,
        name: &Bound<'_, PyAny>,
        pattern: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        score_cast_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let owned = |o: Option<&Bound<'_, PyAny>>| -> PyResult<Option<Vec<u8>>> {
            o.map(|v| Arg::new(v).map(|a| a.to_vec())).transpose()
        };
        Ok(CollectionScanIterator {
            store: store.clone().unbind(),
            kind,
            key: Arg::new(name)?.to_vec(),
            pattern: owned(pattern)?,
            count: owned(count)?,
            score_cast_func: score_cast_func.map(|f| f.clone().unbind()),
            state: Mutex::new(PageState {
                cursor: Some(0),
                pending: VecDeque::new(),
            }),
        })
    }
}

#[pymethods]
impl CollectionScanIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let store = self.store.get();
        loop {
            let cursor = {
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(e) = st.pending.pop_front() {
                    return Ok(Some(e));
                }
                match st.cursor {
                    Some(c) => c,
                    None => return Ok(None),
                }
            };
            let cur = Arg::int(i64::try_from(cursor).unwrap_or(i64::MAX));
            let frame = store.scan_generic(
                py,
                self.kind,
                &self.key,
                &cur,
                self.pattern.as_deref(),
                self.count.as_deref(),
            );
            let (next, items) = scan_page(py, frame)?;
            let cast = ScoreCast::new(py, self.score_cast_func.as_ref().map(|f| f.bind(py)));
            let elements = self.kind.elements(py, items, &cast, store.decode)?;
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.pending.extend(elements);
            st.cursor = (next != 0).then_some(next);
        }
    }
}
