// Fuzzes sprocket::FrameDecoder with the input split into chunks chosen by the input itself:
// whatever the chunking, the frames must be the same as when the input is fed at once, and
// the decoder must never buffer more than its limit allows.
#include <sprocket/codec.hpp>
#include <sprocket/frame.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

constexpr std::size_t limit = 4096;

struct Outcome {
    std::vector<std::pair<std::uint8_t, sprocket::Bytes>> frames;
    bool failed = false;
};

void drain(sprocket::FrameDecoder& decoder, Outcome& out) {
    sprocket::FrameView frame;
    sprocket::FrameStatus status;
    while ((status = decoder.next(frame)) == sprocket::FrameStatus::ready) {
        if (frame.size > limit) std::abort();
        out.frames.emplace_back(frame.kind, sprocket::Bytes(frame.body, frame.body + frame.size));
        if (frame.kind == static_cast<std::uint8_t>(sprocket::FrameKind::packet))
            (void)sprocket::decode(frame.body, frame.size);
    }
    if (status == sprocket::FrameStatus::error) out.failed = true;
    // Nothing beyond one frame's header and body may be held for long.
    if (!out.failed && decoder.buffered() > limit + sprocket::frame_header_size) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t chunk = 1 + data[0] % 64;  // first byte: chunk size for the split run
    const std::uint8_t* stream = data + 1;
    const std::size_t n = size - 1;

    Outcome whole;
    {
        sprocket::FrameDecoder decoder(limit);
        decoder.feed(stream, n);
        drain(decoder, whole);
    }
    Outcome split;
    {
        sprocket::FrameDecoder decoder(limit);
        for (std::size_t at = 0; at < n && !split.failed; at += chunk) {
            const std::size_t len = std::min(chunk, n - at);
            std::uint8_t* dst = decoder.prepare(len);
            for (std::size_t i = 0; i < len; ++i) dst[i] = stream[at + i];
            decoder.commit(len);
            drain(decoder, split);
        }
    }
    if (whole.frames != split.frames || whole.failed != split.failed) std::abort();
    return 0;
}
