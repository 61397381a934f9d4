#include <sprocket/recording.hpp>

#include <sprocket/codec.hpp>
#include <sprocket/detail/recorder.hpp>
#include <sprocket/detail/socket.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <system_error>

namespace sprocket {
namespace {

// The layout is in docs/RECORDING.md.
constexpr std::uint8_t magic[8] = {'S', 'P', 'R', 'K', 'R', 'E', 'C', '\n'};
constexpr std::uint16_t format_version = 1;
constexpr std::size_t record_header_size = 1 + 8 + 4 + 4;  // kind, at, client, body size
constexpr std::size_t max_detail = 4096;                   // longer details are cut when recording
constexpr auto flush_interval = std::chrono::milliseconds(50);
constexpr std::size_t file_buffer = 64 * 1024;

template <class Int>
void put(Bytes& out, Int value) {
    for (std::size_t i = 0; i < sizeof(Int); ++i) out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

template <class Int>
Int get(const std::uint8_t* in) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
    return static_cast<Int>(value);
}

bool known_kind(std::uint8_t kind) { return kind >= 1 && kind <= 4; }

std::string_view cut(std::string_view detail) { return detail.substr(0, max_detail); }

// The body of a record that is not a packet.
Bytes event_body(RecordKind kind, CloseReason reason, std::string_view detail) {
    Bytes body;
    if (kind == RecordKind::left) body.push_back(static_cast<std::uint8_t>(reason));
    detail = cut(detail);
    body.insert(body.end(), detail.begin(), detail.end());
    return body;
}

[[noreturn]] void fail_reading(const std::string& path, RecordingErrc code, std::size_t offset, const std::string& what) {
    throw RecordingError(code, offset, path + ": " + to_string(code) + ": " + what);
}

}  // namespace

const char* to_string(RecordKind kind) noexcept {
    switch (kind) {
    case RecordKind::sent: return "sent";
    case RecordKind::received: return "received";
    case RecordKind::joined: return "joined";
    case RecordKind::left: return "left";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, RecordKind kind) { return os << to_string(kind); }

const char* to_string(RecordRole role) noexcept {
    switch (role) {
    case RecordRole::client: return "client";
    case RecordRole::server: return "server";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, RecordRole role) { return os << to_string(role); }

std::ostream& operator<<(std::ostream& os, const Record& record) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(6) << std::chrono::duration<double>(record.at).count() << " s "
         << record.kind << " client " << record.client;
    if (record.kind == RecordKind::sent || record.kind == RecordKind::received) line << ": " << record.packet;
    if (record.kind == RecordKind::left) line << ": " << record.reason;
    if (!record.detail.empty()) line << " (" << record.detail << ')';
    return os << line.str();
}

const char* to_string(RecordingErrc code) noexcept {
    switch (code) {
    case RecordingErrc::cannot_read: return "cannot read";
    case RecordingErrc::not_a_recording: return "not a recording";
    case RecordingErrc::unknown_version: return "unknown version";
    case RecordingErrc::bad_header: return "bad header";
    case RecordingErrc::truncated: return "truncated";
    case RecordingErrc::bad_record: return "bad record";
    }
    return "unknown recording error";
}

std::ostream& operator<<(std::ostream& os, RecordingErrc code) { return os << to_string(code); }

RecordingError::RecordingError(RecordingErrc code, std::size_t offset, const std::string& message)
    : std::runtime_error("[sprocket.recording] " + message), code_(code), offset_(offset) {}

// --- reading -------------------------------------------------------------------------------------

void RecordingReader::FileCloser::operator()(std::FILE* file) const noexcept { std::fclose(file); }

RecordingReader::RecordingReader(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb")) {
    const auto cannot_read = [&](int error) {
        fail_reading(path_, RecordingErrc::cannot_read, 0, detail::error_text(error));
    };
    if (!file_) cannot_read(errno);
    if (std::fseek(file_.get(), 0, SEEK_END) != 0) cannot_read(errno);
    const long size = std::ftell(file_.get());
    if (size < 0) cannot_read(errno);
    if (std::fseek(file_.get(), 0, SEEK_SET) != 0) cannot_read(errno);
    size_ = static_cast<std::size_t>(size);

    // The fixed part, then the name, then the start time.
    std::uint8_t fixed[sizeof magic + 2 + 1 + 1];
    const std::size_t got = std::fread(fixed, 1, sizeof fixed, file_.get());
    if (got < sizeof magic || !std::equal(std::begin(magic), std::end(magic), fixed)) {
        fail_reading(path_, RecordingErrc::not_a_recording, 0,
                     size_ == 0 ? "the file is empty" : "it does not start with SPRKREC\\n");
    }
    if (got < sizeof magic + 2) fail_reading(path_, RecordingErrc::bad_header, got, "the file ends inside the header");
    header_.version = get<std::uint16_t>(fixed + 8);
    if (header_.version != format_version) {
        fail_reading(path_, RecordingErrc::unknown_version, 8,
                     "format version " + std::to_string(header_.version) + "; this build reads version " +
                         std::to_string(format_version));
    }
    if (got < sizeof fixed) fail_reading(path_, RecordingErrc::bad_header, got, "the file ends inside the header");
    if (fixed[10] != 1 && fixed[10] != 2)
        fail_reading(path_, RecordingErrc::bad_header, 10, "unknown role " + std::to_string(fixed[10]));
    header_.role = static_cast<RecordRole>(fixed[10]);
    const std::size_t name_size = fixed[11];
    std::string name(name_size, '\0');
    std::uint8_t started[8];
    if (std::fread(name.data(), 1, name_size, file_.get()) != name_size ||
        std::fread(started, 1, sizeof started, file_.get()) != sizeof started) {
        fail_reading(path_, RecordingErrc::bad_header, sizeof fixed, "the file ends inside the header");
    }
    header_.application = std::move(name);
    header_.started_unix_us = get<std::int64_t>(started);
    offset_ = sizeof fixed + name_size + sizeof started;
}

RecordingReader::~RecordingReader() = default;
RecordingReader::RecordingReader(RecordingReader&&) noexcept = default;
RecordingReader& RecordingReader::operator=(RecordingReader&&) noexcept = default;

std::optional<Record> RecordingReader::next() {
    if (!file_) throw std::logic_error("sprocket: use of a moved-from RecordingReader");
    if (offset_ >= size_) return std::nullopt;
    const std::string where = "record " + std::to_string(index_ + 1) + " at byte " + std::to_string(offset_);
    const auto bad = [&](RecordingErrc code, const std::string& what) { fail_reading(path_, code, offset_, where + ": " + what); };
    const std::size_t remain = size_ - offset_;
    if (std::fseek(file_.get(), static_cast<long>(offset_), SEEK_SET) != 0) bad(RecordingErrc::cannot_read, detail::error_text(errno));

    std::uint8_t head[record_header_size];
    const std::size_t got = std::fread(head, 1, std::min(remain, sizeof head), file_.get());
    if (got >= 1 && !known_kind(head[0])) bad(RecordingErrc::bad_record, "unknown kind " + std::to_string(head[0]));
    if (got < sizeof head) {
        bad(got == remain ? RecordingErrc::truncated : RecordingErrc::cannot_read,
            "its header needs " + std::to_string(sizeof head) + " bytes, " + std::to_string(remain) + " remain");
    }
    Record record;
    record.kind = static_cast<RecordKind>(head[0]);
    record.at = std::chrono::microseconds(get<std::int64_t>(head + 1));
    record.client = get<std::uint32_t>(head + 9);
    const std::size_t size = get<std::uint32_t>(head + 13);
    if (size > remain - sizeof head) {
        bad(RecordingErrc::truncated, "it needs " + std::to_string(size) + " bytes of body, " +
                                          std::to_string(remain - sizeof head) + " remain");
    }
    if (record.at.count() < 0) bad(RecordingErrc::bad_record, "negative time");
    if (index_ > 0 && record.at < last_at_) bad(RecordingErrc::bad_record, "its time goes back");
    Bytes body(size);
    if (size > 0 && std::fread(body.data(), 1, size, file_.get()) != size)
        bad(RecordingErrc::cannot_read, "the file changed while read");

    switch (record.kind) {
    case RecordKind::sent:
    case RecordKind::received: {
        auto decoded = decode(body);
        if (!decoded) bad(RecordingErrc::bad_record, "its packet does not decode: " + decoded.error().message);
        record.packet = std::move(decoded).packet();
        break;
    }
    case RecordKind::left:
        if (body.empty()) bad(RecordingErrc::bad_record, "a left record without a close reason");
        if (body[0] > static_cast<std::uint8_t>(CloseReason::connect_failed))
            bad(RecordingErrc::bad_record, "unknown close reason " + std::to_string(body[0]));
        record.reason = static_cast<CloseReason>(body[0]);
        record.detail.assign(body.begin() + 1, body.end());
        break;
    case RecordKind::joined:
        record.detail.assign(body.begin(), body.end());
        break;
    }
    offset_ += sizeof head + size;
    ++index_;
    last_at_ = record.at;
    return record;
}

Recording read_recording(const std::string& path) {
    RecordingReader reader(path);
    Recording recording;
    recording.header = reader.header();
    try {
        while (auto record = reader.next()) recording.records.push_back(std::move(*record));
    } catch (const RecordingError& e) {
        recording.error = e;
    }
    return recording;
}

// --- writing -------------------------------------------------------------------------------------

void Recorder::FileCloser::operator()(std::FILE* file) const noexcept { std::fclose(file); }

Recorder::Recorder(const std::string& path, RecordRole role, std::string_view application)
    : path_(path), start_(Clock::now()), file_(std::fopen(path.c_str(), "wb")), flushed_at_(start_) {
    if (application.size() > 255) throw std::invalid_argument("sprocket: an application name over 255 bytes cannot be recorded");
    const auto cannot = [&](int error) {
        throw std::system_error(error, std::generic_category(), "sprocket: cannot record to " + path_);
    };
    if (!file_) cannot(errno);
    std::setvbuf(file_.get(), nullptr, _IOFBF, file_buffer);
    Bytes header(std::begin(magic), std::end(magic));
    put(header, format_version);
    header.push_back(static_cast<std::uint8_t>(role));
    header.push_back(static_cast<std::uint8_t>(application.size()));
    header.insert(header.end(), application.begin(), application.end());
    const auto started = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    put(header, static_cast<std::int64_t>(started.count()));
    // On disk at once: a full disk or a missing folder shows up here, not later.
    if (std::fwrite(header.data(), 1, header.size(), file_.get()) != header.size() || std::fflush(file_.get()) != 0)
        cannot(errno);
}

Recorder::~Recorder() {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked();
}

Bytes Recorder::body_of(const Packet& packet) { return encode(packet); }

void Recorder::record(RecordKind kind, ClientId client, const Packet& packet, CloseReason reason, std::string_view detail) {
    const bool carries_packet = kind == RecordKind::sent || kind == RecordKind::received;
    const Bytes body = carries_packet ? body_of(packet) : event_body(kind, reason, detail);
    std::lock_guard<std::mutex> lock(mutex_);
    append(kind, client, body.data(), body.size());
}

void Recorder::record_encoded(RecordKind kind, ClientId client, const std::uint8_t* body, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    append(kind, client, body, size);
}

void Recorder::write(const Record& record) {
    const bool carries_packet = record.kind == RecordKind::sent || record.kind == RecordKind::received;
    const Bytes body = carries_packet ? body_of(record.packet) : event_body(record.kind, record.reason, record.detail);
    std::lock_guard<std::mutex> lock(mutex_);
    if (record.at < last_at_ || record.at.count() < 0)
        throw std::invalid_argument("sprocket: a record at " + std::to_string(record.at.count()) +
                                    " us cannot follow one at " + std::to_string(last_at_.count()) + " us");
    append_at(record.kind, record.at, record.client, body.data(), body.size());
}

void Recorder::append(RecordKind kind, ClientId client, const std::uint8_t* body, std::size_t size) {
    const auto at = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_);
    append_at(kind, std::max(at, last_at_), client, body, size);
}

void Recorder::append_at(RecordKind kind, std::chrono::microseconds at, ClientId client, const std::uint8_t* body,
                         std::size_t size) {
    if (!file_) return;  // stopped after a write failed
    Bytes head;
    head.reserve(record_header_size);
    head.push_back(static_cast<std::uint8_t>(kind));
    put(head, static_cast<std::int64_t>(at.count()));
    put(head, client);
    put(head, static_cast<std::uint32_t>(size));
    if (std::fwrite(head.data(), 1, head.size(), file_.get()) != head.size() ||
        (size != 0 && std::fwrite(body, 1, size, file_.get()) != size)) {
        fail(errno);
        return;
    }
    last_at_ = at;
    ++records_;
    dirty_ = true;
    if (Clock::now() - flushed_at_ >= flush_interval) flush_locked();
}

void Recorder::flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked();
}

