/*
 * rec.c - a recursive function compiled several times with different
 * flags (see CMakeLists.txt: -O0/-O2, with/without frame pointers,
 * with/without unwind tables). REC_NAME gives each copy its own name.
 *
 * Context: test code (normal context). The recursion must stay a real
 * recursion at -O2: noinline, and an asm barrier plus arithmetic after
 * the call so it is neither a tail call nor an accumulator loop.
 */
#ifndef REC_NAME
#error "define REC_NAME"
#endif

int REC_NAME(int n, void (*bottom)(void *), void *arg);

__attribute__((noinline)) int REC_NAME(int n, void (*bottom)(void *), void *arg)
{
    volatile int pad[4];
    int r;
    pad[0] = n;
    if (n <= 1) {
        bottom(arg);
        r = 1;
    } else {
        r = REC_NAME(n - 1, bottom, arg);
    }
    __asm__ __volatile__("" ::: "memory");
    return r + pad[0] % 3;
}

/* Two call sites in this object, for fabricated stacks: each returns the
 * address right after one of its call instructions. */
#define REC_CAT2(a, b) a##b
#define REC_CAT(a, b) REC_CAT2(a, b)
void *REC_CAT(REC_NAME, _getra)(void);
void *REC_CAT(REC_NAME, _site1)(void);
void *REC_CAT(REC_NAME, _site2)(void);

__attribute__((noinline)) void *REC_CAT(REC_NAME, _getra)(void)
{
    return __builtin_return_address(0);
}

__attribute__((noinline)) void *REC_CAT(REC_NAME, _site1)(void)
{
    void *r = REC_CAT(REC_NAME, _getra)();
    __asm__ __volatile__("" ::: "memory");
    return r;
}

static volatile int rec_site2_count;

__attribute__((noinline)) void *REC_CAT(REC_NAME, _site2)(void)
{
    rec_site2_count++; /* differs from site1: no identical-code folding */
    void *r = REC_CAT(REC_NAME, _getra)();
    __asm__ __volatile__("" ::: "memory");
    return r;
}
