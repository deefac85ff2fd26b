/*
 * test_reader_corrupt.c - hostile and broken input: a real (fixture) report
 * (with every field, issue 11's included)
 * truncated at every length, every byte flipped, wrong magic/version/flags,
 * bad indexes with a valid CRC, empty file, directory, FIFO, missing path;
 * each gives its error code, never crashes, and leaves the file in place.
 * Also mayday_reports_list (order, filtering) and mayday_report_purge
 * (deletes only mayday reports).
 *
 * Context: test program (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "common.h"
#include "schema_check.h"
#include "fixture.h"
#include "normal/reader/reader.h"

typedef struct ctx {
    char *dir;
    unsigned char *good;
    size_t len;
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));
    c->dir = tc_mkdtemp("corrupt");
    /* With issue 11's fields (stacks, FP, windows, maps, attachments). */
    fx_opts o = {.contents = 1};
    Mayday__Report *pb = fx_build(&o);
    c->good = fx_frame(pb, &c->len);
    fx_free(pb);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    tc_rmtree(c->dir);
    free(c->dir);
    free(c->good);
    free(c);
    return 0;
}

/* Writes bytes to DIR/name, loads, checks the code and that the file is
 * still there with the same size. */
static int load_bytes(ctx *c, const char *name, const void *b, size_t n)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    assert_int_equal(fx_write_file(path, b, n), 0);
    mayday_report *r = (mayday_report *)0x1;
    int rc = mayday_report_load(path, &r);
    if (rc == 0)
        mayday_report_free(r);
    else
        assert_null(r);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, n);
    return rc;
}

static void test_good(void **state)
{
    ctx *c = *state;
    assert_int_equal(load_bytes(c, "good.mayday", c->good, c->len), 0);
    mayday_report *r;
    assert_int_equal(mayday_report_parse(c->good, c->len, &r), 0);
    mayday_report_free(r);
}

static void test_truncated_every_length(void **state)
{
    ctx *c = *state;
    for (size_t n = 0; n < c->len; n++) {
        mayday_report *r = (mayday_report *)0x1;
        int rc = mayday_report_parse(c->good, n, &r);
        if (rc != MAYDAY_ECORRUPT)
            fail_msg("parse of %zu/%zu bytes gave %d", n, c->len, rc);
        assert_null(r);
        rc = load_bytes(c, "cut.mayday", c->good, n);
        if (rc != MAYDAY_ECORRUPT)
            fail_msg("load of %zu/%zu bytes gave %d", n, c->len, rc);
    }
    /* Trailing garbage is corrupt too. */
    unsigned char *b = malloc(c->len + 1);
    memcpy(b, c->good, c->len);
    b[c->len] = 0;
    assert_int_equal(load_bytes(c, "long.mayday", b, c->len + 1),
                     MAYDAY_ECORRUPT);
    free(b);
}

static void test_flipped_bytes(void **state)
{
    ctx *c = *state;
    unsigned char *b = malloc(c->len);
    for (size_t i = 0; i < c->len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(b, c->good, c->len);
            b[i] ^= (unsigned char)(1u << bit);
            int want = i < 6   ? MAYDAY_EFOREIGN
                       : i < 8 ? MAYDAY_EVERSION
                               : MAYDAY_ECORRUPT;
            mayday_report *r = NULL;
            int rc = mayday_report_parse(b, c->len, &r);
            if (rc != want)
                fail_msg("flip bit %d of byte %zu gave %d, want %d", bit, i, rc,
                         want);
        }
    }
    /* Through files too, for the header bytes and a few message bytes. */
    for (size_t i = 0; i < 40; i++) {
        memcpy(b, c->good, c->len);
        b[i] ^= 0x40;
        int rc = load_bytes(c, "flip.mayday", b, c->len);
        assert_true(rc == MAYDAY_EFOREIGN || rc == MAYDAY_EVERSION ||
                    rc == MAYDAY_ECORRUPT);
    }
    free(b);
}

