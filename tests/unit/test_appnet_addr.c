/* test_appnet_addr.c - the programs' address parsing and printing (app/appnet.c): IPv4 as
 * ::ffff:a.b.c.d, IPv6 with and without brackets, a zone by index, bad input refused, and
 * the text back in each family's form. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "app/appnet.h"

int main(void)
{
	struct sockaddr_in6 s;
	char buf[INET6_ADDRSTRLEN];
	static const uint8_t m4[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1, [14] = 2, [15] = 3 };
	uint8_t want[16];

	t_case("an IPv4 address becomes ::ffff:a.b.c.d, the port in network order");
	CHECK_EQ(hxs_appnet_parse_addr("10.1.2.3", 8080, &s), 0);
	CHECK_EQ(s.sin6_family, AF_INET6);
	CHECK_EQ(s.sin6_port, htons(8080));
	CHECK(!memcmp(&s.sin6_addr, m4, 16));
	CHECK(!strcmp(hxs_appnet_ntop(&s, buf, sizeof(buf)), "10.1.2.3"), "%s", buf);

	t_case("IPv6, bare and in brackets; a zone by index");
	inet_pton(AF_INET6, "fd00:201::2", want);
	CHECK_EQ(hxs_appnet_parse_addr("fd00:201::2", 1, &s), 0);
	CHECK(!memcmp(&s.sin6_addr, want, 16));
	CHECK_EQ(s.sin6_scope_id, 0u);
	CHECK_EQ(hxs_appnet_parse_addr("[fd00:201::2]", 1, &s), 0);
	CHECK(!memcmp(&s.sin6_addr, want, 16));
	CHECK(!strcmp(hxs_appnet_ntop(&s, buf, sizeof(buf)), "fd00:201::2"), "%s", buf);
	CHECK_EQ(hxs_appnet_parse_addr("[fe80::1%7]", 1, &s), 0);
	CHECK_EQ(s.sin6_scope_id, 7u);

	t_case("bad input: -EINVAL");
	CHECK_EQ(hxs_appnet_parse_addr("10.1.2", 1, &s), -EINVAL);
	CHECK_EQ(hxs_appnet_parse_addr("fd00::1::2", 1, &s), -EINVAL);
	CHECK_EQ(hxs_appnet_parse_addr("[fd00::1", 1, &s), -EINVAL);
	CHECK_EQ(hxs_appnet_parse_addr("fe80::1%", 1, &s), -EINVAL);
	CHECK_EQ(hxs_appnet_parse_addr("fe80::1%no-such-if0", 1, &s), -EINVAL);

	t_case("the servers' wildcard is :: with the port");
	hxs_appnet_any(&s, 6001);
	CHECK_EQ(s.sin6_family, AF_INET6);
	CHECK_EQ(s.sin6_port, htons(6001));
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&s.sin6_addr));
	return t_done();
}
