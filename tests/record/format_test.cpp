// The recording file: written by Recorder, read back by read_recording and RecordingReader;
// damaged, cut and foreign files are typed errors with their offset, never crashes.
#include "files.hpp"

#include <sprocket/codec.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <sys/resource.h>
#include <system_error>

using namespace sprocket;
using recordtest::at_ms;
using recordtest::TempFile;

namespace {

const std::vector<Record> sample = {
    at_ms(0, RecordKind::joined, 1, {}, CloseReason::none, "127.0.0.1:50123"),
    at_ms(5, RecordKind::received, 1, Packet::on("input", {{"keys", 3}, {"seq", 1}})),
    at_ms(5, RecordKind::sent, 0, Packet{{"tick", 1}, {"ships", List{Value{{"id", 1}, {"x", 2.5}}}}}),
    at_ms(40, RecordKind::sent, 1, Packet{{"blob", Bytes{0, 1, 255}}, {"none", nullptr}, {"s", "héllo"}}),
    at_ms(1500, RecordKind::left, 1, {}, CloseReason::timeout, "nothing heard for 5000 ms"),
};

// A recording of `sample`, as bytes.
std::string sample_file(const TempFile& file, RecordRole role = RecordRole::server) {
    {
        Recorder recorder(file.path(), role, "game");
        for (const Record& r : sample) recorder.write(r);
    }
    return recordtest::read_bytes(file.path());
}

constexpr std::size_t header_size = 8 + 2 + 1 + 1 + 4 + 8;  // magic, version, role, name "game", start

template <class F>
RecordingError error_of(F&& read) {
    try {
        read();
    } catch (const RecordingError& e) {
        return e;
    }
    FAIL("no RecordingError");
    return RecordingError(RecordingErrc::cannot_read, 0, "");
}

}  // namespace

TEST_CASE("recordings: every kind of record reads back with its time, client, packet, reason and detail") {
    TempFile file("roundtrip");
    const auto before = std::chrono::system_clock::now();
    sample_file(file);
    const Recording rec = read_recording(file.path());
    CHECK_FALSE(rec.error);
    CHECK(rec.header.version == 1);
    CHECK(rec.header.role == RecordRole::server);
    CHECK(rec.header.application == "game");
    const auto started = std::chrono::system_clock::time_point(std::chrono::microseconds(rec.header.started_unix_us));
    CHECK(started >= before - std::chrono::seconds(1));
    CHECK(started <= std::chrono::system_clock::now() + std::chrono::seconds(1));
    REQUIRE(rec.records.size() == sample.size());
    for (std::size_t i = 0; i < sample.size(); ++i) {
        INFO("record " << i << ": " << rec.records[i]);
        CHECK(rec.records[i] == sample[i]);
    }
    std::ostringstream text;
    text << rec.records[4];
    CHECK(text.str() == "1.500000 s left client 1: timeout (nothing heard for 5000 ms)");
}

TEST_CASE("recordings: the bytes are as docs/RECORDING.md says") {
    TempFile file("layout");
    {
        Recorder recorder(file.path(), RecordRole::client, "ab");
        recorder.write(at_ms(2, RecordKind::sent, 7, Packet{{"x", 1}}));
        recorder.write(at_ms(3, RecordKind::left, 7, {}, CloseReason::kicked, "no"));
    }
    const std::string bytes = recordtest::read_bytes(file.path());
    const Bytes body = encode(Packet{{"x", 1}});
    std::string expected("SPRKREC\n\x01\x00\x01\x02" "ab", 14);
    REQUIRE(bytes.size() == expected.size() + 8 + 17 + body.size() + 17 + 3);
    CHECK(bytes.compare(0, expected.size(), expected) == 0);
    std::size_t at = expected.size() + 8;  // after the start time
    // kind 1, 2000 us, client 7, body size, body
    CHECK(bytes.compare(at, 17, std::string("\x01\xd0\x07\0\0\0\0\0\0\x07\0\0\0", 13) + static_cast<char>(body.size()) +
                                    std::string(3, '\0')) == 0);
    CHECK(bytes.compare(at + 17, body.size(), std::string(body.begin(), body.end())) == 0);
    at += 17 + body.size();
    CHECK(bytes.compare(at, 20, std::string("\x04\xb8\x0b\0\0\0\0\0\0\x07\0\0\0\x03\0\0\0\x07no", 20)) == 0);
}

