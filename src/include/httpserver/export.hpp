// HS_API marks what the shared library exports: the classes and functions of these headers.
// The library is built with hidden visibility (meson: gnu_symbol_visibility 'inlineshidden'),
// so everything else in it (the connection, the codec, the buffer pool) stays internal, and the
// exported list is what tests/consumer/abi_symbols_test.sh holds to src/libhttpserver.symbols.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define HS_API __attribute__((visibility("default")))
// For a class nested in an exported one that is the library's own (Server::Impl): nested
// classes take the visibility of the class around them.
#define HS_LOCAL __attribute__((visibility("hidden")))
#else
#define HS_API
#define HS_LOCAL
#endif
