# Crash path: signal handler, exception thread, suspension, report writer.
list(APPEND MDS_CRASH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/state.c
  ${CMAKE_CURRENT_LIST_DIR}/procfs.c
  ${CMAKE_CURRENT_LIST_DIR}/cause.c
  ${CMAKE_CURRENT_LIST_DIR}/annot.c
  ${CMAKE_CURRENT_LIST_DIR}/altstack.c
  ${CMAKE_CURRENT_LIST_DIR}/altstack_signal.c
  ${CMAKE_CURRENT_LIST_DIR}/marker.c
  ${CMAKE_CURRENT_LIST_DIR}/report_put.c
  ${CMAKE_CURRENT_LIST_DIR}/report_file.c
  ${CMAKE_CURRENT_LIST_DIR}/limits.c
  ${CMAKE_CURRENT_LIST_DIR}/failure.c
  ${CMAKE_CURRENT_LIST_DIR}/report.c
  ${CMAKE_CURRENT_LIST_DIR}/chain.c
  ${CMAKE_CURRENT_LIST_DIR}/handler.c)
