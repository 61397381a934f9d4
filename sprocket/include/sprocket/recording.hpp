#pragma once
/// \file
/// Recordings: every packet an endpoint sent and received, and every join and leave, with
/// timestamps, in a small versioned binary file (docs/RECORDING.md describes every byte).
/// An endpoint records when `ConnectionOptions::record` (or the environment variable
/// `SPROCKET_RECORD`) names a file; `read_recording` reads one back, and `sprocket-replay`
/// plays one into a server or a client again.

#include <sprocket/event.hpp>
#include <sprocket/packet.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sprocket {

/// What a record is about. The numeric values are stored in the file and never change.
enum class RecordKind : std::uint8_t {
    sent = 1,      ///< a packet the endpoint accepted in `send`/`sendall` (`client`: to whom; 0 = every client)
    received = 2,  ///< a packet the I/O thread decoded, at the moment it arrived (`client`: from whom)
    joined = 3,    ///< server: a client joined; client: the server welcomed it (`client`: its id)
    left = 4,      ///< server: a client left; client: it was disconnected (`reason`, `detail`)
};
/// "sent", "received", "joined", "left" ("unknown" for any other value).
const char* to_string(RecordKind kind) noexcept;
std::ostream& operator<<(std::ostream& os, RecordKind kind);

/// Which endpoint made a recording. Stored in the file.
enum class RecordRole : std::uint8_t {
    client = 1,  ///< a Sprocket
    server = 2,  ///< a Servo
};
/// "client" or "server" ("unknown" for any other value).
const char* to_string(RecordRole role) noexcept;
std::ostream& operator<<(std::ostream& os, RecordRole role);

/// One thing that happened, as a recording holds it.
struct Record {
    RecordKind kind = RecordKind::sent;
    /// When, since the recording began (steady clock: never goes back; records are in time order).
    std::chrono::microseconds at{0};
    /// Server: the client it is about (0 for a `sent` to every client: `sendall`). Client: its
    /// own id as the server gave it (0 before the first welcome).
    ClientId client = 0;
    /// `sent` and `received`: the packet. Empty for `joined` and `left`.
    Packet packet;
    /// `left`: why the connection ended.
    CloseReason reason = CloseReason::none;
    /// `joined`: the peer's address (server: "127.0.0.1:50123"; client: "host:port" of the
    /// server). `left`: the close detail ("wrong password", "connection closed", ...).
    std::string detail;

    friend bool operator==(const Record& a, const Record& b) {
        return a.kind == b.kind && a.at == b.at && a.client == b.client && a.packet == b.packet &&
               a.reason == b.reason && a.detail == b.detail;
    }
    friend bool operator!=(const Record& a, const Record& b) { return !(a == b); }
};
/// `0.012345 s sent to client 1: {"x": 3}`, `1.500000 s left client 2: timeout (...)`.
std::ostream& operator<<(std::ostream& os, const Record& record);

/// The start of a recording file.
struct RecordingHeader {
    std::uint16_t version = 1;       ///< the format version (this build reads and writes 1)
    RecordRole role = RecordRole::client;
    std::string application;         ///< the endpoint's `ConnectionOptions::application`
    /// Wall-clock time the recording began, in microseconds since 1970-01-01 UTC: for display
    /// only (record times are `Record::at`, from a steady clock).
    std::int64_t started_unix_us = 0;
};

/// What is wrong with a recording file.
enum class RecordingErrc : std::uint8_t {
    cannot_read,      ///< the file cannot be opened or read (the message has the system's reason)
    not_a_recording,  ///< the first bytes are not a recording's magic
    unknown_version,  ///< a format version this build does not read
    bad_header,       ///< the header ends early or holds an unknown role
    truncated,        ///< the file ends inside a record (typically: the process was killed)
    bad_record,       ///< a record of unknown kind, an unknown close reason, or a body that does not decode
};
/// "cannot read", "not a recording", "unknown version", "bad header", "truncated", "bad record".
const char* to_string(RecordingErrc code) noexcept;
std::ostream& operator<<(std::ostream& os, RecordingErrc code);

/// A recording that cannot be read (or not to its end): what, and at which byte of the file.
/// `what()` is the whole readable text, e.g.
/// `[sprocket.recording] match.rec: truncated: record 12 at byte 3456 needs 300 bytes, 120 remain`.
class RecordingError : public std::runtime_error {
public:
    RecordingError(RecordingErrc code, std::size_t offset, const std::string& message);
    RecordingErrc code() const noexcept { return code_; }
    /// Byte offset in the file where the problem was found (0 for `cannot_read`).
    std::size_t offset() const noexcept { return offset_; }

private:
    RecordingErrc code_;
    std::size_t offset_;
};

/// A whole recording read back.
struct Recording {
    RecordingHeader header;
    /// Every complete, valid record, in file (and time) order.
    std::vector<Record> records;
    /// Set when reading stopped before the end of the file (`truncated`, `bad_record`): the
    /// records before that point are all in `records` and usable.
    std::optional<RecordingError> error;
};

/// Reads the recording at `path`. A damaged record ends the reading: the records before it are
/// returned, and `error` says what and where. Throws RecordingError when there is nothing to
/// read: the file cannot be opened (`cannot_read`), is not a recording (`not_a_recording`),
/// has another version (`unknown_version`) or a bad header (`bad_header`). Never reads past
/// the file or allocates more than the file's size for a record, whatever the file claims.
Recording read_recording(const std::string& path);

