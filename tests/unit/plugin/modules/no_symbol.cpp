// An ordinary shared object: no descriptor.
extern "C" __attribute__((visibility("default"))) int plugin_test_not_a_plugin() {
    return 42;
}
