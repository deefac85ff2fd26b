# Crash-path core: async-signal-safe building blocks.
list(APPEND MDS_CRASH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sys.c
  ${CMAKE_CURRENT_LIST_DIR}/clone.c
  ${CMAKE_CURRENT_LIST_DIR}/arena.c
  ${CMAKE_CURRENT_LIST_DIR}/saferead.c
  ${CMAKE_CURRENT_LIST_DIR}/crc32.c
  ${CMAKE_CURRENT_LIST_DIR}/writer.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt.c
  ${CMAKE_CURRENT_LIST_DIR}/pbenc.c
  ${CMAKE_CURRENT_LIST_DIR}/regs.c
  ${CMAKE_CURRENT_LIST_DIR}/regs_aarch64.c)
# Install-time half of the safe read (self-test, pipes): normal context.
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/saferead_init.c)
