# PARALLAX_SANITIZE=address,undefined | thread: applied to every target.
set(PARALLAX_SANITIZE "" CACHE STRING "Sanitizers to build with (address,undefined or thread)")
if(PARALLAX_SANITIZE)
  add_compile_options(-fsanitize=${PARALLAX_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PARALLAX_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # With the instrumentation g++'s flow analysis reports uninitialised
    # members inside libstdc++'s std::variant and std::function moves that
    # the release build (-Werror) does not see; warnings are the release
    # build's job.
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
