/*
 * test_writer.c - tests of the capped, buffered crash-path writer
 * (Source/crash/core/writer.h) and its CRC-32.
 *
 * Context: normal-context test program (cmocka). Expected file contents are
 * built by the test itself in a plain array; CRCs come from zlib.
 *
 * mds_write, mds_pwrite and mds_pread are wrapped at link time (-Wl,--wrap,
 * see CMakeLists.txt) so the test can count calls (a CRC computed as the
 * bytes are written reads nothing back) and inject short writes, EINTR and
 * zero-byte writes without touching the writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "crash/core/writer.h"
#include "mayday/mayday.h"

/* ------------------------------------------------------------ wrapping */

long __real_mds_write(int fd, const void *buf, size_t len);
long __real_mds_pread(int fd, void *buf, size_t len, int64_t off);
long __wrap_mds_pread(int fd, void *buf, size_t len, int64_t off);
long __real_mds_pwrite(int fd, const void *buf, size_t len, int64_t off);
long __wrap_mds_write(int fd, const void *buf, size_t len);
long __wrap_mds_pwrite(int fd, const void *buf, size_t len, int64_t off);

enum { MODE_PASS, MODE_SHORT, MODE_ZERO };
static struct {
    int mode;
    size_t max_chunk; /* MODE_SHORT: at most this many bytes per call */
    int eintr_every;  /* MODE_SHORT: every n-th call fails with -EINTR */
    int calls, pcalls, reads;
    int short_calls;  /* calls that wrote less than asked */
    int eintr_seen;   /* -EINTR returned (injected or real) */
    int partial_seen; /* real syscall returned less than asked */
} wr;

static void wrap_reset(int mode)
{
    memset(&wr, 0, sizeof wr);
    wr.mode = mode;
    wr.max_chunk = 5;
    wr.eintr_every = 3;
}

static long wrapped(int is_p, int fd, const void *buf, size_t len, int64_t off)
{
    int n = is_p ? ++wr.pcalls : ++wr.calls;
    size_t ask = len;
    if (wr.mode == MODE_ZERO)
        return 0;
    if (wr.mode == MODE_SHORT) {
        if (wr.eintr_every && n % wr.eintr_every == 0) {
            wr.eintr_seen++;
            return -EINTR;
        }
        if (ask > wr.max_chunk)
            ask = wr.max_chunk;
    }
    long r = is_p ? __real_mds_pwrite(fd, buf, ask, off)
                  : __real_mds_write(fd, buf, ask);
    if (r == -EINTR)
        wr.eintr_seen++;
    if (r >= 0 && (size_t)r < ask)
        wr.partial_seen++;
    if (r >= 0 && (size_t)r < len)
        wr.short_calls++;
    return r;
}

long __wrap_mds_write(int fd, const void *buf, size_t len)
{
    return wrapped(0, fd, buf, len, 0);
}

long __wrap_mds_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
    return wrapped(1, fd, buf, len, off);
}

long __wrap_mds_pread(int fd, void *buf, size_t len, int64_t off)
{
    wr.reads++;
    return __real_mds_pread(fd, buf, len, off);
}

/* ------------------------------------------------------------- helpers */

static int tmp_file(void)
{
    char path[] = "/tmp/mayday-test-writer-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* Reads the whole file into a malloc'ed buffer; *n gets its size. */
static unsigned char *slurp(int fd, size_t *n)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char *p = malloc((size_t)st.st_size + 1);
    assert_non_null(p);
    assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
    *n = (size_t)st.st_size;
    return p;
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
}

static void assert_file_equals(int fd, const unsigned char *want, size_t n)
{
    size_t got_n;
    unsigned char *got = slurp(fd, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, want, n);
    free(got);
}

/* ---------------------------------------------------------------- tests */

