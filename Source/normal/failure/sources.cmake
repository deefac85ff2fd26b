# Normal context, issue 12: mayday_fatal(), mayday_record_exception(), the
# hang watchdog. (The C++ terminate handler is its own library: cxx/.)
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/fatal.c
  ${CMAKE_CURRENT_LIST_DIR}/watchdog.c)
