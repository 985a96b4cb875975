# Checks that a generated file is up to date: runs ${INSPECT} --markdown and
# compares its output with ${EXPECTED} (docs/elements.md).
#
#   cmake -DINSPECT=<plx-inspect> -DEXPECTED=<docs/elements.md> -P CompareOutput.cmake

foreach(var INSPECT EXPECTED)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CompareOutput.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND ${INSPECT} --markdown
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${INSPECT} --markdown failed (${status}):\n${errors}")
endif()

if(NOT EXISTS ${EXPECTED})
  set(expected "")
else()
  file(READ ${EXPECTED} expected)
endif()

if(NOT actual STREQUAL expected)
  # Keep the new text beside the build, for a diff.
  set(fresh ${CMAKE_CURRENT_BINARY_DIR}/elements.md.new)
  file(WRITE ${fresh} "${actual}")
  message(FATAL_ERROR "docs/elements.md is out of date: run plx-inspect --markdown > docs/elements.md\n"
                      "(the current output is in ${fresh}; diff -u ${EXPECTED} ${fresh})")
endif()
