// bench_chart: draws the benchmark results as one PNG, with sf::Image only (no window, no
// display, no font file: a 5x7 pixel font is below).
//
//   bench_chart --out DIR
//
// Reads DIR/latency_cdf.tsv, DIR/throughput.tsv and DIR/bulk.tsv (written by bench_latency,
// bench_throughput and bench_bulk with --out DIR) and writes DIR/perf.png: round-trip latency by
// percentile (both processes on one core; client and server on different cores), throughput and
// bulk transfer rates, sprocket next to its baselines. A missing file leaves its panel empty.

#include <SFML/Graphics/Image.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

// --- a 5x7 pixel font: '#' is ink, one string per row --------------------------------------------

struct Glyph {
    char c;
    const char* rows;  // 7 rows of 5, separated by spaces
};

constexpr Glyph font[] = {
    {'A', ".###. #...# #...# ##### #...# #...# #...#"}, {'B', "####. #...# #...# ####. #...# #...# ####."},
    {'C', ".###. #...# #.... #.... #.... #...# .###."}, {'D', "####. #...# #...# #...# #...# #...# ####."},
    {'E', "##### #.... #.... ####. #.... #.... #####"}, {'F', "##### #.... #.... ####. #.... #.... #...."},
    {'G', ".###. #...# #.... #.### #...# #...# .####"}, {'H', "#...# #...# #...# ##### #...# #...# #...#"},
    {'I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."}, {'J', "..### ...#. ...#. ...#. ...#. #..#. .##.."},
    {'K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"}, {'L', "#.... #.... #.... #.... #.... #.... #####"},
    {'M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"}, {'N', "#...# #...# ##..# #.#.# #..## #...# #...#"},
    {'O', ".###. #...# #...# #...# #...# #...# .###."}, {'P', "####. #...# #...# ####. #.... #.... #...."},
    {'Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"}, {'R', "####. #...# #...# ####. #.#.. #..#. #...#"},
    {'S', ".#### #.... #.... .###. ....# ....# ####."}, {'T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."},
    {'U', "#...# #...# #...# #...# #...# #...# .###."}, {'V', "#...# #...# #...# #...# #...# .#.#. ..#.."},
    {'W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."}, {'X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"},
    {'Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."}, {'Z', "##### ....# ...#. ..#.. .#... #.... #####"},
    {'0', ".###. #...# #..## #.#.# ##..# #...# .###."}, {'1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."},
    {'2', ".###. #...# ....# ...#. ..#.. .#... #####"}, {'3', "##### ...#. ..#.. ...#. ....# #...# .###."},
    {'4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."}, {'5', "##### #.... ####. ....# ....# #...# .###."},
    {'6', "..##. .#... #.... ####. #...# #...# .###."}, {'7', "##### ....# ...#. ..#.. .#... .#... .#..."},
    {'8', ".###. #...# #...# .###. #...# #...# .###."}, {'9', ".###. #...# #...# .#### ....# ...#. .##.."},
    {' ', "..... ..... ..... ..... ..... ..... ....."}, {'.', "..... ..... ..... ..... ..... .##.. .##.."},
    {',', "..... ..... ..... ..... .##.. ..#.. .#..."}, {':', "..... .##.. .##.. ..... .##.. .##.. ....."},
    {'/', "..... ....# ...#. ..#.. .#... #.... ....."}, {'(', "...#. ..#.. .#... .#... .#... ..#.. ...#."},
    {')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."}, {'-', "..... ..... ..... ##### ..... ..... ....."},
    {'%', "##... ##..# ...#. ..#.. .#... #..## ...##"}, {'+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."},
    {'=', "..... ..... ##### ..... ##### ..... ....."}, {'<', "...#. ..#.. .#... #.... .#... ..#.. ...#."},
    {'>', ".#... ..#.. ...#. ....# ...#. ..#.. .#..."}, {'_', "..... ..... ..... ..... ..... ..... #####"},
    {'\'', "..#.. ..#.. .#... ..... ..... ..... ....."}, {'?', ".###. #...# ....# ...#. ..#.. ..... ..#.."},
    {'!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."}, {'*', "..... ..#.. #.#.# .###. #.#.# ..#.. ....."},
};

const Glyph& glyph(char c) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');  // capitals only
    for (const Glyph& g : font)
        if (g.c == c) return g;
    for (const Glyph& g : font)
        if (g.c == '?') return g;
    return font[0];
}

// --- drawing ----------------------------------------------------------------------------------------

const sf::Color ink(40, 40, 40), grid(225, 225, 225), faint(150, 150, 150);

struct Canvas {
    sf::Image image;

    void dot(int x, int y, sf::Color c) {
        if (x >= 0 && y >= 0 && x < static_cast<int>(image.getSize().x) && y < static_cast<int>(image.getSize().y))
            image.setPixel(static_cast<unsigned>(x), static_cast<unsigned>(y), c);
    }
    void rect(int x, int y, int w, int h, sf::Color c) {
        for (int j = y; j < y + h; ++j)
            for (int i = x; i < x + w; ++i) dot(i, j, c);
    }
    /// A line `width` pixels thick.
    void line(double x0, double y0, double x1, double y1, sf::Color c, int width = 1) {
        const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
        for (int s = 0; s <= steps; ++s) {
            const double t = static_cast<double>(s) / steps;
            const int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t));
            const int y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
            rect(x - width / 2, y - width / 2, width, width, c);
        }
    }
    /// Text with its top-left corner at (x, y); each font pixel is `scale` pixels. Returns the width.
    int text(int x, int y, std::string_view s, int scale, sf::Color c) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char* rows = glyph(s[i]).rows;
            for (int r = 0; r < 7; ++r)
                for (int col = 0; col < 5; ++col)
                    if (rows[r * 6 + col] == '#') rect(x + (static_cast<int>(i) * 6 + col) * scale, y + r * scale, scale, scale, c);
        }
        return text_width(s, scale);
    }
    static int text_width(std::string_view s, int scale) { return static_cast<int>(s.size()) * 6 * scale; }
};

sf::Color colour_of(const std::string& name) {
    static const std::map<std::string, sf::Color> colours{
        {"sprocket", sf::Color(230, 110, 20)},   {"sprocket busy get()", sf::Color(245, 185, 110)},
        {"raw TCP", sf::Color(50, 50, 50)},      {"raw TCP, 64 KiB writes", sf::Color(140, 140, 140)},
        {"sf::Packet", sf::Color(40, 150, 70)},  {"sf::TcpSocket", sf::Color(40, 150, 70)},
        {"ENet", sf::Color(50, 100, 210)},
    };
    const auto it = colours.find(name);
    return it != colours.end() ? it->second : sf::Color(150, 60, 170);
}

std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::istringstream fields(line);
        for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
        if (!cells.empty()) rows.push_back(cells);
    }
    return rows;
}

std::string short_number(double v) {
    std::ostringstream os;
    if (v >= 1e6) os << std::fixed << std::setprecision(2) << v / 1e6 << " M";
    else if (v >= 1e4) os << std::fixed << std::setprecision(0) << v / 1e3 << " K";
    else if (v >= 100) os << std::fixed << std::setprecision(0) << v;
    else os << std::fixed << std::setprecision(v >= 10 ? 1 : 2) << v;
    return os.str();
}

/// A power of ten, short: 10, 100, 1K, 10K, 1M.
std::string tick_label(double d) {
    if (d >= 1e6) return std::to_string(std::lround(d / 1e6)) + "M";
    if (d >= 1e3) return std::to_string(std::lround(d / 1e3)) + "K";
    if (d >= 1) return std::to_string(std::lround(d));
    return short_number(d);
}

struct Box {
    int x, y, w, h;
};

// --- panels ------------------------------------------------------------------------------------------

/// Latency by percentile: x is -log10(1 - p/100) (p50, p90, p99, p99.9 equally spaced), y is
/// microseconds on a log scale.
void latency_panel(Canvas& c, Box b, const std::vector<std::vector<std::string>>& rows, const std::string& placement) {
    c.text(b.x, b.y, "ROUND TRIP, MICROSECONDS: " + placement, 2, ink);
    std::map<std::string, std::vector<std::pair<double, double>>> series;  // name -> (percentile, us)
    std::vector<std::string> order;
    for (const auto& r : rows) {
        if (r.size() < 4 || r[1] != placement) continue;
        const double p = std::stod(r[2]);
        if (p >= 100) continue;
        if (!series.count(r[0])) order.push_back(r[0]);
        series[r[0]].emplace_back(p, std::max(0.1, std::stod(r[3])));
    }
    const Box plot{b.x + 70, b.y + 30, b.w - 90, b.h - 90};
    double lo = 1e9, hi = 0;
    for (auto& [name, points] : series) {
        std::sort(points.begin(), points.end());
        for (const auto& pt : points) {
            lo = std::min(lo, pt.second);
            hi = std::max(hi, pt.second);
        }
    }
    if (series.empty()) {
        c.text(plot.x, plot.y + plot.h / 2, "NO DATA", 2, faint);
        return;
    }
    const double ylo = std::pow(10.0, std::floor(std::log10(lo))), yhi = std::pow(10.0, std::ceil(std::log10(hi)));
    const double xmax = 3.0;  // p99.9
    auto px = [&](double p) { return plot.x + plot.w * std::min(xmax, -std::log10(1 - p / 100.0)) / xmax; };
    auto py = [&](double us) { return plot.y + plot.h - plot.h * (std::log10(us) - std::log10(ylo)) / (std::log10(yhi) - std::log10(ylo)); };
    for (double d = ylo; d <= yhi * 1.001; d *= 10) {
        for (int m = 1; m < 10 && d * m <= yhi * 1.001; ++m) {
            const int y = static_cast<int>(py(d * m));
            c.line(plot.x, y, plot.x + plot.w, y, m == 1 ? grid : sf::Color(242, 242, 242));
        }
        const std::string label = tick_label(d);
        c.text(plot.x - 10 - Canvas::text_width(label, 2), static_cast<int>(py(d)) - 7, label, 2, ink);
    }
    for (const double p : {0.0, 50.0, 90.0, 99.0, 99.9}) {
        const int x = static_cast<int>(px(p));
        c.line(x, plot.y, x, plot.y + plot.h, grid);
        const std::string label = p == 0 ? "P0" : p == 99.9 ? "P99.9" : "P" + std::to_string(static_cast<int>(p));
        c.text(x - Canvas::text_width(label, 2) / 2, plot.y + plot.h + 10, label, 2, ink);
    }
    c.line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, ink);
    c.line(plot.x, plot.y, plot.x, plot.y + plot.h, ink);
    for (const std::string& name : order) {
        const auto& pts = series[name];
        for (std::size_t i = 1; i < pts.size(); ++i)
            c.line(px(pts[i - 1].first), py(pts[i - 1].second), px(pts[i].first), py(pts[i].second), colour_of(name), 3);
    }
    int ly = plot.y + 8;
    for (const std::string& name : order) {
        c.rect(plot.x + 10, ly + 4, 24, 6, colour_of(name));
        c.text(plot.x + 42, ly, name, 2, ink);
        ly += 20;
    }
    c.text(plot.x, plot.y + plot.h + 34, "PERCENTILE (BOTH AXES LOG SCALES)", 2, faint);
}

/// Horizontal bars, one per (label, value), with the value written after each bar; with `log`,
/// bar lengths on a log scale with a tick per power of ten.
void bar_panel(Canvas& c, Box b, const std::string& title, const std::string& unit,
               const std::vector<std::pair<std::string, double>>& bars, const std::vector<std::string>& colour_keys,
               bool log = false) {
    c.text(b.x, b.y, title, 2, ink);
    if (bars.empty()) {
        c.text(b.x, b.y + b.h / 2, "NO DATA", 2, faint);
        return;
    }
    int label_w = 0;
    for (const auto& bar : bars) label_w = std::max(label_w, Canvas::text_width(bar.first, 2));
    const int x0 = b.x + label_w + 12;
    const int width = b.x + b.w - x0 - 110;
    double max = 0, min = 1e300;
    for (const auto& bar : bars) {
        max = std::max(max, bar.second);
        min = std::min(min, std::max(1.0, bar.second));
    }
    const double lo = std::pow(10.0, std::floor(std::log10(min))), hi = std::pow(10.0, std::ceil(std::log10(max)));
    auto length = [&](double v) {
        if (!log) return width * v / max;
        return width * (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    };
    const int step = std::min(56, (b.h - 80) / static_cast<int>(bars.size()));
    const int top = b.y + 40, bottom = top + step * static_cast<int>(bars.size());
    if (log) {
        for (double d = lo; d <= hi * 1.001; d *= 10) {
            const int x = x0 + static_cast<int>(length(d));
            c.line(x, top - 6, x, bottom, grid);
            const std::string label = tick_label(d);
            c.text(x - Canvas::text_width(label, 2) / 2, bottom + 4, label, 2, faint);
        }
    }
    int y = top;
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& [label, value] = bars[i];
        const int w = std::max(1, static_cast<int>(length(value)));
        c.text(b.x, y + 6, label, 2, ink);
        c.rect(x0, y, w, step - 14, colour_of(colour_keys[i]));
        c.text(x0 + w + 8, y + 6, short_number(value), 2, ink);
        y += step;
    }
    c.line(x0, b.y + 34, x0, y, ink);
    c.text(b.x, y + (log ? 30 : 10), unit, 2, faint);
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--out" && i + 1 < argc) dir = argv[++i];
        else {
            std::cerr << "usage: bench_chart --out DIR\n";
            return 2;
        }
    }
    if (dir.empty()) {
        std::cerr << "usage: bench_chart --out DIR\n";
        return 2;
    }
    Canvas c;
    c.image.create(1360, 1050, sf::Color::White);
    c.text(20, 14, "SPROCKET NEXT TO ITS BASELINES, SAME RUN, SAME MACHINE", 3, ink);

    const auto latency = read_tsv(dir + "/latency_cdf.tsv");
    latency_panel(c, Box{20, 70, 640, 560}, latency, "same core");
    latency_panel(c, Box{700, 70, 640, 560}, latency, "across cores");

    std::vector<std::pair<std::string, double>> bars;
    std::vector<std::string> keys;
    for (const auto& r : read_tsv(dir + "/throughput.tsv")) {
        if (r.size() < 2) continue;
        bars.emplace_back(r[0], std::stod(r[1]));
        keys.push_back(r[0]);
    }
    bar_panel(c, Box{20, 670, 640, 370}, "THROUGHPUT, 7-KEY STATE PACKETS", "PACKETS PER SECOND (LOG SCALE)", bars, keys, true);

    bars.clear();
    keys.clear();
    for (const auto& r : read_tsv(dir + "/bulk.tsv")) {
        if (r.size() < 3) continue;
        bars.emplace_back(r[0] + " " + r[1], std::stod(r[2]));
        keys.push_back(r[0]);
    }
    bar_panel(c, Box{700, 670, 640, 370}, "BULK, ONE BYTES PACKET", "MB/S (1 MB = 1000000 BYTES)", bars, keys);

    const std::string out = dir + "/perf.png";
    if (!c.image.saveToFile(out)) {
        std::cerr << "bench_chart: cannot write " << out << '\n';
        return 1;
    }
    std::cout << "bench_chart: wrote " << out << '\n';
    return 0;
}
