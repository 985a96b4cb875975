# Warnings every target of the project builds with (see parallax_warnings()).
add_library(parallax_warnings INTERFACE)
target_compile_options(parallax_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wpedantic
  $<$<BOOL:${PARALLAX_WERROR}>:-Werror>)
