list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/install.c
  ${CMAKE_CURRENT_LIST_DIR}/info.c
  ${CMAKE_CURRENT_LIST_DIR}/threadhook.c
  ${CMAKE_CURRENT_LIST_DIR}/stopset.c
  ${CMAKE_CURRENT_LIST_DIR}/fds.c
  ${CMAKE_CURRENT_LIST_DIR}/prepare.c
  ${CMAKE_CURRENT_LIST_DIR}/sigmask.c
  ${CMAKE_CURRENT_LIST_DIR}/prepare_signal.c
  ${CMAKE_CURRENT_LIST_DIR}/annotate.c
  ${CMAKE_CURRENT_LIST_DIR}/prebind.c
  ${CMAKE_CURRENT_LIST_DIR}/exesym.c
  ${CMAKE_CURRENT_LIST_DIR}/capture_init.c
  ${CMAKE_CURRENT_LIST_DIR}/attach_api.c)

# prebind.c binds, at install, the PLT slots of the symbols the crash path
# imports: their names are the nm allowlist's (one source of truth).
file(STRINGS ${CMAKE_SOURCE_DIR}/scripts/crash-path-allowlist.txt
  _md_allow REGEX "^[A-Za-z_]")
set(_md_imports "/* generated from scripts/crash-path-allowlist.txt */\n")
foreach(_l IN LISTS _md_allow)
  string(REGEX MATCH "^[A-Za-z_][A-Za-z0-9_]*" _sym "${_l}")
  string(APPEND _md_imports "\"${_sym}\",\n")
endforeach()
set(_md_imports_h ${MAYDAY_GEN_DIR}/crash_imports.h)
if(EXISTS ${_md_imports_h})
  file(READ ${_md_imports_h} _md_old)
endif()
if(NOT "${_md_old}" STREQUAL "${_md_imports}")
  file(WRITE ${_md_imports_h} "${_md_imports}")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/scripts/crash-path-allowlist.txt)
