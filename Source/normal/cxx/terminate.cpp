/*
 * terminate.cpp - libmayday-cxx, the optional C++ part of mayday (issue 12):
 * a std::terminate handler that records why the program is being
 * terminated (the exception's type, what(), the reason, the throw site)
 * through mayday_record_exception(), then calls the handler that was
 * installed before it. libstdc++'s default handler prints the exception
 * and calls abort(): mayday's crash path then writes the report, with the
 * record, from the SIGABRT.
 *
 * Context: normal (C++), on the thread std::terminate was called on. The
 * process is about to end; the handler allocates nothing and takes no
 * lock. libmayday itself stays a C library: C programs never link this.
 *
 * Why terminate was called is read from the stack, which libstdc++ has not
 * unwound yet (measured with GCC 12, see docs/report-format.md): the first
 * frame below std::terminate that belongs to __cxa_throw / __cxa_rethrow
 * (no handler found), __gxx_personality_v0 (a noexcept function, or an
 * exception thrown during unwinding: std::uncaught_exceptions() > 0), or
 * __cxa_pure_virtual / __cxa_deleted_virtual. Functions are recognised by
 * the start of their FDE (_Unwind_GetRegionStart), compared with the
 * addresses dlsym gave at install (the program's and libstdc++'s own, as
 * a sanitizer runtime interposes __cxa_throw).
 */
#include <cxxabi.h>
#include <dlfcn.h>
#include <unwind.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "mayday/mayday.h"

namespace {

enum Via { VIA_NONE, VIA_THROW, VIA_RETHROW, VIA_PERSONALITY, VIA_PURE };

/* Each function twice: the definition the program's symbol lookup finds
 * (which may be an interposer, e.g. ASan's __cxa_throw) and libstdc++'s
 * own (dlopen RTLD_NOLOAD; 0 when libstdc++ is linked statically). */
struct Fn {
    uintptr_t a, b;
    bool is(uintptr_t start) const { return start == a || start == b; }
};

struct Known {
    Fn throw_fn, rethrow_fn, rethrow_exc, personality, pure, deleted;
};

Known g_known;
std::terminate_handler g_prev;
std::atomic<int> g_installed{0};
std::atomic<int> g_in_handler{0};

void *g_libstdcxx;

Fn lookup(const char *name)
{
    Fn f;
    f.a = reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, name));
    f.b = g_libstdcxx ? reinterpret_cast<uintptr_t>(dlsym(g_libstdcxx, name))
                      : 0;
    return f;
}

struct Walk {
    int frames;
    int via;
    int want_next; /* the next frame is the thrower */
    uintptr_t throw_pc;
};

int classify(uintptr_t start)
{
    const Known &k = g_known;
    if (!start)
        return VIA_NONE;
    if (k.throw_fn.is(start))
        return VIA_THROW;
    if (k.rethrow_fn.is(start) || k.rethrow_exc.is(start))
        return VIA_RETHROW;
    if (k.personality.is(start))
        return VIA_PERSONALITY;
    if (k.pure.is(start) || k.deleted.is(start))
        return VIA_PURE;
    return VIA_NONE;
}

_Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
    Walk *w = static_cast<Walk *>(arg);
    int via = classify(_Unwind_GetRegionStart(ctx));
    if (w->want_next && via != VIA_THROW && via != VIA_RETHROW) {
        /* The first frame past __cxa_throw (and an interposer of it). */
        w->throw_pc = _Unwind_GetIP(ctx);
        return _URC_END_OF_STACK; /* all we wanted */
    }
    if (via != VIA_NONE && w->via == VIA_NONE)
        w->via = via;
    if (via == VIA_THROW || via == VIA_RETHROW)
        w->want_next = 1;
    return ++w->frames >= 64 ? _URC_END_OF_STACK : _URC_NO_REASON;
}

uint32_t reason_of(const Walk &w, bool has_exception)
{
    bool unwinding = std::uncaught_exceptions() > 0;
    switch (w.via) {
    case VIA_PERSONALITY:
        return unwinding ? MAYDAY_TERMINATE_DURING_UNWINDING
                         : MAYDAY_TERMINATE_NOEXCEPT;
    case VIA_THROW:
        return unwinding ? MAYDAY_TERMINATE_DURING_UNWINDING
                         : MAYDAY_TERMINATE_UNCAUGHT;
    case VIA_RETHROW:
        return has_exception ? MAYDAY_TERMINATE_UNCAUGHT_RETHROW
                             : MAYDAY_TERMINATE_RETHROW_NO_EXCEPTION;
    case VIA_PURE:
        return MAYDAY_TERMINATE_PURE_VIRTUAL;
    default:
        return MAYDAY_TERMINATE_CALLED;
    }
}

void record(const std::type_info *t, const char *what, bool is_std,
            const Walk &w)
{
    mayday_exception_info info{};
    info.size = sizeof info;
    info.type = t ? t->name() : nullptr;
    info.message = what;
    info.reason = reason_of(w, t != nullptr);
    info.std_exception = is_std;
    info.throw_pc = w.throw_pc;
    mayday_record_exception(&info);
}

void on_terminate()
{
    /* terminate inside this handler (e.g. what() threw past us): end. */
    if (g_in_handler.exchange(1))
        std::abort();
    Walk w{};
    _Unwind_Backtrace(step, &w);
    std::type_info *t = abi::__cxa_current_exception_type();
    bool recorded = false;
    if (t) {
        try {
            throw;
        } catch (const std::exception &e) {
            const char *what = nullptr;
            try {
                what = e.what();
            } catch (...) {
            }
            record(t, what, true, w);
            recorded = true;
        } catch (...) {
        }
    }
    if (!recorded)
        record(t, nullptr, false, w);
    if (g_prev)
        g_prev(); /* libstdc++'s default prints and aborts */
    std::abort();
}

} // namespace

extern "C" int mayday_cxx_install(void)
{
    int expected = 0;
    if (!g_installed.compare_exchange_strong(expected, 1))
        return 0;
    g_libstdcxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_NOLOAD);
    g_known.throw_fn = lookup("__cxa_throw");
    g_known.rethrow_fn = lookup("__cxa_rethrow");
    g_known.rethrow_exc =
        lookup("_ZSt17rethrow_exceptionNSt15__exception_ptr13exception_ptrE");
    g_known.personality = lookup("__gxx_personality_v0");
    g_known.pure = lookup("__cxa_pure_virtual");
    g_known.deleted = lookup("__cxa_deleted_virtual");
    std::terminate_handler prev = std::set_terminate(on_terminate);
    g_prev = prev == on_terminate ? nullptr : prev;
    return 0;
}

extern "C" int mayday_cxx_uninstall(void)
{
    if (!g_installed.load())
        return MAYDAY_ENOTINSTALLED;
    if (std::get_terminate() != on_terminate)
        return MAYDAY_EBUSY; /* another handler is on top of ours */
    std::set_terminate(g_prev ? g_prev : std::abort);
    g_installed.store(0);
    return 0;
}
