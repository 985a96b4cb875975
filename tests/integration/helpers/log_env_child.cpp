// Logs one message at each of info and debug in the category "envtest", so
// that log_env_test can check how PARALLAX_DEBUG, read at start-up, filters
// them.
#include <parallax/base/log.hpp>

namespace {
parallax::LogCategory envtest("envtest", "PARALLAX_DEBUG test category");
} // namespace

int main() {
    PARALLAX_INFO(envtest, "info message {}", 1);
    PARALLAX_DEBUG(envtest, "debug message {}", 2);
    return 0;
}
