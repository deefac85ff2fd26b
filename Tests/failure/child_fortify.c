/*
 * child_fortify.c - a strcpy into a too small buffer, built with -O2
 * -D_FORTIFY_SOURCE=2 so that glibc's __strcpy_chk catches it ("*** buffer
 * overflow detected ***: terminated", then abort).
 *
 * Context: a test program (normal code that fails on purpose).
 */
#include <stdio.h>
#include <string.h>

void child_fortify_overflow(const char *src);

__attribute__((noinline)) void child_fortify_overflow(const char *src)
{
    char buf[8];
    strcpy(buf, src);
    puts(buf);
}
