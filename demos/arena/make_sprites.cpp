// make_sprites: draws the arena demo's sprites and writes them as PNGs into a directory.
//
// Run it (from the repository root):
//   g++ -std=c++17 -O2 demos/arena/make_sprites.cpp -lsfml-graphics -lsfml-system
//       -o /tmp/make_sprites
//   /tmp/make_sprites assets/arena
//
// Only sf::Image is used (no window, no OpenGL), so it runs without a display. Every shape is
// a signed-distance function; each pixel averages 4x4 samples, which gives clean anti-aliased
// edges. The output is deterministic (the floor's noise comes from a fixed seed).

#include <SFML/Graphics/Image.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr float kPi = 3.14159265f;

struct Vec {
    float x, y;
};
Vec operator-(Vec a, Vec b) { return {a.x - b.x, a.y - b.y}; }
Vec operator*(Vec a, float k) { return {a.x * k, a.y * k}; }
float dot(Vec a, Vec b) { return a.x * b.x + a.y * b.y; }
float length(Vec a) { return std::sqrt(dot(a, a)); }

struct Rgba {  // straight (not premultiplied) colour, components 0..1
    float r, g, b, a;
};
Rgba grey(float v, float a = 1.f) { return {v, v, v, a}; }
Rgba rgb(int r, int g, int b) { return {float(r) / 255, float(g) / 255, float(b) / 255, 1}; }
Rgba mix(Rgba p, Rgba q, float t) {
    return {p.r + (q.r - p.r) * t, p.g + (q.g - p.g) * t, p.b + (q.b - p.b) * t,
            p.a + (q.a - p.a) * t};
}
Rgba scaled(Rgba c, float k) { return {c.r * k, c.g * k, c.b * k, c.a}; }
float clamp01(float v) { return std::clamp(v, 0.f, 1.f); }
float smoothstep(float e0, float e1, float x) {
    const float t = clamp01((x - e0) / (e1 - e0));
    return t * t * (3.f - 2.f * t);
}

// Signed distance to a closed polygon, negative inside (after Inigo Quilez).
float sdPolygon(Vec p, const std::vector<Vec>& v) {
    float d = dot(p - v[0], p - v[0]);
    float sign = 1.f;
    for (std::size_t i = 0, j = v.size() - 1; i < v.size(); j = i, ++i) {
        const Vec e = v[j] - v[i], w = p - v[i];
        const Vec b = w - e * std::clamp(dot(w, e) / dot(e, e), 0.f, 1.f);
        d = std::min(d, dot(b, b));
        const bool c1 = p.y >= v[i].y, c2 = p.y < v[j].y, c3 = e.x * w.y > e.y * w.x;
        if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) sign = -sign;
    }
    return sign * std::sqrt(d);
}

// Approximate signed distance to an axis-aligned ellipse centred at the origin.
float sdEllipse(Vec p, float rx, float ry) {
    return (length({p.x / rx, p.y / ry}) - 1.f) * std::min(rx, ry);
}

// Signed distance to a five-pointed star of radius r pointing up (+y up); rf = inner ratio.
float sdStar5(Vec p, float r, float rf) {
    const Vec k1{0.809016994f, -0.587785252f}, k2{-k1.x, k1.y};
    p.x = std::abs(p.x);
    p = p - k1 * (2.f * std::max(dot(k1, p), 0.f));
    p = p - k2 * (2.f * std::max(dot(k2, p), 0.f));
    p.x = std::abs(p.x);
    p.y -= r;
    const Vec ba = Vec{-k1.y, k1.x} * rf - Vec{0.f, 1.f};
    const float h = std::clamp(dot(p, ba) / dot(ba, ba), 0.f, r);
    return length(p - ba * h) * (p.y * ba.x - p.x * ba.y > 0.f ? 1.f : -1.f);
}

// Renders w x h pixels; the shader gets sample positions in pixels (pixel centre = i + 0.5).
// Samples are averaged premultiplied, so transparent ones don't darken edges; a fully
// transparent pixel keeps the shader's colour (so bilinear filtering has no dark fringe).
using Shader = std::function<Rgba(float x, float y)>;
sf::Image render(unsigned w, unsigned h, const Shader& shade) {
    constexpr int n = 4;
    sf::Image image;
    image.create(w, h);
    auto byte = [](float v) { return static_cast<sf::Uint8>(std::lround(clamp01(v) * 255.f)); };
    for (unsigned y = 0; y < h; ++y) {
        for (unsigned x = 0; x < w; ++x) {
            Rgba pre{0, 0, 0, 0}, plain{0, 0, 0, 0};
            for (int sy = 0; sy < n; ++sy) {
                for (int sx = 0; sx < n; ++sx) {
                    const Rgba c = shade(float(x) + (float(sx) + 0.5f) / n,
                                         float(y) + (float(sy) + 0.5f) / n);
                    pre = {pre.r + c.r * c.a, pre.g + c.g * c.a, pre.b + c.b * c.a, pre.a + c.a};
                    plain = {plain.r + c.r, plain.g + c.g, plain.b + c.b, 0.f};
                }
            }
            const Rgba c = pre.a > 0.f ? scaled(pre, 1.f / pre.a) : scaled(plain, 1.f / (n * n));
            image.setPixel(x, y, {byte(c.r), byte(c.g), byte(c.b), byte(pre.a / (n * n))});
        }
    }
    return image;
}

