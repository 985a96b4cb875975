// The conformance suite that unit_elements runs over every built-in element,
// run here over the example plugin's elements: a plugin's elements meet the
// same rules (info, properties, states, eos, flush).

#define CONFORMANCE_PLUGIN EXAMPLE_PLUGIN
#include "unit/elements/conformance_test.cpp"
