#include <sprocket/simulation.hpp>

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace sprocket {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("sprocket: simulation: " + what); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "120", "120ms", "1.5s" -> milliseconds.
Millis duration(std::string_view name, std::string_view text) {
    std::size_t used = 0;
    double number = 0;
    try {
        number = std::stod(std::string(text), &used);
    } catch (const std::logic_error&) {  // invalid_argument or out_of_range
        fail(std::string(name) + " needs a time like 100ms or 1.5s, not " + quoted(text));
    }
    const std::string_view unit = text.substr(used);
    double ms = number;
    if (unit == "s") ms = number * 1000;
    else if (unit != "ms" && !unit.empty()) fail(std::string(name) + ": unknown unit " + quoted(unit) + " (ms or s)");
    if (!(ms >= 0) || ms > 3'600'000) fail(std::string(name) + " must be between 0 and 1 hour, not " + quoted(text));
    return Millis(static_cast<Millis::rep>(ms + 0.5));
}

// "64KB", "1MiB", "512kbit", "1000" (bytes) -> bytes per second.
std::size_t rate(std::string_view text) {
    std::size_t used = 0;
    double number = 0;
    try {
        number = std::stod(std::string(text), &used);
    } catch (const std::logic_error&) {
        fail("bandwidth needs a rate like 64KB or 2mbit, not " + quoted(text));
    }
    std::string unit(text.substr(used));
    for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    double scale = 0;
    if (unit.empty() || unit == "b") scale = 1;
    else if (unit == "kb") scale = 1e3;
    else if (unit == "kib") scale = 1024;
    else if (unit == "mb") scale = 1e6;
    else if (unit == "mib") scale = 1024.0 * 1024;
    else if (unit == "kbit") scale = 1e3 / 8;
    else if (unit == "mbit") scale = 1e6 / 8;
    else fail("bandwidth: unknown unit " + quoted(text.substr(used)) + " (B, KB, KiB, MB, MiB, kbit, mbit)");
    const double bytes = number * scale;
    if (!(bytes >= 1) || bytes > 1e12) fail("bandwidth must be at least 1 byte per second, not " + quoted(text));
    return static_cast<std::size_t>(bytes);
}

std::string ms_text(Millis d) {
    if (d.count() >= 1000 && d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

}  // namespace

Simulation Simulation::parse(std::string_view text) {
    Simulation sim;
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find_first_of(" ,\t", at);
        const std::string_view word = text.substr(at, end == std::string_view::npos ? text.size() - at : end - at);
        if (!word.empty()) words.push_back(word);
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    for (const std::string_view word : words) {
        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos) fail("expected name=value, not " + quoted(word));
        const std::string_view name = word.substr(0, eq);
        const std::string_view value = word.substr(eq + 1);
        if (name == "latency") sim.latency = duration(name, value);
        else if (name == "jitter") sim.jitter = duration(name, value);
        else if (name == "bandwidth") sim.bandwidth = rate(value);
        else if (name == "stall") {
            const std::size_t slash = value.find('/');
            if (slash == std::string_view::npos) fail("stall needs FOR/EVERY, e.g. stall=500ms/10s");
            sim.stall = duration("stall", value.substr(0, slash));
            sim.stall_every = duration("stall", value.substr(slash + 1));
            if (sim.stall_every <= sim.stall) fail("stall needs FOR/EVERY with EVERY longer than FOR");
        } else if (name == "seed") {
            const std::string digits(value);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9)
                fail("seed needs a number below 10^9, not " + quoted(value));
            sim.seed = static_cast<std::uint32_t>(std::stoul(digits));
        } else {
            fail("unknown setting " + quoted(name) + " (latency, jitter, bandwidth, stall, seed)");
        }
    }
    return sim;
}

std::string Simulation::to_string() const {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
    if (latency.count() > 0) add("latency=" + ms_text(latency));
    if (jitter.count() > 0) add("jitter=" + ms_text(jitter));
    if (bandwidth > 0) add("bandwidth=" + std::to_string(bandwidth) + "B");
    if (stall.count() > 0 && stall_every.count() > 0) add("stall=" + ms_text(stall) + "/" + ms_text(stall_every));
    if (seed != 0 && !out.empty()) add("seed=" + std::to_string(seed));
    return out;
}

Simulation simulation_from_environment() {
    const char* text = std::getenv("SPROCKET_SIM");
    if (text == nullptr) return {};
    try {
        return Simulation::parse(text);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("SPROCKET_SIM: ") + e.what());
    }
}

}  // namespace sprocket
