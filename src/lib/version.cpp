#include <httpserver/version.hpp>

namespace hs {

const char* version() noexcept { return HS_VERSION_STRING; }

}  // namespace hs