static void test_cap_memory_all_or_nothing(void **state)
{
    (void)state;
    unsigned char buf[100], a[100];
    mds_writer w;
    fill_pattern(a, sizeof a, 1);
    /* Memory mode clamps the limit to the buffer. */
    mds_writer_init(&w, -1, buf, sizeof buf, 1000);
    assert_int_equal(w.limit, 100);

    memset(buf, 0xEE, sizeof buf);
    assert_int_equal(mds_writer_put(&w, a, 60), 0);
    assert_int_equal(mds_writer_pos(&w), 60);
    /* 41 more would pass the cap: nothing at all is written. */
    assert_int_equal(mds_writer_put(&w, a + 60, 41), MAYDAY_ETOOBIG);
    assert_int_equal(mds_writer_pos(&w), 60);
    assert_int_equal(buf[60], 0xEE);
    /* Not sticky: a write that fits still goes in, up to exactly the cap. */
    assert_int_equal(w.err, 0);
    assert_int_equal(mds_writer_put(&w, a + 60, 40), 0);
    assert_int_equal(mds_writer_pos(&w), 100);
    assert_memory_equal(buf, a, 100);
    assert_int_equal(mds_writer_put(&w, a, 1), MAYDAY_ETOOBIG);
    assert_int_equal(mds_writer_put(&w, a, 0), 0);
    /* A length that alone exceeds the limit (and would overflow pos+n). */
    assert_int_equal(mds_writer_put(&w, a, SIZE_MAX), MAYDAY_ETOOBIG);
    assert_int_equal(mds_writer_pos(&w), 100);
}

static void test_cap_file_all_or_nothing(void **state)
{
    (void)state;
    unsigned char buf[16], a[64];
    int fd = tmp_file();
    mds_writer w;
    fill_pattern(a, sizeof a, 2);
    mds_writer_init(&w, fd, buf, sizeof buf, 50);
    assert_int_equal(w.limit, 50); /* not clamped in file mode */
    assert_int_equal(mds_writer_put(&w, a, 30), 0);
    assert_int_equal(mds_writer_put(&w, a + 30, 21), MAYDAY_ETOOBIG);
    assert_int_equal(mds_writer_pos(&w), 30);
    assert_int_equal(mds_writer_put(&w, a + 30, 20), 0);
    assert_int_equal(mds_writer_put(&w, a, 1), MAYDAY_ETOOBIG);
    assert_int_equal(mds_writer_flush(&w), 0);
    assert_int_equal(w.err, 0);
    assert_file_equals(fd, a, 50);
    close(fd);
}

/* File mode, small buffer: flush, patch (file part, straddling part, buffer
 * part), rewind; the expected bytes are maintained in a plain array. */
static void test_flush_patch_rewind(void **state)
{
    (void)state;
    unsigned char buf[16], want[200], src[200];
    int fd = tmp_file();
    mds_writer w;
    wrap_reset(MODE_PASS);
    fill_pattern(src, sizeof src, 3);
    mds_writer_init(&w, fd, buf, sizeof buf, 1 << 20);
    size_t n = 0;
    for (size_t k = 0; n + k <= 100; k = (k + 1) % 8) {
        assert_int_equal(mds_writer_put(&w, src + n, k), 0);
        memcpy(want + n, src + n, k);
        n += k;
    }
    assert_int_equal(mds_writer_pos(&w), n);
    assert_true(w.flushed > 0 && w.len > 0);

    /* Entirely in the file: pwrite. */
    static const unsigned char p1[] = {1, 2, 3, 4, 5};
    assert_int_equal(mds_writer_patch(&w, 3, p1, sizeof p1), 0);
    memcpy(want + 3, p1, sizeof p1);
    int pw = wr.pcalls;
    assert_int_equal(pw, 1);
    /* Straddling the flushed part and the buffer. */
    uint64_t edge = w.flushed;
    static const unsigned char p2[] = {9, 8, 7, 6};
    assert_true(w.len >= 2);
    assert_int_equal(mds_writer_patch(&w, edge - 2, p2, sizeof p2), 0);
    memcpy(want + edge - 2, p2, sizeof p2);
    assert_int_equal(wr.pcalls, 2);
    /* Entirely in the buffer: no syscall. */
    static const unsigned char p3[] = {0xAA};
    assert_int_equal(mds_writer_patch(&w, n - 1, p3, 1), 0);
    want[n - 1] = 0xAA;
    assert_int_equal(wr.pcalls, 2);
    /* Past the end. */
    assert_int_equal(mds_writer_patch(&w, n - 1, p2, 2), MAYDAY_EINVAL);
    assert_int_equal(w.err, 0);

    /* Rewind: not before the flushed part, not past the end. */
    assert_int_equal(mds_writer_rewind(&w, w.flushed - 1), MAYDAY_EINVAL);
    assert_int_equal(mds_writer_rewind(&w, n + 1), MAYDAY_EINVAL);
    uint64_t back = w.flushed + 1;
    assert_int_equal(mds_writer_rewind(&w, back), 0);
    assert_int_equal(mds_writer_pos(&w), back);
    n = (size_t)back;
    assert_int_equal(mds_writer_put(&w, src + 150, 30), 0);
    memcpy(want + n, src + 150, 30);
    n += 30;
    assert_int_equal(mds_writer_flush(&w), 0);
    assert_int_equal(w.len, 0);
    assert_int_equal(mds_writer_flush(&w), 0); /* nothing pending: no-op */
    assert_file_equals(fd, want, n);
    close(fd);
}