// 64x64, pointing right (+x). Light grey and white so sf::Sprite::setColor can tint it.
sf::Image ship() {
    const std::vector<Vec> hull{{30, 0},  {19, -3.2f}, {5, -5.6f},  {-10, -6.4f}, {-20, -5.6f},
                                {-23, -3.6f}, {-23, 3.6f}, {-20, 5.6f}, {-10, 6.4f},  {5, 5.6f},
                                {19, 3.2f}};
    const std::vector<Vec> wing{{8, 4}, {-15, 23}, {-23, 24}, {-18, 13}, {-20, 5}};  // y >= 0 half
    const Vec lead = Vec{-23.f, 19.f} * (1.f / length({-23.f, 19.f}));  // along (8,4)->(-15,23)
    return render(64, 64, [&](float px, float py) {
        const Vec p{px - 32.f, py - 32.f}, q{p.x, std::abs(p.y)};
        const float dHull = sdPolygon(p, hull), dWing = sdPolygon(q, wing);
        const float dNozzle = sdPolygon(q, {{-21, 1.2f}, {-26.5f, 1.8f}, {-26.5f, 5}, {-21, 5}});
        const float dCockpit = sdEllipse(p - Vec{9.f, 0.f}, 8.f, 3.f);
        const Rgba outline = grey(0.40f);
        if (dCockpit < 0.f) {  // glass: bluish white, brightest near its top front
            if (dCockpit > -0.8f) return outline;
            const float t = smoothstep(5.f, 0.5f, length(p - Vec{12.f, -1.2f}));
            return mix(Rgba{0.76f, 0.86f, 1.f, 1.f}, Rgba{1.f, 1.f, 1.f, 1.f}, t);
        }
        if (dHull < 0.f) {  // fuselage: bright spine, shaded towards its edges, a few seams
            if (dHull > -0.9f) return outline;
            if (std::abs(p.x + 9.f) < 0.35f || (p.x < -9.f && std::abs(p.y) < 0.35f))
                return grey(0.66f);
            return grey(0.76f + 0.24f * smoothstep(0.f, 4.5f, -dHull));
        }
        if (dNozzle < 0.f) return dNozzle > -0.9f ? outline : grey(0.26f);
        if (dWing < 0.f) {  // wings: lit leading edge, darker towards the tip, a tip stripe
            if (dWing > -0.9f) return outline;
            if (q.y > 18.5f && q.y < 21.f) return grey(0.52f);
            const float fromLead = std::abs(lead.x * (q.y - 4.f) - lead.y * (q.x - 8.f));
            if (fromLead < 2.f) return grey(0.98f);
            if (std::abs(fromLead - 4.f) < 0.35f && q.y < 18.5f) return grey(0.68f);  // seam
            return grey(0.90f - 0.14f * smoothstep(6.f, 22.f, q.y));
        }
        return grey(0.40f, 0.f);
    });
}

// 8 frames of 32x32 side by side: a gold coin turning half a revolution about its vertical
// axis (the face's width scales with cos(angle)); frame 8 would equal frame 0.
sf::Image coin() {
    const Rgba light = rgb(255, 226, 120), gold = rgb(236, 178, 46), dark = rgb(160, 100, 18);
    constexpr float radius = 14.f, thickness = 3.f;
    const Vec toLight = Vec{-1.f, -1.f} * (1.f / std::sqrt(2.f));  // from the upper left
    return render(256, 32, [&](float px, float py) {
        const int frame = int(px / 32.f);
        const float angle = float(frame) * kPi / 8.f;
        const float halfWidth = radius * std::abs(std::cos(angle));
        // The face seen is offset by half the thickness; the edge shows on the other side.
        const float side = std::cos(angle) < 0.f ? -1.f : 1.f;  // front face or back face
        const float shift = 0.5f * thickness * std::sin(angle) * side;
        const Vec p{px - 32.f * float(frame) - 16.f, py - 16.f};
        const float rows = std::sqrt(std::max(0.f, 1.f - (p.y / radius) * (p.y / radius)));
        const float facing = 0.7f + 0.3f * std::abs(std::cos(angle));
        // The face, in its own unsquashed coordinates (a circle of `radius`).
        const Vec f{halfWidth > 0.01f ? (p.x - shift) / halfWidth * radius : 1e9f, p.y};
        const float r = length(f);
        if (r > radius) {
            if (std::abs(p.y) < radius && std::abs(p.x) < std::abs(shift) + halfWidth * rows) {
                return scaled(mix(dark, gold, 0.6f - 0.4f * p.y / radius), 0.85f);  // the edge
            }
            return Rgba{dark.r, dark.g, dark.b, 0.f};
        }
        const float lit = r > 0.f ? dot(f * (1.f / r), toLight) : 0.f;  // -1..1
        Rgba c;
        if (r > radius - 1.f) c = scaled(dark, 0.9f);  // outer lip
        else if (r > radius - 3.2f) c = mix(gold, light, 0.5f + 0.5f * lit);  // rim, lit outside
        else if (r > radius - 4.f) c = mix(dark, gold, 0.5f - 0.5f * lit);  // rim's inner bevel
        else {
            const float dStar = sdStar5({f.x, -f.y}, 8.f, 0.45f);
            if (dStar > 0.f) c = mix(gold, dark, 0.25f);  // the field
            else if (dStar > -0.7f) c = dark;  // star outline
            else {  // bevelled star: alternate facets lit and shaded
                const float phi = std::atan2(f.x, -f.y) + 2.f * kPi;
                c = int(phi / (kPi / 5.f)) % 2 == 0 ? light : mix(gold, light, 0.25f);
            }
        }
        const float band = (f.x + f.y) / std::sqrt(2.f) + 16.f - 32.f * float(frame) / 7.f;
        c = mix(c, Rgba{1, 1, 0.92f, 1}, 0.30f * smoothstep(5.f, 0.f, std::abs(band)));  // sheen
        return scaled(c, facing);
    });
}

