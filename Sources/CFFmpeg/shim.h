#pragma once
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/opt.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/error.h>

/// AVERROR(EAGAIN), AVERROR_EOF and AVERROR_ENCODER_NOT_FOUND are macros Swift cannot import.
static inline int skipdit_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int skipdit_averror_eof(void) { return AVERROR_EOF; }
static inline int skipdit_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
