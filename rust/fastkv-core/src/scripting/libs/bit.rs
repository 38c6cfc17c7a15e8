//! `bit`: LuaBitOp 1.0.2 as Redis ships it — 32-bit operations on Lua numbers.
//!
//! Every argument is normalised the way LuaBitOp does on Lua 5.1: the number (strings are
//! converted like Lua does) is added to 2^52+2^51 and the low 32 bits of the double's
//! representation are the operand; that rounds to nearest-even and wraps modulo 2^32. Results
//! are signed 32-bit values. A non-number argument is an error only when its normalised value
//! is 0 (LuaBitOp's check), which holds for every non-numeric value.

use mlua::{Lua, Table, Value};

use super::{arg, one, to_number, type_error, wrap, Fail, LibResult};

/// 2^52 + 2^51: adding it leaves an integer's low 32 bits in the double's low word.
const NORMALISE: f64 = 6_755_399_441_055_744.0;

/// LuaBitOp's `barg`.
fn barg(lua: &Lua, args: &[Value], i: usize) -> Result<u32, Fail> {
    let n = to_number(lua, arg(args, i));
    let b = (n.unwrap_or(0.0) + NORMALISE).to_bits() as u32;
    if b == 0 && n.is_none() {
        return Err(type_error(args, i, "number"));
    }
    Ok(b)
}

fn ret(b: u32) -> LibResult {
    one(Value::Number(f64::from(b as i32)))
}

fn unary(lua: &Lua, args: &[Value], f: fn(u32) -> u32) -> LibResult {
    ret(f(barg(lua, args, 1)?))
}

/// band/bor/bxor: the first argument, then the others from the last one down (the order
/// LuaBitOp checks them in, which decides which bad argument is reported).
fn fold(lua: &Lua, args: &[Value], f: fn(u32, u32) -> u32) -> LibResult {
    let mut b = barg(lua, args, 1)?;
    for i in (2..=args.len()).rev() {
        b = f(b, barg(lua, args, i)?);
    }
    ret(b)
}

fn shift(lua: &Lua, args: &[Value], f: fn(u32, u32) -> u32) -> LibResult {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    ret(f(b, n))
}

fn tohex(lua: &Lua, args: &[Value]) -> LibResult {
    let mut b = barg(lua, args, 1)?;
    let mut n = if args.len() < 2 {
        8
    } else {
        barg(lua, args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    n = n.checked_abs().unwrap_or(i32::MAX).min(8);
    let len = usize::try_from(n).unwrap_or(0);
    let mut buf = vec![0u8; len];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    one(Value::String(lua.create_string(&buf)?))
}

/// The `bit` table.
pub(crate) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("tobit", wrap(lua, |l, a| unary(l, a, |b| b))?)?;
    t.set("bnot", wrap(lua, |l, a| unary(l, a, |b| !b))?)?;
    t.set("bswap", wrap(lua, |l, a| unary(l, a, u32::swap_bytes))?)?;
    t.set("tohex", wrap(lua, tohex)?)?;
    t.set("band", wrap(lua, |l, a| fold(l, a, |x, y| x & y))?)?;
    t.set("bor", wrap(lua, |l, a| fold(l, a, |x, y| x | y))?)?;
    t.set("bxor", wrap(lua, |l, a| fold(l, a, |x, y| x ^ y))?)?;
    t.set("lshift", wrap(lua, |l, a| shift(l, a, |b, n| b << n))?)?;
    t.set("rshift", wrap(lua, |l, a| shift(l, a, |b, n| b >> n))?)?;
    t.set(
        "arshift",
        wrap(lua, |l, a| shift(l, a, |b, n| ((b as i32) >> n) as u32))?,
    )?;
    t.set("rol", wrap(lua, |l, a| shift(l, a, u32::rotate_left))?)?;
    t.set("ror", wrap(lua, |l, a| shift(l, a, u32::rotate_right))?)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{lua, run};

    // Expected values captured from redis-server 7.0.15 (EVAL "return {...}" 0).
    #[test]
    fn values() {
        let l = lua();
        assert_eq!(
            run(&l, "return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tobit(-1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-2.5), bit.tobit('10'), bit.tobit(2^60+3), bit.tobit(1e300)}"),
            "{-1,5,-1,2,2,-2,10,0,-2013235812}"
        );
        assert_eq!(
            run(&l, "return {bit.band(7,3,1), bit.bor(1,2,4), bit.bxor(1,3), bit.bnot(0), bit.lshift(1,31), bit.lshift(1,32), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x80000001, 1), bit.ror(1, 1), bit.bswap(0x12345678), bit.lshift(1,-1)}"),
            "{1,7,2,-1,-2147483648,1,15,-16,3,-2147483648,2018915346,-2147483648}"
        );
        assert_eq!(
            run(&l, "return {bit.tohex(255), bit.tohex(-1,-4), bit.tohex(255, 2), bit.tohex(1,0), bit.tohex(1,20), bit.tohex(0x12345678, -2147483648), bit.tohex(0x12345678, 2^31), bit.tohex(0xabcdef, -20)}"),
            r#"{"000000ff","FFFF","ff","","00000001","12345678","12345678","00ABCDEF"}"#
        );
        assert_eq!(
            run(&l, "return {bit.tobit('0x10'), bit.tobit(' 5 '), bit.tobit('0'), bit.tobit(4294967295.5), bit.tobit(-0.5), bit.tobit(0.5)}"),
            "{16,5,0,0,0,0}"
        );
        assert_eq!(run(&l, "return {bit.rol(1, 33), bit.ror(1,-1), bit.arshift(1, 64), bit.rshift(0x80000000, 31)}"), "{2,2,1,1}");
        assert_eq!(run(&l, "return select('#', bit.tobit(1, 2))"), "1");
        assert_eq!(run(&l, "return {bit.band(1), bit.bxor(1,2,4,8)}"), "{1,15}");
    }

    #[test]
    fn errors() {
        let l = lua();
        let cases = [
            (
                "return bit.tobit('x')",
                "bad argument #1 to 'tobit' (number expected, got string)",
            ),
            (
                "return bit.band(1, 'x', {})",
                "bad argument #3 to 'band' (number expected, got table)",
            ),
            (
                "return bit.band()",
                "bad argument #1 to 'band' (number expected, got no value)",
            ),
            (
                "return bit.tobit(nil)",
                "bad argument #1 to 'tobit' (number expected, got nil)",
            ),
            (
                "return bit.tobit(true)",
                "bad argument #1 to 'tobit' (number expected, got boolean)",
            ),
            (
                "return bit.tohex(1, nil)",
                "bad argument #2 to 'tohex' (number expected, got nil)",
            ),
            (
                "return bit.bor()",
                "bad argument #1 to 'bor' (number expected, got no value)",
            ),
        ];
        for (code, msg) in cases {
            assert_eq!(run(&l, code), format!("ERR user_script:1: {msg}"), "{code}");
        }
    }
}
