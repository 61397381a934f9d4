#pragma once
/// \file
/// `Simulation`: a bad network on your own machine. Set on an endpoint's options
/// (`options.simulate = Simulation::parse("latency=150ms jitter=20ms")`) or for every endpoint
/// of a process with the environment variable `SPROCKET_SIM` (same text); the option wins.
///
/// The I/O thread holds each connection's bytes back on their way out and on their way in, so
/// the game, the heartbeats and `rtt()` all feel it. Bytes are never reordered, lost or
/// duplicated: TCP would hide those anyway, and show them as delay, which this is.

#include <sprocket/event.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sprocket {

/// What to add to every connection of an endpoint. All zero (the default) simulates nothing.
struct Simulation {
    /// Added to the round trip: half on the way out, half on the way in. With the same setting
    /// on both ends (say, `SPROCKET_SIM` for a client and a server), each adds its own.
    Millis latency{0};
    /// Up to this much more round trip, at random for each chunk of bytes (half each way). A
    /// chunk is never delivered before the one sent ahead of it.
    Millis jitter{0};
    /// Bytes per second each way (0: unlimited). Bytes queue behind the cap like behind a slow
    /// link, and count in `Stats::send_queue`, so `max_send_queue` can overflow. They leave the
    /// send queue only as fast as the link carries them (a big packet in pieces of about 10 ms
    /// of it), so other channels and heartbeats pass a big packet as they would on a real link.
    std::size_t bandwidth = 0;
    /// Every `stall_every`, nothing moves either way for `stall` (0: never). A stall longer than
    /// `timeout` disconnects, as a real one would.
    Millis stall{0};
    Millis stall_every{0};
    /// Seed of the jitter's random numbers (0: a different one each run).
    std::uint32_t seed = 0;

    /// True when anything is simulated.
    bool active() const noexcept {
        return latency.count() > 0 || jitter.count() > 0 || bandwidth > 0 || (stall.count() > 0 && stall_every.count() > 0);
    }

    /// Reads settings like `"latency=100ms jitter=20ms bandwidth=64KB stall=500ms/10s seed=7"`:
    /// space- or comma-separated `name=value`; times in `ms` or `s` (a bare number is ms);
    /// bandwidth in bytes per second with `B`, `KB` (1000), `KiB`, `MB` or `MiB`, or bits with
    /// `kbit`/`mbit`; `stall=FOR/EVERY`. An empty text is no simulation.
    /// Throws std::invalid_argument naming the setting, e.g. `unknown setting "latncy"`, or
    /// `stall needs FOR/EVERY with EVERY longer than FOR`.
    static Simulation parse(std::string_view text);
    /// The settings in `parse`'s format, only those set (`""` when inactive).
    std::string to_string() const;
};

/// The environment's `SPROCKET_SIM`, parsed (inactive when unset or empty).
/// Throws std::invalid_argument as `parse` does, naming the variable.
Simulation simulation_from_environment();

}  // namespace sprocket
