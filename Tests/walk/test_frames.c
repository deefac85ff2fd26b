/*
 * test_frames.c - the frame sink (Source/crash/walk/frames.c): what a walk
 * deeper than its storage keeps. Frames are numbered by their depth (pc =
 * depth), so the expected output follows from the construction: the
 * innermost cap - outer depths, then the outermost outer depths, in
 * order, and the count of those in between.
 *
 * Context: test code (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crash/walk/frames.h"

#define CAP_MAX 64

/* Pushes depths 0..total-1 into a sink of cap slots (outer of them for the
 * outermost frames) and checks what comes out. */
static void check(size_t cap, size_t outer, uint64_t total)
{
    mds_frame *fr = malloc((cap + 1) * sizeof(mds_frame));
    assert_non_null(fr);
    memset(fr, 0xee, (cap + 1) * sizeof(mds_frame));
    mds_frame_sink s;
    mds_sink_init(&s, fr, cap, outer);
    uint64_t pushed = 0;
    for (uint64_t d = 0; d < total; d++) {
        mds_frame f = {(uintptr_t)d, (uintptr_t)(d * 16), 0, 2};
        if (!mds_sink_push(&s, &f))
            break;
        pushed++;
    }
    uint64_t omitted = 99;
    size_t at = 99;
    size_t n = mds_sink_finish(&s, &omitted, &at);
    /* Nothing beyond cap was touched. */
    const unsigned char *c = (const unsigned char *)&fr[cap];
    for (size_t i = 0; i < sizeof(mds_frame); i++)
        assert_int_equal(c[i], 0xee);
    if (outer == 0) {
        /* No ring: the innermost cap frames, the rest refused. */
        assert_int_equal(pushed, total < cap ? total : cap);
        assert_int_equal(n, pushed);
        assert_int_equal(omitted, 0);
        assert_int_equal(at, n);
        assert_int_equal(s.full, total > cap);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(fr[i].pc, i);
        free(fr);
        return;
    }
    assert_int_equal(pushed, total);
    if (total <= cap) {
        assert_int_equal(n, total);
        assert_int_equal(omitted, 0);
        assert_int_equal(at, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(fr[i].pc, i);
        free(fr);
        return;
    }
    size_t inner = cap - outer;
    assert_int_equal(n, cap);
    assert_int_equal(omitted, total - cap);
    assert_int_equal(at, inner);
    for (size_t i = 0; i < inner; i++)
        assert_int_equal(fr[i].pc, i);
    for (size_t i = 0; i < outer; i++) {
        assert_int_equal(fr[inner + i].pc, total - outer + i);
        assert_int_equal(fr[inner + i].sp, (total - outer + i) * 16);
    }
    free(fr);
}

static void test_sink_shapes(void **state)
{
    (void)state;
    /* Every ring position the last frame can end on, and the borders. */
    for (size_t cap = 1; cap <= CAP_MAX; cap += 7)
        for (size_t outer = 0; outer <= cap; outer++)
            for (uint64_t total = 0; total <= 3 * cap + 5; total++)
                check(cap, outer, total);
    check(512, 128, 100000);
    check(512, 128, 1u << 20);
}

static void test_sink_outer_clamped(void **state)
{
    (void)state;
    mds_frame fr[4];
    mds_frame_sink s;
    mds_sink_init(&s, fr, 4, 10); /* more outer slots than slots */
    assert_int_equal(s.outer, 4);
    assert_int_equal(s.inner, 0);
    for (uint64_t d = 0; d < 10; d++) {
        mds_frame f = {(uintptr_t)d, 0, 0, 2};
        assert_true(mds_sink_push(&s, &f));
    }
    uint64_t omitted;
    size_t at;
    assert_int_equal(mds_sink_finish(&s, &omitted, &at), 4);
    assert_int_equal(omitted, 6);
    assert_int_equal(at, 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(fr[i].pc, 6 + i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sink_shapes),
        cmocka_unit_test(test_sink_outer_clamped),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
