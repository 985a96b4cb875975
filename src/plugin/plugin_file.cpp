// Reading a plugin's descriptor from its file, without loading it (as
// libcamera reads an IPA module's info): the bytes of the
// `parallax_plugin_descriptor` symbol are found through the dynamic symbol
// table and read with libelf, which bounds-checks every header, table and
// section it hands out. The file comes from outside: each malformed or
// unexpected thing is an Error naming the file and the check.

#include <parallax/base/runtime_library.hpp>
#include <parallax/base/unique_fd.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace parallax {
namespace {

constexpr int host_class = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr int host_data = ELFDATA2MSB;
#else
constexpr int host_data = ELFDATA2LSB;
#endif
#if defined(__x86_64__)
constexpr int host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int host_machine = EM_AARCH64;
#elif defined(__i386__)
constexpr int host_machine = EM_386;
#elif defined(__arm__)
constexpr int host_machine = EM_ARM;
#elif defined(__riscv)
constexpr int host_machine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr int host_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr int host_machine = EM_S390;
#else
constexpr int host_machine = -1; // any
#endif

// libelf, opened when the first plugin file is read
// (parallax/base/runtime_library.hpp says why).
#define PARALLAX_ELF_ENTRIES(X)                                                                                        \
    X(elf_version)                                                                                                     \
    X(elf_begin)                                                                                                       \
    X(elf_end)                                                                                                         \
    X(elf_kind)                                                                                                        \
    X(elf_errmsg)                                                                                                      \
    X(elf_getident)                                                                                                    \
    X(elf_nextscn)                                                                                                     \
    X(elf_getscn)                                                                                                      \
    X(elf_getdata)                                                                                                     \
    X(elf_rawdata)                                                                                                     \
    X(elf_strptr)                                                                                                      \
    X(gelf_getehdr)                                                                                                    \
    X(gelf_getshdr)                                                                                                    \
    X(gelf_getsym)                                                                                                     \
    X(gelf_fsize)

PARALLAX_DECLARE_RUNTIME_LIBRARY(elf_library, ElfLibrary, PARALLAX_ELF_ENTRIES)
PARALLAX_DEFINE_RUNTIME_LIBRARY(elf_library, ElfLibrary, "libelf", PARALLAX_LIBELF_SONAME, PARALLAX_ELF_ENTRIES)

struct ElfDeleter {
    const ElfLibrary* lib = nullptr;
    void operator()(Elf* elf) const noexcept { lib->elf_end(elf); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

// A char array field as text for a message: up to its first NUL, with
// anything unprintable escaped.
std::string shown(std::span<const char> field) {
    std::string out;
    for (char c : field) {
        if (c == '\0') {
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

std::string version_text(std::uint32_t v) {
    return fmt::format("{}.{}.{}", v >> 16U, (v >> 8U) & 0xffU, v & 0xffU);
}

class DescriptorReader {
public:
    explicit DescriptorReader(const std::filesystem::path& file) : file_(file.string()) {}

    Result<PluginInfo> read() {
        UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            return fail(Error::from_errno(errno, fmt::format("{}: cannot open the plugin", file_)));
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return fail(Error::from_errno(errno, fmt::format("{}: cannot stat the plugin", file_)));
        }
        if (!S_ISREG(st.st_mode)) {
            return refuse(Errc::invalid_argument, "file type", "not a regular file");
        }
        auto loaded = elf_library();
        if (!loaded) {
            return fail(Errc::unsupported,
                        fmt::format("{}: cannot read plugin files: {}", file_, loaded.error().message()));
        }
        lib_ = *loaded;
        if (lib_->elf_version(EV_CURRENT) == EV_NONE) {
            return fail(Errc::unsupported, fmt::format("{}: libelf does not support this ELF version", file_));
        }
        // ELF_C_READ, not a mapping: a file truncated while it is read gives
        // an error, not SIGBUS.
        ElfPtr elf(lib_->elf_begin(fd.get(), ELF_C_READ, nullptr), ElfDeleter{lib_});
        if (!elf || lib_->elf_kind(elf.get()) != ELF_K_ELF) {
            return refuse(Errc::corrupt, "ELF header", "not an ELF file");
        }
        if (auto ok = check_header(elf.get()); !ok) {
            return fail(ok.error());
        }
        auto bytes = descriptor_bytes(elf.get());
        if (!bytes) {
            return fail(bytes.error());
        }
        return check_descriptor(*bytes);
    }

private:
    using Bytes = std::array<char, plugin_descriptor_checked_size>;

    [[nodiscard]] tl::unexpected<Error> refuse(Errc code, std::string_view check, std::string_view what) const {
        return fail(code, fmt::format("{}: {}: {}", file_, check, what));
    }
    [[nodiscard]] tl::unexpected<Error> libelf_error(std::string_view check, std::string_view what) const {
        return fail(Errc::corrupt, fmt::format("{}: {}: {} ({})", file_, check, what, lib_->elf_errmsg(-1)));
    }

    Result<void> check_header(Elf* elf) const {
        std::size_t ident_size = 0;
        const char* ident = lib_->elf_getident(elf, &ident_size);
        if (ident == nullptr || ident_size < EI_NIDENT) {
            return libelf_error("ELF header", "truncated identification");
        }
        const auto cls = static_cast<unsigned char>(ident[EI_CLASS]);
        if (cls != host_class) {
            return refuse(Errc::corrupt, "ELF class",
                          fmt::format("{}-bit, expected {}-bit",
                                      cls == ELFCLASS32   ? 32
                                      : cls == ELFCLASS64 ? 64
                                                          : 0,
                                      host_class == ELFCLASS64 ? 64 : 32));
        }
        const auto data = static_cast<unsigned char>(ident[EI_DATA]);
        if (data != host_data) {
            return refuse(Errc::corrupt, "ELF byte order",
                          fmt::format("{}, expected {}", data == ELFDATA2MSB ? "big-endian" : "little-endian",
                                      host_data == ELFDATA2MSB ? "big-endian" : "little-endian"));
        }
        GElf_Ehdr ehdr{};
        if (lib_->gelf_getehdr(elf, &ehdr) == nullptr) {
            return libelf_error("ELF header", "unreadable");
        }
        if (ehdr.e_type != ET_DYN) {
            return refuse(Errc::corrupt, "ELF type",
                          fmt::format("{}, expected a shared object ({})", ehdr.e_type, static_cast<int>(ET_DYN)));
        }
        if (host_machine >= 0 && ehdr.e_machine != host_machine) {
            return refuse(Errc::corrupt, "ELF machine",
                          fmt::format("{}, expected {} (another architecture)", ehdr.e_machine, host_machine));
        }
        return {};
    }

    // The checked part of the descriptor: the symbol's bytes, from the
    // section that holds them.
    Result<Bytes> descriptor_bytes(Elf* elf) const {
        Elf_Scn* dynsym = nullptr;
        GElf_Shdr dynsym_header{};
        for (Elf_Scn* scn = lib_->elf_nextscn(elf, nullptr); scn != nullptr; scn = lib_->elf_nextscn(elf, scn)) {
            GElf_Shdr h{};
            if (lib_->gelf_getshdr(scn, &h) == nullptr) {
                return libelf_error("section headers", "unreadable");
            }
            if (h.sh_type == SHT_DYNSYM) {
                dynsym = scn;
                dynsym_header = h;
                break;
            }
        }
        if (dynsym == nullptr) {
            return refuse(Errc::not_found, "symbol " PARALLAX_PLUGIN_SYMBOL,
                          "no dynamic symbol table (not a libparallax plugin)");
        }
        Elf_Data* symbols = lib_->elf_getdata(dynsym, nullptr);
        if (symbols == nullptr) {
            return libelf_error("dynamic symbol table", "unreadable");
        }
        const std::size_t entry_size = lib_->gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
        const std::size_t count = entry_size == 0 ? 0 : symbols->d_size / entry_size;
        if (count > static_cast<std::size_t>(INT32_MAX)) {
            return refuse(Errc::corrupt, "dynamic symbol table", fmt::format("{} symbols, too many", count));
        }
        std::optional<GElf_Sym> found;
        for (std::size_t i = 0; i < count; ++i) {
            GElf_Sym sym{};
            if (lib_->gelf_getsym(symbols, static_cast<int>(i), &sym) == nullptr) {
                return libelf_error("dynamic symbol table", fmt::format("symbol {} unreadable", i));
            }
            if (sym.st_shndx == SHN_UNDEF) {
                continue;
            }
            const char* name = lib_->elf_strptr(elf, dynsym_header.sh_link, sym.st_name);
            if (name != nullptr && std::strcmp(name, PARALLAX_PLUGIN_SYMBOL) == 0) {
                found = sym;
                break;
            }
        }
        if (!found) {
            return refuse(Errc::not_found, "symbol " PARALLAX_PLUGIN_SYMBOL,
                          "not defined (not a libparallax plugin, or PARALLAX_PLUGIN is missing)");
        }
        return section_bytes(elf, *found);
    }

    Result<Bytes> section_bytes(Elf* elf, const GElf_Sym& sym) const {
        constexpr std::string_view check = "symbol " PARALLAX_PLUGIN_SYMBOL;
        if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT) {
            return refuse(Errc::corrupt, check,
                          fmt::format("of type {}, expected a data object ({})", GELF_ST_TYPE(sym.st_info),
                                      static_cast<int>(STT_OBJECT)));
        }
        if (sym.st_size < plugin_descriptor_checked_size) {
            return refuse(Errc::corrupt, check,
                          fmt::format("{} bytes, expected at least {}", sym.st_size, plugin_descriptor_checked_size));
        }
        if (sym.st_shndx >= SHN_LORESERVE) {
            return refuse(Errc::corrupt, check, fmt::format("in no section (index {:#x})", sym.st_shndx));
        }
        Elf_Scn* scn = lib_->elf_getscn(elf, sym.st_shndx);
        GElf_Shdr h{};
        if (scn == nullptr || lib_->gelf_getshdr(scn, &h) == nullptr) {
            return libelf_error(check, fmt::format("in section {}, which does not exist", sym.st_shndx));
        }
        if (h.sh_type == SHT_NOBITS) {
            return refuse(Errc::corrupt, check, "in a section without bytes in the file (.bss)");
        }
        // Overflow-safe: the symbol's bytes lie inside the section.
        if (sym.st_value < h.sh_addr || sym.st_value - h.sh_addr > h.sh_size ||
            h.sh_size - (sym.st_value - h.sh_addr) < plugin_descriptor_checked_size) {
            return refuse(Errc::corrupt, check,
                          fmt::format("at {:#x}, outside its section (section {}: {:#x}, {} bytes)", sym.st_value,
                                      sym.st_shndx, h.sh_addr, h.sh_size));
        }
        const std::size_t offset = sym.st_value - h.sh_addr;
        Elf_Data* data = lib_->elf_rawdata(scn, nullptr);
        if (data == nullptr || data->d_buf == nullptr) {
            return libelf_error(check, fmt::format("section {} unreadable (file truncated?)", sym.st_shndx));
        }
        if (data->d_size < offset || data->d_size - offset < plugin_descriptor_checked_size) {
            return refuse(Errc::corrupt, check,
                          fmt::format("section {} is shorter than its header says", sym.st_shndx));
        }
        Bytes bytes{};
        std::memcpy(bytes.data(), static_cast<const char*>(data->d_buf) + offset, bytes.size());
        return bytes;
    }

    // A char array must hold its NUL; a name needs [a-z0-9_-].
    Result<std::string> text_field(std::span<const char> field, std::string_view what, bool is_name) const {
        const auto end = std::find(field.begin(), field.end(), '\0');
        if (end == field.end()) {
            return refuse(Errc::corrupt, what, fmt::format("not NUL-terminated within its {} bytes", field.size()));
        }
        std::string text(field.begin(), end);
        for (char c : text) {
            const auto u = static_cast<unsigned char>(c);
            const bool ok = is_name ? ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
                                    : (u >= 0x20 && u != 0x7f);
            if (!ok) {
                return refuse(Errc::corrupt, what,
                              fmt::format("\"{}\" holds character {:#04x}{}", shown(field), u,
                                          is_name ? ", expected a-z, 0-9, - and _" : ""));
            }
        }
        if (is_name && text.empty()) {
            return refuse(Errc::corrupt, what, "empty");
        }
        return text;
    }

    Result<PluginInfo> check_descriptor(const Bytes& bytes) const {
        PluginDescriptor d{};
        std::memcpy(static_cast<void*>(&d), bytes.data(), bytes.size());
        constexpr char expected_magic[] = PARALLAX_PLUGIN_MAGIC;
        static_assert(sizeof(expected_magic) == sizeof(d.magic));
        if (std::memcmp(d.magic, expected_magic, sizeof(expected_magic)) != 0) {
            return refuse(Errc::corrupt, "magic",
                          fmt::format("\"{}\", expected \"{}\"", shown(d.magic), PARALLAX_PLUGIN_MAGIC));
        }
        if (d.abi_version != plugin_abi_version) {
            return refuse(Errc::version_mismatch, "plugin ABI version",
                          fmt::format("{}, expected {}", d.abi_version, plugin_abi_version));
        }
        if (d.descriptor_size != sizeof(PluginDescriptor)) {
            return refuse(Errc::version_mismatch, "descriptor size",
                          fmt::format("{}, expected {}", d.descriptor_size, sizeof(PluginDescriptor)));
        }
        // Plugins share the program's C++ types: the same major and minor
        // version, as the CMake package's SameMinorVersion says.
        if ((d.parallax_version >> 8U) != (version_number >> 8U)) {
            return refuse(Errc::version_mismatch, "libparallax version",
                          fmt::format("{}, expected {}.{}.x", version_text(d.parallax_version), PARALLAX_VERSION_MAJOR,
                                      PARALLAX_VERSION_MINOR));
        }
        if (d.reserved != 0) {
            return refuse(Errc::corrupt, "reserved field", fmt::format("{}, expected 0", d.reserved));
        }
        auto tag = text_field(d.abi_tag, "ABI tag", false);
        if (!tag) {
            return fail(tag.error());
        }
        if (*tag != PARALLAX_PLUGIN_ABI_TAG) {
            return refuse(Errc::version_mismatch, "ABI tag",
                          fmt::format("\"{}\", expected \"{}\" (built with another compiler or standard library)", *tag,
                                      PARALLAX_PLUGIN_ABI_TAG));
        }
        PluginInfo info;
        info.file = file_;
        info.abi_tag = std::move(*tag);
        const std::pair<std::span<const char>, std::string*> fields[] = {
            {d.version, &info.version}, {d.license, &info.license}, {d.description, &info.description}};
        auto name = text_field(d.name, "plugin name", true);
        if (!name) {
            return fail(name.error());
        }
        info.name = std::move(*name);
        const char* labels[] = {"plugin version", "plugin license", "plugin description"};
        for (std::size_t i = 0; i < std::size(fields); ++i) {
            auto text = text_field(fields[i].first, labels[i], false);
            if (!text) {
                return fail(text.error());
            }
            *fields[i].second = std::move(*text);
        }
        return info;
    }

    std::string file_;
    const ElfLibrary* lib_ = nullptr; // from read()
};

} // namespace

Result<PluginInfo> read_plugin_descriptor(const std::filesystem::path& file) {
    return DescriptorReader(file).read();
}

} // namespace parallax
