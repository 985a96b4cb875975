# Building and loading plugins; part of the installed package as well.
#
#   parallax_add_plugin(<target> <source>...)
#     A plugin: a MODULE library compiled with PARALLAX_BUILDING_PLUGIN (its
#     registration lines then record into a plugin-local list instead of the
#     program's registry) against parallax::plugin, the headers only. It does
#     not link libparallax: its references resolve, when it is loaded, to
#     the libparallax of the program that loads it.
#
#   parallax_enable_plugins(<target>)
#     A program that loads plugins: links all of libparallax (not only the
#     parts it calls itself) and exports its symbols (-rdynamic), so that
#     whatever a plugin uses is there to resolve against.
function(parallax_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE parallax::plugin)
  target_compile_definitions(${target} PRIVATE PARALLAX_BUILDING_PLUGIN)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
endfunction()

function(parallax_enable_plugins target)
  set_target_properties(${target} PROPERTIES ENABLE_EXPORTS ON)
  target_link_options(${target} PRIVATE
    "-Wl,--whole-archive,$<TARGET_FILE:parallax::parallax>,--no-whole-archive")
endfunction()
