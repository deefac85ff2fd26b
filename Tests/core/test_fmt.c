/*
 * test_fmt.c - tests of the stdio-free formatting and parsing
 * (Source/crash/core/fmt.h) against libc: snprintf, strtoull, strlen,
 * strcmp, strncmp.
 *
 * Context: normal-context test program (cmocka).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crash/core/fmt.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
    /* splitmix64: deterministic, so a failure is reproducible. */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Edge values plus random ones of every magnitude. */
static size_t test_values(uint64_t *v, size_t max)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     9,
                                     10,
                                     15,
                                     16,
                                     99,
                                     100,
                                     127,
                                     128,
                                     255,
                                     256,
                                     4095,
                                     4096,
                                     999999999,
                                     1000000000,
                                     0x7fffffffu,
                                     0x80000000u,
                                     0xffffffffu,
                                     0x100000000u,
                                     9999999999999999999u,
                                     10000000000000000000u,
                                     (uint64_t)INT64_MAX,
                                     (uint64_t)INT64_MAX + 1,
                                     UINT64_MAX - 1,
                                     UINT64_MAX};
    size_t n = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        v[n++] = edges[i];
    while (n < max) {
        uint64_t r = rnd();
        v[n++] = r >> (r & 63); /* spread over all bit lengths */
    }
    return n;
}

enum { NV = 5000 };
static uint64_t vals[NV];

static int setup(void **state)
{
    (void)state;
    test_values(vals, NV);
    return 0;
}

static void test_u64(void **state)
{
    (void)state;
    char a[32], b[32];
    for (size_t i = 0; i < NV; i++) {
        int want = snprintf(b, sizeof b, "%llu", (unsigned long long)vals[i]);
        size_t got = mds_fmt_u64(a, sizeof a, vals[i]);
        assert_int_equal(got, (size_t)want);
        assert_string_equal(a, b);
        /* Exactly enough room, and one byte short. */
        assert_int_equal(mds_fmt_u64(a, (size_t)want + 1, vals[i]), want);
        assert_string_equal(a, b);
        memset(a, 'Q', sizeof a);
        assert_int_equal(mds_fmt_u64(a, (size_t)want, vals[i]), 0);
        assert_string_equal(a, "");
    }
    assert_int_equal(mds_fmt_u64(a, 0, 5), 0);
}

static void test_i64(void **state)
{
    (void)state;
    char a[32], b[32];
    static const int64_t edges[] = {INT64_MIN, INT64_MIN + 1, -1, 0,          1,
                                    INT64_MAX, -10,           -9, -1000000000};
    for (size_t i = 0; i < NV + sizeof edges / sizeof edges[0]; i++) {
        int64_t v = i < NV ? (int64_t)vals[i] : edges[i - NV];
        if (i < NV && (i & 1))
            v = (int64_t)(0 - (uint64_t)v); /* negatives of every size */
        int want = snprintf(b, sizeof b, "%lld", (long long)v);
        assert_int_equal(mds_fmt_i64(a, sizeof a, v), (size_t)want);
        assert_string_equal(a, b);
        assert_int_equal(mds_fmt_i64(a, (size_t)want, v), 0);
        assert_string_equal(a, "");
    }
}

static void test_hex(void **state)
{
    (void)state;
    char a[80], b[80];
    for (size_t i = 0; i < NV; i++) {
        int want = snprintf(b, sizeof b, "%llx", (unsigned long long)vals[i]);
        assert_int_equal(mds_fmt_hex(a, sizeof a, vals[i], 0), (size_t)want);
        assert_string_equal(a, b);
        assert_int_equal(mds_fmt_hex(a, sizeof a, vals[i], 1), (size_t)want);
        assert_string_equal(a, b);
        /* Zero padding, every width up to 64 (the documented maximum). */
        int width = (int)(i % 65);
        want =
            snprintf(b, sizeof b, "%0*llx", width, (unsigned long long)vals[i]);
        assert_int_equal(mds_fmt_hex(a, sizeof a, vals[i], width),
                         (size_t)want);
        assert_string_equal(a, b);
        assert_int_equal(mds_fmt_hex(a, (size_t)want, vals[i], width), 0);
        assert_string_equal(a, "");
    }
    assert_int_equal(mds_fmt_hex(a, sizeof a, 0, 16), 16);
    assert_string_equal(a, "0000000000000000");
}

