#include <parallax/base/runtime_library.hpp>

#include <fmt/format.h>

#include <dlfcn.h>

namespace parallax::detail {

Result<RuntimeLibrary> RuntimeLibrary::open(std::string_view what, std::string file) {
    // RTLD_LOCAL: the library's symbols are reached only through the table,
    // never by a later library's look-ups. RTLD_NOW: a library that cannot
    // bind fails here, at the element's start, not at some later call.
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        return fail(Errc::unsupported,
                    fmt::format("{} ({}) cannot be loaded: {}", what, file, why != nullptr ? why : "no reason given"));
    }
    return RuntimeLibrary(handle, std::string(what), std::move(file));
}

Result<void*> RuntimeLibrary::symbol(const char* name) const {
    // Every symbol bound here is a function, whose address is never null.
    void* address = dlsym(handle_, name);
    if (address == nullptr) {
        return fail(Errc::unsupported, fmt::format("{} ({}) has no symbol {}", what_, file_, name));
    }
    return address;
}

} // namespace parallax::detail
