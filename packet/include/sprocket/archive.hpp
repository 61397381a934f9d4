#pragma once
/// \file
/// A cereal archive pair over a plain byte buffer: the serializer behind every `Packet` and
/// every user type stored in one.
///
/// Integers are written as LEB128 varints (signed ones zigzag-encoded), reals as little-endian
/// IEEE 754, sizes as varints. The input archive never trusts its input: every size is checked
/// against the bytes that remain *before* cereal's loaders allocate anything, nesting depth is
/// bounded, and every failure throws `DecodeException` (a `cereal::Exception`) carrying a
/// `DecodeError`. It never reads past the end of its input.

#include <sprocket/errors.hpp>

#include <cereal/cereal.hpp>
// std::string and std::vector members of a user's type work without including these: every
// size they read is checked against the bytes that remain (SizeTag below) before anything grows.
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sprocket's archives assume a little-endian host"
#endif

namespace sprocket {

/// Thrown by `ByteInputArchive` on malformed input. `decode()` catches it and returns the
/// `DecodeError` as a value; you only see it if you use the archive directly.
class DecodeException : public cereal::Exception {
public:
    explicit DecodeException(DecodeError error);
    const DecodeError& error() const noexcept { return error_; }

private:
    DecodeError error_;
};

/// Appends to a byte vector. Cannot fail (except by running out of memory).
class ByteOutputArchive
    : public cereal::OutputArchive<ByteOutputArchive, cereal::AllowEmptyClassElision> {
public:
    /// Appends to `out`; what was already in `out` is kept.
    explicit ByteOutputArchive(std::vector<std::uint8_t>& out)
        : cereal::OutputArchive<ByteOutputArchive, cereal::AllowEmptyClassElision>(this), out_(out) {}

    void write(const void* data, std::size_t size) {
        const auto* bytes = static_cast<const std::uint8_t*>(data);
        out_.insert(out_.end(), bytes, bytes + size);
    }
    void write_byte(std::uint8_t byte) { out_.push_back(byte); }
    void write_varint(std::uint64_t value) {
        std::uint8_t tmp[10];
        std::size_t n = 0;
        while (value >= 0x80) {
            tmp[n++] = static_cast<std::uint8_t>(value | 0x80);
            value >>= 7;
        }
        tmp[n++] = static_cast<std::uint8_t>(value);
        write(tmp, n);
    }
    std::vector<std::uint8_t>& buffer() noexcept { return out_; }

private:
    std::vector<std::uint8_t>& out_;
};

/// Reads from a byte range it does not own (the range must outlive the archive), or from a
/// buffer it was given. Every read is bounds-checked; failures throw `DecodeException`.
class ByteInputArchive
    : public cereal::InputArchive<ByteInputArchive, cereal::AllowEmptyClassElision> {
public:
    /// Default maximum nesting depth of lists, maps and user types.
    static constexpr std::size_t default_max_depth = 32;

    ByteInputArchive(const std::uint8_t* data, std::size_t size,
                     std::size_t max_depth = default_max_depth)
        : cereal::InputArchive<ByteInputArchive, cereal::AllowEmptyClassElision>(this),
          begin_(data), pos_(data), end_(data + size), max_depth_(max_depth) {}
    /// Reads `bytes` from `offset` on (offsets in errors count from there), owning them, so
    /// that `take_bytes` can hand the buffer itself over. Throws std::out_of_range when
    /// `offset` is past the end.
    ByteInputArchive(std::vector<std::uint8_t>&& bytes, std::size_t offset, std::size_t max_depth = default_max_depth);

    /// Copies `size` bytes out; throws `truncated` if fewer remain.
    void read(void* dst, std::size_t size) {
        need(size);
        if (size != 0) std::memcpy(dst, pos_, size);
        pos_ += size;
    }
    std::uint8_t read_byte() {
        need(1);
        return *pos_++;
    }
    /// A LEB128 varint of at most 10 bytes; throws `truncated` or `bad_varint`.
    std::uint64_t read_varint() {
        std::uint64_t result = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (pos_ == end_) fail(DecodeErrc::truncated, "input ends inside a varint");
            const std::uint8_t byte = *pos_++;
            if (shift == 63 && byte > 1) fail(DecodeErrc::bad_varint, "varint overflows 64 bits");
            result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return result;
        }
        fail(DecodeErrc::bad_varint, "varint longer than 10 bytes");
    }