static void test_strlen_strlcpy(void **state)
{
    (void)state;
    static const char *strs[] = {"",
                                 "a",
                                 "ab",
                                 "hello world",
                                 "/proc/self/task/12345/comm",
                                 "\xff\x80 high bytes"};
    char d[16];
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        size_t n = strlen(strs[i]);
        assert_int_equal(mds_strlen(strs[i]), n);
        for (size_t cap = 1; cap <= sizeof d; cap++) {
            memset(d, 'Q', sizeof d);
            assert_int_equal(mds_strlcpy(d, strs[i], cap), n);
            size_t k = n < cap - 1 ? n : cap - 1;
            assert_int_equal(strlen(d), k);
            assert_memory_equal(d, strs[i], k);
        }
        d[0] = 'Q';
        assert_int_equal(mds_strlcpy(d, strs[i], 0), n);
        assert_int_equal(d[0], 'Q'); /* cap 0: nothing written */
    }
}

static int sign(int x) { return (x > 0) - (x < 0); }

static void test_strcmp_strncmp(void **state)
{
    (void)state;
    static const char *s[] = {"",     "a", "b",    "ab",   "abc",   "abd",
                              "abcd", "A", "\x80", "\xff", "a\xff", "zzz"};
    size_t n = sizeof s / sizeof s[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(sign(mds_strcmp(s[i], s[j])),
                             sign(strcmp(s[i], s[j])));
            for (size_t k = 0; k < 6; k++)
                assert_int_equal(sign(mds_strncmp(s[i], s[j], k)),
                                 sign(strncmp(s[i], s[j], k)));
            size_t li = strlen(s[i]), lj = strlen(s[j]);
            assert_int_equal(mds_str_has_prefix(s[i], s[j]),
                             li >= lj && strncmp(s[i], s[j], lj) == 0);
            assert_int_equal(mds_str_has_suffix(s[i], s[j]),
                             li >= lj && strcmp(s[i] + li - lj, s[j]) == 0);
        }
    }
    /* Equal strings in different buffers with different bytes after the
     * NUL: the comparison must stop at the NUL. */
    char x[8] = {'a', 'b', 0, 'X', 'X'}, y[8] = {'a', 'b', 0, 'Y', 'Z'};
    assert_int_equal(mds_strcmp(x, y), 0);
    assert_int_equal(mds_strncmp(x, y, sizeof x), strncmp(x, y, sizeof x));
    assert_int_equal(mds_strncmp(x, y, sizeof x), 0);
}

/* Parses txt with mds_parse_u64 and with strtoull; both must agree on the
 * value, on success/failure and on where parsing stopped. The text must be
 * in the grammar both share (no sign, no octal, spaces/tabs only). */
static void parse_both(const char *txt, int base)
{
    uint64_t got = 12345;
    const char *gend = NULL;
    int r = mds_parse_u64(txt, base, &got, &gend);
    char *lend;
    errno = 0;
    unsigned long long want = strtoull(txt, &lend, base);
    int lerr = errno;
    if (lend == txt) { /* no digits */
        assert_int_equal(r, -1);
        assert_int_equal(got, 12345);
        return;
    }
    assert_ptr_equal(gend, lend);
    if (lerr == ERANGE) {
        assert_int_equal(r, -1);
        return;
    }
    assert_int_equal(r, 0);
    assert_int_equal(got, want);
}

