include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
# The core, the built-in elements (parallax::elements) and the element test
# harness (parallax::check), with the public headers: an application links
# parallax::parallax and parallax::elements, an element's tests parallax::check,
# a plugin parallax::plugin (through parallax_add_plugin()).
install(TARGETS parallax parallax_elements parallax_elements_archive parallax_check parallax_plugin
        EXPORT parallax-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/parallax DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/parallax/base/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parallax/base)
install(EXPORT parallax-targets NAMESPACE parallax:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)
configure_package_config_file(cmake/parallax-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/parallax-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/parallax-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parallax-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/parallax-config-version.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/ParallaxMediaLibraries.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/ParallaxPlugin.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)

# pkg-config files for builds without CMake: parallax (the core and the
# built-in elements) and parallax-check (the element test harness). The
# libraries are static, so their dependencies are public requirements. The
# prefix is found relative to the .pc file, so an installed tree may move.
file(RELATIVE_PATH PARALLAX_PC_PREFIX_FROM_PCFILEDIR ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
foreach(pc IN ITEMS parallax parallax-check)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