/* Normal path: one full write per buffer, no EINTR, no short write. */
static void test_normal_path_calls(void **state)
{
    (void)state;
    enum { CAP = 64, N = 1000 };
    unsigned char buf[CAP], src[N];
    int fd = tmp_file();
    mds_writer w;
    fill_pattern(src, N, 4);
    wrap_reset(MODE_PASS);
    mds_writer_init(&w, fd, buf, CAP, UINT64_MAX);
    for (size_t i = 0; i < N; i += 10)
        assert_int_equal(mds_writer_put(&w, src + i, 10), 0);
    assert_int_equal(mds_writer_flush(&w), 0);
    assert_int_equal(wr.calls, (N + CAP - 1) / CAP);
    assert_int_equal(wr.pcalls, 0);
    assert_int_equal(wr.short_calls, 0);
    assert_int_equal(wr.eintr_seen, 0);
    assert_file_equals(fd, src, N);
    close(fd);
}

/* Injected short writes and EINTR on write and pwrite: retried, the file is
 * still exactly right. */
static void test_short_writes_and_eintr(void **state)
{
    (void)state;
    enum { CAP = 64, N = 777 };
    unsigned char buf[CAP], src[N], want[N];
    int fd = tmp_file();
    mds_writer w;
    fill_pattern(src, N, 5);
    memcpy(want, src, N);
    wrap_reset(MODE_SHORT);
    mds_writer_init(&w, fd, buf, CAP, UINT64_MAX);
    for (size_t i = 0; i < N; i += 7)
        assert_int_equal(mds_writer_put(&w, src + i, i + 7 <= N ? 7 : N - i),
                         0);
    /* Patch 40 flushed bytes: pwrite, also short and interrupted. */
    static unsigned char p[40];
    fill_pattern(p, sizeof p, 6);
    assert_int_equal(mds_writer_patch(&w, 100, p, sizeof p), 0);
    memcpy(want + 100, p, sizeof p);
    assert_int_equal(mds_writer_flush(&w), 0);
    assert_int_equal(w.err, 0);
    assert_true(wr.short_calls > 10);
    assert_true(wr.eintr_seen > 10);
    /* 40 flushed bytes, 5 per call, every 3rd call EINTR: 8 + 3 calls. */
    assert_int_equal(wr.pcalls, 11);
    assert_file_equals(fd, want, N);
    close(fd);
}

