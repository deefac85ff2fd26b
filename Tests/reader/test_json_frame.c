/*
 * test_json_frame.c - the JSON fast path for frames (json_frame.c) writes
 * exactly the bytes of the general md_jw_* path, for frames of every
 * shape: null and present fields, strings that need escaping or are
 * long, at several depths, pretty and compact, and across the writer's
 * buffer boundary (a flush in the middle of a run of frames). The whole
 * output of both runs is also valid JSON (json_mini).
 *
 * Context: a test program (normal code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_mini.h"
#include "normal/reader/json_frame.h"

static const char *const strs[] = {
    NULL, "", "main", "libc.so.6", "/usr/src/a file.c",
    "std::vector<int>::operator[](unsigned long)",
    "quote\"and\\back", "tab\there", "\x01\x7f", "caf\xc3\xa9",
    "bad \xff utf8",
};
#define NSTRS (sizeof strs / sizeof strs[0])

static char longstr[700];

static const char *pick(unsigned *seed)
{
    unsigned k = (unsigned)rand_r(seed) % (NSTRS + 1);
    return k == NSTRS ? longstr : strs[k];
}

static void random_frame(md_jf_frame *x, unsigned *seed, uint64_t i)
{
    memset(x, 0, sizeof *x);
    x->index = i % 3 ? i : (uint64_t)rand_r(seed) * 1000003u;
    x->has_pc = rand_r(seed) % 4 != 0;
    x->pc = (uint64_t)rand_r(seed) << 20 | (uint64_t)rand_r(seed);
    x->has_sp = rand_r(seed) % 3 != 0;
    x->sp = i % 5 ? 0x7ffc00000000ull + i : 0;
    x->trust = rand_r(seed) % 5 ? "cfi" : NULL;
    x->has_image = rand_r(seed) % 2;
    x->image = (uint64_t)rand_r(seed) % 2000;
    x->image_name = pick(seed);
    x->image_name_len = x->image_name ? strlen(x->image_name) : 0;
    x->image_name_plain = 1;
    for (size_t c = 0; c < x->image_name_len; c++)
        if (md_jw__special[(unsigned char)x->image_name[c]])
            x->image_name_plain = 0;
    x->has_image_offset = rand_r(seed) % 2;
    x->image_offset = (uint64_t)rand_r(seed);
    x->symbol = pick(seed);
    x->has_offset = rand_r(seed) % 2;
    x->offset = (uint64_t)rand_r(seed) % 300;
    x->file = pick(seed);
    x->line = rand_r(seed) % 3 ? (uint32_t)rand_r(seed) % 5000 : 0;
    x->column = rand_r(seed) % 3 ? (uint32_t)rand_r(seed) % 90 : 0;
    x->inlined = rand_r(seed) % 2;
    x->elf_symbol = pick(seed);
    x->symbolicated = rand_r(seed) % 4 ? "symbolicated" : "no_debug_info";
}

/* n frames inside `depth` levels of objects/arrays, through the fast path
 * (fast = 1) or the general one; the output in a malloc'ed buffer. */
static char *render(int fast, int compact, int depth, int n, unsigned seed,
                    size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    assert_non_null(f);
    md_jw *j = malloc(sizeof *j);
    assert_non_null(j);
    md_jw_init(j, f, compact);
    md_jw_obj(j, NULL);
    for (int d = 0; d < depth; d++) {
        md_jw_arr(j, "outer");
        md_jw_obj(j, NULL);
        md_jw_u64(j, "level", 1, (uint64_t)d);
    }
    md_jw_arr(j, "frames");
    md_jf keys;
    md_jf_init(&keys, j);
    for (int i = 0; i < n; i++) {
        md_jf_frame x;
        random_frame(&x, &seed, (uint64_t)i);
        if (fast)
            md_jf_emit(j, &keys, &x);
        else
            md_jf_emit_slow(j, &x);
    }
    md_jw_end(j);
    md_jw_bool(j, "after", 1);
    assert_int_equal(md_jw_finish(j), 0);
    free(j);
    fclose(f);
    return out;
}

static void check(int compact, int depth, int n, unsigned seed)
{
    size_t la, lb;
    char *a = render(1, compact, depth, n, seed, &la);
    char *b = render(0, compact, depth, n, seed, &lb);
    if (la != lb || memcmp(a, b, la) != 0) {
        size_t k = 0;
        while (k < la && k < lb && a[k] == b[k])
            k++;
        fail_msg("compact %d depth %d: outputs differ at byte %zu:\n"
                 "fast:    %.80s\ngeneral: %.80s",
                 compact, depth, k, a + (k > 20 ? k - 20 : 0),
                 b + (k > 20 ? k - 20 : 0));
    }
    /* Nested deeper than the writer tracks, its output is flattened (not
     * JSON any more, and never a report's shape): equal bytes is all. */
    if (2 * depth + 3 <= MD_JW_MAX_DEPTH) {
        jm_node *j = jm_parse(a, la, 0);
        if (!j)
            fail_msg("compact %d depth %d: not valid JSON", compact, depth);
        jm_free(j);
    }
    free(a);
    free(b);
}

static void test_same_bytes(void **state)
{
    (void)state;
    memset(longstr, 'x', sizeof longstr - 1);
    longstr[sizeof longstr - 1] = 0;
    for (int compact = 0; compact < 2; compact++)
        for (int depth = 0; depth < 34; depth += (depth < 4 ? 1 : 7))
            check(compact, depth, 40, 1234u + (unsigned)depth);
}

/* Far more than the writer's 64 KiB buffer: flushes in the middle. */
static void test_across_flushes(void **state)
{
    (void)state;
    memset(longstr, 'y', sizeof longstr - 1);
    longstr[sizeof longstr - 1] = 0;
    check(0, 3, 3000, 99u);
    check(1, 3, 3000, 98u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_across_flushes),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