    /// Reads a count of things that each take at least `min_bytes` bytes of the input, and
    /// checks that they fit in what remains (less what enclosing containers still need) before
    /// anyone allocates for them. Throws `too_large` with `what` in the message otherwise.
    std::size_t read_size(const char* what, std::size_t min_bytes = 1) {
        const std::uint64_t n = (pos_ != end_ && *pos_ < 0x80) ? *pos_++ : read_varint();
        const std::size_t left = remaining();
        const std::size_t available = left > committed_ ? left - committed_ : 0;
        if (n > available / (min_bytes == 0 ? 1 : min_bytes)) fail_size(what, n, available);
        return static_cast<std::size_t>(n);
    }

    /// Containers of known element size call these so that the size check above also accounts
    /// for the bytes their remaining elements will need: `begin_elements(n, m)` once, then
    /// `next_element(m)` before decoding each element.
    void begin_elements(std::size_t count, std::size_t min_bytes) { committed_ += count * min_bytes; }
    void next_element(std::size_t min_bytes) { committed_ -= min_bytes; }

    /// Bytes not yet read.
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
    /// Bytes read so far (the offset reported in errors).
    std::size_t offset() const noexcept { return moved_ + static_cast<std::size_t>(pos_ - begin_); }
    /// A view of the next `size` bytes, consumed; throws `truncated` if fewer remain.
    const std::uint8_t* take(std::size_t size) {
        need(size);
        const std::uint8_t* p = pos_;
        pos_ += size;
        return p;
    }

    /// The next `size` bytes as a vector of their own, consumed; throws `truncated` if fewer
    /// remain. A copy, except once: when the archive owns its buffer and they are at least
    /// `adopt_min` bytes and half of it, they are moved to the buffer's front and the buffer is
    /// returned (no allocation; what follows them is copied aside and read from there).
    std::vector<std::uint8_t> take_bytes(std::size_t size);
    static constexpr std::size_t adopt_min = std::size_t{64} << 10;

    /// Nesting bookkeeping: throws `too_deep` past the limit.
    void enter() {
        if (++depth_ > max_depth_) fail(DecodeErrc::too_deep, "nesting deeper than the limit of " + std::to_string(max_depth_));
    }
    void leave() noexcept { --depth_; }

    /// Throws `DecodeException` with the current offset (or `at`).
    [[noreturn]] void fail(DecodeErrc code, const std::string& detail) const { fail_at(offset(), code, detail); }
    [[noreturn]] void fail_at(std::size_t at, DecodeErrc code, const std::string& detail) const;

private:
    void need(std::size_t size) const {
        if (size > remaining()) fail_need(size);
    }
    [[noreturn]] void fail_need(std::size_t size) const;
    [[noreturn]] void fail_size(const char* what, std::uint64_t n, std::size_t available) const;

    const std::uint8_t* begin_;
    const std::uint8_t* pos_;
    const std::uint8_t* end_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    std::size_t committed_ = 0;  // bytes promised to elements of open containers
    std::vector<std::uint8_t> owned_;                // the buffer given to the archive, until take_bytes hands it over
    std::vector<std::uint8_t> rest_;                 // then, the bytes after what it handed over
    std::size_t moved_ = 0;      // the offset of begin_ (nonzero once reading goes on in rest_)
};

namespace detail {
inline std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}
}  // namespace detail

// --- cereal hooks: how each primitive looks in these archives --------------------------------

/// bool: one byte, 0 or 1.
inline void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, bool const& b) { ar.write_byte(b ? 1 : 0); }
inline void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, bool& b) {
    const std::uint8_t byte = ar.read_byte();
    if (byte > 1) ar.fail(DecodeErrc::bad_value, "bool byte is " + std::to_string(byte));
    b = byte == 1;
}