// Deterministic hash of an integer lattice point, 0..1.
float hash(int x, int y, std::uint32_t seed) {
    std::uint32_t h = seed ^ (std::uint32_t(x) * 0x27d4eb2dU) ^ (std::uint32_t(y) * 0x165667b1U);
    h = (h ^ (h >> 15)) * 0x2c1b3c6dU;
    h = (h ^ (h >> 12)) * 0x297a2d39U;
    return float((h ^ (h >> 15)) & 0xffffU) / 65535.f;
}

// Value noise on a `cell`-pixel lattice that wraps every `period` pixels (so it tiles).
float tilingNoise(float x, float y, int cell, int period, std::uint32_t seed) {
    const int cells = period / cell;
    const float gx = x / float(cell), gy = y / float(cell);
    const int ix = int(std::floor(gx)), iy = int(std::floor(gy));
    const float tx = smoothstep(0.f, 1.f, gx - float(ix));
    const float ty = smoothstep(0.f, 1.f, gy - float(iy));
    auto wrap = [cells](int i) { return (i % cells + cells) % cells; };
    auto at = [&](int i, int j) { return hash(wrap(i), wrap(j), seed); };
    const float top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * tx;
    const float bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * tx;
    return top + (bottom - top) * ty;
}

// 128x128 seamless floor tile: deep navy with a faint grid line on the tile edges, four
// panels of slightly different shade, soft noise and a rivet near each corner.
sf::Image floorTile() {
    const Rgba base = rgb(22, 26, 40), line = rgb(36, 45, 68), groove = rgb(16, 19, 30);
    return render(128, 128, [&](float x, float y) {
        if (x < 1.f || y < 1.f) return line;
        if (x >= 127.f || y >= 127.f || std::abs(x - 64.f) < 0.5f || std::abs(y - 64.f) < 0.5f)
            return groove;
        const float panel = hash(int(x / 64.f), int(y / 64.f), 7u) - 0.5f;
        const float noise = tilingNoise(x, y, 16, 128, 42u) - 0.5f;
        Rgba c = scaled(base, 1.f + 0.08f * panel + 0.14f * noise);
        const float cx = x < 64.f ? 6.5f : 121.5f, cy = y < 64.f ? 6.5f : 121.5f;
        return length({x - cx, y - cy}) < 1.5f ? line : c;
    });
}

// 64x64 white radial glow; alpha falls smoothly to 0 at the edge (for additive blending).
sf::Image glow() {
    return render(64, 64, [](float x, float y) {
        const float r = std::min(1.f, length({x - 32.f, y - 32.f}) / 32.f);
        return grey(1.f, std::pow(1.f - r * r, 3.f));
    });
}

// 16x16 small soft white dot for particles.
sf::Image spark() {
    return render(16, 16, [](float x, float y) {
        const float r = std::min(1.f, length({x - 8.f, y - 8.f}) / 8.f);
        return grey(1.f, std::max(smoothstep(0.5f, 0.f, r), 0.55f * std::pow(1.f - r * r, 2.f)));
    });
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_sprites OUTPUT_DIRECTORY\n";
        return 2;
    }
    const std::string dir = argv[1];
    const std::pair<const char*, sf::Image (*)()> sprites[] = {
        {"ship.png", ship}, {"coin.png", coin}, {"floor.png", floorTile},
        {"glow.png", glow}, {"spark.png", spark}};
    for (const auto& [name, make] : sprites) {
        if (!make().saveToFile(dir + "/" + name)) return 1;  // SFML has printed why
        std::cout << dir << "/" << name << '\n';
    }
    return 0;
}
