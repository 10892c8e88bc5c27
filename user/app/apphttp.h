/* apphttp.h - HTTP/1.x request parsing and response vocabulary for hxs-httpd (RFC 7230-7231).
 * Pure functions over a byte buffer: no I/O, no allocation, unit-tested in
 * tests/unit/test_apphttp.c.
 */
#ifndef HXS_APPHTTP_H
#define HXS_APPHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hxs_apphttp_method {
	HXS_HTTP_GET = 1,
	HXS_HTTP_HEAD,
	HXS_HTTP_KNOWN_OTHER,   /* a method HTTP defines that we do not allow here (405) */
	HXS_HTTP_UNKNOWN,       /* a well-formed token we do not know (501) */
};

struct hxs_apphttp_req {
	enum hxs_apphttp_method method;
	const char *target;     /* path part of the request-target, points into the buffer */
	size_t target_len;      /* up to '?' or '#' */
	int minor;              /* HTTP/1.minor */
	bool keep_alive;        /* after Connection: and the version default */
	bool has_host;
	bool chunked;           /* Transfer-Encoding present (we answer 501 and close) */
	uint64_t content_length;
	size_t head_len;        /* bytes of request line + headers + empty line */
	int status;             /* when the parse fails: the status to answer (400, 505) */
};

/* Parses one request head from buf[0..len). Returns head_len (> 0) when a whole head is
 * there, 0 when more bytes are needed, -EBADMSG when it is malformed (r->status says what
 * to answer). A malformed request line is reported as soon as its line is complete. */
int hxs_apphttp_parse(const char *buf, size_t len, struct hxs_apphttp_req *r);
/* Percent-decodes a path into out (NUL-terminated). -EINVAL on a bad escape or an encoded
 * NUL, -ENAMETOOLONG when it does not fit. */
int hxs_apphttp_decode_path(const char *p, size_t len, char *out, size_t outsz);
/* Content-Type for a file name, by extension; "application/octet-stream" otherwise. */
const char *hxs_apphttp_mime(const char *path);
/* Reason phrase of a status code. */
const char *hxs_apphttp_reason(int status);

#endif
