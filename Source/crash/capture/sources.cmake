# Crash path, issue 11 (report contents): memory map, stack memory, FP
# registers, memory windows, thread states, attachments. Their install-time
# side is Source/normal/install/capture_init.c and attach_api.c.
list(APPEND MDS_CRASH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/capture.c
  ${CMAKE_CURRENT_LIST_DIR}/maps.c
  ${CMAKE_CURRENT_LIST_DIR}/stackmem.c
  ${CMAKE_CURRENT_LIST_DIR}/fpregs.c
  ${CMAKE_CURRENT_LIST_DIR}/ptrwin.c
  ${CMAKE_CURRENT_LIST_DIR}/thstate.c
  ${CMAKE_CURRENT_LIST_DIR}/attach.c)
