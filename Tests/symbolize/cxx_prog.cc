/*
 * cxx_prog.cc - a C++ program (-O2) that installs mayday and crashes
 * inside a std::sort comparator (a lambda calling a function template),
 * and inside a lambda called through std::function from a class
 * template's member, for the symbolication comparison: deep inline
 * chains of libstdc++ templates, lambdas, demangled names.
 *
 *   cxx_prog REPORT_DIR sort|function
 *
 * Context: test helper program (it crashes on purpose).
 */
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include <mayday/mayday.h>

volatile int *volatile g_ptr;
volatile int g_sink;

template <typename T> static inline bool less_checked(const T &a, const T &b)
{
    if (a == 13 || b == 13)
        *g_ptr = static_cast<int>(a); // the fault
    return a < b;
}

static __attribute__((noinline)) int sort_them(int n)
{
    std::vector<int> v;
    for (int i = 0; i < n; i++)
        v.push_back((i * 37) % n);
    std::sort(v.begin(), v.end(),
              [](int a, int b) { return less_checked(a, b); });
    return v[0];
}

template <typename T> class dispatcher
{
  public:
    explicit dispatcher(std::function<T(T)> f) : fn_(std::move(f)) {}
    __attribute__((noinline)) T dispatch(T v) { return fn_(v) + 1; }

  private:
    std::function<T(T)> fn_;
};

static __attribute__((noinline)) int through_function(int v)
{
    int scale = g_sink + 2;
    dispatcher<int> d([scale](int x) {
        *g_ptr = x * scale; // the fault
        return x + scale;
    });
    return d.dispatch(v);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "cxx_prog";
    if (mayday_install(&cfg) < 0)
        return 3;
    if (std::strcmp(argv[2], "sort") == 0)
        return sort_them(40);
    if (std::strcmp(argv[2], "function") == 0)
        return through_function(g_sink + 5);
    return 2;
}
