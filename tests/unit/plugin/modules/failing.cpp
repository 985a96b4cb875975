// A plugin whose registration fails: two element types claim one name.
#include <parallax/element.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

namespace {

template <int N>
class Twin final : public parallax::SimpleTransform {
public:
    static constexpr parallax::ElementInfo info{.factory = "plugintesttwin", .klass = "Filter", .summary = "A twin"};

protected:
    parallax::Flow transform(parallax::Buffer&, parallax::TransformContext&) override { return parallax::Flow::ok; }
};

} // namespace

PARALLAX_REGISTER_ELEMENT(Twin<1>);
PARALLAX_REGISTER_ELEMENT(Twin<2>);
PARALLAX_PLUGIN("failing", "1.0", "MIT", "A plugin whose registration fails");
