# The libraries of the media element families, as imported targets:
# parallax::yuv (libyuv: Debian's libyuv-dev has no pkg-config or CMake
# file), PkgConfig::SOXR (libsoxr) and the codec and container libraries
# below. Also included by the installed
# package config, which needs the same targets.
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
if(NOT TARGET PkgConfig::SOXR)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
endif()
# AV1: dav1d decodes (dav1ddec), libaom encodes (av1enc).
if(NOT TARGET PkgConfig::DAV1D)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(DAV1D REQUIRED IMPORTED_TARGET dav1d)
endif()
if(NOT TARGET PkgConfig::AOM)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(AOM REQUIRED IMPORTED_TARGET aom)
endif()
# Opus: libopus encodes and decodes (opusenc, opusdec).
if(NOT TARGET PkgConfig::OPUS)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus)
endif()
# Ogg: libogg frames pages (oggmux, oggdemux).
if(NOT TARGET PkgConfig::OGG)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(OGG REQUIRED IMPORTED_TARGET ogg)
endif()
# Still images: libpng (pngenc, pngdec), libjpeg-turbo (jpegenc, jpegdec).
if(NOT TARGET PkgConfig::PNG)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
endif()
if(NOT TARGET PkgConfig::JPEG)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
endif()