static void test_header_errors(void **state)
{
    ctx *c = *state;
    unsigned char *b = malloc(c->len);
    memcpy(b, c->good, c->len);
    memcpy(b, "MAYDAZ", 6);
    assert_int_equal(load_bytes(c, "magic.mayday", b, c->len), MAYDAY_EFOREIGN);
    memcpy(b, c->good, c->len);
    b[6] = 2;
    assert_int_equal(load_bytes(c, "v2.mayday", b, c->len), MAYDAY_EVERSION);
    b[6] = 0;
    assert_int_equal(load_bytes(c, "v0.mayday", b, c->len), MAYDAY_EVERSION);
    memcpy(b, c->good, c->len);
    b[7] = 1;
    assert_int_equal(load_bytes(c, "flags.mayday", b, c->len), MAYDAY_EVERSION);
    /* Length field larger than the file / huge. */
    memcpy(b, c->good, c->len);
    b[11] = 0x7f;
    assert_int_equal(load_bytes(c, "len.mayday", b, c->len), MAYDAY_ECORRUPT);
    memset(b + 8, 0xff, 4);
    assert_int_equal(load_bytes(c, "len2.mayday", b, c->len), MAYDAY_ECORRUPT);
    free(b);
    /* Empty file: a report cut before its first byte. */
    assert_int_equal(load_bytes(c, "empty.mayday", "", 0), MAYDAY_ECORRUPT);
    /* Foreign files. */
    const char *txt = "hello, this is not a report\n";
    assert_int_equal(load_bytes(c, "text.mayday", txt, strlen(txt)),
                     MAYDAY_EFOREIGN);
    assert_int_equal(load_bytes(c, "elf.mayday",
                                "\x7f"
                                "ELF",
                                4),
                     MAYDAY_EFOREIGN);
    mayday_report *r;
    assert_int_equal(mayday_report_parse("MAY", 3, &r), MAYDAY_ECORRUPT);
    assert_int_equal(mayday_report_parse("XAY", 3, &r), MAYDAY_EFOREIGN);
    assert_int_equal(mayday_report_parse(NULL, 0, &r), MAYDAY_ECORRUPT);
    assert_int_equal(mayday_report_parse(NULL, 5, &r), MAYDAY_EINVAL);
    assert_int_equal(mayday_report_parse(c->good, c->len, NULL), MAYDAY_EINVAL);
}

static void test_paths(void **state)
{
    ctx *c = *state;
    mayday_report *r;
    char path[4200];
    assert_int_equal(mayday_report_load(c->dir, &r), MAYDAY_EISDIR);
    snprintf(path, sizeof(path), "%s/missing.mayday", c->dir);
    assert_int_equal(mayday_report_load(path, &r), MAYDAY_ENOENT);
    snprintf(path, sizeof(path), "%s/fifo.mayday", c->dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(mayday_report_load(path, &r), MAYDAY_EFOREIGN);
    unlink(path);
    assert_int_equal(mayday_report_load("/dev/null", &r), MAYDAY_EFOREIGN);
    assert_int_equal(mayday_report_load(NULL, &r), MAYDAY_EINVAL);
}

/* Frames a hand-made message with a valid CRC. */
static int parse_message(Mayday__Report *pb)
{
    size_t len;
    unsigned char *b = fx_frame(pb, &len);
    mayday_report *r = NULL;
    int rc = mayday_report_parse(b, len, &r);
    mayday_report_free(r);
    free(b);
    return rc;
}

static void test_bad_indexes(void **state)
{
    (void)state;
    Mayday__Report *pb = fx_build(NULL);
    assert_int_equal(parse_message(pb), 0);
    pb->crashed_thread = (uint32_t)pb->n_threads;
    assert_int_equal(parse_message(pb), MAYDAY_ECORRUPT);
    pb->crashed_thread = 0;
    Mayday__Frame *f = pb->threads[1]->frames[0];
    uint32_t keep = f->image;
    f->has_image = 1;
    f->image = (uint32_t)pb->n_images;
    assert_int_equal(parse_message(pb), MAYDAY_ECORRUPT);
    /* Cut by the size cap before the image list: the frame loses its
     * image, the report loads. */
    pb->has_truncated = pb->truncated = 1;
    {
        size_t len;
        unsigned char *b = fx_frame(pb, &len);
        mayday_report *r = NULL;
        assert_int_equal(mayday_report_parse(b, len, &r), 0);
        const Mayday__Report *got = md_report_pb(r);
        assert_false(got->threads[1]->frames[0]->has_image);
        FILE *dn = fopen("/dev/null", "w");
        assert_int_equal(mayday_report_format(r, MAYDAY_FORMAT_TEXT, dn), 0);
        assert_int_equal(mayday_report_format(r, MAYDAY_FORMAT_JSON, dn), 0);
        fclose(dn);
        mayday_report_free(r);
        free(b);
    }
    pb->has_truncated = pb->truncated = 0;
    f->image = keep;
    pb->threads[0]->n_registers--;
    assert_int_equal(parse_message(pb), MAYDAY_ECORRUPT);
    pb->threads[0]->n_registers++;
    pb->header->uuid.len = 3;
    assert_int_equal(parse_message(pb), MAYDAY_ECORRUPT);
    pb->header->uuid.len = 16;
    assert_int_equal(parse_message(pb), 0);
    fx_free(pb);

    /* Random bytes with a valid CRC: decoded or rejected, never a crash. */
    unsigned int seed = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = (size_t)(rand_r(&seed) % 300);
        unsigned char buf[16 + 300];
        for (size_t i = 0; i < n; i++)
            buf[16 + i] = (unsigned char)rand_r(&seed);
        size_t len;
        Mayday__Report empty = MAYDAY__REPORT__INIT;
        unsigned char *h = fx_frame(&empty, &len); /* header template */
        memcpy(buf, h, 16);
        free(h);
        /* Re-frame with the right length and CRC over the random body. */
        Mayday__Report *dec = mayday__report__unpack(NULL, n, buf + 16);
        mayday_report *r = NULL;
        if (dec) {
            unsigned char *b = fx_frame(dec, &len);
            int rc = mayday_report_parse(b, len, &r);
            assert_true(rc == 0 || rc == MAYDAY_ECORRUPT);
            if (rc == 0) {
                FILE *f2 = fopen("/dev/null", "w");
                assert_int_equal(
                    mayday_report_format(r, MAYDAY_FORMAT_TEXT, f2), 0);
                fclose(f2);
                int frc;
                char *js = tc_format(r, MAYDAY_FORMAT_JSON, NULL, &frc);
                assert_int_equal(frc, 0);
                jm_schema_collect(js, strlen(js));
                free(js);
                mayday_report_free(r);
            }
            free(b);
            mayday__report__free_unpacked(dec, NULL);
        }
    }
}

