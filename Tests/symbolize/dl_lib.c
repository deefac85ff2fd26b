/*
 * dl_lib.c - a library the symbolication tests dlopen (built twice, as
 * libdl_a.so and libdl_b.so, with DL_NAME naming the entry point): an
 * entry point that calls an inlined helper that writes through the
 * pointer it is given (NULL: the crash). -O2.
 *
 * Context: test helper library.
 */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

volatile int CAT(DL_NAME, _sink);

static inline void store_it(volatile int *p, int v)
{
    *p = v + 1; /* the fault */
}

static __attribute__((noinline)) int middle(volatile int *p, int v)
{
    if (v > 1)
        store_it(p, v * 5);
    return CAT(DL_NAME, _sink) + v;
}

int CAT(DL_NAME, _entry)(volatile int *p, int v)
{
    int r = middle(p, v);
    CAT(DL_NAME, _sink) = r;
    return r + 1;
}
