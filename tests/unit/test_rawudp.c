/* test_rawudp.c - the raw AF_XDP tools' frame header (app/rawudp.c): exact bytes of the
 * frames hxs-xdp-pingpong and hxs-xdp-blast send, the IPv4 header checksum verifies, the
 * lengths and ports, and the "one of ours" check. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "app/rawudp.h"
#include "lib/csum.h"

static const uint8_t smac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t dmac[6] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };

/* hxs-xdp-pingpong's 64-byte frame, 10.0.0.1:5302 -> 10.0.0.2:5301, payload zero. */
static const uint8_t pp64[64] = {
	0x02, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
	0x66, 0xb9, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x14, 0xb6,
	0x14, 0xb5, 0x00, 0x1e, 0x00, 0x00,
};
/* hxs-xdp-blast's header of a 1514-byte frame, 10.0.0.1:5402 -> 10.0.0.2:5401. */
static const uint8_t bl1514[42] = {
	0x02, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x08, 0x00, 0x45, 0x00, 0x05, 0xdc, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
	0x61, 0x0f, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x15, 0x1a,
	0x15, 0x19, 0x05, 0xc8, 0x00, 0x00,
};
/* A jumbo one: 9014 bytes, 192.168.10.1:40000 -> 192.168.10.2:65533. */
static const uint8_t bl9014[42] = {
	0x02, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x08, 0x00, 0x45, 0x00, 0x23, 0x28, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
	0xc2, 0x71, 0xc0, 0xa8, 0x0a, 0x01, 0xc0, 0xa8, 0x0a, 0x02, 0x9c, 0x40,
	0xff, 0xfd, 0x23, 0x14, 0x00, 0x00,
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int main(void)
{
	uint8_t f[64], h[64];
	uint32_t a1 = htonl(0x0a000001), a2 = htonl(0x0a000002);

	t_case("pingpong's 64-byte frame: exact bytes, payload left as it was");
	memset(f, 0, sizeof(f));
	hxs_rawudp__build_hdr(f, 64, smac, dmac, a1, a2, 5302, 5301);
	CHECK(!memcmp(f, pp64, sizeof(pp64)), "%s", "bytes differ");

	t_case("IPv4 header: checksum verifies (RFC 791), total length, TTL, protocol");
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
	CHECK_EQ(be16(f + 16), 64 - 14);
	CHECK_EQ(f[22], 64);
	CHECK_EQ(f[23], 17);
	CHECK(!memcmp(f + 26, &a1, 4) && !memcmp(f + 30, &a2, 4), "%s", "addresses");

	t_case("UDP header: ports, length, checksum 0");
	CHECK_EQ(be16(f + 34), 5302);
	CHECK_EQ(be16(f + 36), 5301);
	CHECK_EQ(be16(f + 38), 64 - 34);
	CHECK_EQ(be16(f + 40), 0);

	t_case("the header of a longer frame: only 42 bytes written, exact bytes");
	memset(h, 0xee, sizeof(h));
	hxs_rawudp__build_hdr(h, 1514, smac, dmac, a1, a2, 5402, 5401);
	CHECK(!memcmp(h, bl1514, sizeof(bl1514)), "%s", "bytes differ");
	CHECK(h[42] == 0xee && h[63] == 0xee, "%s", "payload touched");
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, h + 14, 20)), 0);
	CHECK_EQ(be16(h + 16), 1500);
	CHECK_EQ(be16(h + 38), 1480);

	t_case("jumbo frame, high ports: exact bytes, checksum verifies");
	hxs_rawudp__build_hdr(h, 9014, smac, dmac, htonl(0xc0a80a01), htonl(0xc0a80a02), 40000,
			      65533);
	CHECK(!memcmp(h, bl9014, sizeof(bl9014)), "%s", "bytes differ");
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, h + 14, 20)), 0);

	t_case("ours: UDP to the port, long enough; not another port, protocol, EtherType, IHL");
	CHECK(hxs_rawudp__ours(f, 64, 5301), "%s", "own frame");
	CHECK(hxs_rawudp__ours(f, 42, 5301), "%s", "header only");
	CHECK(!hxs_rawudp__ours(f, 41, 5301), "%s", "short");
	CHECK(!hxs_rawudp__ours(f, 64, 5302), "%s", "other port");
	memcpy(h, f, 64);
	h[23] = 6;
	CHECK(!hxs_rawudp__ours(h, 64, 5301), "%s", "TCP");
	memcpy(h, f, 64);
	h[13] = 0xdd;
	CHECK(!hxs_rawudp__ours(h, 64, 5301), "%s", "IPv6 EtherType");
	memcpy(h, f, 64);
	h[14] = 0x46;
	CHECK(!hxs_rawudp__ours(h, 64, 5301), "%s", "IPv4 options");
	return t_done();
}
