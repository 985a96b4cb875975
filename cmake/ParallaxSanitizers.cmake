# PARALLAX_SANITIZE=address,undefined | thread: applied to every target.
set(PARALLAX_SANITIZE "" CACHE STRING "Sanitizers to build with (address,undefined or thread)")
if(PARALLAX_SANITIZE)
  add_compile_options(-fsanitize=${PARALLAX_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PARALLAX_SANITIZE})
endif()
