// Addresses as the listener binds them and --healthcheck reaches them, without a resolver.
#include "socket_address.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <system_error>

namespace hs {
namespace {

TEST(SocketAddress, ReadsNumericAddressesWithOrWithoutBrackets) {
  SocketAddress v4 = socket_address("127.0.0.1", 8080, true);
  EXPECT_EQ(v4.family, AF_INET);
  EXPECT_EQ(v4.name, "127.0.0.1");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(v4.get())->sin_port), 8080);
  EXPECT_EQ(socket_address("[::1]", 1, true).name, "[::1]");
  EXPECT_EQ(socket_address("::1", 1, true).family, AF_INET6);
  EXPECT_EQ(socket_address("localhost", 1, true).name, "127.0.0.1");
}

TEST(SocketAddress, EveryAddressIsDualStackWhereTheHostHasIpv6) {
  EXPECT_EQ(socket_address("", 1, true).name, "[::]");
  EXPECT_EQ(socket_address("", 1, false).name, "0.0.0.0");
}

TEST(SocketAddress, AUnixSocketIsItsPath) {
  SocketAddress a = socket_address("unix:/run/x.sock", 0, true);
  EXPECT_EQ(a.family, AF_UNIX);
  EXPECT_EQ(a.name, "/run/x.sock");
  EXPECT_STREQ(reinterpret_cast<const sockaddr_un*>(a.get())->sun_path, "/run/x.sock");
  EXPECT_THROW(socket_address("unix:", 0, true), std::system_error);
  EXPECT_THROW(socket_address("unix:/" + std::string(200, 'a'), 0, true), std::system_error);
}

TEST(SocketAddress, RefusesNamesItWouldHaveToLookUp) {
  try {
    socket_address("example", 80, true);
    FAIL() << "a name was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("'example'"), std::string::npos);
  }
}

TEST(SocketAddress, ALocalClientReachesEveryAddressOnLoopback) {
  EXPECT_EQ(local_address("", 9090).name, "127.0.0.1");
  EXPECT_EQ(local_address("0.0.0.0", 9090).name, "127.0.0.1");
  EXPECT_EQ(local_address("[::]", 9090).name, "127.0.0.1");
  EXPECT_EQ(local_address("[::1]", 9090).name, "[::1]");
  EXPECT_EQ(local_address("unix:/tmp/a", 0).family, AF_UNIX);
}

}  // namespace
}  // namespace hs