void Recorder::flush_if_due() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dirty_ && Clock::now() - flushed_at_ >= flush_interval) flush_locked();
}

void Recorder::flush_locked() {
    flushed_at_ = Clock::now();
    if (!file_ || !dirty_) return;
    dirty_ = false;
    if (std::fflush(file_.get()) != 0) fail(errno);
}

void Recorder::fail(int error) {
    error_ = "cannot write " + path_ + ": " + detail::error_text(error);
    file_.reset();  // no more records: a record after a failed one would not be readable
}

RecordingStatus Recorder::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return RecordingStatus{path_, records_, error_};
}

// --- endpoints -----------------------------------------------------------------------------------

namespace detail {

std::unique_ptr<Recorder> open_recorder(const ConnectionOptions& options, RecordRole role) {
    if (!options.record.empty()) return std::make_unique<Recorder>(options.record, role, options.application);
    const char* const variable = std::getenv("SPROCKET_RECORD");
    if (variable == nullptr || *variable == '\0') return nullptr;
    static std::atomic<unsigned> users{0};
    const unsigned n = ++users;
    std::string path = variable;
    if (n >= 2) path += "." + std::to_string(n);
    try {
        return std::make_unique<Recorder>(path, role, options.application);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "sprocket: cannot record to " + path + " (from SPROCKET_RECORD)");
    }
}

void record_event(Recorder* recorder, const Event& event, const Encoded& body, std::string_view joined_detail) {
    if (recorder == nullptr) return;
    switch (event.kind) {
    case EventKind::packet: recorder->record_encoded(RecordKind::received, event.client, body.data(), body.size()); break;
    case EventKind::connected:
    case EventKind::joined: recorder->record(RecordKind::joined, event.client, {}, CloseReason::none, joined_detail); break;
    case EventKind::disconnected:
    case EventKind::reconnecting:  // the connection ended; another attempt follows
    case EventKind::left: recorder->record(RecordKind::left, event.client, {}, event.reason, event.detail); break;
    case EventKind::stalled: break;  // about this endpoint's reading, not the peer's traffic
    }
}

RecordingStatus recording_status(const Recorder* recorder) { return recorder ? recorder->status() : RecordingStatus{}; }

}  // namespace detail

}  // namespace sprocket
