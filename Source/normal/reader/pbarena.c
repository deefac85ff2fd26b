/*
 * pbarena.c - a bump allocator for protobuf-c's unpack of one report: a
 * 128-thread report unpacks into about 5,000 small objects, and malloc,
 * free and protobuf-c's free_unpacked walk took a third of a load. The
 * whole message lives in a few large chunks, released at once.
 *
 * Context: normal (malloc).
 */
#include <stdint.h>
#include <stdlib.h>

#include "normal/reader/reader.h"

struct md_chunk {
    struct md_chunk *next;
    size_t size, used;
    max_align_t data[]; /* size bytes */
};

#define ALIGN ((size_t) _Alignof(max_align_t))
#define MIN_CHUNK ((size_t)64 * 1024)

static void *arena_alloc(void *data, size_t n)
{
    md_pb_arena *a = data;
    struct md_chunk *c = a->head;
    n = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (!c || c->size - c->used < n) {
        size_t size = a->next_size > n ? a->next_size : n;
        if (size > SIZE_MAX / 2 - sizeof(*c))
            return NULL;
        c = malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->next = a->head;
        c->size = size;
        c->used = 0;
        a->head = c;
        a->next_size = size * 2;
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *data, void *p)
{
    (void)data, (void)p; /* everything goes at md_pb_arena_release() */
}

void md_pb_arena_init(md_pb_arena *a, size_t first)
{
    a->head = NULL;
    a->next_size = first < MIN_CHUNK ? MIN_CHUNK : first;
    a->allocator.alloc = arena_alloc;
    a->allocator.free = arena_free;
    a->allocator.allocator_data = a;
}

void md_pb_arena_release(md_pb_arena *a)
{
    struct md_chunk *c = a->head;
    while (c) {
        struct md_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}
