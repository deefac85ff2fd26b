/*
 * test_unwind.h - shared by test_unwind.c and test_unwind_child.c.
 * Context: test code.
 */
#ifndef WALK_TEST_UNWIND_H
#define WALK_TEST_UNWIND_H

#include <stdio.h>

#include "walk_util.h"

#define DEPTH 40
#define MAXF 512

int rec_o0_fp(int, void (*)(void *), void *);
int rec_o0_nofp(int, void (*)(void *), void *);
int rec_o2_fp(int, void (*)(void *), void *);
int rec_o2_nofp(int, void (*)(void *), void *);
int rec_nocfi_fp(int, void (*)(void *), void *);
int rec_nocfi_nofp(int, void (*)(void *), void *);
#if defined(__aarch64__)
int rec_o2_pac(int, void (*)(void *), void *); /* -mbranch-protection=pac-ret */
#endif
void *rec_nocfi_fp_site1(void);
void *rec_nocfi_fp_site2(void);
void *wt_thread_main(void *);

extern mds_walker *g_w;
extern mds_image_table *g_t;
extern mds_frame g_f[MAXF];

/* Captures the images into g_t and walks r with g_w. */
int walk(const mds_regs *r, mds_frame *f, int max, int *capped);
/* 1 if every frame's sp is above the previous one. */
int sp_rises(const mds_frame *f, int n);
/* cmocka: the child exited with status 0. */
void assert_child_ok(int st);

/* In a forked child: returns a non-zero exit code naming the line. */
#define CHILD_CHECK(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "child check failed at line %d: %s\n", __LINE__,   \
                    #cond);                                                    \
            return __LINE__ % 200 + 1;                                         \
        }                                                                      \
    } while (0)

void test_null_call(void **state);
void test_corrupt_stacks(void **state);
void test_fuzz_fabricated(void **state);
void test_loader_lock(void **state);
void test_stack_overflow(void **state);

#endif
