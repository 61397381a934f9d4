// sprocket-arena: the demo game. Collect coins in a top-down arena against friends and bots.
//
//   sprocket-arena                    a local server, your window and 3 bots
//   sprocket-arena host               a server others can join (plus --bots N if you like)
//   sprocket-arena join HOST[:PORT]   play on someone's server
//   sprocket-arena bots N HOST[:PORT] N headless bots on a server
//   sprocket-arena replay FILE        watch a match recorded with --record
//
// Run with --help for every option.
#include "bot.hpp"
#include "render.hpp"
#include "replay.hpp"
#include "server.hpp"

#include <sprocket/recording.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace arena;

namespace {

constexpr std::uint16_t default_port = 4242;

const char* const usage = R"(sprocket-arena: the sprocket demo game. Collect the coins; bump the others away.

usage: sprocket-arena [play] [options]          a local server, your window and 3 bots
       sprocket-arena host [options]            a server for others to join
       sprocket-arena join HOST[:PORT] [opts]   your window, on someone's server
       sprocket-arena bots N HOST[:PORT] [opts] N headless bots on a server
       sprocket-arena replay FILE [opts]        watch a match recorded with --record

options:
  --port P           the server's port (play: any free port; host: 4242)
  --listen ADDR      the address a server listens on (play: 127.0.0.1; host: 0.0.0.0, every
                     interface, so other machines can join)
  --bots N           bots next to a local server (play: 3; host: 0)
  --name NAME        your name (default: $USER)
  --seconds N        quit after N seconds (default: until you close the window or press Ctrl-C;
                     20 for a text scoreboard without a display)
  --screenshot FILE  save what the window shows to FILE (PNG) just before quitting
  --headless         no window even if there is a display: server, bots and a text scoreboard
  --overlay          start with the network overlay shown (F3 or Tab toggles it)
  --sim SETTINGS     feel a bad network, e.g. --sim "latency=150ms jitter=20ms" (also bandwidth=64KB,
                     stall=500ms/10s): on your window's connection (play, join), on every client's
                     (host) or on each bot's (bots, and play without a window). SPROCKET_SIM=...
                     does it for every connection of the process instead, the server's and bots' too
  --record FILE      record the match: everything the server sends and receives (play, host),
                     or your window's connection (join); `replay FILE` plays it again
  --speed X          replay: X times the recorded pace (default 1)
  --help             this text

In the game: WASD or arrow keys move, Enter chats, F3 or Tab shows the network overlay, Esc quits.
Without a display (no DISPLAY), play runs headless and says so. A replay serves the recorded
match to a window of its own that only watches (--headless: a text scoreboard, until it ends).
)";

std::atomic<bool> interrupted{false};
extern "C" void on_signal(int) { interrupted.store(true); }

struct Args {
    std::string mode = "play";
    std::string host = "127.0.0.1";  // join / bots: the server
    std::optional<std::uint16_t> port;
    std::optional<std::string> listen;
    std::optional<int> bots;
    std::string name;
    std::optional<double> seconds;
    std::string screenshot;
    bool headless = false;
    bool overlay = false;
    sprocket::Simulation sim;
    std::string record;  // --record FILE
    std::string replay;  // replay FILE
    double speed = 1;
};

[[noreturn]] void bad_usage(const std::string& why) {
    std::cerr << "sprocket-arena: " << why << "\n(try --help)\n";
    std::exit(2);
}

long number(const std::string& text, const char* what, long lo, long hi) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < lo || v > hi)
        bad_usage(std::string("bad ") + what + " '" + text + "' (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    return v;
}

// "host", "host:port" → host and (maybe) port.
void split_address(const std::string& text, Args& args) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        args.host = text;
        return;
    }
    args.host = text.substr(0, colon);
    args.port = static_cast<std::uint16_t>(number(text.substr(colon + 1), "port", 1, 65535));
}

