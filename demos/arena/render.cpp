#include "render.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace arena {

namespace {

const sf::Color background(9, 11, 19);
const sf::Color panel(12, 16, 28, 200);
const sf::Color frame_colour(90, 170, 255);
const sf::Color dim(150, 160, 185);
const sf::Color gold(255, 205, 80);

sf::Color rgba(std::uint32_t c, std::uint8_t alpha = 255) {
    return sf::Color(static_cast<sf::Uint8>(c >> 24), static_cast<sf::Uint8>(c >> 16), static_cast<sf::Uint8>(c >> 8), alpha);
}

bool is_dir_with_assets(const std::string& dir) { return ::access((dir + "/ship.png").c_str(), R_OK) == 0; }

// Walks up from `start` looking for assets/arena.
std::optional<std::string> search_up(std::string start) {
    while (!start.empty()) {
        if (is_dir_with_assets(start + "/assets/arena")) return start + "/assets/arena";
        const auto slash = start.find_last_of('/');
        if (slash == std::string::npos || slash == 0) break;
        start.erase(slash);
    }
    return std::nullopt;
}

std::string format_rate(double per_second, const char* unit) {
    char buf[48];
    if (per_second >= 1e6) std::snprintf(buf, sizeof buf, "%.1f M%s/s", per_second / 1e6, unit);
    else if (per_second >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k%s/s", per_second / 1e3, unit);
    else std::snprintf(buf, sizeof buf, "%.0f %s/s", per_second, unit);
    return buf;
}

void panel_box(sf::RenderTarget& target, sf::FloatRect r, sf::Color fill = panel) {
    sf::RectangleShape box({r.width, r.height});
    box.setPosition(r.left, r.top);
    box.setFillColor(fill);
    box.setOutlineColor(sf::Color(frame_colour.r, frame_colour.g, frame_colour.b, 70));
    box.setOutlineThickness(1);
    target.draw(box);
}

}  // namespace

bool Assets::load(const std::string& dir, std::string& error) {
    const auto need = [&](bool ok, const char* file) {
        if (!ok && error.empty()) error = "cannot load " + dir + "/" + file;
        return ok;
    };
    bool ok = need(font.loadFromFile(dir + "/DejaVuSans.ttf"), "DejaVuSans.ttf");
    ok = need(bold.loadFromFile(dir + "/DejaVuSans-Bold.ttf"), "DejaVuSans-Bold.ttf") && ok;
    ok = need(ship.loadFromFile(dir + "/ship.png"), "ship.png") && ok;
    ok = need(coin.loadFromFile(dir + "/coin.png"), "coin.png") && ok;
    ok = need(floor.loadFromFile(dir + "/floor.png"), "floor.png") && ok;
    ok = need(glow.loadFromFile(dir + "/glow.png"), "glow.png") && ok;
    ok = need(spark.loadFromFile(dir + "/spark.png"), "spark.png") && ok;
    floor.setRepeated(true);
    ship.setSmooth(true);
    coin.setSmooth(true);
    glow.setSmooth(true);
    spark.setSmooth(true);
    return ok;
}

std::optional<std::string> find_assets(const char* argv0) {
    if (const char* env = std::getenv("SPROCKET_ASSETS"); env && *env) {
        if (is_dir_with_assets(env)) return std::string(env);
        return std::nullopt;
    }
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string exe_path = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string(argv0 ? argv0 : "");
    if (auto found = search_up(exe_path.substr(0, exe_path.find_last_of('/')))) return found;
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) {
        if (auto found = search_up(cwd)) return found;
    }
#ifdef ARENA_SOURCE_ASSETS
    if (is_dir_with_assets(ARENA_SOURCE_ASSETS)) return std::string(ARENA_SOURCE_ASSETS);
#endif
    return std::nullopt;
}