TEST_CASE("recordings: a recorder stamps records in order, with times that never go back") {
    TempFile file("stamps");
    {
        Recorder recorder(file.path(), RecordRole::client, "sprocket");
        for (int i = 0; i < 200; ++i) recorder.record(RecordKind::sent, 0, Packet{{"i", i}});
        CHECK(recorder.status().records == 200);
        CHECK(recorder.status().error.empty());
        CHECK(recorder.status().path == file.path());
        // Tools that edit recordings write records with their own times, never earlier ones.
        CHECK_THROWS_AS(recorder.write(at_ms(0, RecordKind::sent, 0)), std::invalid_argument);
    }
    const Recording rec = read_recording(file.path());
    REQUIRE(rec.records.size() == 200);
    for (int i = 0; i < 200; ++i) {
        CHECK(rec.records[i].packet.get<int>("i") == i);
        if (i > 0) CHECK(rec.records[i].at >= rec.records[i - 1].at);
    }
}

TEST_CASE("recordings: a file that is not a recording, has another version or a cut header is a typed error") {
    TempFile file("foreign");
    const std::string good = sample_file(file);
    const auto error_for = [&](const std::string& bytes) {
        recordtest::write_bytes(file.path(), bytes);
        return error_of([&] { read_recording(file.path()); });
    };

    CHECK(error_for("").code() == RecordingErrc::not_a_recording);
    CHECK(error_for("hello, world\n").code() == RecordingErrc::not_a_recording);
    std::string v2 = good;
    v2[8] = 2;
    const RecordingError version = error_for(v2);
    CHECK(version.code() == RecordingErrc::unknown_version);
    CHECK(version.offset() == 8);
    CHECK(std::string(version.what()).find("format version 2; this build reads version 1") != std::string::npos);
    std::string role = good;
    role[10] = 9;
    CHECK(error_for(role).code() == RecordingErrc::bad_header);
    CHECK(error_for(good.substr(0, 7)).code() == RecordingErrc::not_a_recording);
    for (std::size_t cut = 8; cut < header_size; ++cut) {
        INFO("header cut at " << cut);
        CHECK(error_for(good.substr(0, cut)).code() == RecordingErrc::bad_header);
    }
    const RecordingError missing = error_of([] { read_recording("/nonexistent/sprocket.rec"); });
    CHECK(missing.code() == RecordingErrc::cannot_read);
    CHECK(std::string(missing.what()) == "[sprocket.recording] /nonexistent/sprocket.rec: cannot read: no such file or directory");
}

TEST_CASE("recordings: a cut last record is reported as truncated, and every record before it is usable") {
    TempFile file("cut");
    const std::string good = sample_file(file);
    // Where each record starts.
    std::vector<std::size_t> starts{header_size};
    for (const Record& r : sample) {
        const std::size_t body = r.kind == RecordKind::left ? 1 + r.detail.size()
                                 : r.kind == RecordKind::joined ? r.detail.size()
                                                                : encode(r.packet).size();
        starts.push_back(starts.back() + 17 + body);
    }
    REQUIRE(starts.back() == good.size());
    for (std::size_t cut = header_size; cut <= good.size(); ++cut) {
        recordtest::write_bytes(file.path(), good.substr(0, cut));
        const Recording rec = read_recording(file.path());
        const auto whole = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin()) - 1;
        INFO("cut at byte " << cut << " keeps " << whole << " records");
        REQUIRE(rec.records.size() == whole);
        for (std::size_t i = 0; i < whole; ++i) CHECK(rec.records[i] == sample[i]);
        if (cut == starts[whole]) {
            CHECK_FALSE(rec.error);
        } else {
            REQUIRE(rec.error);
            CHECK(rec.error->code() == RecordingErrc::truncated);
            CHECK(rec.error->offset() == starts[whole]);
        }
    }
}

