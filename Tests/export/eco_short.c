/*
 * eco_short.c - a tiny shared library for eco_crash, linked with a
 * 8-byte build-id (-Wl,--build-id=0x...), shorter than the 16 bytes of a
 * debug id: the ecosystem test checks that the Sentry export pads it the
 * way sentry-cli does.
 *
 * Context: test helper library.
 */
#include <unistd.h>

int eco_short_read(int fd, char *c);

int eco_short_read(int fd, char *c) { return (int)read(fd, c, 1); }
