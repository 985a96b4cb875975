// The plugin loader against real files: plugins built as MODULE libraries
// (tests/unit/plugin/modules), copies of them truncated or patched, and
// files that are no plugins at all.
#include <parallax/element/registry.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gelf.h>
#include <iterator>
#include <libelf.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;

fs::path module(std::string_view name) {
    return fs::path(PLUGIN_TEST_DIR) / fmt::format("libplugin_test_{}.so", name);
}

std::vector<char> read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch directory, removed at the end of the test.
class ScratchDir {
public:
    ScratchDir() {
        std::string templ = (fs::temp_directory_path() / "plx-plugin-test-XXXXXX").string();
        path_ = ::mkdtemp(templ.data());
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    [[nodiscard]] const fs::path& path() const { return path_; }
    fs::path write(const std::string& name, const std::vector<char>& bytes) const {
        const fs::path file = path_ / name;
        std::ofstream out(file, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return file;
    }
    fs::path copy(const fs::path& from, const std::string& name) const {
        const fs::path file = path_ / name;
        fs::copy_file(from, file, fs::copy_options::overwrite_existing);
        return file;
    }

private:
    fs::path path_;
};

// Loading `file` into a fresh registry fails with a message naming the
// file and containing `check`.
void expect_refused(const fs::path& file, std::string_view check) {
    Registry registry;
    auto r = registry.load_plugin(file);
    ASSERT_FALSE(r) << file;
    EXPECT_NE(r.error().message().find(file.filename().string()), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(check), std::string::npos) << r.error().message();
    EXPECT_TRUE(registry.plugins().empty());
    EXPECT_TRUE(registry.factories().empty());
}

TEST(PluginLoaderTest, DescriptorLayoutIsPinned) {
    EXPECT_EQ(sizeof(PluginDescriptor), plugin_descriptor_checked_size + sizeof(void*));
    EXPECT_STREQ(PARALLAX_PLUGIN_SYMBOL, "parallax_plugin_descriptor");
}

TEST(PluginLoaderTest, ReadsTheDescriptorWithoutLoading) {
    auto info = read_plugin_descriptor(module("good"));
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->name, "good");
    EXPECT_EQ(info->version, "2.5");
    EXPECT_EQ(info->license, "MIT");
    EXPECT_EQ(info->description, "A plugin of the loader's tests");
    EXPECT_EQ(info->abi_tag, PARALLAX_PLUGIN_ABI_TAG);
    EXPECT_TRUE(info->elements.empty());
    // Reading registered nothing anywhere.
    EXPECT_EQ(Registry::global().find("plugintestpass"), nullptr);
}

TEST(PluginLoaderTest, LoadsAGoodPluginAndItsElements) {
    Registry registry;
    auto info = registry.load_plugin(module("good"));
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->name, "good");
    EXPECT_EQ(info->elements, (std::vector<std::string>{"plugintestalias", "plugintestpass"}));
    const ElementFactory* f = registry.find("plugintestpass");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->plugin(), "good");
    EXPECT_EQ(registry.find("plugintestalias"), f);
    auto e = registry.create("plugintestpass");
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ((*e)->get_property("level").value(), "1");
    ASSERT_EQ(registry.plugins().size(), 1U);
    EXPECT_EQ(registry.find_plugin("good")->file, fs::absolute(module("good")).string());
    // The plugin's registration lines did not touch the global registry.
    EXPECT_EQ(Registry::global().find("plugintestpass"), nullptr);
}

TEST(PluginLoaderTest, SamePluginTwiceIsAnErrorAndTheFirstStays) {
    ScratchDir dir;
    Registry registry;
    ASSERT_TRUE(registry.load_plugin(module("good")));
    auto again = registry.load_plugin(module("good"));
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message().find("a plugin named \"good\" is already loaded"), std::string::npos)
        << again.error().message();
    // Another file with the same plugin name.
    const fs::path copy = dir.copy(module("good"), "libcopy.so");
    auto other = registry.load_plugin(copy);
    ASSERT_FALSE(other);
    EXPECT_NE(other.error().message().find(copy.string()), std::string::npos) << other.error().message();
    EXPECT_EQ(registry.plugins().size(), 1U);
    EXPECT_EQ(registry.find("plugintestpass")->plugin(), "good");
}

