// A plugin whose descriptor is wrong in one field (chosen by a definition).
// With ABORT_IN_CONSTRUCTOR it also aborts the process as soon as its code
// runs: loading it proves that the loader refused it first.
#include <parallax/element.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <cstdlib>

#ifndef BAD_MAGIC
#define BAD_MAGIC PARALLAX_PLUGIN_MAGIC
#endif
#ifndef BAD_ABI_VERSION
#define BAD_ABI_VERSION ::parallax::plugin_abi_version
#endif
#ifndef BAD_ABI_TAG
#define BAD_ABI_TAG PARALLAX_PLUGIN_ABI_TAG
#endif
#ifndef BAD_VERSION
#define BAD_VERSION ::parallax::version_number
#endif
#ifndef BAD_NAME
#define BAD_NAME "bad"
#endif

#ifdef ABORT_IN_CONSTRUCTOR
namespace {
struct AbortAtLoad {
    AbortAtLoad() { std::abort(); }
};
const AbortAtLoad abort_at_load;
} // namespace
#endif

extern "C" PARALLAX_API const ::parallax::PluginDescriptor parallax_plugin_descriptor{
    BAD_MAGIC,
    BAD_ABI_VERSION,
    sizeof(::parallax::PluginDescriptor),
    BAD_VERSION,
    0,
    BAD_ABI_TAG,
    BAD_NAME,
    "1.0",
    "MIT",
    "A plugin with a wrong descriptor",
    &::parallax::detail::register_plugin_elements};