void NetMonitor::sample(TimePoint now, const sprocket::Stats& stats) {
    stats_ = stats;
    if (last_rate_ == TimePoint{}) {
        last_rate_ = last_sample_ = now;
        last_channels_ = stats.channels;
        return;
    }
    // The totals rates come with the snapshot; per channel, from two snapshots half a second apart.
    const double dt = std::chrono::duration<double>(now - last_rate_).count();
    if (dt >= 0.5) {
        channels_.clear();
        for (const auto& c : stats.channels) {
            ChannelRate rate{c.channel.empty() ? "(default)" : c.channel, 0, 0};
            const auto before = std::find_if(last_channels_.begin(), last_channels_.end(),
                                             [&](const auto& b) { return b.channel == c.channel; });
            const std::uint64_t in0 = before == last_channels_.end() ? 0 : before->packets_received;
            const std::uint64_t out0 = before == last_channels_.end() ? 0 : before->packets_sent;
            rate.in = static_cast<double>(c.packets_received - in0) / dt;
            rate.out = static_cast<double>(c.packets_sent - out0) / dt;
            channels_.push_back(rate);
        }
        last_channels_ = stats.channels;
        last_rate_ = now;
    }
    while (now - last_sample_ >= sample_every) {
        history_.push_back(rtt_ms());
        if (history_.size() > history_size) history_.pop_front();
        last_sample_ += sample_every;
    }
}

sf::Text Renderer::text(const std::string& s, unsigned size, sf::Color colour, bool bold) const {
    sf::Text t(s, bold ? assets_.bold : assets_.font, size);
    t.setFillColor(colour);
    return t;
}

void Renderer::draw(sf::RenderTarget& target, const Client& client, const View& view, const NetMonitor& net,
                    const Hud& hud, TimePoint now) {
    const float t = static_cast<float>(std::chrono::duration<double>(now.time_since_epoch()).count());
    if (start_ < 0) start_ = t;
    target.clear(background);

    // The arena keeps its aspect ratio inside the window, with room for the HUD around it.
    const sf::Vector2f size(target.getSize());
    const float margin = 12;
    const float scale = std::min((size.x - 2 * margin) / arena_width, (size.y - 2 * margin) / arena_height);
    sf::View world({0, 0, arena_width, arena_height});
    const float w = arena_width * scale / size.x, h = arena_height * scale / size.y;
    world.setViewport({(1 - w) / 2, (1 - h) / 2, w, h});
    target.setView(world);
    track_pickups(view, t);
    draw_world(target, view, t);

    target.setView(sf::View({0, 0, size.x, size.y}));
    draw_scores(target, client, view);
    draw_feed(target, client, hud, now);
    if (hud.overlay) draw_overlay(target, net, hud);
    draw_banner(target, client, hud);
}

void Renderer::track_pickups(const View& view, float t) {
    for (const Coin& old : last_coins_) {
        const bool still = std::any_of(view.coins.begin(), view.coins.end(), [&](const Coin& c) { return c.id == old.id; });
        if (still) continue;
        for (int i = 0; i < 14; ++i) {  // a little burst where a coin was taken
            const float a = static_cast<float>(i) * 0.449f + static_cast<float>(old.id);
            const float speed = 90.0f + static_cast<float>((old.id * 37 + static_cast<unsigned>(i) * 53) % 90);
            sparks_.push_back(Spark{{old.pos.x, old.pos.y}, {std::cos(a) * speed, std::sin(a) * speed}, gold, t});
        }
    }
    last_coins_ = view.coins;
    sparks_.erase(std::remove_if(sparks_.begin(), sparks_.end(), [&](const Spark& s) { return t - s.born > 0.6f; }),
                  sparks_.end());
}

