# Installs BUILD_DIR into WORK_DIR/prefix, then builds and runs the consumer
# project in SOURCE_DIR against it, with CMake and with pkg-config; builds the
# plugin project in PLUGIN_SOURCE_DIR against it and runs the installed
# plx-launch with that plugin on PLUGIN_INPUT. Any failing step fails the
# test with its output.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix ${config_args})
step("configure the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja
     -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
step("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step("run the consumer" ${WORK_DIR}/build/consumer)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "5 buffers through queue and appsink")
  message(FATAL_ERROR "the consumer did not report its buffers:\n${step_output}")
endif()

# The same program built without CMake, from the pkg-config files.
file(GLOB pc_dirs ${WORK_DIR}/prefix/lib*/pkgconfig ${WORK_DIR}/prefix/lib/*/pkgconfig)
list(JOIN pc_dirs ":" pc_path)
set(ENV{PKG_CONFIG_PATH} "${pc_path}")
step("pkg-config parallax" pkg-config --cflags --libs parallax-check parallax)
string(STRIP "${step_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
step("build the consumer with pkg-config" ${CXX_COMPILER} -std=c++20 -O1 ${SOURCE_DIR}/main.cpp ${pc_flags}
     -o ${WORK_DIR}/consumer-pc)
step("run the pkg-config consumer" ${WORK_DIR}/consumer-pc)
if(NOT step_output MATCHES "5 buffers through queue and appsink")
  message(FATAL_ERROR "the pkg-config consumer did not report its buffers:\n${step_output}")
endif()

# The example plugin, built against the installed headers and CMake package,
# loaded by the installed plx-launch.
step("configure the example plugin" ${CMAKE_COMMAND} -S ${PLUGIN_SOURCE_DIR} -B ${WORK_DIR}/plugin -G Ninja
     -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
step("build the example plugin" ${CMAKE_COMMAND} --build ${WORK_DIR}/plugin)
set(ENV{PARALLAX_PLUGIN_PATH} ${WORK_DIR}/plugin)
step("inspect the example plugin" ${WORK_DIR}/prefix/bin/plx-inspect example)
if(NOT step_output MATCHES "byteswap: " OR NOT step_output MATCHES "checksum: ")
  message(FATAL_ERROR "plx-inspect does not show the plugin's elements:\n${step_output}")
endif()
# "2143658709" byte-swapped in 16-bit words is "1234567890", whose CRC-32 is
# 261daee5; blocksize=3 makes words straddle buffers.
step("run the plugin's elements" ${WORK_DIR}/prefix/bin/plx-launch -m filesrc location=${PLUGIN_INPUT} blocksize=3
     ! byteswap width=16-bit ! checksum expected=261daee5 ! fakesink)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "checksum=\\(string\\)261daee5")
  message(FATAL_ERROR "plx-launch did not post the expected checksum:\n${step_output}")
endif()

# An application of its own that loads plugins (parallax_enable_plugins() from
# the installed package): the consumer, run with PARALLAX_PLUGIN_PATH set.
step("run the consumer with the example plugin" ${WORK_DIR}/build/consumer)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "checksum=\\(string\\)261daee5")
  message(FATAL_ERROR "the consumer did not run the plugin's element:\n${step_output}")
endif()
