// expect: write get\(100ms\)
// `net.get(100)`, meaning "wait 100 ms": refused with a message that says what to write.
#include <sprocket/sprocket.hpp>
void frame(sprocket::Sprocket& net) { net.get(100); }
