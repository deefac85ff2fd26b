/*
 * child_cxx.cpp - the C++ child of test_cxx_exceptions: installs mayday
 * and libmayday-cxx, then ends through std::terminate in the way named on
 * its command line.
 *
 *   child_cxx DIR SCENARIO
 *
 * Before failing it prints facts the test compares with the report, taken
 * from the C++ runtime and the kernel, not from mayday: "TYPE=<name>"
 * (typeid(...).name()) and "TID=<tid>" of the thread that fails.
 *
 * Context: a test program (normal code that fails on purpose).
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>
#include <typeinfo>

#include "mayday/mayday.h"

static void say_type(const std::type_info &t)
{
    std::printf("TYPE=%s\n", t.name());
    std::printf("TID=%ld\n", (long)syscall(SYS_gettid));
    std::fflush(stdout);
}

/* The functions the test looks for in the report's frames (nm -S). */
extern "C" __attribute__((noinline)) void cxx_thrower(void)
{
    say_type(typeid(std::runtime_error));
    throw std::runtime_error("boom");
}

extern "C" __attribute__((noinline)) void cxx_throw_int(void)
{
    say_type(typeid(int));
    throw 42;
}

extern "C" __attribute__((noinline)) void cxx_noexcept(void) noexcept
{
    cxx_thrower();
}

/* Opaque to the optimiser: with a destructor that always throws, GCC
 * may treat the cleanup as terminating and never unwind into it. */
static volatile int g_dtor_throws = 1;

struct ThrowsInDtor {
    __attribute__((noinline)) ~ThrowsInDtor() noexcept(false)
    {
        if (g_dtor_throws) {
            say_type(typeid(std::logic_error));
            throw std::logic_error("from a destructor");
        }
    }
};

extern "C" __attribute__((noinline)) void cxx_unwinder(void)
{
    ThrowsInDtor d;
    throw std::runtime_error("first");
}

extern "C" __attribute__((noinline)) void cxx_rethrower(void)
{
    try {
        cxx_thrower();
    } catch (...) {
        throw;
    }
}

static void prev_handler()
{
    static const char msg[] = "PREVIOUS-HANDLER-RAN\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(97);
    std::abort();
}

static void install(const char *dir)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.app_id = "child_cxx";
    if (mayday_install(&cfg) < 0 || mayday_cxx_install() < 0) {
        std::fprintf(stderr, "child_cxx: install failed\n");
        _exit(91);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *s = argv[2];
    if (!std::strcmp(s, "prev-handler"))
        std::set_terminate(prev_handler); /* before mayday's */
    install(argv[1]);
    if (!std::strcmp(s, "runtime-error") || !std::strcmp(s, "prev-handler"))
        cxx_thrower();
    if (!std::strcmp(s, "int"))
        cxx_throw_int();
    if (!std::strcmp(s, "noexcept"))
        cxx_noexcept();
    if (!std::strcmp(s, "unwinding")) {
        try {
            cxx_unwinder();
        } catch (...) {
            std::puts("not reached");
        }
    }
    if (!std::strcmp(s, "rethrow"))
        cxx_rethrower();
    if (!std::strcmp(s, "thread")) {
        std::thread t(cxx_thrower);
        t.join();
    }
    if (!std::strcmp(s, "terminate")) {
        std::printf("TID=%ld\n", (long)syscall(SYS_gettid));
        std::fflush(stdout);
        std::terminate();
    }
    std::fprintf(stderr, "child_cxx: unknown scenario %s\n", s);
    return 3;
}
