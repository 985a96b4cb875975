#pragma once

/// \file
/// PluginDescriptor: the one symbol a plugin exports, and PARALLAX_PLUGIN,
/// the line that defines it.
///
/// A plugin is a shared object built with parallax_add_plugin() (from the
/// installed CMake package). Its elements end with the same
/// PARALLAX_REGISTER_ELEMENT line as built-in ones; one source file adds
///
///     PARALLAX_PLUGIN("example", "1.0", "MIT OR Apache-2.0", "Example elements");
///
/// The loader reads the descriptor's checked part straight from the file's
/// dynamic symbol table before anything of the plugin runs, and loads the
/// library only when every field matches this build (docs/design/plugins.md).

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/version.hpp>
#include <parallax/element/registry.hpp>

#include <cstddef>
#include <cstdint>

/// The descriptor's magic: the first 8 bytes of every plugin descriptor.
#define PARALLAX_PLUGIN_MAGIC "PLXPLUG"
/// The name of the symbol a plugin exports.
#define PARALLAX_PLUGIN_SYMBOL "parallax_plugin_descriptor"

#define PARALLAX_DETAIL_STR_(x) #x
#define PARALLAX_DETAIL_STR(x) PARALLAX_DETAIL_STR_(x)

// What makes C++ objects built by one toolchain unusable by another: the
// standard library, its string and list ABI, its debug mode (which changes
// container layouts), and the architecture and byte order.
#if defined(_LIBCPP_VERSION)
#define PARALLAX_DETAIL_ABI_STDLIB "libc++ abi=" PARALLAX_DETAIL_STR(_LIBCPP_ABI_VERSION)
#elif defined(__GLIBCXX__)
#define PARALLAX_DETAIL_ABI_STDLIB "libstdc++ cxx11-abi=" PARALLAX_DETAIL_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define PARALLAX_DETAIL_ABI_STDLIB "unknown-stdlib"
#endif
#if defined(_GLIBCXX_DEBUG) || defined(_LIBCPP_DEBUG)
#define PARALLAX_DETAIL_ABI_DEBUG " debug-containers"
#else
#define PARALLAX_DETAIL_ABI_DEBUG ""
#endif
#if defined(__x86_64__)
#define PARALLAX_DETAIL_ABI_ARCH " x86_64"
#elif defined(__aarch64__)
#define PARALLAX_DETAIL_ABI_ARCH " aarch64"
#elif defined(__i386__)
#define PARALLAX_DETAIL_ABI_ARCH " i386"
#elif defined(__arm__)
#define PARALLAX_DETAIL_ABI_ARCH " arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define PARALLAX_DETAIL_ABI_ARCH " riscv64"
#elif defined(__powerpc64__)
#define PARALLAX_DETAIL_ABI_ARCH " ppc64"
#elif defined(__s390x__)
#define PARALLAX_DETAIL_ABI_ARCH " s390x"
#else
#define PARALLAX_DETAIL_ABI_ARCH " unknown-arch"
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PARALLAX_DETAIL_ABI_ENDIAN "-be"
#else
#define PARALLAX_DETAIL_ABI_ENDIAN "-le"
#endif

/// The compiler and ABI tag of this translation unit, e.g.
/// "libstdc++ cxx11-abi=1 x86_64-le". A plugin and the program that loads it
/// must have the same.
#define PARALLAX_PLUGIN_ABI_TAG                                                                                        \
    PARALLAX_DETAIL_ABI_STDLIB PARALLAX_DETAIL_ABI_DEBUG PARALLAX_DETAIL_ABI_ARCH PARALLAX_DETAIL_ABI_ENDIAN

