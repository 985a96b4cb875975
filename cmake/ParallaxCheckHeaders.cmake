# check-headers: one translation unit per public header, so that every header
# is proven to include what it uses.
function(parallax_check_headers include_dir)
  file(GLOB_RECURSE headers RELATIVE ${include_dir} CONFIGURE_DEPENDS ${include_dir}/parallax/*.hpp)
  set(sources)
  foreach(header IN LISTS headers)
    string(MAKE_C_IDENTIFIER ${header} stem)
    set(tu ${CMAKE_CURRENT_BINARY_DIR}/check_headers/${stem}.cpp)
    file(CONFIGURE OUTPUT ${tu} CONTENT "#include <${header}>\n#include <${header}>\n")
    list(APPEND sources ${tu})
  endforeach()
  add_library(check_headers OBJECT EXCLUDE_FROM_ALL ${sources})
  # Never batched: a header compiled after another could lean on its includes.
  set_target_properties(check_headers PROPERTIES UNITY_BUILD OFF)
  target_link_libraries(check_headers PRIVATE parallax parallax_warnings)
  add_custom_target(check-headers DEPENDS check_headers)
endfunction()
