// VideoWriter: RGB frames -> YUV 4:2:0 (libswscale) -> H.264 or MPEG-4
// (libavcodec) -> a container chosen by the file name (libavformat). Each
// frame's timestamp is its number in a time base of one frame, so the
// video plays at exactly the rate given.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "core/error.h"
#include "tools/yolo/ffmpeg_handles.h"
#include "tools/yolo/video_io.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace yolo {

using core::IoError;

struct VideoWriter::State {
  std::string path, partial_path;
  int width = 0, height = 0;              // the frames given
  ffmpeg::OutputFormat format;
  ffmpeg::Codec encoder;
  AVStream* stream = nullptr;             // owned by format
  ffmpeg::Frame rgb = ffmpeg::Frame(av_frame_alloc());
  ffmpeg::Frame yuv = ffmpeg::Frame(av_frame_alloc());
  ffmpeg::Packet packet = ffmpeg::Packet(av_packet_alloc());
  ffmpeg::Scaler scaler;
  std::string codec_name;
  std::int64_t frames = 0;
  bool file_open = false, created = false, finished = false;

  // Also runs when the constructor throws, which ~VideoWriter would not see.
  ~State() {
    if (finished) return;
    close_file();
    std::error_code ignored;
    if (created) std::filesystem::remove(partial_path, ignored);
  }
  void open_container();
  void open_encoder(FrameRate rate);
  void allocate_frames();
  void copy_padded(const data::Image& image);
  void send(const AVFrame* frame);
  void close_file();
};

namespace {

// libx264 where this FFmpeg was built with it (Debian 12's libavcodec59 is),
// else FFmpeg's own MPEG-4 Part 2 encoder, which every build has.
const AVCodec* pick_encoder() {
  if (const AVCodec* x264 = avcodec_find_encoder_by_name("libx264")) return x264;
  return avcodec_find_encoder(AV_CODEC_ID_MPEG4);
}

void check(int code, const std::string& path, std::string_view what) {
  if (code < 0) throw IoError(fmt::format("{}: {}: {}", path, what, ffmpeg::error_text(code)));
}

}  // namespace

void VideoWriter::State::open_container() {
  ffmpeg::quiet_logs();
  AVFormatContext* raw = nullptr;
  // The container is guessed from the real name; the bytes go to the temporary one.
  if (avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str()) < 0 || !raw) {
    throw IoError(fmt::format("{}: FFmpeg knows no video container for this file name (use .mp4, .mkv or .avi)", path));
  }
  format.reset(raw);
  // The MP4 muxer reopens the file by this name to move its index to the front.
  av_freep(&format->url);
  format->url = av_strdup(partial_path.c_str());
  if (format->oformat->video_codec == AV_CODEC_ID_NONE) {
    throw IoError(fmt::format("{}: the {} format holds no video", path, format->oformat->name));
  }
}