Args parse(int argc, char** argv) {
    Args args;
    const char* user = std::getenv("USER");
    args.name = user && *user ? user : "Player";
    std::vector<std::string> rest;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) bad_usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--port") {
            args.port = static_cast<std::uint16_t>(number(value(), "port", 0, 65535));
        } else if (a == "--listen") {
            args.listen = value();
        } else if (a == "--bots") {
            args.bots = static_cast<int>(number(value(), "bot count", 0, 200));
        } else if (a == "--name") {
            args.name = value();
        } else if (a == "--seconds") {
            args.seconds = static_cast<double>(number(value(), "seconds", 1, 86400));
        } else if (a == "--screenshot") {
            args.screenshot = value();
        } else if (a == "--headless") {
            args.headless = true;
        } else if (a == "--overlay") {
            args.overlay = true;
        } else if (a == "--sim") {
            const std::string text = value();
            try {
                args.sim = sprocket::Simulation::parse(text);
            } catch (const std::invalid_argument& e) {
                bad_usage(std::string("--sim: ") + e.what());
            }
        } else if (a == "--record") {
            args.record = value();
        } else if (a == "--speed") {
            const std::string text = value();
            char* end = nullptr;
            args.speed = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !(args.speed > 0 && args.speed <= 1000))
                bad_usage("bad speed '" + text + "' (above 0, up to 1000)");
        } else if (!a.empty() && a[0] == '-') {
            bad_usage("unknown option " + a);
        } else {
            rest.push_back(a);
        }
    }
    if (!rest.empty()) args.mode = rest[0];
    if (args.mode == "play" || args.mode == "host") {
        if (rest.size() > 1) bad_usage("unexpected '" + rest[1] + "'");
    } else if (args.mode == "join") {
        if (rest.size() != 2) bad_usage("join needs the server's address: join HOST[:PORT]");
        split_address(rest[1], args);
    } else if (args.mode == "bots") {
        if (rest.size() != 3) bad_usage("bots needs a count and an address: bots N HOST[:PORT]");
        args.bots = static_cast<int>(number(rest[1], "bot count", 1, 200));
        split_address(rest[2], args);
    } else if (args.mode == "replay") {
        if (rest.size() != 2) bad_usage("replay needs a recording: replay FILE");
        args.replay = rest[1];
    } else {
        bad_usage("unknown mode '" + args.mode + "' (play, host, join, bots or replay)");
    }
    if (!args.record.empty() && (args.mode == "bots" || args.mode == "replay"))
        bad_usage("--record records a server (play, host) or your window (join)");
    return args;
}

using Seconds = std::chrono::duration<double>;

std::optional<TimePoint> end_time(const Args& args, std::optional<double> fallback = std::nullopt) {
    const auto s = args.seconds ? args.seconds : fallback;
    if (!s) return std::nullopt;
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(*s));
}

bool time_is_up(const std::optional<TimePoint>& end, TimePoint now) { return interrupted.load() || (end && now >= *end); }

std::vector<std::unique_ptr<Bot>> make_bots(int n, const std::string& host, std::uint16_t port,
                                            const sprocket::Simulation& sim = {}) {
    static const char* const names[] = {"Zippy", "Nova", "Orbit", "Comet", "Pixel", "Rusty", "Blip", "Quasar"};
    std::vector<std::unique_ptr<Bot>> bots;
    for (int i = 0; i < n; ++i) {
        std::string name = std::string(names[i % 8]) + (i >= 8 ? " " + std::to_string(i / 8 + 1) : "") + " bot";
        bots.push_back(std::make_unique<Bot>(host, port, name, static_cast<std::uint32_t>(1000 + i), sim));
    }
    return bots;
}

struct Score {
    std::string name;
    int score = 0;
};

// Scores under a title line, for a terminal: redrawn in place when it is one, appended otherwise.
void print_board(const std::string& title, std::vector<Score> scores, bool tty) {
    std::stable_sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) { return a.score > b.score; });
    std::ostringstream out;
    if (tty) out << "\033[H\033[J";
    out << title << "\n";
    for (const Score& s : scores) {
        out << "  " << s.name;
        for (std::size_t pad = s.name.size(); pad < 20; ++pad) out << ' ';
        out << s.score << '\n';
    }
    std::cout << out.str() << std::flush;
}

void print_scoreboard(const Server& server, double elapsed, bool tty) {
    std::vector<Score> scores;
    for (const auto& [id, p] : server.world().players()) scores.push_back({p.name, p.score});
    print_board("sprocket arena on port " + std::to_string(server.port()) + "   t=" + std::to_string(static_cast<int>(elapsed)) +
                    " s   tick " + std::to_string(server.world().tick_count()),
                std::move(scores), tty);
}

