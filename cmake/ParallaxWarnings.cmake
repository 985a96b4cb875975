# Warnings every target of the project builds with (see parallax_warnings()).
add_library(parallax_warnings INTERFACE)
target_compile_options(parallax_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wpedantic
  $<$<BOOL:${PARALLAX_WERROR}>:-Werror>)

# g++ 12 at -O2/-O3 reports std::string concatenation as an overlapping
# memcpy (-Wrestrict, GCC bug 105329), a false positive inside libstdc++.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(parallax_warnings INTERFACE -Wno-restrict)
endif()

# In a unity build g++ sees each source as an included file and warns when a
# class declared in a header holds a type from a source's anonymous namespace
# (-Wsubobject-linkage), which is right for a single source file.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(parallax_warnings INTERFACE -Wno-subobject-linkage)
endif()
