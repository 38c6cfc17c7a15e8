/*
 * C `long double` arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
 *
 * Redis computes these commands in `long double` (80-bit x87 extended precision on x86_64)
 * and prints the result with "%.17Lf"; Rust has no such type, and f64 gives different digits
 * (10.5 + 0.1 prints 10.6 in Redis, 10.59999999999999964 in f64). So the arithmetic happens
 * here, and Rust holds the values as opaque FASTKV_LD_BYTES-byte blobs (src/types/ldouble.rs
 * is the only caller, through a safe wrapper).
 *
 * Every function takes explicit lengths and copies values with memcpy, so callers need no
 * alignment and no NUL-terminated input.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Size of the opaque blob that carries one long double across the FFI boundary. */
#define FASTKV_LD_BYTES 16
/* Redis's MAX_LONG_DOUBLE_CHARS: inputs of this length or more are rejected. */
#define FASTKV_LD_MAX_CHARS 5120

_Static_assert(sizeof(long double) <= FASTKV_LD_BYTES, "long double does not fit the blob");

static long double load(const unsigned char *blob) {
    long double v;
    memcpy(&v, blob, sizeof v);
    return v;
}

static void store(unsigned char *blob, long double v) {
    memset(blob, 0, FASTKV_LD_BYTES);
    memcpy(blob, &v, sizeof v);
}

/* Parses s[0..len) the way Redis's string2ld does: no leading space, the whole input consumed,
 * no overflow, no underflow to zero, no NaN. Writes the value to out and returns 1, or returns
 * 0 (out untouched). */
int fastkv_ld_parse(const unsigned char *s, size_t len, unsigned char *out) {
    char buf[FASTKV_LD_MAX_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* isspace in the C locale: space, \t, \n, \v, \f, \r. */
    if (strchr(" \t\n\v\f\r", buf[0]) != NULL) return 0;
    errno = 0;
    v = strtold(buf, &end);
    /* An embedded NUL stops strtold early, so it fails this length check too. */
    if ((size_t)(end - buf) != len) return 0;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return 0;
    if (isnan(v)) return 0;
    store(out, v);
    return 1;
}

/* out = a + b. */
void fastkv_ld_add(const unsigned char *a, const unsigned char *b, unsigned char *out) {
    store(out, load(a) + load(b));
}

/* 1 when the value is neither NaN nor infinite. */
int fastkv_ld_is_finite(const unsigned char *a) {
    long double v = load(a);
    return !(isnan(v) || isinf(v));
}

/* Writes "%.17Lf" of the value into buf (cap bytes, NUL included) and returns the length that
 * format needs (without the NUL); a result >= cap means the text did not fit. */
size_t fastkv_ld_format_fixed17(const unsigned char *a, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%.17Lf", load(a));
    return n < 0 ? (size_t)-1 : (size_t)n;
}

/* (long long) ceill(a * 1000.0): seconds to milliseconds as Redis's getTimeoutFromObjectOrReply
 * computes them. An out-of-range (or NaN) result is LLONG_MIN, which is what the x87
 * conversion Redis relies on yields on x86_64 (its cast is undefined behaviour in C; ours is
 * checked). */
long long fastkv_ld_ceil_millis(const unsigned char *a) {
    long double v = ceill(load(a) * 1000.0L);
    if (!(v >= -9223372036854775808.0L && v < 9223372036854775808.0L))
        return -9223372036854775807LL - 1;
    return (long long)v;
}