void Renderer::draw_world(sf::RenderTarget& target, const View& view, float t) {
    // Floor and a glowing border.
    sf::Sprite floor(assets_.floor, sf::IntRect(0, 0, static_cast<int>(arena_width), static_cast<int>(arena_height)));
    target.draw(floor);
    for (int i = 0; i < 3; ++i) {
        sf::RectangleShape border({arena_width - 2.0f * static_cast<float>(i), arena_height - 2.0f * static_cast<float>(i)});
        border.setPosition(static_cast<float>(i), static_cast<float>(i));
        border.setFillColor(sf::Color::Transparent);
        border.setOutlineThickness(-2);
        border.setOutlineColor(sf::Color(frame_colour.r, frame_colour.g, frame_colour.b, static_cast<sf::Uint8>(140 - 40 * i)));
        target.draw(border);
    }

    const sf::RenderStates additive(sf::BlendAdd);
    // Coins: a warm glow, then the spinning coin.
    for (const Coin& coin : view.coins) {
        sf::Sprite glow(assets_.glow);
        glow.setOrigin(32, 32);
        glow.setPosition(coin.pos.x, coin.pos.y);
        const float pulse = 0.75f + 0.25f * std::sin(t * 4 + static_cast<float>(coin.id));
        glow.setScale(pulse * 0.9f, pulse * 0.9f);
        glow.setColor(sf::Color(255, 180, 40, 110));
        target.draw(glow, additive);
        const int frame = static_cast<int>(t * 12 + static_cast<float>(coin.id) * 3) % 8;
        sf::Sprite sprite(assets_.coin, sf::IntRect(frame * 32, 0, 32, 32));
        sprite.setOrigin(16, 16);
        sprite.setPosition(coin.pos.x, coin.pos.y);
        target.draw(sprite);
    }

    for (const Spark& s : sparks_) {
        const float age = t - s.born;
        sf::Sprite spark(assets_.spark);
        spark.setOrigin(8, 8);
        spark.setPosition(s.pos + s.vel * age);
        sf::Color c = s.colour;
        c.a = static_cast<sf::Uint8>(255 * std::max(0.0f, 1 - age / 0.6f));
        spark.setColor(c);
        target.draw(spark, additive);
    }

    // Ships: a glow in the player's colour, the tinted ship, the name above.
    for (const View::ShipView& ship : view.ships) {
        const sf::Color colour = rgba(ship.colour);
        sf::Sprite glow(assets_.glow);
        glow.setOrigin(32, 32);
        glow.setPosition(ship.pos.x, ship.pos.y);
        glow.setScale(1.5f, 1.5f);
        glow.setColor(sf::Color(colour.r, colour.g, colour.b, ship.me ? 120 : 80));
        target.draw(glow, additive);
        if (ship.me) {
            sf::CircleShape ring(ship_radius + 8);
            ring.setOrigin(ship_radius + 8, ship_radius + 8);
            ring.setPosition(ship.pos.x, ship.pos.y);
            ring.setFillColor(sf::Color::Transparent);
            ring.setOutlineThickness(2);
            ring.setOutlineColor(sf::Color(255, 255, 255, static_cast<sf::Uint8>(70 + 40 * std::sin(t * 5))));
            target.draw(ring);
        }
        sf::Sprite sprite(assets_.ship);
        sprite.setOrigin(32, 32);
        sprite.setPosition(ship.pos.x, ship.pos.y);
        sprite.setRotation(ship.angle);
        sprite.setScale(0.8f, 0.8f);
        sprite.setColor(colour);
        target.draw(sprite);

        sf::Text label = text(ship.name, 15, sf::Color(235, 240, 255), ship.me);
        const auto bounds = label.getLocalBounds();
        label.setOrigin(std::round(bounds.left + bounds.width / 2), 0);
        label.setPosition(std::round(ship.pos.x), std::round(ship.pos.y - ship_radius - 26));
        sf::Text shadow = label;
        shadow.setFillColor(sf::Color(0, 0, 0, 170));
        shadow.move(1, 1);
        target.draw(shadow);
        target.draw(label);
    }
}