namespace parallax {

/// The version of the descriptor layout and of the registration protocol.
/// Raised whenever either changes; the loader accepts only its own.
inline constexpr std::uint32_t plugin_abi_version = 1;

/// Adds the plugin's element factories and aliases to `registry` (a staging
/// registry the loader merges into its own once every addition succeeded).
/// Called from: the thread that loads the plugin, once.
using PluginRegisterFunction = Result<void> (*)(Registry& registry);

/// The descriptor a plugin exports as `parallax_plugin_descriptor`. Every
/// field before `register_elements` is plain data (fixed-width integers and
/// NUL-terminated char arrays) so that the loader can read and check it from
/// the file without loading the library. The layout is pinned below and
/// described in docs/design/plugins.md.
struct PluginDescriptor {
    char magic[8];                  ///< PARALLAX_PLUGIN_MAGIC, NUL-terminated.
    std::uint32_t abi_version;      ///< plugin_abi_version of the headers it was built with.
    std::uint32_t descriptor_size;  ///< sizeof(PluginDescriptor) as the plugin saw it.
    std::uint32_t parallax_version; ///< version_number of the headers it was built with.
    std::uint32_t reserved;         ///< Zero.
    char abi_tag[64];               ///< PARALLAX_PLUGIN_ABI_TAG.
    char name[32];                  ///< Unique plugin name: [a-z0-9_-], not empty.
    char version[32];               ///< The plugin's own version.
    char license[64];               ///< SPDX license expression.
    char description[160];          ///< One line.
    /// Not part of the checked data: reached with dlsym() only after the
    /// checks passed.
    PluginRegisterFunction register_elements;
};

/// The bytes the loader reads from the file and checks.
inline constexpr std::size_t plugin_descriptor_checked_size = 376;

static_assert(sizeof(char) == 1);
static_assert(offsetof(PluginDescriptor, magic) == 0);
static_assert(offsetof(PluginDescriptor, abi_version) == 8);
static_assert(offsetof(PluginDescriptor, descriptor_size) == 12);
static_assert(offsetof(PluginDescriptor, parallax_version) == 16);
static_assert(offsetof(PluginDescriptor, reserved) == 20);
static_assert(offsetof(PluginDescriptor, abi_tag) == 24);
static_assert(offsetof(PluginDescriptor, name) == 88);
static_assert(offsetof(PluginDescriptor, version) == 120);
static_assert(offsetof(PluginDescriptor, license) == 152);
static_assert(offsetof(PluginDescriptor, description) == 216);
static_assert(offsetof(PluginDescriptor, register_elements) == plugin_descriptor_checked_size);
static_assert(sizeof(PluginDescriptor) == plugin_descriptor_checked_size + sizeof(PluginRegisterFunction));

namespace detail {

/// Adds every element and alias this plugin registered (with
/// PARALLAX_REGISTER_ELEMENT / PARALLAX_REGISTER_ALIAS) to `registry`.
/// Hidden, so that each plugin has its own.
[[gnu::visibility("hidden")]] inline Result<void> register_plugin_elements(Registry& registry) {
    for (const auto& add : plugin_registrations()) {
        if (auto ok = add(registry); !ok) {
            return ok;
        }
    }
    return {};
}

} // namespace detail
} // namespace parallax

/// Declares the plugin: its name, version, license (SPDX) and one-line
/// description. Once per plugin, in one of its source files, at namespace
/// scope. Needs the PARALLAX_BUILDING_PLUGIN definition that
/// parallax_add_plugin() sets.
#define PARALLAX_PLUGIN(name, version, license, description)                                                           \
    static_assert(::parallax::detail::building_plugin,                                                                 \
                  "PARALLAX_PLUGIN: build the plugin with parallax_add_plugin() (PARALLAX_BUILDING_PLUGIN)");          \
    extern "C" PARALLAX_API const ::parallax::PluginDescriptor parallax_plugin_descriptor {                            \
        PARALLAX_PLUGIN_MAGIC, ::parallax::plugin_abi_version, sizeof(::parallax::PluginDescriptor),                   \
            ::parallax::version_number, 0, PARALLAX_PLUGIN_ABI_TAG, name, version, license, description,               \
            &::parallax::detail::register_plugin_elements                                                              \
    }
