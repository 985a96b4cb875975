#pragma once

/// \file
/// Everything needed to write an element: Element, the Simple bases,
/// properties, events, queries, and the registration line.

#include <parallax/buffer/buffer.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element/element.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/element/simple.hpp>