TEST(PluginLoaderTest, AnElementNameTakenIsAnErrorForTheSecondPlugin) {
    Registry registry;
    ASSERT_TRUE(registry.load_plugin(module("good")));
    auto r = registry.load_plugin(module("conflict"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("registers element \"plugintestpass\", already an element of plugin \"good\""),
              std::string::npos)
        << r.error().message();
    EXPECT_EQ(registry.find("plugintestpass")->plugin(), "good");
    EXPECT_FALSE(registry.find_plugin("conflict"));
}

TEST(PluginLoaderTest, ABuiltInElementNameCannotBeTaken) {
    auto r = Registry::global().load_plugin(module("builtin_name"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("already a built-in element"), std::string::npos) << r.error().message();
    EXPECT_TRUE(Registry::global().find("identity")->plugin().empty());
}

TEST(PluginLoaderTest, RefusesWrongDescriptorFields) {
    expect_refused(module("bad_magic"), "magic: \"PLXBAD!\", expected \"PLXPLUG\"");
    expect_refused(module("bad_abi"), "plugin ABI version: 999, expected 1");
    expect_refused(module("bad_tag"), "ABI tag: \"libc++ abi=1 sparc-be\", expected \"" PARALLAX_PLUGIN_ABI_TAG "\"");
    expect_refused(module("bad_version"), "libparallax version: 99.0.0, expected");
    expect_refused(module("bad_name"), "plugin name: \"Bad Name\" holds character 0x42");
}

TEST(PluginLoaderTest, RefusesBeforeAnyPluginCodeRuns) {
    // This plugin aborts the process from a static constructor: the test
    // survives only if the loader never loaded it.
    expect_refused(module("aborts"), "plugin ABI version: 2, expected 1");
}

TEST(PluginLoaderTest, ReportsAFailedRegistration) {
    expect_refused(module("failing"),
                   "plugin \"failing\" failed to register its elements: an element factory named \"plugintesttwin\" "
                   "exists already");
}

TEST(PluginLoaderTest, RefusesSharedObjectsThatAreNoPlugins) {
    expect_refused(module("no_symbol"), "symbol parallax_plugin_descriptor: not defined");
    expect_refused(module("function"), "symbol parallax_plugin_descriptor: of type 2, expected a data object");
    expect_refused(module("short"), "symbol parallax_plugin_descriptor: 16 bytes, expected at least 376");
    expect_refused(module("bss"), "without bytes in the file");
}

TEST(PluginLoaderTest, RefusesFilesThatAreNoElf) {
    ScratchDir dir;
    expect_refused(dir.write("empty.so", {}), "not an ELF file");
    const std::string text = "#!/bin/sh\necho this is not a plugin\n";
    expect_refused(dir.write("text.so", {text.begin(), text.end()}), "not an ELF file");
    expect_refused(dir.path(), "not a regular file");
    Registry registry;
    auto missing = registry.load_plugin(dir.path() / "missing.so");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("missing.so: cannot open"), std::string::npos);
}

TEST(PluginLoaderTest, RandomBytesAreAnErrorNeverACrash) {
    ScratchDir dir;
    const std::vector<char> good = read_all(module("good"));
    std::mt19937 random(12345); // NOLINT(cert-msc51-cpp): reproducible on purpose
    for (int i = 0; i < 50; ++i) {
        std::vector<char> bytes(static_cast<std::size_t>(1 + random() % 8192));
        for (auto& b : bytes) {
            b = static_cast<char>(random());
        }
        // Half of them start like the good plugin, so that the ELF reader
        // goes further than the header.
        if (i % 2 == 1) {
            std::copy_n(good.begin(), std::min<std::size_t>(bytes.size(), 64 + static_cast<std::size_t>(i) * 40),
                        bytes.begin());
        }
        const fs::path file = dir.write(fmt::format("random{}.so", i), bytes);
        Registry registry;
        auto r = registry.load_plugin(file);
        ASSERT_FALSE(r) << file;
        EXPECT_NE(r.error().message().find(file.string()), std::string::npos) << r.error().message();
    }
}

TEST(PluginLoaderTest, ATruncatedPluginIsRefused) {
    ScratchDir dir;
    const std::vector<char> good = read_all(module("good"));
    ASSERT_GT(good.size(), 4096U);
    for (std::size_t size : {std::size_t{3}, std::size_t{16}, std::size_t{63}, std::size_t{64}, std::size_t{1000},
                             good.size() / 2, good.size() - 100, good.size() - 1}) {
        const fs::path file = dir.write(fmt::format("truncated{}.so", size),
                                        {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)});
        Registry registry;
        auto r = registry.load_plugin(file);
        ASSERT_FALSE(r) << size;
        EXPECT_NE(r.error().message().find(file.string()), std::string::npos) << r.error().message();
    }
}

