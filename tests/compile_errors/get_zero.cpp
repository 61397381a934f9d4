// expect: write get\(100ms\)
// `net.get(0)`: the literal 0 is a null pointer, so it once picked get(std::string_view) and crashed.
#include <sprocket/sprocket.hpp>
void frame(sprocket::Sprocket& net) { net.get(0); }
