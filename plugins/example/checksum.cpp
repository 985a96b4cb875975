// checksum: passes buffers on untouched and computes a checksum of every
// byte that went through (CRC-32 as zlib, gzip and PNG compute it, or
// Adler-32). At the end of the stream it posts a "checksum" element message
// and, when the value differs from `expected`, an error.

#include <parallax/element.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <zlib.h>

namespace {

using namespace parallax;

enum class Algorithm { crc32 = 0, adler32 = 1 };

constexpr EnumValue algorithms[] = {
    {0, "crc32", "CRC-32 (IEEE 802.3; as zlib, gzip, PNG and cksum -a crc32b compute it)"},
    {1, "adler32", "Adler-32 (zlib's stream checksum): faster, weaker on short inputs"},
};

class Checksum final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "checksum",
        .klass = "Filter/Analyzer",
        .summary = "Compute a checksum of the stream and post it at end of stream",
        .description =
            "Passes every buffer on untouched and computes a CRC-32 or Adler-32 over all the bytes that "
            "went through. At eos it posts a \"checksum\" element message (fields algorithm, checksum as "
            "8 hex digits, bytes and buffers as decimal text) and sets the checksum property; when expected is set and "
            "differs, it posts an error instead, which stops the pipeline."};
    // A few cycles per byte, no allocation or blocking per buffer.
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.rt_safe = true;
        h.memory = MemoryHint::streaming;
        return h;
    }();

protected:
    Result<void> start() override {
        reset();
        return SimpleTransform::start();
    }

    Flow transform(Buffer& buffer, TransformContext&) override {
        const auto bytes = buffer.data();
        const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
        value_ = algorithm_ == Algorithm::crc32 ? crc32_z(value_, data, bytes.size())
                                                : adler32_z(value_, data, bytes.size());
        bytes_ += bytes.size();
        ++buffers_;
        return Flow::ok;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::eos) {
            finish();
        } else if (event.type() == EventType::flush_stop) {
            reset();
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

private:
    void reset() {
        algorithm_ = algorithm_property_.get();
        value_ = algorithm_ == Algorithm::crc32 ? crc32_z(0, nullptr, 0) : adler32_z(0, nullptr, 0);
        bytes_ = 0;
        buffers_ = 0;
    }

    void finish() {
        const std::string hex = fmt::format("{:08x}", static_cast<std::uint32_t>(value_));
        static_cast<void>(checksum_.set(hex));
        const std::string& expected = expected_.get();
        if (!expected.empty() && expected != hex) {
            static_cast<void>(
                context().error(Error(Errc::failed, fmt::format("{} is {}, expected {}",
                                                                algorithm_property_.value_string(), hex, expected)),
                                fmt::format("{} bytes in {} buffer{}", bytes_, buffers_, buffers_ == 1 ? "" : "s")));
            return;
        }
        Structure s("checksum");
        s.set("algorithm", algorithm_property_.value_string());
        s.set("checksum", hex);
        // Counts as decimal text: caps values hold 32-bit integers only.
        s.set("bytes", fmt::format("{}", bytes_));
        s.set("buffers", fmt::format("{}", buffers_));
        context().post_element_message(std::move(s));
    }

    Property<Algorithm> algorithm_property_{this, "algorithm", Algorithm::crc32, "The checksum to compute", algorithms};
    Property<std::string> expected_{this, "expected", "",
                                    "The checksum the stream must have, as 8 lower-case hex digits; a different "
                                    "one is an error at eos (empty: no check)"};
    Property<std::string> checksum_{this, "checksum", "", "The checksum of the last stream, set at its eos",
                                    Mutability::read_only};

    Algorithm algorithm_ = Algorithm::crc32;
    uLong value_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t buffers_ = 0;
};

} // namespace

PARALLAX_REGISTER_ELEMENT(Checksum);
