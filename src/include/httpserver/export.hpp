// HS_API marks what the shared library exports: the classes and functions of these headers.
// The library is built with hidden visibility (meson: gnu_symbol_visibility 'inlineshidden'),
// so everything else in it (the connection, the codec, the buffer pool) stays internal, and the
// exported list is what tests/consumer/abi_symbols_test.sh holds to src/libhttpserver.symbols.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define HS_API __attribute__((visibility("default")))
// For what an exported class holds of the library's own: a nested class (Server::Impl; nested
// classes take the visibility of the class around them), or a private member function that no
// inline function of the headers calls (so no host can link to it).
#define HS_LOCAL __attribute__((visibility("hidden")))
#else
#define HS_API
#define HS_LOCAL
#endif
