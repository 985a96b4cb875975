# Libraries opened with dlopen() when an element (or the plugin loader, or
# the sandbox) first needs them (include/parallax/base/runtime_library.hpp).
#
# parallax_runtime_library(<target> <PREFIX>) gives <target> the headers of
# the library that pkg_check_modules(<PREFIX> ...) found, and the compile
# definition PARALLAX_<PREFIX>_SONAME: the soname of that library, which is
# what the code opens (also the target property of that name, for tests).
# Nothing is linked.
function(parallax_runtime_library target prefix)
  set(file "")
  foreach(candidate IN LISTS ${prefix}_LINK_LIBRARIES)
    if(candidate MATCHES "\\.so$")
      set(file ${candidate})
      break()
    endif()
  endforeach()
  if(NOT file)
    message(FATAL_ERROR "parallax_runtime_library: no shared library among ${prefix}_LINK_LIBRARIES "
                        "(${${prefix}_LINK_LIBRARIES})")
  endif()
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${file} OUTPUT_VARIABLE dump RESULT_VARIABLE failed)
  if(failed OR NOT dump MATCHES "SONAME +([^ \n]+)")
    message(FATAL_ERROR "parallax_runtime_library: no SONAME in ${file}")
  endif()
  target_include_directories(${target} SYSTEM PRIVATE ${${prefix}_INCLUDE_DIRS})
  target_compile_options(${target} PRIVATE ${${prefix}_CFLAGS_OTHER})
  target_compile_definitions(${target} PRIVATE PARALLAX_${prefix}_SONAME="${CMAKE_MATCH_1}")
  set_target_properties(${target} PROPERTIES PARALLAX_${prefix}_SONAME "${CMAKE_MATCH_1}")
endfunction()

find_package(PkgConfig REQUIRED)
# The plugin loader reads a plugin's descriptor from its ELF file before
# loading it: libelf.
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
# The sandbox of isolated elements builds its seccomp filter with libseccomp.
pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET libseccomp)
# audioresample: libsoxr.
pkg_check_modules(SOXR REQUIRED soxr)
# AV1: dav1d decodes (dav1ddec), libaom encodes (av1enc).
pkg_check_modules(DAV1D REQUIRED dav1d)
pkg_check_modules(AOM REQUIRED aom)
# Opus: libopus encodes and decodes (opusenc, opusdec).
pkg_check_modules(OPUS REQUIRED opus)
# H.264: OpenH264 (openh264enc, openh264dec).
pkg_check_modules(OPENH264 REQUIRED openh264)
# Ogg: libogg frames pages (oggmux, oggdemux).
pkg_check_modules(OGG REQUIRED IMPORTED_TARGET ogg)
# Still images: libpng (pngenc, pngdec), libjpeg-turbo (jpegenc, jpegdec).
pkg_check_modules(PNG REQUIRED libpng)
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
