// Fuzzes sprocket::decode: any input must give a packet or a DecodeError, never a crash, a
// leak, or an allocation out of proportion to the input. Whatever decodes must re-encode to
// bytes that decode to the same packet, and typed reads of every value must not crash. The
// footprint decode counts must be what a walk of the packet counts, and check (decode without
// building) must agree with decode on every input; what check accepts, decode_checked (the
// game thread's decoder) must make into the same packet.
#include <sprocket/codec.hpp>

#include <cstdint>
#include <cstdlib>
#include <iterator>

namespace {

void read_everything(const sprocket::Value& v) {
    // Every typed read either succeeds or says no; none may crash.
    (void)v.try_as<int>();
    (void)v.try_as<std::uint8_t>();
    (void)v.try_as<float>();
    (void)v.try_as<double>();
    (void)v.try_as<std::string>();
    (void)v.try_as<std::vector<int>>();
    if (const auto* list = v.get_if<sprocket::List>())
        for (const auto& x : *list) read_everything(x);
    if (const auto* map = v.get_if<sprocket::Map>())
        for (const auto& [key, x] : *map) read_everything(x);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto result = sprocket::decode(data, size);
    // check() must find what decode() finds: the same error where it found it, or the same
    // footprint.
    const sprocket::CheckResult checked = sprocket::check(data, size);
    if (checked.ok() != result.ok()) std::abort();
    if (!result.ok()) {
        const sprocket::DecodeError& a = result.error();
        const sprocket::DecodeError& b = checked.error();
        if (a.code != b.code || a.offset != b.offset || a.message != b.message) std::abort();
        return 0;
    }
    if (checked.footprint() != result.footprint()) std::abort();
    const sprocket::Packet& packet = result.packet();
    // Compared as bytes: a NaN never equals itself.
    if (sprocket::encode(sprocket::detail::decode_checked(data, size)) != sprocket::encode(packet)) std::abort();
    // The footprint counted while decoding is the one a walk of the packet finds, and the
    // entries come out in key order whatever order they arrived in.
    if (result.footprint() != sprocket::memory_footprint(packet)) std::abort();
    const sprocket::KeyLess less;
    for (auto it = packet.begin(); it != packet.end() && std::next(it) != packet.end(); ++it)
        if (!less(it->first, std::next(it)->first)) std::abort();
    for (const auto& [key, value] : packet) read_everything(value);
    (void)sprocket::to_string(packet);

    // Re-encoding must round-trip exactly. Bytes are compared rather than packets, because a
    // NaN never equals itself but must keep its bits.
    const sprocket::Bytes again = sprocket::encode(packet);
    auto second = sprocket::decode(again);
    if (!second.ok()) std::abort();
    if (sprocket::encode(second.packet()) != again) std::abort();
    return 0;
}