/* A write that returns 0 makes no progress: EIO, sticky. */
static void test_zero_write_is_eio(void **state)
{
    (void)state;
    unsigned char buf[8];
    int fd = tmp_file();
    mds_writer w;
    wrap_reset(MODE_ZERO);
    mds_writer_init(&w, fd, buf, sizeof buf, 1000);
    assert_int_equal(mds_writer_put(&w, "0123456789", 10), MAYDAY_EIO);
    assert_int_equal(w.err, MAYDAY_EIO);
    assert_int_equal(mds_writer_put(&w, "x", 1), MAYDAY_EIO);
    assert_int_equal(wr.calls, 1);
    wrap_reset(MODE_PASS);
    close(fd);
}

static void test_dev_full_enospc_sticky(void **state)
{
    (void)state;
    unsigned char buf[16];
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        skip();
    mds_writer w;
    wrap_reset(MODE_PASS);
    mds_writer_init(&w, fd, buf, sizeof buf, 1000);
    /* Fits in the buffer: no I/O yet. */
    assert_int_equal(mds_writer_put(&w, "0123456789", 10), 0);
    assert_int_equal(wr.calls, 0);
    /* Fills the buffer, flushes: the kernel says ENOSPC. */
    assert_int_equal(mds_writer_put(&w, "0123456789", 10), MAYDAY_ENOSPC);
    assert_int_equal(w.err, MAYDAY_ENOSPC);
    int calls = wr.calls;
    /* Sticky: every later call returns it without trying again. */
    assert_int_equal(mds_writer_put(&w, "x", 1), MAYDAY_ENOSPC);
    assert_int_equal(mds_writer_flush(&w), MAYDAY_ENOSPC);
    assert_int_equal(mds_writer_patch(&w, 0, "y", 1), MAYDAY_ENOSPC);
    assert_int_equal(mds_writer_rewind(&w, 0), MAYDAY_ENOSPC);
    uint32_t crc;
    assert_int_equal(mds_writer_crc32(&w, 0, &crc), MAYDAY_ENOSPC);
    assert_int_equal(wr.calls, calls);
    close(fd);
}

