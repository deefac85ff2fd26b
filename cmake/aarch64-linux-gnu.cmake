# aarch64-linux-gnu.cmake - CMake toolchain file for Linux aarch64 with
# Debian's cross compiler (gcc-aarch64-linux-gnu) and the arm64 libraries of
# multiarch (libunwind-dev:arm64, libprotobuf-c-dev:arm64, ...), as
# installed by `scripts/deps.sh aarch64`.
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# Tests run through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64 when it is
# installed): CTest prefixes every test command with it, and the test
# programs prefix the children they start with $MAYDAY_EMULATOR (set for
# each test by Tests/CMakeLists.txt). See docs/platforms.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(MAYDAY_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${MAYDAY_CROSS_TRIPLE}-gcc)
# C++ only for libmayday-cxx (MAYDAY_BUILD_CXX): without the cross g++
# that part is left out, as on a build machine with no C++ compiler.
find_program(MAYDAY_CROSS_CXX NAMES ${MAYDAY_CROSS_TRIPLE}-g++)
if(MAYDAY_CROSS_CXX)
  set(CMAKE_CXX_COMPILER ${MAYDAY_CROSS_CXX})
endif()
find_program(CMAKE_NM NAMES ${MAYDAY_CROSS_TRIPLE}-nm)
find_program(CMAKE_OBJCOPY NAMES ${MAYDAY_CROSS_TRIPLE}-objcopy)

# Multiarch: the arm64 -dev packages install into /usr/lib/aarch64-linux-gnu
# and /usr/include (arch headers in /usr/include/aarch64-linux-gnu), which
# Debian's cross gcc searches by itself. pkg-config must look there and
# only there (not at the build machine's x86_64 .pc files).
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/${MAYDAY_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_LIBRARY_ARCHITECTURE ${MAYDAY_CROSS_TRIPLE})

# Programs (protoc-c, nm of the host) come from the build machine;
# libraries and headers from the target's directories only.
set(CMAKE_FIND_ROOT_PATH /usr/${MAYDAY_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# qemu-aarch64 runs the test programs; the arm64 dynamic loader and
# libraries of multiarch (/lib/ld-linux-aarch64.so.1) need no -L prefix.
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(MAYDAY_QEMU_AARCH64 qemu-aarch64)
  if(MAYDAY_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${MAYDAY_QEMU_AARCH64})
  endif()
endif()
