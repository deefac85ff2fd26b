/*
 * child_ssp.c - overwrites its own stack canary, built with
 * -fstack-protector-all and without _FORTIFY_SOURCE, so that
 * __stack_chk_fail reports "*** stack smashing detected ***: terminated".
 *
 * Context: a test program (normal code that fails on purpose).
 */
#include <stddef.h>
#include <stdio.h>

void child_smash_stack(size_t n);

__attribute__((noinline)) void child_smash_stack(size_t n)
{
    volatile char buf[8];
    for (size_t i = 0; i < n; i++)
        buf[i] = 'A';
    printf("%c\n", buf[0]);
}
