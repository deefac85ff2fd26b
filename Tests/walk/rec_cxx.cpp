/*
 * rec_cxx.cpp - a C++ recursion with exception tables, for the walker
 * tests: every frame has a try/catch and a local object with a
 * destructor, so its FDE carries an LSDA and its CIE a personality
 * routine (augmentation "zPLR").
 *
 * Context: test code (normal context).
 */
#include <stdexcept>

namespace {
struct guard {
    volatile int *p;
    ~guard() { (*p)++; }
};
volatile int g_count;
} // namespace

extern "C" int rec_cxx(int n, void (*bottom)(void *), void *arg);

extern "C" __attribute__((noinline)) int rec_cxx(int n, void (*bottom)(void *),
                                                 void *arg)
{
    guard g{&g_count};
    int r;
    try {
        if (n <= 1) {
            bottom(arg);
            r = 1;
        } else {
            r = rec_cxx(n - 1, bottom, arg);
        }
        if (n < 0)
            throw std::runtime_error("never");
    } catch (const std::exception &) {
        r = -1;
    }
    __asm__ __volatile__("" ::: "memory");
    return r + g_count % 2;
}
