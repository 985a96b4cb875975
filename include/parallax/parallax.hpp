#pragma once

/// \file
/// The common public headers of libparallax in one include: buffers, caps,
/// elements, pipelines, the bus, and raw video and audio formats.

#include <parallax/audio/audio_channels.hpp>
#include <parallax/audio/audio_format.hpp>
#include <parallax/audio/audio_info.hpp>
#include <parallax/audio/audio_samples.hpp>
#include <parallax/base/error.hpp>
#include <parallax/base/log.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/buffer/buffer_pool.hpp>
#include <parallax/buffer/clock_time.hpp>
#include <parallax/buffer/metadata.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/pipeline/bus.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_colorimetry.hpp>
#include <parallax/video/video_format.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>
