/* test_apphttp.c - hxs-httpd's request parser: complete/incomplete/malformed heads,
 * keep-alive rules, absolute-form, path decoding, MIME types. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "app/apphttp.h"

static int parse(const char *s, struct hxs_apphttp_req *r)
{
	return hxs_apphttp_parse(s, strlen(s), r);
}

/* Parses a whole head and checks that the parser took all of it: the fields of a failed
 * parse are zero, so a check on them alone (!keep_alive) would pass on a refusal too. */
#define PARSE_ALL(s, r) CHECK_EQ(parse(s, r), (int)strlen(s))

int main(void)
{
	struct hxs_apphttp_req r;
	const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n";
	char out[64];
	int n;

	t_case("a complete GET: method, target, version, Host, keep-alive by default");
	n = parse("GET /dir/f.txt?q=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n", &r);
	CHECK_EQ(n, (int)strlen("GET /dir/f.txt?q=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n"));
	CHECK_EQ(r.method, HXS_HTTP_GET);
	CHECK(r.target_len == 10 && !memcmp(r.target, "/dir/f.txt", 10), "query is not part of the path");
	CHECK_EQ(r.minor, 1);
	CHECK(r.keep_alive && r.has_host, "%s", "does not hold");

	t_case("incomplete heads ask for more");
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\n", &r), 0);
	CHECK_EQ(parse("GET / HT", &r), 0);
	CHECK_EQ(parse("", &r), 0);

	t_case("pipelined requests parse one at a time");
	n = hxs_apphttp_parse(two, strlen(two), &r);
	CHECK(n > 0 && r.method == HXS_HTTP_GET, "%s", "does not hold");
	CHECK_EQ(hxs_apphttp_parse(two + n, strlen(two) - (size_t)n, &r), (int)(strlen(two) - (size_t)n));
	CHECK_EQ(r.method, HXS_HTTP_HEAD);

	t_case("Connection: close, HTTP/1.0 defaults and keep-alive");
	PARSE_ALL("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", &r);
	CHECK(!r.keep_alive && r.minor == 1 && r.has_host, "%s", "does not hold");
	PARSE_ALL("GET / HTTP/1.0\r\n\r\n", &r);
	CHECK(!r.keep_alive && r.minor == 0, "%s", "does not hold");
	PARSE_ALL("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	CHECK(r.keep_alive && r.minor == 0, "%s", "does not hold");
	PARSE_ALL("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n", &r);
	CHECK(!r.keep_alive && r.minor == 1, "%s", "does not hold");
	PARSE_ALL("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n", &r);
	CHECK(r.keep_alive, "%s", "another token leaves HTTP/1.1's keep-alive");

	t_case("malformed requests are refused (400), bad versions get 505");
	CHECK_EQ(parse("garbage\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(r.status, 400);
	CHECK_EQ(parse("GET /\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET / HTTP/1.1 extra\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET nopath HTTP/1.1\r\nHost: h\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("G(T / HTTP/1.1\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", &r), -EBADMSG);           /* no Host */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost : h\r\n\r\n", &r), -EBADMSG); /* space before colon */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n", &r), -EBADMSG);
	CHECK_EQ(r.status, 505);
	CHECK_EQ(parse("\x01\x02\x03 / HTTP/1.1\r\n", &r), -EBADMSG);

	t_case("a malformed request line is reported before the head ends");
	CHECK_EQ(parse("BLAH BLAH\r\nmore", &r), -EBADMSG);

	t_case("methods: GET/HEAD served, known others 405, unknown tokens 501");
	PARSE_ALL("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", &r);
	CHECK_EQ(r.method, HXS_HTTP_HEAD);
	PARSE_ALL("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", &r);
	CHECK_EQ(r.method, HXS_HTTP_KNOWN_OTHER);
	CHECK_EQ(r.content_length, 5);
	PARSE_ALL("BREW / HTTP/1.1\r\nHost: h\r\n\r\n", &r);
	CHECK_EQ(r.method, HXS_HTTP_UNKNOWN);
	PARSE_ALL("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &r);
	CHECK(r.chunked, "%s", "does not hold");

	t_case("absolute-form targets and bare LF line ends are accepted");
	CHECK(parse("GET http://example/x/y HTTP/1.1\nHost: h\n\n", &r) > 0, "%s", "does not hold");
	CHECK(r.target_len == 4 && !memcmp(r.target, "/x/y", 4), "%s", "does not hold");

	t_case("percent-decoding");
	CHECK_EQ(hxs_apphttp_decode_path("/a%20b/%2e%2E", 13, out, sizeof(out)), 0);
	CHECK(!strcmp(out, "/a b/.."), "got %s", out);
	CHECK_EQ(hxs_apphttp_decode_path("/%00", 4, out, sizeof(out)), -EINVAL);
	CHECK_EQ(hxs_apphttp_decode_path("/%g1", 4, out, sizeof(out)), -EINVAL);
	CHECK_EQ(hxs_apphttp_decode_path("/%2", 3, out, sizeof(out)), -EINVAL);
	CHECK_EQ(hxs_apphttp_decode_path("/abcdef", 7, out, 4), -ENAMETOOLONG);

	t_case("content types by extension");
	CHECK(!strcmp(hxs_apphttp_mime("/x/index.html"), "text/html; charset=utf-8"), "%s", "does not hold");
	CHECK(!strcmp(hxs_apphttp_mime("/x/a.PNG"), "image/png"), "%s", "does not hold");
	CHECK(!strcmp(hxs_apphttp_mime("/x.d/noext"), "application/octet-stream"), "%s", "does not hold");
	CHECK(!strcmp(hxs_apphttp_reason(404), "Not Found"), "%s", "does not hold");
	return t_done();
}
