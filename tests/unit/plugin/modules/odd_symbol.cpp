// A shared object whose parallax_plugin_descriptor symbol is not a
// descriptor: a function, a short array, or zero bytes in .bss.
#include <parallax/plugin/plugin_descriptor.hpp>

#if defined(ODD_FUNCTION)
extern "C" PARALLAX_API void parallax_plugin_descriptor() {}
#elif defined(ODD_SHORT)
extern "C" PARALLAX_API const char parallax_plugin_descriptor[16] = PARALLAX_PLUGIN_MAGIC;
#elif defined(ODD_BSS)
extern "C" PARALLAX_API ::parallax::PluginDescriptor parallax_plugin_descriptor;
::parallax::PluginDescriptor parallax_plugin_descriptor{};
#endif
