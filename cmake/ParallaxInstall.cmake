include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
# The core, the built-in elements (parallax::elements) and the element test
# harness (parallax::check), with the public headers: an application links
# parallax::parallax and parallax::elements, an element's tests parallax::check.
install(TARGETS parallax parallax_elements parallax_elements_archive parallax_check EXPORT parallax-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/parallax DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT parallax-targets NAMESPACE parallax:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)
configure_package_config_file(cmake/parallax-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/parallax-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/parallax-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parallax-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/parallax-config-version.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/ParallaxMediaLibraries.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parallax)
