#pragma once

/// \file
/// Shared libraries opened with dlopen() when something first needs them,
/// not when the program starts.
///
/// The codec, container and image elements, the plugin loader (libelf) and
/// the sandbox (libseccomp) reach their libraries through a table of entry
/// points that one of these loaders fills the first time an element or the
/// loader starts. A program that never encodes AV1 never maps libaom: every
/// library linked into a program costs its start-up a few hundred
/// microseconds here (mapping, relocation, symbol look-ups through every
/// library loaded before it, copy-on-write faults) whether it is used or
/// not, and a missing library fails only the element that needs it, with a
/// message that names it, instead of the whole program.
///
/// A table is declared with a list macro of the library's function names:
///
///     #define PARALLAX_SOXR_ENTRIES(X) X(soxr_create) X(soxr_process) X(soxr_delete)
///     PARALLAX_DECLARE_RUNTIME_LIBRARY(soxr_library, SoxrLibrary, PARALLAX_SOXR_ENTRIES)
///     // in the .cpp:
///     PARALLAX_DEFINE_RUNTIME_LIBRARY(soxr_library, SoxrLibrary, "libsoxr", "libsoxr.so.0",
///                                     PARALLAX_SOXR_ENTRIES)
///
/// and used as `lib->soxr_process(...)`. Each member has the exact type of
/// the function the library's header declares.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace parallax::detail {

/// A shared library opened with dlopen() and kept loaded for the life of
/// the process (objects the library made may live until exit). Copies
/// refer to the same loaded library.
class PARALLAX_API RuntimeLibrary {
public:
    /// Opens `file`, a soname ("libaom.so.3", searched like the libraries a
    /// program links) or a path. `what` names the library in errors
    /// ("libaom"). Fails with Errc::unsupported naming both and the
    /// loader's reason.
    [[nodiscard]] static Result<RuntimeLibrary> open(std::string_view what, std::string file);

    /// The address of `symbol`; a missing one is an Errc::unsupported error
    /// naming the library, its file and the symbol.
    [[nodiscard]] Result<void*> symbol(const char* name) const;

    /// Sets `out` to the function `name` of the library.
    template <class Fn>
    [[nodiscard]] Result<void> bind(const char* name, Fn*& out) const {
        auto address = symbol(name);
        if (!address) {
            return fail(address.error());
        }
        out = reinterpret_cast<Fn*>(*address);
        return {};
    }

    [[nodiscard]] const std::string& what() const noexcept { return what_; }
    [[nodiscard]] const std::string& file() const noexcept { return file_; }

private:
    RuntimeLibrary(void* handle, std::string what, std::string file)
        : handle_(handle), what_(std::move(what)), file_(std::move(file)) {}

    void* handle_ = nullptr;
    std::string what_;
    std::string file_;
};

/// A table of entry points loaded by the first successful get() and kept
/// for the life of the process. A failure is not remembered: a later call
/// tries again (the library may have been installed meanwhile). Once
/// loaded, get() is one atomic load. Thread-safe.
template <class Table>
class RuntimeLibraryTable {
public:
    template <class Load>
    [[nodiscard]] Result<const Table*> get(Load&& load) {
        if (const Table* table = loaded_.load(std::memory_order_acquire)) {
            return table;
        }
        std::lock_guard lock(mutex_);
        if (const Table* table = loaded_.load(std::memory_order_relaxed)) {
            return table;
        }
        Result<Table> table = load();
        if (!table) {
            return fail(table.error());
        }
        table_ = *table;
        loaded_.store(&table_, std::memory_order_release);
        return &table_;
    }

private:
    std::mutex mutex_;
    Table table_{};
    std::atomic<const Table*> loaded_{nullptr};
};

} // namespace parallax::detail

/// One member of a table of entry points: a pointer with the type of the
/// library function `name`, of the same name.
#define PARALLAX_LIBRARY_MEMBER(name) decltype(&::name) name = nullptr;

/// Declares `struct Table`, one member per entry of the list macro
/// `ENTRIES`, and `Result<const Table*> function()`, which loads the library
/// on its first call and returns the same table on later ones (defined with
/// PARALLAX_DEFINE_RUNTIME_LIBRARY).
#define PARALLAX_DECLARE_RUNTIME_LIBRARY(function, Table, ENTRIES)                                                     \
    struct Table {                                                                                                     \
        ENTRIES(PARALLAX_LIBRARY_MEMBER)                                                                               \
    };                                                                                                                 \
    ::parallax::Result<const Table*> function();

/// Binds the member `name` of `table` from `library`, or returns its error.
#define PARALLAX_LIBRARY_BIND(name)                                                                                    \
    if (auto bound = library->bind(#name, table.name); !bound) {                                                       \
        return ::parallax::fail(bound.error());                                                                        \
    }

/// Defines `Result<const Table*> function()`: the table of the library
/// `what` (for errors), opened from `file` on the first call, with every
/// entry of the list macro `ENTRIES` bound.
#define PARALLAX_DEFINE_RUNTIME_LIBRARY(function, Table, what, file, ENTRIES)                                          \
    ::parallax::Result<const Table*> function() {                                                                      \
        static ::parallax::detail::RuntimeLibraryTable<Table> once;                                                    \
        return once.get([]() -> ::parallax::Result<Table> {                                                            \
            auto library = ::parallax::detail::RuntimeLibrary::open(what, file);                                       \
            if (!library) {                                                                                            \
                return ::parallax::fail(library.error());                                                              \
            }                                                                                                          \
            Table table;                                                                                               \
            ENTRIES(PARALLAX_LIBRARY_BIND)                                                                             \
            return table;                                                                                              \
        });                                                                                                            \
    }