void Renderer::draw_scores(sf::RenderTarget& target, const Client& client, const View& view) {
    std::vector<const View::ShipView*> order;
    for (const auto& s : view.ships) order.push_back(&s);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->score != b->score ? a->score > b->score : a->id < b->id; });

    const float width = 230, row = 24;
    const float x = static_cast<float>(target.getSize().x) - width - 24, y = 24;
    panel_box(target, {x, y, width, 40 + row * static_cast<float>(order.size())});
    sf::Text title = text("SCORE", 14, dim, true);
    title.setPosition(x + 14, y + 10);
    target.draw(title);
    sf::Text players = text(std::to_string(client.roster().size()) + " online", 13, dim);
    players.setPosition(x + width - 14 - players.getLocalBounds().width, y + 11);
    target.draw(players);
    float ry = y + 36;
    for (const auto* s : order) {
        sf::CircleShape dot(5);
        dot.setFillColor(rgba(s->colour));
        dot.setPosition(x + 14, ry + 6);
        target.draw(dot);
        sf::Text name = text(s->name + (s->me ? "  (you)" : ""), 15, sf::Color(230, 235, 250), s->me);
        name.setPosition(x + 30, ry);
        target.draw(name);
        sf::Text score = text(std::to_string(s->score), 15, gold, true);
        score.setPosition(x + width - 14 - score.getLocalBounds().width, ry);
        target.draw(score);
        ry += row;
    }
}

void Renderer::draw_feed(sf::RenderTarget& target, const Client& client, const Hud& hud, TimePoint now) {
    const float bottom = static_cast<float>(target.getSize().y) - 24;
    float y = bottom - (hud.typing ? 34 : 0);
    int shown = 0;
    const auto& feed = client.feed();
    for (auto it = feed.rbegin(); it != feed.rend() && shown < 6; ++it, ++shown) {
        const float age = std::chrono::duration<float>(now - it->at).count();
        if (age > 12 && !hud.typing) break;
        const float fade = std::clamp(12 - age, 0.0f, 1.0f);
        sf::Color c = it->kind == FeedLine::chat ? sf::Color(235, 240, 255) : it->kind == FeedLine::trouble ? sf::Color(255, 140, 120) : sf::Color(150, 200, 255);
        c.a = static_cast<sf::Uint8>(255 * (hud.typing ? 1.0f : fade));
        sf::Text line = text(it->text, 15, c, it->kind == FeedLine::trouble);
        y -= 22;
        line.setPosition(28, y);
        sf::Text shadow = line;
        shadow.setFillColor(sf::Color(0, 0, 0, c.a / 2));
        shadow.move(1, 1);
        target.draw(shadow);
        target.draw(line);
    }
    if (hud.typing) {
        const float width = 520;
        panel_box(target, {20, bottom - 30, width, 30}, sf::Color(20, 26, 44, 230));
        sf::Text line = text("say: " + hud.chat_line + "_", 15, sf::Color::White);
        line.setPosition(30, bottom - 25);
        target.draw(line);
    } else {
        sf::Text hint = text(client.watching() ? "Watching a replay    F3 / Tab: network    Esc: quit"
                                               : "WASD / arrows: move    Enter: chat    F3 / Tab: network    Esc: quit",
                             13, dim);
        hint.setPosition(static_cast<float>(target.getSize().x) - hint.getLocalBounds().width - 24, bottom - 6);
        target.draw(hint);
    }
}

