// The example plugin's declaration: its elements (checksum.cpp,
// byteswap.cpp) end with their usual registration lines.
#include <parallax/plugin/plugin_descriptor.hpp>

PARALLAX_PLUGIN("example", "1.0", "MIT OR Apache-2.0", "Example elements: stream checksums and byte swapping");