// Patches a copy of the good plugin through libelf.
void patch_descriptor_symbol(const fs::path& file, GElf_Addr value) {
    ASSERT_NE(elf_version(EV_CURRENT), EV_NONE);
    const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    Elf* elf = elf_begin(fd, ELF_C_RDWR, nullptr);
    ASSERT_NE(elf, nullptr);
    elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
    bool patched = false;
    for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr && !patched; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr h{};
        gelf_getshdr(scn, &h);
        if (h.sh_type != SHT_DYNSYM) {
            continue;
        }
        Elf_Data* data = elf_getdata(scn, nullptr);
        for (int i = 0; static_cast<std::size_t>(i) < h.sh_size / h.sh_entsize; ++i) {
            GElf_Sym sym{};
            gelf_getsym(data, i, &sym);
            const char* name = elf_strptr(elf, h.sh_link, sym.st_name);
            if (name != nullptr && std::string_view(name) == PARALLAX_PLUGIN_SYMBOL) {
                Elf_Scn* target = elf_getscn(elf, sym.st_shndx);
                GElf_Shdr th{};
                gelf_getshdr(target, &th);
                sym.st_value = value == 0 ? th.sh_addr + th.sh_size - 8 : value;
                gelf_update_sym(data, i, &sym);
                elf_flagdata(data, ELF_C_SET, ELF_F_DIRTY);
                patched = true;
                break;
            }
        }
    }
    EXPECT_TRUE(patched);
    EXPECT_GE(elf_update(elf, ELF_C_WRITE), 0) << elf_errmsg(-1);
    elf_end(elf);
    ::close(fd);
}

TEST(PluginLoaderTest, ASymbolOutsideItsSectionIsRefused) {
    ScratchDir dir;
    const fs::path near_end = dir.copy(module("good"), "near_end.so");
    patch_descriptor_symbol(near_end, 0); // 8 bytes before the section's end
    expect_refused(near_end, "outside its section");
    const fs::path far = dir.copy(module("good"), "far.so");
    patch_descriptor_symbol(far, ~GElf_Addr{0} - 100); // would overflow a naive bounds check
    expect_refused(far, "outside its section");
}

TEST(PluginLoaderTest, AnotherClassOrMachineIsRefused) {
    ScratchDir dir;
    std::vector<char> bytes = read_all(module("good"));
    bytes[EI_CLASS] = ELFCLASS32;
    expect_refused(dir.write("class32.so", bytes), "ELF class: 32-bit, expected 64-bit");
    bytes = read_all(module("good"));
    bytes[EI_DATA] = ELFDATA2MSB;
    expect_refused(dir.write("bigendian.so", bytes), "ELF byte order: big-endian, expected little-endian");
    bytes = read_all(module("good"));
    bytes[18] = 0x02; // e_machine: EM_SPARC
    bytes[19] = 0x00;
    expect_refused(dir.write("sparc.so", bytes), "ELF machine: 2, expected");
}

TEST(PluginLoaderTest, SearchPathLoadsTheGoodAndReportsTheBad) {
    ScratchDir dir;
    dir.copy(module("good"), "libgood.so");
    dir.copy(module("bad_magic"), "libbad.so");
    dir.write("README.txt", {'h', 'i'}); // not *.so: ignored
    const fs::path file = module("conflict");
    const std::vector<fs::path> path = {dir.path() / "missing", dir.path(), file, dir.path()};
    Registry registry;
    const PluginLoadReport report = registry.load_plugins(path);
    ASSERT_EQ(report.loaded.size(), 1U);
    EXPECT_EQ(report.loaded[0].name, "good");
    // libbad.so refused; the conflicting plugin refused as the second; the
    // directory listed twice loads nothing twice.
    ASSERT_EQ(report.failures.size(), 2U);
    EXPECT_NE(report.failures[0].message().find("libbad.so: magic"), std::string::npos) << report.failures[0].message();
    EXPECT_NE(report.failures[1].message().find("libplugin_test_conflict.so"), std::string::npos)
        << report.failures[1].message();
    EXPECT_NE(registry.find("plugintestpass"), nullptr);
}

TEST(PluginLoaderTest, DefaultPathIsTheEnvironmentThenTheInstallDir) {
    const char* saved = std::getenv("PARALLAX_PLUGIN_PATH");
    const std::string restore = saved != nullptr ? saved : "";
    ::setenv("PARALLAX_PLUGIN_PATH", "/a:/b/libc.so::/d", 1);
    const auto path = default_plugin_path();
    EXPECT_EQ(path, (std::vector<fs::path>{"/a", "/b/libc.so", "/d", plugin_install_dir()}));
    ::unsetenv("PARALLAX_PLUGIN_PATH");
    EXPECT_EQ(default_plugin_path(), std::vector<fs::path>{plugin_install_dir()});
    EXPECT_NE(plugin_install_dir().string().find("parallax-"), std::string::npos);
    if (saved != nullptr) {
        ::setenv("PARALLAX_PLUGIN_PATH", restore.c_str(), 1);
    }
}

} // namespace
} // namespace parallax
