// The real windowed game under Xvfb: it starts, plays against bots and saves a screenshot that
// shows the arena with several players. Built only when xvfb-run is available.
#include <doctest/doctest.h>

#include "../support/child_process.hpp"
#include "world.hpp"

#include <SFML/Graphics/Image.hpp>

#include <cstdio>
#include <map>
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

}  // namespace

TEST_CASE("the game's window shows the arena with several players (Xvfb screenshot)") {
    const std::string shot = "/tmp/sprocket-arena-test-" + std::to_string(::getpid()) + ".png";
    std::remove(shot.c_str());
    ChildProcess game(XVFB_RUN_PATH, {"-a", "-s", "-screen 0 1280x800x24", ARENA_PATH, "play", "--seconds", "4",
                                      "--name", "Tester", "--overlay", "--screenshot", shot});
    const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
    REQUIRE(code.has_value());
    INFO("stdout: " << game.out() << "\nstderr: " << game.err());
    REQUIRE(*code == 0);
    CHECK(game.out().find("screenshot saved") != std::string::npos);

    sf::Image image;
    REQUIRE(image.loadFromFile(shot));
    CHECK(image.getSize() == sf::Vector2u(1280, 800));

    // Not blank: the floor's navy covers much of it, and plenty of it is something else.
    const std::size_t total = 1280u * 800u;
    const std::size_t floor = pixels_near(image, sf::Color(22, 26, 40), 14);
    CHECK(floor > total / 4);
    CHECK(pixels_near(image, sf::Color::Black, 4) < total / 2);

    // Several players: ships are drawn in the players' colours (the first four of the palette:
    // the human and three bots), so each colour shows up on a patch of pixels.
    const sf::Color palette[] = {{0x4f, 0xc3, 0xf7}, {0xff, 0x8a, 0x65}, {0xae, 0xd5, 0x81}, {0xba, 0x68, 0xc8}};
    int players_seen = 0;
    for (const sf::Color& c : palette) players_seen += pixels_near(image, c, 40) > 60;
    CHECK(players_seen >= 3);
    // Coins: gold.
    CHECK(pixels_near(image, sf::Color(255, 205, 80), 50) > 100);
    std::remove(shot.c_str());
}

TEST_CASE("a match recorded with --record replays in a window that watches it (Xvfb screenshot)") {
    const std::string base = "/tmp/sprocket-arena-replay-test-" + std::to_string(::getpid());
    const std::string match = base + ".rec", shot = base + ".png";
    std::remove(shot.c_str());
    ChildProcess record(ARENA_PATH, {"play", "--headless", "--seconds", "3", "--record", match});
    const auto recorded = record.wait_exit(Clock::now() + std::chrono::seconds(60));
    REQUIRE(recorded.has_value());
    REQUIRE(*recorded == 0);

    ChildProcess game(XVFB_RUN_PATH, {"-a", "-s", "-screen 0 1280x800x24", ARENA_PATH, "replay", match, "--seconds", "3",
                                      "--screenshot", shot});
    const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
    REQUIRE(code.has_value());
    INFO("stdout: " << game.out() << "\nstderr: " << game.err());
    REQUIRE(*code == 0);
    CHECK(game.out().find("screenshot saved") != std::string::npos);
    sf::Image image;
    REQUIRE(image.loadFromFile(shot));
    // The three bots of the recording, in their colours (the replay's window has no ship).
    const sf::Color palette[] = {{0x4f, 0xc3, 0xf7}, {0xff, 0x8a, 0x65}, {0xae, 0xd5, 0x81}};
    int players_seen = 0;
    for (const sf::Color& c : palette) players_seen += pixels_near(image, c, 40) > 60;
    CHECK(players_seen == 3);
    std::remove(shot.c_str());
    std::remove(match.c_str());
}