// A server (with bots) and no window, until the time is up.
int run_headless(Server& server, std::vector<std::unique_ptr<Bot>>& bots, std::optional<TimePoint> end) {
    const bool tty = ::isatty(STDOUT_FILENO) != 0;
    const TimePoint start = Clock::now();
    TimePoint next_board = start + std::chrono::seconds(1);
    for (;;) {
        const TimePoint now = Clock::now();
        if (time_is_up(end, now)) break;
        const TimePoint next_tick = server.update(now);
        for (auto& bot : bots) bot->update(now);
        for (const std::string& line : server.take_log()) {
            if (!tty) std::cout << line << '\n';
        }
        if (now >= next_board) {
            print_scoreboard(server, Seconds(now - start).count(), tty);
            next_board += std::chrono::seconds(tty ? 1 : 5);
        }
        // Bots think once per tick; the server wakes early for packets.
        server.wait(std::min(next_tick, now + std::chrono::milliseconds(10)));
    }
    print_scoreboard(server, Seconds(Clock::now() - start).count(), false);
    return 0;
}

void save_screenshot(const sf::RenderWindow& window, const std::string& file) {
    sf::Texture shot;
    if (!shot.create(window.getSize().x, window.getSize().y)) {
        std::cerr << "sprocket-arena: cannot capture the window\n";
        return;
    }
    shot.update(window);
    if (shot.copyToImage().saveToFile(file)) std::cout << "screenshot saved: " << file << '\n';
    else std::cerr << "sprocket-arena: cannot save the screenshot to " << file << '\n';
}

// Your window on a server; `background` runs once a frame before the window's client (a local
// server and bots, or a replay).
int run_window(const Args& args, const std::function<void(TimePoint)>& background, const std::string& host,
               std::uint16_t port, const char* argv0, const ClientMode& mode) {
    const auto dir = find_assets(argv0);
    if (!dir) {
        std::cerr << "sprocket-arena: cannot find the game's assets (assets/arena); set SPROCKET_ASSETS to that folder\n";
        return 1;
    }
    Assets assets;
    std::string error;
    if (!assets.load(*dir, error)) {
        std::cerr << "sprocket-arena: " << error << '\n';
        return 1;
    }
    Client client(host, port, args.name, mode);
    sf::ContextSettings settings;
    settings.antialiasingLevel = 4;
    sf::RenderWindow window(sf::VideoMode(1280, 800), "sprocket arena", sf::Style::Default, settings);
    window.setFramerateLimit(60);  // SFML sleeps between frames; vsync is not available everywhere
    window.setKeyRepeatEnabled(true);

    Renderer renderer(assets);
    NetMonitor net;
    Hud hud;
    hud.overlay = args.overlay;
    hud.server = host + ":" + std::to_string(port);
    hud.sim = args.sim.active() ? args.sim.to_string() : sprocket::simulation_from_environment().to_string();
    const auto end = end_time(args);
    bool screenshot_taken = false;
    while (window.isOpen()) {
        sf::Event event;
        while (window.pollEvent(event)) {
            if (event.type == sf::Event::Closed) window.close();
            if (event.type == sf::Event::Resized)
                window.setView(sf::View({0, 0, static_cast<float>(event.size.width), static_cast<float>(event.size.height)}));
            if (event.type == sf::Event::KeyPressed) {
                const auto key = event.key.code;
                if (hud.typing) {
                    if (key == sf::Keyboard::Enter) {
                        client.chat(hud.chat_line);
                        hud.chat_line.clear();
                        hud.typing = false;
                    } else if (key == sf::Keyboard::Escape) {
                        hud.chat_line.clear();
                        hud.typing = false;
                    } else if (key == sf::Keyboard::BackSpace && !hud.chat_line.empty()) {
                        hud.chat_line.pop_back();
                    }
                } else if (key == sf::Keyboard::Enter && !client.watching()) {
                    hud.typing = true;
                } else if (key == sf::Keyboard::F3 || key == sf::Keyboard::Tab) {
                    hud.overlay = !hud.overlay;
                } else if (key == sf::Keyboard::Escape) {
                    window.close();
                }
            }
            if (event.type == sf::Event::TextEntered && hud.typing) {
                const auto c = event.text.unicode;
                if (c >= 0x20 && c < 0x7f && hud.chat_line.size() < max_chat) hud.chat_line += static_cast<char>(c);
            }
        }
        if (!window.isOpen()) break;

        const TimePoint now = Clock::now();
        background(now);

        std::uint8_t keys = 0;
        if (window.hasFocus() && !hud.typing) {
            using K = sf::Keyboard;
            if (K::isKeyPressed(K::W) || K::isKeyPressed(K::Up)) keys |= Input::up;
            if (K::isKeyPressed(K::S) || K::isKeyPressed(K::Down)) keys |= Input::down;
            if (K::isKeyPressed(K::A) || K::isKeyPressed(K::Left)) keys |= Input::left;
            if (K::isKeyPressed(K::D) || K::isKeyPressed(K::Right)) keys |= Input::right;
        }
        client.update(now, keys);
        net.sample(now, client.connection().stats());
        renderer.draw(window, client, client.view(now), net, hud, now);

        const bool last_frame = time_is_up(end, now);
        if (last_frame && !args.screenshot.empty()) {
            save_screenshot(window, args.screenshot);  // before display(): the frame just drawn
            screenshot_taken = true;
        }
        window.display();
        if (last_frame) window.close();
    }
    if (!args.screenshot.empty() && !screenshot_taken) std::cerr << "sprocket-arena: closed before the screenshot\n";
    return 0;
}

