# Use ccache when it is installed; it makes the second build of a tree nearly free.
find_program(PARALLAX_CCACHE ccache)
if(PARALLAX_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${PARALLAX_CCACHE})
endif()