/// Reads a recording one record at a time (for files too big to hold at once).
class RecordingReader {
public:
    /// Opens `path` and reads the header. Throws RecordingError like `read_recording`.
    explicit RecordingReader(const std::string& path);
    ~RecordingReader();
    RecordingReader(RecordingReader&&) noexcept;
    RecordingReader& operator=(RecordingReader&&) noexcept;
    RecordingReader(const RecordingReader&) = delete;
    RecordingReader& operator=(const RecordingReader&) = delete;

    const RecordingHeader& header() const noexcept { return header_; }
    /// The next record, or nullopt at the end of the file. Throws RecordingError (`truncated`,
    /// `bad_record`, `cannot_read`) for a record that cannot be read; the reader then stays at
    /// that record, and the records returned before it stay valid.
    std::optional<Record> next();
    /// Byte offset of the next record in the file.
    std::size_t offset() const noexcept { return offset_; }

private:
    struct FileCloser {
        void operator()(std::FILE* file) const noexcept;
    };
    std::string path_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    std::size_t size_ = 0;
    std::size_t offset_ = 0;
    std::size_t index_ = 0;  // records returned so far
    std::chrono::microseconds last_at_{0};
    RecordingHeader header_;
};

/// An endpoint's recording at a glance (`Sprocket::recording()`, `Servo::recording()`).
struct RecordingStatus {
    std::string path;           ///< the file recorded to; empty when not recording
    std::uint64_t records = 0;  ///< records written so far
    /// Empty while every write succeeded. Otherwise why recording stopped, e.g.
    /// `cannot write /tmp/match.rec: no space left on device`; the endpoint itself carries on.
    std::string error;
};

/// Writes a recording. Thread safe: the I/O thread and the game's threads record through one
/// mutex, so records are in the order they happened, with non-decreasing times. Writes are
/// buffered and reach the file at least every 50 ms while records come in, at `flush()` and
/// when the recorder is destroyed; a process killed meanwhile leaves a file whose complete
/// records are all readable (`read_recording` reports the cut one as `truncated`).
class Recorder {
public:
    /// Creates (or truncates) `path` and writes the header; time 0 of the records is now.
    /// Throws std::system_error with the path and the system's reason when the file cannot be
    /// created, e.g. `sprocket: cannot record to /nope/x.rec: No such file or directory`, and
    /// std::invalid_argument for an application name over 255 bytes.
    Recorder(const std::string& path, RecordRole role, std::string_view application);
    /// Writes what is buffered and closes the file (a failure then is not reported).
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    /// Appends a record stamped now. `packet` is kept for `sent` and `received`, ignored
    /// otherwise; `reason` only for `left`; `detail` for `joined` and `left`. Never throws for
    /// a write failure: it is kept in `status().error` and recording stops.
    void record(RecordKind kind, ClientId client, const Packet& packet = {}, CloseReason reason = CloseReason::none,
                std::string_view detail = {});
    /// `record(kind, client, packet)` for a `sent` or `received` packet given as its encoded
    /// bytes (`encode`'s, or any that `check` accepts: kept as they are, not decoded).
    void record_encoded(RecordKind kind, ClientId client, const std::uint8_t* body, std::size_t size);
    /// Runs `accept()` and records `packet` as `sent` to each client id it returns, stamped
    /// now, all under the recorder's lock: a packet is recorded only when it was accepted, and
    /// always before anything the peer answers (which the I/O thread records under the same
    /// lock). What `accept` throws propagates, and nothing is recorded. Returns what `accept` returned.
    template <class Accept>
    auto record_sent(const Packet& packet, Accept&& accept) {
        const Bytes body = body_of(packet);
        std::lock_guard<std::mutex> lock(mutex_);
        auto to = accept();
        for (ClientId client : to) append(RecordKind::sent, client, body.data(), body.size());
        return to;
    }
    /// Appends `record` as it is, with its own time: for tools that build or edit recordings.
    /// Throws std::invalid_argument when `record.at` is earlier than the last record's.
    void write(const Record& record);

    /// Writes the buffered records to the file now.
    void flush();
    /// Writes them if the last write is 50 ms old or more (cheap to call every frame).
    void flush_if_due();
    RecordingStatus status() const;
    const std::string& path() const noexcept { return path_; }

private:
    struct FileCloser {
        void operator()(std::FILE* file) const noexcept;
    };
    using Clock = std::chrono::steady_clock;

    static Bytes body_of(const Packet& packet);
    // Under mutex_: one record with the time now (or `at`), then maybe a flush.
    void append(RecordKind kind, ClientId client, const std::uint8_t* body, std::size_t size);
    void append_at(RecordKind kind, std::chrono::microseconds at, ClientId client, const std::uint8_t* body, std::size_t size);
    void flush_locked();
    void fail(int error);

    const std::string path_;
    const Clock::time_point start_;
    mutable std::mutex mutex_;
    std::unique_ptr<std::FILE, FileCloser> file_;  // guarded by mutex_; null after a failure
    std::chrono::microseconds last_at_{0};         // guarded by mutex_
    Clock::time_point flushed_at_;                 // guarded by mutex_
    bool dirty_ = false;                           // guarded by mutex_: written since the last flush
    std::uint64_t records_ = 0;                    // guarded by mutex_
    std::string error_;                            // guarded by mutex_
};

}  // namespace sprocket

/// \code
/// sprocket::ServoOptions options;
/// options.record = "match.rec";              // every packet in and out, joins and leaves
/// sprocket::Servo server(4242, options);
/// ...
/// sprocket::Recording rec = sprocket::read_recording("match.rec");
/// for (const sprocket::Record& r : rec.records) std::cout << r << '\n';
/// if (rec.error) std::cerr << rec.error->what() << '\n';   // e.g. the last record was cut
/// \endcode