/// Integers: one byte when 8 bits wide, otherwise a varint (zigzag for signed types).
template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, T const& v) {
    if constexpr (sizeof(T) == 1) {
        ar.write_byte(static_cast<std::uint8_t>(v));
    } else if constexpr (std::is_signed_v<T>) {
        ar.write_varint(detail::zigzag(static_cast<std::int64_t>(v)));
    } else {
        ar.write_varint(static_cast<std::uint64_t>(v));
    }
}
template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& v) {
    if constexpr (sizeof(T) == 1) {
        v = static_cast<T>(ar.read_byte());
    } else if constexpr (std::is_signed_v<T>) {
        const std::int64_t wide = detail::unzigzag(ar.read_varint());
        if (wide < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            wide > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
            ar.fail(DecodeErrc::bad_value, "integer " + std::to_string(wide) + " out of range");
        v = static_cast<T>(wide);
    } else {
        const std::uint64_t wide = ar.read_varint();
        if (wide > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
            ar.fail(DecodeErrc::bad_value, "integer " + std::to_string(wide) + " out of range");
        v = static_cast<T>(wide);
    }
}

/// Reals: little-endian IEEE 754, 4 or 8 bytes.
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, T const& v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "long double is not portable: use double");
    ar.write(&v, sizeof v);
}
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "long double is not portable: use double");
    ar.read(&v, sizeof v);
}

/// Names are not written (the format is positional).
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, cereal::NameValuePair<T> const& t) { ar(t.value); }
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, cereal::NameValuePair<T>& t) { ar(t.value); }

/// Sizes: a varint, checked on load against the bytes that remain.
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, cereal::SizeTag<T> const& t) {
    ar.write_varint(static_cast<std::uint64_t>(t.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, cereal::SizeTag<T>& t) {
    t.size = static_cast<std::remove_reference_t<T>>(ar.read_size("container size"));
}

/// Raw bytes, as they are in memory.
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, cereal::BinaryData<T> const& bd) {
    ar.write(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, cereal::BinaryData<T>& bd) {
    ar.read(bd.data, static_cast<std::size_t>(bd.size));
}

/// Vectors of class types grow with the elements actually read, instead of cereal's
/// `resize(claimed size)` first: a blob claiming a million 1 KiB structs costs what its bytes
/// really hold, not a GiB. (Arithmetic vectors keep cereal's loader: a checked size, one
/// allocation, at most 8 bytes per input byte.)
template <class T, class A, std::enable_if_t<!std::is_arithmetic_v<T>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, std::vector<T, A>& vec) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    vec.clear();
    vec.reserve(static_cast<std::size_t>(n < 16 ? n : 16));
    for (cereal::size_type i = 0; i < n; ++i) ar(vec.emplace_back());
}

namespace detail {
template <class T> struct is_cereal_wrapper : std::false_type {};
template <class T> struct is_cereal_wrapper<cereal::NameValuePair<T>> : std::true_type {};
template <class T> struct is_cereal_wrapper<cereal::SizeTag<T>> : std::true_type {};
template <class T> struct is_cereal_wrapper<cereal::BinaryData<T>> : std::true_type {};
template <class T>
inline constexpr bool counts_as_level = std::is_class_v<T> && !is_cereal_wrapper<T>::value;
}  // namespace detail

/// Depth accounting for every class type the input archive loads (cereal's own wrappers
/// aside), so recursive user types cannot exhaust the stack.
template <class T, std::enable_if_t<detail::counts_as_level<T>, int> = 0>
void prologue(ByteInputArchive& ar, T const&) { ar.enter(); }
template <class T, std::enable_if_t<detail::counts_as_level<T>, int> = 0>
void epilogue(ByteInputArchive& ar, T const&) { ar.leave(); }

}  // namespace sprocket

CEREAL_REGISTER_ARCHIVE(sprocket::ByteOutputArchive)
CEREAL_REGISTER_ARCHIVE(sprocket::ByteInputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(sprocket::ByteInputArchive, sprocket::ByteOutputArchive)

/// \code
/// struct Vec2 { float x, y; template <class A> void serialize(A& a) { a(x, y); } };
/// std::vector<std::uint8_t> bytes;
/// { sprocket::ByteOutputArchive out(bytes); out(Vec2{1, 2}); }
/// Vec2 v;
/// sprocket::ByteInputArchive in(bytes.data(), bytes.size());
/// in(v);   // throws sprocket::DecodeException on malformed bytes
/// \endcode
