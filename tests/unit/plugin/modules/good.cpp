// A well-formed plugin: one element and one alias.
#include <parallax/element.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

namespace {

class PluginTestPass final : public parallax::SimpleTransform {
public:
    static constexpr parallax::ElementInfo info{
        .factory = PLUGIN_TEST_ELEMENT, .klass = "Filter", .summary = "Passes buffers on (a test plugin's element)"};

protected:
    parallax::Flow transform(parallax::Buffer&, parallax::TransformContext&) override { return parallax::Flow::ok; }

private:
    parallax::Property<int> level_{this, "level", 1, "A property to read back", {0, 10}};
};

} // namespace

PARALLAX_REGISTER_ELEMENT(PluginTestPass);
#ifdef PLUGIN_TEST_ALIAS
PARALLAX_REGISTER_ALIAS(PLUGIN_TEST_ALIAS, PLUGIN_TEST_ELEMENT);
#endif
PARALLAX_PLUGIN(PLUGIN_TEST_NAME, "2.5", "MIT", "A plugin of the loader's tests");