/* ---------------------------------------------------------- list, purge */

static void write_at(ctx *c, const char *name, int64_t t)
{
    fx_opts o = {.time_ns = t};
    Mayday__Report *pb = fx_build(&o);
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    assert_int_equal(fx_write_report(pb, path), 0);
    fx_free(pb);
}

static void test_list_and_purge(void **state)
{
    ctx *c = *state;
    tc_rmtree(c->dir);
    free(c->dir);
    c->dir = tc_mkdtemp("list");
    /* Names in the reverse order of the report times. */
    write_at(c, "a.mayday", 3000000000000000000ll);
    write_at(c, "b.mayday", 1500000000000000000ll);
    write_at(c, "c.mayday", 1000000000000000000ll);
    write_at(c, "d.mayday.tmp", 500);
    write_at(c, ".hidden.mayday", 500);
    write_at(c, "report.bin", 500);
    char path[4200];
    snprintf(path, sizeof(path), "%s/foreign.mayday", c->dir);
    assert_int_equal(fx_write_file(path, "hello", 5), 0);
    /* A report cut short: listed (so it can be purged), sorted by mtime
     * (now: after the 2017 report, before the 2065 one). */
    snprintf(path, sizeof(path), "%s/cut.mayday", c->dir);
    assert_int_equal(fx_write_file(path, c->good, 100), 0);
    snprintf(path, sizeof(path), "%s/sub.mayday", c->dir);
    assert_int_equal(mkdir(path, 0700), 0);

    char **paths;
    size_t n;
    assert_int_equal(mayday_reports_list(c->dir, &paths, &n), 0);
    assert_int_equal(n, 4);
    const char *want[] = {"c.mayday", "b.mayday", "cut.mayday", "a.mayday"};
    for (size_t i = 0; i < n; i++) {
        char w[4200];
        snprintf(w, sizeof(w), "%s/%s", c->dir, want[i]);
        assert_string_equal(paths[i], w);
    }

    /* purge: only mayday reports. */
    assert_int_equal(mayday_report_purge(paths[0]), 0);
    assert_false(tc_exists(paths[0]));
    assert_int_equal(mayday_report_purge(paths[0]), MAYDAY_ENOENT);
    assert_int_equal(mayday_report_purge(paths[2]), 0); /* cut short */
    snprintf(path, sizeof(path), "%s/foreign.mayday", c->dir);
    assert_int_equal(mayday_report_purge(path), MAYDAY_EFOREIGN);
    assert_true(tc_exists(path));
    snprintf(path, sizeof(path), "%s/report.bin", c->dir);
    assert_int_equal(mayday_report_purge(path), MAYDAY_EFOREIGN);
    assert_true(tc_exists(path));
    snprintf(path, sizeof(path), "%s/d.mayday.tmp", c->dir);
    assert_int_equal(mayday_report_purge(path), MAYDAY_EFOREIGN);
    assert_true(tc_exists(path));
    snprintf(path, sizeof(path), "%s/sub.mayday", c->dir);
    assert_int_equal(mayday_report_purge(path), MAYDAY_EISDIR);
    assert_true(tc_exists(path));
    /* A symlink named like a report is neither followed nor removed. */
    char link[4200];
    snprintf(link, sizeof(link), "%s/link.mayday", c->dir);
    assert_int_equal(symlink(paths[1], link), 0);
    assert_int_equal(mayday_report_purge(link), MAYDAY_EFOREIGN);
    assert_true(tc_exists(link));
    assert_true(tc_exists(paths[1]));
    mayday_reports_list_free(paths, n);

    assert_int_equal(mayday_reports_list("/nonexistent-mayday", &paths, &n),
                     MAYDAY_ENOENT);
    assert_int_equal(mayday_reports_list("/dev/null", &paths, &n),
                     MAYDAY_ENOTDIR);
    assert_int_equal(mayday_report_purge(NULL), MAYDAY_EINVAL);
}

/* Every JSON output of this program against docs/report.schema.json. */
static void test_json_schema(void **state)
{
    (void)state;
    assert_int_equal(jm_schema_validate(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bad_indexes),
        cmocka_unit_test(test_list_and_purge),
        cmocka_unit_test(test_json_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
