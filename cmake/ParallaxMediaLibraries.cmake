# The one library the media elements link: parallax::yuv (libyuv: Debian's
# libyuv-dev has no pkg-config or CMake file). Also included by the
# installed package config, which needs the same target. The others are
# opened at run time (ParallaxRuntimeLibraries.cmake).
#
# libyuv is linked from its static archive (position-independent in
# Debian) where there is one: upstream makes no releases and keeps no ABI
# (Debian's soname has stayed 0), so its users embed it, and the shared
# library, linked -z now, would add about 1 000 symbol bindings to the
# start of every program.
if(NOT TARGET parallax::yuv)
  find_library(PARALLAX_YUV_ARCHIVE NAMES libyuv.a yuv REQUIRED)
  find_path(PARALLAX_YUV_INCLUDE_DIR NAMES libyuv.h REQUIRED)
  add_library(parallax::yuv UNKNOWN IMPORTED)
  set_target_properties(parallax::yuv PROPERTIES
    IMPORTED_LOCATION ${PARALLAX_YUV_ARCHIVE}
    INTERFACE_INCLUDE_DIRECTORIES ${PARALLAX_YUV_INCLUDE_DIR})
endif()
