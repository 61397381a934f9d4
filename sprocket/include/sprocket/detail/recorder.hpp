#pragma once
/// \file
/// How an endpoint finds out whether, and where, it records (ConnectionOptions::record or
/// $SPROCKET_RECORD). Shared by Sprocket and Servo.

#include <sprocket/detail/encoded.hpp>
#include <sprocket/detail/outbox.hpp>
#include <sprocket/options.hpp>
#include <sprocket/recording.hpp>

#include <memory>
#include <vector>

namespace sprocket::detail {

/// The recorder `options` ask for, or null when not recording: `options.record` when set;
/// otherwise the environment variable SPROCKET_RECORD, where the first endpoint of the process
/// that uses it records to exactly that path and the Nth one (N >= 2) to `PATH.N`. Throws
/// std::system_error like `Recorder` when the file cannot be created (naming the variable when
/// the path came from it).
std::unique_ptr<Recorder> open_recorder(const ConnectionOptions& options, RecordRole role);

/// Records what `event` shows, if `recorder` is not null: a packet as `received` (its `body`,
/// as it arrived), connected or joined as `joined` (with `joined_detail`), disconnected or left
/// as `left`; nothing for the other kinds. I/O thread, at the moment the event is queued for
/// the game.
void record_event(Recorder* recorder, const Event& event, const Encoded& body, std::string_view joined_detail);

/// Queues a packet with `push()` (an `Outbox::Push` result) and, when recording and it was
/// queued, records it as `sent` to `client`, under the recorder's lock (see
/// `Recorder::record_sent`).
template <class PushPacket>
Outbox::Push push_recorded(Recorder* recorder, const Packet& packet, ClientId client, PushPacket&& push) {
    if (recorder == nullptr) return push();
    Outbox::Push result = Outbox::Push::closed;
    recorder->record_sent(packet, [&] {
        result = push();
        return result == Outbox::Push::queued ? std::vector<ClientId>{client} : std::vector<ClientId>{};
    });
    return result;
}

/// The status of a recorder that may be null (not recording: an empty status).
RecordingStatus recording_status(const Recorder* recorder);

}  // namespace sprocket::detail