bool has_display();

// A recorded match played again: a server in this process sends what the recorded server sent
// (from a recording of `play` or `host`; of `join`: what that window received) to a spectator,
// your window or, headless, a text scoreboard printed when the replay has ended.
int run_replay(const Args& args, const char* argv0) {
    const sprocket::Recording recording = sprocket::read_recording(args.replay);
    if (recording.header.application != "sprocket-arena")
        throw std::runtime_error(args.replay + " is a recording of '" + recording.header.application + "', not of the arena");
    if (recording.error) std::cerr << "sprocket-arena: " << recording.error->what() << "; replaying the records before it\n";
    auto script = sprocket::replay::make_script(recording, sprocket::RecordRole::server);
    const auto states = static_cast<std::uint64_t>(std::count_if(script.records.begin(), script.records.end(),
                                                                 [](const auto& r) { return r.packet.channel() == "state"; }));
    const auto length = std::chrono::duration<double>(recording.records.empty() ? std::chrono::microseconds(0)
                                                                                : recording.records.back().at - script.origin);
    sprocket::ServoOptions options;
    options.application = "sprocket-arena";
    sprocket::Servo servo(args.port.value_or(0), options);
    std::cout << "replaying " << args.replay << " (" << recording.header.role << " recording, " << script.packets
              << " packets, " << static_cast<int>(length.count()) << " s) on " << options.host << ':' << servo.port()
              << '\n' << std::flush;
    sprocket::replay::ServerReplay player(std::move(script), args.speed);
    const auto serve = [&](TimePoint now) {
        for (const sprocket::Event& event : servo.poll()) player.on_event(event, now);
        return player.play(servo, now);
    };
    if (!args.headless && has_display())
        return run_window(args, serve, options.host, servo.port(), argv0, ClientMode{true, "", {}});

    Client watcher(options.host, servo.port(), args.name, ClientMode{true, "", {}});
    const auto end = end_time(args);
    std::optional<TimePoint> played_at;
    for (;;) {
        const TimePoint now = Clock::now();
        if (time_is_up(end, now)) break;
        const TimePoint next = serve(now);
        watcher.update(now, 0);
        if (player.done() && !played_at) played_at = now;
        // Once all is played, until the watcher has every state (or it has had 5 s for it).
        if (played_at && (watcher.snapshots() >= states || now - *played_at > std::chrono::seconds(5))) break;
        watcher.wait(std::chrono::ceil<std::chrono::milliseconds>(std::min(next, now + std::chrono::milliseconds(10)) - now));
    }
    std::vector<Score> scores;
    if (const Snapshot* last = watcher.latest()) {
        for (const ShipState& ship : last->ships) {
            const auto it = watcher.roster().find(ship.id);
            scores.push_back({it != watcher.roster().end() ? it->second.name : "Player " + std::to_string(ship.id), ship.score});
        }
    }
    print_board("replay of " + args.replay + "   tick " + std::to_string(watcher.latest() ? watcher.latest()->tick : 0),
                std::move(scores), false);
    std::cout << "replay finished: the watcher saw " << watcher.snapshots() << " of " << states << " states\n";
    return 0;
}