static void test_crc32_vectors(void **state)
{
    (void)state;
    /* The CRC-32/ISO-HDLC check value (the catalogue's "check"). */
    assert_int_equal(mds_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(mds_crc32(0, "", 0), 0);
    assert_int_equal(crc32(0, (const Bytef *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(mds_crc32(0, "a", 1), crc32(0, (const Bytef *)"a", 1));
    static const char fox[] = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(mds_crc32(0, fox, strlen(fox)), 0x414FA339u);

    /* Random buffers, all lengths 0..300, whole and chained. */
    unsigned char b[300];
    fill_pattern(b, sizeof b, 7);
    for (size_t n = 0; n <= sizeof b; n++) {
        uint32_t z = (uint32_t)crc32(0, b, (uInt)n);
        assert_int_equal(mds_crc32(0, b, n), z);
        size_t half = n / 3;
        assert_int_equal(mds_crc32(mds_crc32(0, b, half), b + half, n - half),
                         z);
    }
}

/* CRC over a file-mode output (patched, flushed, partly buffered) equals
 * zlib's CRC over the bytes read back from the file. */
static void test_writer_crc32_file(void **state)
{
    (void)state;
    enum { CAP = 64, N = 5000 };
    unsigned char buf[CAP], *src = malloc(N);
    int fd = tmp_file();
    mds_writer w;
    assert_non_null(src);
    fill_pattern(src, N, 8);
    wrap_reset(MODE_PASS);
    mds_writer_init(&w, fd, buf, CAP, UINT64_MAX);
    for (size_t i = 0; i < N; i += 50)
        assert_int_equal(mds_writer_put(&w, src + i, 50), 0);
    assert_int_equal(mds_writer_patch(&w, 10, "PATCH", 5), 0);
    assert_true(w.len > 0); /* some bytes still only in the buffer */

    uint32_t c0, c16;
    assert_int_equal(mds_writer_crc32(&w, 0, &c0), 0);
    assert_int_equal(mds_writer_crc32(&w, 16, &c16), 0);
    assert_int_equal(mds_writer_crc32(&w, N + 1, &c16), MAYDAY_EINVAL);
    assert_int_equal(mds_writer_crc32(&w, 16, &c16), 0);

    size_t n;
    unsigned char *file = slurp(fd, &n);
    assert_int_equal(n, N);
    assert_int_equal(c0, (uint32_t)crc32(0, file, (uInt)n));
    assert_int_equal(c16, (uint32_t)crc32(0, file + 16, (uInt)(n - 16)));
    assert_int_equal(mds_writer_crc32(&w, N, &c0), 0);
    assert_int_equal(c0, 0);

    /* The writer is still usable after the read-back. */
    assert_int_equal(mds_writer_put(&w, "tail", 4), 0);
    assert_int_equal(mds_writer_flush(&w), 0);
    free(file);
    file = slurp(fd, &n);
    assert_int_equal(n, N + 4);
    assert_memory_equal(file + N, "tail", 4);
    free(file);
    free(src);
    close(fd);
}

static void test_writer_crc32_memory(void **state)
{
    (void)state;
    unsigned char buf[256], src[200];
    mds_writer w;
    fill_pattern(src, sizeof src, 9);
    mds_writer_init(&w, -1, buf, sizeof buf, sizeof buf);
    assert_int_equal(mds_writer_put(&w, src, sizeof src), 0);
    uint32_t c;
    assert_int_equal(mds_writer_crc32(&w, 5, &c), 0);
    assert_int_equal(c, (uint32_t)crc32(0, src + 5, sizeof src - 5));
    assert_int_equal(mds_writer_crc32(&w, 201, &c), MAYDAY_EINVAL);
}


/* The slice-by-8 CRC against zlib: every alignment of the start, lengths
 * around the 8-byte steps and long buffers, whole and chained. */
static void test_crc32_slices(void **state)
{
    (void)state;
    enum { N = 70000 };
    unsigned char *b = malloc(N + 8);
    assert_non_null(b);
    fill_pattern(b, N + 8, 11);
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n < 80; n++)
            assert_int_equal(mds_crc32(0, b + off, n),
                             (uint32_t)crc32(0, b + off, (uInt)n));
        size_t big[] = {4095, 4096, 65537, N};
        for (size_t i = 0; i < 4; i++) {
            uint32_t z = (uint32_t)crc32(0, b + off, (uInt)big[i]);
            assert_int_equal(mds_crc32(0, b + off, big[i]), z);
            size_t cut = big[i] / 3 + off;
            assert_int_equal(
                mds_crc32(mds_crc32(0, b + off, cut), b + off + cut,
                          big[i] - cut),
                z);
        }
    }
    free(b);
}

/* The algebra: crc(A xor D) = crc(A) xor raw(D); a raw value shifted by n
 * zero bytes; crc(B) out of crc(A || B) (zlib's crc32_combine). */
static void test_crc32_algebra(void **state)
{
    (void)state;
    unsigned char a[3000], d[3000], x[3000];
    fill_pattern(a, sizeof a, 12);
    uint32_t seed = 5;
    for (int it = 0; it < 200; it++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + seed % sizeof a, p = (seed >> 8) % n;
        size_t k = 1 + (seed >> 16) % (n - p);
        memset(d, 0, n);
        fill_pattern(d + p, k, (unsigned)it + 100);
        for (size_t i = 0; i < n; i++)
            x[i] = a[i] ^ d[i];
        uint32_t ca = (uint32_t)crc32(0, a, (uInt)n);
        uint32_t cx = (uint32_t)crc32(0, x, (uInt)n);
        /* raw of the change alone, then shifted past the rest */
        uint32_t raw = mds_crc32_shift(mds_crc32_raw(d + p, k), n - p - k);
        assert_int_equal(ca ^ raw, cx);
        assert_int_equal(mds_crc32_raw(d, n), raw); /* zeros in front */
        /* suffix: crc of a[p..n) from crc(a[0..n)) and crc(a[0..p)) */
        uint32_t cp = (uint32_t)crc32(0, a, (uInt)p);
        assert_int_equal(mds_crc32_suffix(ca, cp, n - p),
                         (uint32_t)crc32(0, a + p, (uInt)(n - p)));
        assert_int_equal(
            (uint32_t)crc32_combine(cp, crc32(0, a + p, (uInt)(n - p)),
                                    (z_off_t)(n - p)),
            ca);
    }
    assert_int_equal(mds_crc32_shift(0, 12345), 0);
    assert_int_equal(mds_crc32_shift(0x12345678u, 0), 0x12345678u);
}

/* The writer's CRC as written: random puts, and patches of bytes already
 * flushed or still buffered (with the old bytes given, or inside the kept
 * head), through buffers of several sizes: the CRC from 0 and from 16
 * equals zlib's over the file, and nothing is read back. A patch of
 * unknown old bytes past the head makes it read the file back, still
 * right. */
static void test_writer_crc_as_written(void **state)
{
    (void)state;
    enum { N = 20000 };
    unsigned char *model = malloc(N + 64), *src = malloc(N), *was = malloc(N);
    assert_non_null(model);
    assert_non_null(src);
    assert_non_null(was);
    fill_pattern(src, N, 13);
    const size_t caps[] = {64, 100, 333, 4096, 65536};
    uint32_t seed = 77;
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (int stale = 0; stale < 2; stale++) {
            unsigned char *buf = malloc(caps[ci]);
            int fd = tmp_file();
            mds_writer w;
            wrap_reset(MODE_PASS);
            mds_writer_init(&w, fd, buf, caps[ci], UINT64_MAX);
            size_t len = 0;
            while (len < N - 200) {
                seed = seed * 1103515245u + 12345u;
                size_t n = 1 + seed % 150;
                assert_int_equal(mds_writer_put(&w, src + len, n), 0);
                memcpy(model + len, src + len, n);
                len += n;
                if (seed % 5 == 0) { /* overwrite a few earlier bytes */
                    size_t k = 1 + (seed >> 8) % 5;
                    size_t at = (seed >> 12) % (len - k + 1);
                    unsigned char nb[5];
                    for (size_t i = 0; i < k; i++)
                        nb[i] = (unsigned char)(seed >> (i + 3));
                    memcpy(was, model + at, k);
                    if (at + k <= MDS_WRITER_HEAD && seed % 2)
                        assert_int_equal(mds_writer_patch(&w, at, nb, k), 0);
                    else
                        assert_int_equal(
                            mds_writer_patch_over(&w, at, nb, was, k), 0);
                    memcpy(model + at, nb, k);
                }
            }
            if (stale && len > 1000) { /* unknown old bytes, past the head */
                assert_int_equal(mds_writer_flush(&w), 0);
                assert_int_equal(mds_writer_patch(&w, 900, "XY", 2), 0);
                memcpy(model + 900, "XY", 2);
            }
            uint32_t c0, c16;
            assert_int_equal(mds_writer_crc32(&w, 0, &c0), 0);
            assert_int_equal(mds_writer_crc32(&w, 16, &c16), 0);
            assert_int_equal(c0, (uint32_t)crc32(0, model, (uInt)len));
            assert_int_equal(c16,
                             (uint32_t)crc32(0, model + 16, (uInt)(len - 16)));
            assert_file_equals(fd, model, len);
            if (stale)
                assert_true(wr.reads > 0);
            else
                assert_int_equal(wr.reads, 0);
            close(fd);
            free(buf);
        }
    }
    free(model);
    free(src);
    free(was);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_memory_all_or_nothing),
        cmocka_unit_test(test_cap_file_all_or_nothing),
        cmocka_unit_test(test_flush_patch_rewind),
        cmocka_unit_test(test_normal_path_calls),
        cmocka_unit_test(test_short_writes_and_eintr),
        cmocka_unit_test(test_zero_write_is_eio),
        cmocka_unit_test(test_dev_full_enospc_sticky),
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_writer_crc32_file),
        cmocka_unit_test(test_writer_crc32_memory),
        cmocka_unit_test(test_crc32_slices),
        cmocka_unit_test(test_crc32_algebra),
        cmocka_unit_test(test_writer_crc_as_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
