#pragma once

/// \file
/// Symbol visibility. The library is built with -fvisibility=hidden; every
/// class or function that applications and plugins use is marked PARALLAX_API.
/// On ELF the same attribute serves both the library and its users.

#define PARALLAX_API __attribute__((visibility("default")))
