// The real windowed game under Xvfb: it starts, plays against bots and saves a screenshot that
// shows the arena with several players, and a recorded match replayed in it. Built only when
// xvfb-run is available.
#include <doctest/doctest.h>

#include "../support/child_process.hpp"
#include "world.hpp"

#include <SFML/Graphics/Image.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>
#include <unistd.h>

using testsupport::ChildProcess;
using Clock = std::chrono::steady_clock;

namespace {

// How many pixels are close to `colour` (each channel within `tolerance`).
std::size_t pixels_near(const sf::Image& image, sf::Color colour, int tolerance) {
    std::size_t n = 0;
    const auto size = image.getSize();
    for (unsigned y = 0; y < size.y; ++y) {
        for (unsigned x = 0; x < size.x; ++x) {
            const sf::Color p = image.getPixel(x, y);
            if (std::abs(p.r - colour.r) <= tolerance && std::abs(p.g - colour.g) <= tolerance &&
                std::abs(p.b - colour.b) <= tolerance)
                ++n;
        }
    }
    return n;
}

// The players' colours, first to join first: in `play` the human and three bots.
const sf::Color palette[] = {{0x4f, 0xc3, 0xf7}, {0xff, 0x8a, 0x65}, {0xae, 0xd5, 0x81}, {0xba, 0x68, 0xc8}};

// How many of the first `n` players' colours show up on a patch of pixels (ships are drawn in them).
int players_seen(const sf::Image& image, std::size_t n) {
    int seen = 0;
    for (std::size_t i = 0; i < n; ++i) seen += pixels_near(image, palette[i], 40) > 60;
    return seen;
}

// Runs the game with `args` under Xvfb, saving its last frame to `shot`, and loads that frame.
sf::Image screenshot_of(std::vector<std::string> args, const std::string& shot) {
    std::remove(shot.c_str());
    args.insert(args.begin(), {"-a", "-s", "-screen 0 1280x800x24", ARENA_PATH});
    args.insert(args.end(), {"--screenshot", shot});
    ChildProcess game(XVFB_RUN_PATH, args);
    const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
    REQUIRE(code.has_value());
    INFO("stdout: " << game.out() << "\nstderr: " << game.err());
    REQUIRE(*code == 0);
    CHECK(game.out().find("screenshot saved") != std::string::npos);
    sf::Image image;
    REQUIRE(image.loadFromFile(shot));
    std::remove(shot.c_str());
    return image;
}

}  // namespace

TEST_CASE("the game's window shows the arena with several players (Xvfb screenshot)") {
    const std::string shot = "/tmp/sprocket-arena-test-" + std::to_string(::getpid()) + ".png";
    const sf::Image image = screenshot_of({"play", "--seconds", "4", "--name", "Tester", "--overlay"}, shot);
    CHECK(image.getSize() == sf::Vector2u(1280, 800));

    // Not blank: the floor's navy covers much of it, and plenty of it is something else.
    const std::size_t total = 1280u * 800u;
    const std::size_t floor = pixels_near(image, sf::Color(22, 26, 40), 14);
    CHECK(floor > total / 4);
    CHECK(pixels_near(image, sf::Color::Black, 4) < total / 2);

    // Several players: the human and three bots.
    CHECK(players_seen(image, 4) >= 3);
    // Coins: gold.
    CHECK(pixels_near(image, sf::Color(255, 205, 80), 50) > 100);
}

TEST_CASE("a match recorded with --record replays in a window that watches it (Xvfb screenshot)") {
    const std::string base = "/tmp/sprocket-arena-replay-test-" + std::to_string(::getpid());
    const std::string match = base + ".rec";
    ChildProcess record(ARENA_PATH, {"play", "--headless", "--seconds", "3", "--record", match});
    const auto recorded = record.wait_exit(Clock::now() + std::chrono::seconds(60));
    REQUIRE(recorded.has_value());
    REQUIRE(*recorded == 0);

    const sf::Image image = screenshot_of({"replay", match, "--seconds", "3"}, base + ".png");
    std::remove(match.c_str());
    // The three bots of the recording (the replay's own window has no ship).
    CHECK(players_seen(image, 3) == 3);
}
