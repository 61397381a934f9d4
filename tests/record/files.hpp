#pragma once
// Scratch files for the recording tests: unique per process and name, removed at the end.
#include <sprocket/recording.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace recordtest {

/// A path under /tmp that no other test process uses; the file (and `PATH.2` ... `PATH.4`,
/// which SPROCKET_RECORD may create) is removed when it goes out of scope.
class TempFile {
public:
    explicit TempFile(const std::string& name)
        : path_("/tmp/sprocket-record-test-" + std::to_string(::getpid()) + "-" + name + ".rec") {
        remove_all();
    }
    ~TempFile() { remove_all(); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    void remove_all() const {
        std::remove(path_.c_str());
        for (int n = 2; n <= 4; ++n) std::remove((path_ + "." + std::to_string(n)).c_str());
    }
    std::string path_;
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A record for Recorder::write.
inline sprocket::Record at_ms(int ms, sprocket::RecordKind kind, sprocket::ClientId client, sprocket::Packet packet = {},
                              sprocket::CloseReason reason = sprocket::CloseReason::none, std::string detail = {}) {
    return sprocket::Record{kind, std::chrono::milliseconds(ms), client, std::move(packet), reason, std::move(detail)};
}

}  // namespace recordtest