static void test_parse_vs_strtoull(void **state)
{
    (void)state;
    char t[96];
    for (size_t i = 0; i < NV; i++) {
        snprintf(t, sizeof t, "%llu", (unsigned long long)vals[i]);
        parse_both(t, 10);
        snprintf(t, sizeof t, "  %llu rest", (unsigned long long)vals[i]);
        parse_both(t, 10);
        snprintf(t, sizeof t, "\t%llx", (unsigned long long)vals[i]);
        parse_both(t, 16);
        snprintf(t, sizeof t, "%llX:", (unsigned long long)vals[i]);
        parse_both(t, 16);
        snprintf(t, sizeof t, "0x%llx", (unsigned long long)vals[i]);
        parse_both(t, 0);
        if (vals[i] != 0) { /* strtoull base 0 reads a leading 0 as octal */
            snprintf(t, sizeof t, "%llu", (unsigned long long)vals[i]);
            parse_both(t, 0);
        }
        /* Overflow: a digit appended to a large value. */
        snprintf(t, sizeof t, "%llu7", (unsigned long long)vals[i]);
        parse_both(t, 10);
        snprintf(t, sizeof t, "%llxf", (unsigned long long)vals[i]);
        parse_both(t, 16);
    }
    static const char *odd[] = {"",
                                " ",
                                "x",
                                "18446744073709551615",
                                "18446744073709551616",
                                "99999999999999999999999",
                                "ffffffffffffffff",
                                "10000000000000000",
                                "000000000000000000000000042",
                                "12abc",
                                "7 8"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        parse_both(odd[i], 10);
        parse_both(odd[i], 16);
    }
    /* Edges checked by value. */
    uint64_t v;
    const char *end;
    assert_int_equal(mds_parse_u64("18446744073709551615", 10, &v, &end), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(mds_parse_u64("18446744073709551616", 10, &v, &end), -1);
    assert_int_equal(mds_parse_u64("0xFFFFFFFFFFFFFFFF", 0, &v, &end), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(mds_parse_u64("0x10000000000000000", 0, &v, &end), -1);
    assert_int_equal(mds_parse_u64("123", 10, &v, NULL), 0);
    assert_int_equal(v, 123);
}

/* The string builder against snprintf of the same pieces, for every cap:
 * the result is always snprintf's (possibly cut) text and overflow is set
 * exactly when something was cut. */
static void test_sbuf(void **state)
{
    (void)state;
    char full[256], a[256];
    for (size_t i = 0; i < 200; i++) {
        uint64_t u = vals[i];
        int64_t s = (int64_t)vals[NV - 1 - i];
        int width = (int)(i % 20);
        int n = snprintf(full, sizeof full, "pc=%llu sp=%lld x=%0*llx%c!",
                         (unsigned long long)u, (long long)s, width,
                         (unsigned long long)u, 'Z');
        assert_true(n > 0 && (size_t)n < sizeof full);
        for (size_t cap = 0; cap <= (size_t)n + 2; cap++) {
            mds_sbuf sb;
            memset(a, 'Q', sizeof a);
            mds_sbuf_init(&sb, a, cap);
            mds_sbuf_str(&sb, "pc=");
            mds_sbuf_u64(&sb, u);
            mds_sbuf_mem(&sb, " sp=XYZ", 4);
            mds_sbuf_i64(&sb, s);
            mds_sbuf_str(&sb, " x=");
            mds_sbuf_hex(&sb, u, width);
            mds_sbuf_char(&sb, 'Z');
            mds_sbuf_char(&sb, '!');
            if (cap == 0) {
                assert_int_equal(a[0], 'Q'); /* nothing written */
                assert_true(sb.overflow);
                continue;
            }
            char want[256];
            snprintf(want, cap, "%s", full);
            assert_string_equal(a, want);
            assert_int_equal(sb.len, strlen(want));
            assert_int_equal(sb.overflow, (size_t)n >= cap);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_strlen_strlcpy),
        cmocka_unit_test(test_strcmp_strncmp),
        cmocka_unit_test(test_parse_vs_strtoull),
        cmocka_unit_test(test_sbuf),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