void VideoWriter::State::open_encoder(FrameRate rate) {
  const AVCodec* codec = pick_encoder();
  if (!codec) throw IoError(fmt::format("{}: this FFmpeg has neither an H.264 nor an MPEG-4 encoder", path));
  codec_name = codec->name;
  if (avformat_query_codec(format->oformat, codec->id, FF_COMPLIANCE_NORMAL) != 1) {
    throw IoError(fmt::format("{}: the {} format cannot hold {} video (use .mp4, .mkv or .avi)", path,
                              format->oformat->name, codec_name));
  }
  encoder.reset(avcodec_alloc_context3(codec));
  stream = avformat_new_stream(format.get(), nullptr);
  if (!encoder || !stream || !rgb || !yuv || !packet) throw IoError(fmt::format("{}: out of memory for the encoder", path));
  // 4:2:0 subsamples chroma by two in both directions: the coded size is even.
  encoder->width = width + (width & 1);
  encoder->height = height + (height & 1);
  encoder->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder->time_base = AVRational{rate.den, rate.num};
  encoder->framerate = AVRational{rate.num, rate.den};
  // swscale's default RGB -> YUV matrix is BT.601 with limited range; say so.
  encoder->colorspace = AVCOL_SPC_SMPTE170M;
  encoder->color_range = AVCOL_RANGE_MPEG;
  if (format->oformat->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (codec->id == AV_CODEC_ID_H264) {
    // Annotated previews: a fast preset at x264's default quality (CRF 23).
    av_opt_set(encoder->priv_data, "preset", "veryfast", 0);
  } else {
    encoder->flags |= AV_CODEC_FLAG_QSCALE;  // constant quality, not the 200 kb/s default bit rate
    encoder->global_quality = FF_QP2LAMBDA * 4;
  }
  check(avcodec_open2(encoder.get(), codec, nullptr), path, fmt::format("cannot open the {} encoder", codec_name));
  check(avcodec_parameters_from_context(stream->codecpar, encoder.get()), path, "cannot describe the video stream");
  stream->time_base = encoder->time_base;
  stream->avg_frame_rate = encoder->framerate;
}

void VideoWriter::State::allocate_frames() {
  rgb->format = AV_PIX_FMT_RGB24;
  yuv->format = AV_PIX_FMT_YUV420P;
  for (AVFrame* f : {rgb.get(), yuv.get()}) {
    f->width = encoder->width;
    f->height = encoder->height;
    check(av_frame_get_buffer(f, 0), path, "out of memory for a frame");
  }
  scaler.reset(sws_getContext(encoder->width, encoder->height, AV_PIX_FMT_RGB24, encoder->width, encoder->height,
                              AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!scaler) throw IoError(fmt::format("{}: cannot set up the RGB to YUV conversion", path));
}

// Float RGB (0..255) to bytes, rounded and clamped; a padded row or column
// repeats the last one so no coloured seam bleeds into the picture.
void VideoWriter::State::copy_padded(const data::Image& image) {
  check(av_frame_make_writable(rgb.get()), path, "cannot reuse a frame buffer");
  for (int y = 0; y < encoder->height; ++y) {
    const float* src = image.at(0, std::min(y, height - 1));
    std::uint8_t* dst = rgb->data[0] + std::ptrdiff_t(y) * rgb->linesize[0];
    for (int x = 0; x < encoder->width; ++x) {
      const float* px = src + std::ptrdiff_t(std::min(x, width - 1)) * 3;
      for (int c = 0; c < 3; ++c) dst[x * 3 + c] = static_cast<std::uint8_t>(std::clamp(px[c], 0.0f, 255.0f) + 0.5f);
    }
  }
}

// One frame into the encoder (null: the end), and every packet it has ready into the file.
void VideoWriter::State::send(const AVFrame* frame) {
  check(avcodec_send_frame(encoder.get(), frame), path, "the encoder refused a frame");
  while (true) {
    const int got = avcodec_receive_packet(encoder.get(), packet.get());
    if (got == AVERROR(EAGAIN) || got == AVERROR_EOF) return;
    check(got, path, "encoding failed");
    av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
    packet->stream_index = stream->index;
    check(av_interleaved_write_frame(format.get(), packet.get()), path, "writing a frame failed");
  }
}

void VideoWriter::State::close_file() {
  if (file_open) avio_closep(&format->pb);
  file_open = false;
}

VideoWriter::VideoWriter(const std::string& path, int width, int height, FrameRate frame_rate)
    : state_(std::make_unique<State>()) {
  if (width <= 0 || height <= 0) throw core::ValueError(fmt::format("{}: video size {}x{} is not positive", path, width, height));
  if (frame_rate.num <= 0 || frame_rate.den <= 0) {
    throw core::ValueError(fmt::format("{}: frame rate {}/{} is not positive", path, frame_rate.num, frame_rate.den));
  }
  State& s = *state_;
  s.path = path;
  s.partial_path = path + ".partial";
  s.width = width;
  s.height = height;
  s.open_container();
  s.open_encoder(frame_rate);
  s.allocate_frames();
  if (!(s.format->oformat->flags & AVFMT_NOFILE)) {
    check(avio_open(&s.format->pb, s.partial_path.c_str(), AVIO_FLAG_WRITE), path,
          fmt::format("cannot create {} (the video until it is complete)", s.partial_path));
    s.file_open = s.created = true;
  }
  AVDictionary* options = nullptr;
  // MP4 and MOV: the index goes to the front, so players start before the end has arrived.
  av_dict_set(&options, "movflags", "+faststart", 0);
  const int header = avformat_write_header(s.format.get(), &options);
  av_dict_free(&options);
  check(header, path, "cannot write the container header");
}

// Without finish(), State's destructor closes and removes the partial file.
VideoWriter::~VideoWriter() = default;

void VideoWriter::write(const data::Image& frame) {
  State& s = *state_;
  if (frame.width != s.width || frame.height != s.height) {
    throw core::ValueError(
        fmt::format("{}: frame of {}x{} in a {}x{} video", s.path, frame.width, frame.height, s.width, s.height));
  }
  s.copy_padded(frame);
  check(av_frame_make_writable(s.yuv.get()), s.path, "cannot reuse a frame buffer");
  sws_scale(s.scaler.get(), s.rgb->data, s.rgb->linesize, 0, s.encoder->height, s.yuv->data, s.yuv->linesize);
  s.yuv->pts = s.frames++;
  s.send(s.yuv.get());
}

void VideoWriter::finish() {
  State& s = *state_;
  if (s.finished) return;
  s.send(nullptr);
  check(av_write_trailer(s.format.get()), s.path, "cannot complete the container");
  s.close_file();
  std::error_code error;
  std::filesystem::rename(s.partial_path, s.path, error);
  if (error) throw IoError(fmt::format("{}: cannot move {} into place: {}", s.path, s.partial_path, error.message()));
  s.finished = true;
}

const std::string& VideoWriter::codec() const { return state_->codec_name; }

std::int64_t VideoWriter::frames_written() const { return state_->frames; }

}  // namespace yolo
