# cmake/install.cmake - install rules and package metadata for mayday.
#
# Included at the end of the top-level CMakeLists.txt (after Source/), so the
# library targets exist. Installs:
#   include/mayday/mayday.h
#   <libdir>/libmayday.a, libmayday.so{,.0,.0.x.y}
#   <libdir>/pkgconfig/mayday.pc         -lmayday (shared; --static adds deps)
#   <libdir>/pkgconfig/mayday-static.pc  links libmayday.a by path
#   <libdir>/cmake/mayday/               find_package(mayday): mayday::mayday
#                                         (shared), mayday::mayday_static
#   bin/<cli>                             the CLI, once its target exists
# Everything is relocatable with `cmake --install <build> --prefix <dir>`:
# the .pc files are written at install time with the install-time prefix.
include(CMakePackageConfigHelpers)

set(MAYDAY_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mayday)

# pkg-config modules behind the PkgConfig::<PREFIX> imported targets that
# mayday_static exposes in its link interface, as PREFIX=module pairs. The
# installed package config finds each again on the user's machine (under a
# private target name, so it cannot clash with the user's own pkg-config
# targets). A new PkgConfig:: dependency of the library must be added here.
set(MAYDAY_PC_DEPS UNWIND=libunwind-generic PROTOBUFC=libprotobuf-c)

# Exported names: mayday::mayday (shared) and mayday::mayday_static, the
# same as the in-tree ALIAS targets of Source/CMakeLists.txt.
set_target_properties(mayday_shared PROPERTIES EXPORT_NAME mayday)
set_target_properties(mayday_static PROPERTIES EXPORT_NAME mayday_static)

# The link flags a static link needs (docs/linking.md).
include(${CMAKE_CURRENT_LIST_DIR}/static-link.cmake)

# Rewrite each PkgConfig::X of mayday_static's link interface into
# "PkgConfig::X in the build tree, mayday::_dep_x once installed".
get_target_property(_md_iface mayday_static INTERFACE_LINK_LIBRARIES)
set(_md_pc_requires)
set(_md_dep_lines)
if(_md_iface)
  string(REGEX MATCHALL "PkgConfig::[A-Za-z0-9_]+" _md_pc_targets "${_md_iface}")
  list(REMOVE_DUPLICATES _md_pc_targets)
  foreach(_t IN LISTS _md_pc_targets)
    string(REPLACE "PkgConfig::" "" _prefix "${_t}")
    set(_module)
    foreach(_pair IN LISTS MAYDAY_PC_DEPS)
      if(_pair MATCHES "^${_prefix}=(.+)$")
        set(_module ${CMAKE_MATCH_1})
      endif()
    endforeach()
    if(NOT _module)
      message(FATAL_ERROR "cmake/install.cmake: mayday_static links ${_t}; "
        "add its pkg-config module to MAYDAY_PC_DEPS")
    endif()
    string(TOLOWER "${_prefix}" _lower)
    string(REPLACE "${_t}"
      "$<BUILD_INTERFACE:${_t}>$<INSTALL_INTERFACE:mayday::_dep_${_lower}>"
      _md_iface "${_md_iface}")
    list(APPEND _md_pc_requires ${_module})
    string(APPEND _md_dep_lines "_mayday_find_pc(${_lower} ${_module})\n")
  endforeach()
  set_property(TARGET mayday_static PROPERTY
    INTERFACE_LINK_LIBRARIES "${_md_iface}")
endif()
set(MAYDAY_CONFIG_PC_DEPS "${_md_dep_lines}")
string(REPLACE ";" " " MAYDAY_PC_REQUIRES_PRIVATE "${_md_pc_requires}")
# Non-pkg-config system libraries for static links.
set(MAYDAY_PC_LIBS_PRIVATE "${MAYDAY_PC_STATIC_LINK} -lpthread")
foreach(_l IN LISTS CMAKE_DL_LIBS)
  string(APPEND MAYDAY_PC_LIBS_PRIVATE " -l${_l}")
endforeach()

# Libraries, header, exported targets.
install(TARGETS mayday_shared mayday_static EXPORT mayday-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/Headers/mayday
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
# issue 12: libmayday-cxx, the optional C++ part (when it was built):
# mayday::mayday_cxx (libmayday-cxx.so), mayday::mayday_cxx_static.
if(TARGET mayday_cxx_shared)
  set_target_properties(mayday_cxx_shared PROPERTIES EXPORT_NAME mayday_cxx)
  set_target_properties(mayday_cxx_static PROPERTIES
    EXPORT_NAME mayday_cxx_static)
  install(TARGETS mayday_cxx_shared mayday_cxx_static EXPORT mayday-targets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
# The report schema, for readers that decode mayday_report_encoded()'s
# message with a protobuf library of their own (issue 14).
install(FILES ${CMAKE_SOURCE_DIR}/Protobuf/mayday.proto
  DESTINATION ${CMAKE_INSTALL_DATADIR}/mayday)
install(EXPORT mayday-targets NAMESPACE mayday::
  FILE mayday-targets.cmake DESTINATION ${MAYDAY_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mayday-config.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/mayday-config.cmake
  INSTALL_DESTINATION ${MAYDAY_INSTALL_CMAKEDIR})
# 0.x: same major = same soname (libmayday.so.0).
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/cmake/mayday-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/mayday-config.cmake
  ${CMAKE_BINARY_DIR}/cmake/mayday-config-version.cmake
  DESTINATION ${MAYDAY_INSTALL_CMAKEDIR})

# pkg-config files. Stage 1 (now): everything but the prefix; stage 2
# (install time): the prefix, so that --prefix and DESTDIR work.
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(MAYDAY_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(MAYDAY_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
set(MAYDAY_PC_PREFIX "@MAYDAY_PC_PREFIX@") # kept for stage 2
set(_md_pcs mayday mayday-static)
if(TARGET mayday_cxx_shared)
  list(APPEND _md_pcs mayday-cxx) # issue 12
endif()
foreach(_pc IN LISTS _md_pcs)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${_pc}.pc.in
    ${CMAKE_BINARY_DIR}/cmake/${_pc}.pc.stage @ONLY)
  install(CODE "set(MAYDAY_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
configure_file(\"${CMAKE_BINARY_DIR}/cmake/${_pc}.pc.stage\"
  \"${CMAKE_BINARY_DIR}/cmake/${_pc}.pc\" @ONLY)")
  install(FILES ${CMAKE_BINARY_DIR}/cmake/${_pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# libmayday-upload (issue 13): its own libraries, pkg-config files and CMake
# components, so that only applications that upload link libcurl.
if(TARGET mayday_upload_shared)
  include(${CMAKE_CURRENT_LIST_DIR}/upload-install.cmake)
endif()

# The `mayday` CLI and its man page are installed by Source/cli/CMakeLists.txt.
