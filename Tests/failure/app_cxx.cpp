/*
 * app_cxx.cpp - a C++ user program built against an INSTALLED mayday by
 * test_install_cxx.sh (pkg-config mayday-cxx, find_package mayday::
 * mayday_cxx): installs mayday and libmayday-cxx, throws, and leaves a
 * report whose failure is the uncaught exception.
 *
 *   app_cxx DIR
 *
 * Context: a test program (normal code that fails on purpose).
 */
#include <cstdio>
#include <stdexcept>

#include <mayday/mayday.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    if (mayday_install(&cfg) < 0 || mayday_cxx_install() < 0) {
        std::fprintf(stderr, "app_cxx: install failed\n");
        return 91;
    }
    throw std::out_of_range("installed");
}