TEST_CASE("recordings: damaged records are bad_record or truncated with their offset, and never a crash") {
    TempFile file("damaged");
    const std::string good = sample_file(file);
    const std::size_t second = header_size + 17 + sample[0].detail.size();  // the received packet
    const auto read_damaged = [&](std::size_t at, char byte) {
        std::string bad = good;
        bad[at] = byte;
        recordtest::write_bytes(file.path(), bad);
        return read_recording(file.path());
    };
    SUBCASE("an unknown kind") {
        const Recording rec = read_damaged(second, 9);
        CHECK(rec.records.size() == 1);
        REQUIRE(rec.error);
        CHECK(rec.error->code() == RecordingErrc::bad_record);
        CHECK(rec.error->offset() == second);
        CHECK(std::string(rec.error->what()).find("record 2 at byte " + std::to_string(second) + ": unknown kind 9") !=
              std::string::npos);
    }
    SUBCASE("a body that does not decode") {
        const Recording rec = read_damaged(second + 17, '\x7f');
        REQUIRE(rec.error);
        CHECK(rec.error->code() == RecordingErrc::bad_record);
        CHECK(std::string(rec.error->what()).find("its packet does not decode") != std::string::npos);
    }
    SUBCASE("a body size larger than the file allocates nothing: truncated") {
        std::string bad = good;
        for (int i = 0; i < 4; ++i) bad[second + 13 + i] = '\xff';
        recordtest::write_bytes(file.path(), bad);
        const Recording rec = read_recording(file.path());
        REQUIRE(rec.error);
        CHECK(rec.error->code() == RecordingErrc::truncated);
        CHECK(std::string(rec.error->what()).find("needs 4294967295 bytes of body") != std::string::npos);
    }
    SUBCASE("a time that goes back") {
        const Recording rec = read_damaged(second + 2, '\x7f');  // 5 ms becomes much later
        CHECK(rec.records.size() == 2);
        REQUIRE(rec.error);
        CHECK(rec.error->code() == RecordingErrc::bad_record);
        CHECK(std::string(rec.error->what()).find("its time goes back") != std::string::npos);
    }
    SUBCASE("any byte changed to anything reads as records or a RecordingError") {
        for (std::size_t at = 0; at < good.size(); ++at) {
            for (const char byte : {'\0', '\x01', '\x05', '\x7f', '\x80', '\xff'}) {
                std::string bad = good;
                bad[at] = byte;
                recordtest::write_bytes(file.path(), bad);
                try {
                    const Recording rec = read_recording(file.path());
                    CHECK(rec.records.size() <= sample.size());
                } catch (const RecordingError&) {
                    // a typed error is fine; anything else escapes and fails the test
                }
            }
        }
    }
}

TEST_CASE("recordings: a reader yields records one by one and stays at a bad one") {
    TempFile file("reader");
    std::string bytes = sample_file(file);
    bytes.resize(bytes.size() - 3);  // the last record (left) is cut
    recordtest::write_bytes(file.path(), bytes);
    RecordingReader reader(file.path());
    CHECK(reader.header().application == "game");
    CHECK(reader.offset() == header_size);
    for (std::size_t i = 0; i + 1 < sample.size(); ++i) {
        const auto record = reader.next();
        REQUIRE(record);
        CHECK(*record == sample[i]);
    }
    const std::size_t cut = reader.offset();
    for (int again = 0; again < 2; ++again) {
        const RecordingError e = error_of([&] { reader.next(); });
        CHECK(e.code() == RecordingErrc::truncated);
        CHECK(e.offset() == cut);
    }
}

TEST_CASE("recordings: a file that cannot be created throws, naming it, and a later write failure is kept, not thrown") {
    try {
        Recorder recorder("/nonexistent/dir/x.rec", RecordRole::client, "sprocket");
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("sprocket: cannot record to /nonexistent/dir/x.rec") != std::string::npos);
        CHECK(e.code() == std::errc::no_such_file_or_directory);
    }

    // A file size limit makes writes fail after the header (EFBIG instead of the signal).
    TempFile file("full");
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old_limit{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    rlimit small = old_limit;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    RecordingStatus status;
    {
        Recorder recorder(file.path(), RecordRole::server, "sprocket");
        for (int i = 0; i < 200; ++i) recorder.record(RecordKind::sent, 0, Packet{{"filler", std::string(100, 'x')}});
        recorder.flush();
        status = recorder.status();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    std::signal(SIGXFSZ, old_handler);
    CHECK(status.error == "cannot write " + file.path() + ": file too large");
    // What reached the file before the failure is still readable; the record cut by the limit
    // is reported.
    const Recording rec = read_recording(file.path());
    CHECK(rec.records.size() > 0);
    CHECK(rec.records.size() < 200);
    for (const Record& r : rec.records) CHECK(r.packet.get<std::string>("filler").size() == 100);
    REQUIRE(rec.error);
    CHECK(rec.error->code() == RecordingErrc::truncated);
}