void Renderer::draw_overlay(sf::RenderTarget& target, const NetMonitor& net, const Hud& hud) {
    const auto& stats = net.stats();
    auto ms = [](std::chrono::microseconds us) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(us.count()) / 1000.0);
        return std::string(buf);
    };
    std::vector<std::array<std::string, 2>> lines = {
        {"round trip", ms(stats.rtt) + " ms"},
        {"  lowest / jitter", ms(stats.rtt_min) + " / " + ms(stats.rtt_jitter) + " ms"},
        {"packets in / out", format_rate(stats.packets_received_per_second, "") + "  /  " +
                                 format_rate(stats.packets_sent_per_second, "")},
        {"bytes in / out", format_rate(stats.bytes_received_per_second, "B") + "  /  " +
                               format_rate(stats.bytes_sent_per_second, "B")},
        {"queued out / in", std::to_string(stats.send_queue) + " / " + std::to_string(stats.receive_queue) + " B"},
    };
    for (const auto& c : net.channels()) {
        lines.push_back({"  " + c.channel, format_rate(c.in, "") + "  /  " + format_rate(c.out, "")});
    }
    if (!hud.sim.empty()) lines.push_back({"simulated", hud.sim});
    const float x = 24, y = 24, width = 330, graph_h = 90;
    panel_box(target, {x, y, width, 62 + 22 * static_cast<float>(lines.size()) + graph_h});
    sf::Text title = text("NETWORK", 14, dim, true);
    title.setPosition(x + 14, y + 10);
    target.draw(title);
    float ly = y + 36;
    for (const auto& [label, value] : lines) {
        sf::Text l = text(label, 13, dim);
        l.setPosition(x + 14, ly);
        target.draw(l);
        sf::Text v = text(value, 13, sf::Color(230, 240, 255), true);
        v.setPosition(x + width - 14 - v.getLocalBounds().width, ly);
        target.draw(v);
        ly += 22;
    }

    // RTT over the last 10 seconds, scaled to the largest sample (at least 5 ms).
    const sf::FloatRect g{x + 14, ly + 10, width - 28, graph_h};
    panel_box(target, g, sf::Color(5, 8, 16, 220));
    const auto& h = net.history();
    const double top = std::max(1.0, h.empty() ? 0.0 : *std::max_element(h.begin(), h.end()) * 1.2);
    for (int i = 1; i < 4; ++i) {  // grid
        sf::RectangleShape line({g.width, 1});
        line.setPosition(g.left, g.top + g.height * static_cast<float>(i) / 4);
        line.setFillColor(sf::Color(255, 255, 255, 18));
        target.draw(line);
    }
    if (h.size() >= 2) {
        sf::VertexArray area(sf::TriangleStrip), curve(sf::LineStrip);
        const float step = g.width / static_cast<float>(NetMonitor::history_size - 1);
        const float x0 = g.left + g.width - step * static_cast<float>(h.size() - 1);
        for (std::size_t i = 0; i < h.size(); ++i) {
            const float px = x0 + step * static_cast<float>(i);
            const float py = g.top + g.height - static_cast<float>(h[i] / top) * g.height;
            curve.append(sf::Vertex({px, py}, sf::Color(110, 220, 255)));
            area.append(sf::Vertex({px, py}, sf::Color(110, 220, 255, 70)));
            area.append(sf::Vertex({px, g.top + g.height}, sf::Color(110, 220, 255, 0)));
        }
        target.draw(area);
        target.draw(curve);
    }
    char scale[32];
    std::snprintf(scale, sizeof scale, "%.1f ms", top);
    sf::Text s = text(scale, 11, dim);
    s.setPosition(g.left + 4, g.top + 2);
    target.draw(s);
    sf::Text span = text("RTT, last 10 s", 11, dim);
    span.setPosition(g.left + g.width - span.getLocalBounds().width - 4, g.top + g.height - 16);
    target.draw(span);
}

void Renderer::draw_banner(sf::RenderTarget& target, const Client& client, const Hud& hud) {
    std::string message = client.trouble();
    if (message.empty()) {
        const auto state = client.connection().status().state;
        if (state == sprocket::State::connecting) message = "Connecting to " + hud.server + "...";
        else if (!client.latest()) message = "Joining " + hud.server + "...";
    }
    if (message.empty()) return;
    sf::Text t = text(message, 22, sf::Color(255, 225, 200), true);
    const auto b = t.getLocalBounds();
    const sf::Vector2f size(target.getSize());
    panel_box(target, {size.x / 2 - b.width / 2 - 24, size.y / 2 - 30, b.width + 48, 60}, sf::Color(30, 14, 20, 225));
    t.setPosition(std::round(size.x / 2 - b.width / 2 - b.left), std::round(size.y / 2 - b.height / 2 - b.top));
    target.draw(t);
}

}  // namespace arena
