# How GoogleTest programs become ctest tests.
#
# PARALLAX_TEST_SHARDS=0 (the default): every GoogleTest test is its own ctest
# test (gtest_discover_tests), so `ctest -R Name` picks single tests and a
# crash names the test it happened in.
#
# PARALLAX_TEST_SHARDS=N: every test program runs as N ctest tests, shard i
# running every N-th GoogleTest test of the program in one process
# (GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX). The sanitizer presets use this:
# a sanitized process takes a few tenths of a second just to start, which,
# paid once per test, was most of the sanitized run's time. A failure prints
# the shard's whole output; run the program with --gtest_filter to repeat
# one test.
include(GoogleTest)

set(PARALLAX_TEST_SHARDS 0 CACHE STRING
    "0: one ctest test per GoogleTest test; N > 0: each test program runs as N shards")
if(NOT PARALLAX_TEST_SHARDS MATCHES "^[0-9]+$")
  message(FATAL_ERROR "PARALLAX_TEST_SHARDS must be a whole number, got '${PARALLAX_TEST_SHARDS}'")
endif()

# parallax_add_gtest(<target> LABELS <label>... [COST <seconds>])
#
# COST, the rough run time of one shard, lets ctest start the long shards
# first on a run without timing history (a fresh checkout), so that they do
# not end up alone at the end of the run.
function(parallax_add_gtest target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "COST" "LABELS")
  if(PARALLAX_TEST_SHARDS EQUAL 0)
    gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${arg_LABELS}")
    return()
  endif()
  math(EXPR last "${PARALLAX_TEST_SHARDS} - 1")
  foreach(index RANGE ${last})
    set(name ${target}.shard${index})
    add_test(NAME ${name} COMMAND ${target})
    set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}"
      ENVIRONMENT "GTEST_TOTAL_SHARDS=${PARALLAX_TEST_SHARDS};GTEST_SHARD_INDEX=${index}")
    if(arg_COST)
      set_tests_properties(${name} PROPERTIES COST ${arg_COST})
    endif()
  endforeach()
endfunction()
