# Crash-path walking: image list (link_map) and stack walker (libunwind
# remote API + fallbacks). The *_init/*_create files run only at install
# and go to the normal-context object set, so that the crash-path object
# set (mayday_crash, checked by nm) does not reference readlink/getcontext
# or libunwind's address-space constructor.
list(APPEND MDS_CRASH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cfi.c
  ${CMAKE_CURRENT_LIST_DIR}/cfi_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/images.c
  ${CMAKE_CURRENT_LIST_DIR}/frames.c
  ${CMAKE_CURRENT_LIST_DIR}/memcache.c
  ${CMAKE_CURRENT_LIST_DIR}/unwind.c
  ${CMAKE_CURRENT_LIST_DIR}/arch_x86_64.c
  ${CMAKE_CURRENT_LIST_DIR}/arch_aarch64.c)
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/images_init.c
  ${CMAKE_CURRENT_LIST_DIR}/walker_create.c)