// 127.x.y.z and "localhost": only this machine can connect.
bool is_loopback(const std::string& address) { return address.rfind("127.", 0) == 0 || address == "localhost"; }

bool has_display() {
    const char* display = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    return (display && *display) || (wayland && *wayland);
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    try {
        if (args.mode == "bots") {
            const std::uint16_t port = args.port.value_or(default_port);
            auto bots = make_bots(*args.bots, args.host, port, args.sim);
            std::cout << args.bots.value() << " bots playing on " << args.host << ':' << port << " (Ctrl-C stops them)\n";
            const auto end = end_time(args);
            const auto frame = std::chrono::milliseconds(10);  // bots think ~100 times a second
            for (TimePoint next = Clock::now();; next += frame) {
                const TimePoint now = Clock::now();
                if (time_is_up(end, now)) break;
                for (auto& bot : bots) bot->update(now);
                if (next < now) next = now;
                std::this_thread::sleep_until(next + frame);  // paced like a game loop
            }
            return 0;
        }
        if (args.mode == "join") {
            if (!has_display()) {
                std::cerr << "sprocket-arena: no display (DISPLAY is not set): join needs a window\n";
                return 1;
            }
            return run_window(args, [](TimePoint) {}, args.host, args.port.value_or(default_port), argv[0],
                              ClientMode{false, args.record, args.sim});
        }
        if (args.mode == "replay") return run_replay(args, argv[0]);

        // play / host: a server in this process.
        const bool hosting = args.mode == "host";
        const std::string listen = args.listen.value_or(hosting ? "0.0.0.0" : "127.0.0.1");
        Server server(args.port.value_or(hosting ? default_port : 0), listen, 32, args.record,
                      hosting ? args.sim : sprocket::Simulation{});
        std::cout << "arena server listening on " << listen << ':' << server.port() << '\n';
        if (hosting) std::cout << "others join with: sprocket-arena join <this machine's address>:" << server.port() << '\n';
        std::cout << std::flush;  // a script reading our output learns the port now
        // play without a window: the bots feel --sim instead of your window.
        const bool windowless = !hosting && (args.headless || !has_display());
        auto bots = make_bots(args.bots.value_or(hosting ? 0 : 3), "127.0.0.1", server.port(),
                              windowless ? args.sim : sprocket::Simulation{});

        if (hosting || args.headless) return run_headless(server, bots, end_time(args));
        if (!has_display()) {
            std::cout << "No display (DISPLAY is not set): running the server and bots with a text scoreboard for "
                      << static_cast<int>(args.seconds.value_or(20)) << " s.\n"
                      << "To play with a window: run ./dev demo on a desktop";
            if (is_loopback(listen)) {
                // This server takes no one from another machine: say how to start one that does.
                std::cout << ".\nThis server takes connections from this machine only. To join from another one, run\n"
                          << "`sprocket-arena play --listen 0.0.0.0 --port " << default_port
                          << "` here (every interface: anyone who can reach\nthis machine can join), then "
                          << "`sprocket-arena join <this machine's address>:" << default_port << "` there.\n";
            } else {
                std::cout << ", or `sprocket-arena join <this machine's address>:" << server.port()
                          << "` from a machine with one.\n";
            }
            return run_headless(server, bots, end_time(args, 20.0));
        }
        const auto local = [&](TimePoint now) {
            server.update(now);
            for (auto& bot : bots) bot->update(now);
            server.take_log();
        };
        return run_window(args, local, "127.0.0.1", server.port(), argv[0], ClientMode{false, "", args.sim});
    } catch (const std::runtime_error& e) {
        std::cerr << "sprocket-arena: " << e.what() << '\n';
        return 1;
    } catch (const std::invalid_argument& e) {  // a bad SPROCKET_SIM
        std::cerr << "sprocket-arena: " << e.what() << '\n';
        return 2;
    }
}
