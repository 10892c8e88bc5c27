/* http.c - libFuzzer target: hxs-httpd's request parser (user/app/apphttp.c), the bytes a
 * remote client controls.
 *
 * Input: byte 0 is the size of the path buffer for hxs_apphttp_decode_path (0..255), the
 * rest a request head as it arrives. Checked, on an exactly sized heap copy (ASan):
 *   - hxs_apphttp_parse returns head_len > 0 (== r->head_len, within the buffer, status 0,
 *     the target inside the buffer and starting with '/' or '*'), 0 (more bytes needed),
 *     or -EBADMSG with a status of 400 or 505;
 *   - a result does not depend on bytes after it: every prefix that still holds the head
 *     gives the same head_len; a prefix of a head that needs more bytes needs more bytes
 *     too; an error found in a prefix stays an error (RFC 7230 §3: a request is read as
 *     it streams in, and hxs-httpd answers as soon as a head or an error is complete);
 *   - hxs_apphttp_decode_path of the target writes at most its buffer, NUL-terminated,
 *     and agrees with a plain reading of RFC 3986 §2.1 percent-encoding (no %00).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/apphttp.h"
#include "fuzz.h"

static int parse(const char *src, size_t len, struct hxs_apphttp_req *r)
{
	char *b = malloc(len ? len : 1);
	memcpy(b, src, len);
	int rc = hxs_apphttp_parse(b, len, r);
	FZ_CHECK(rc > 0 || rc == 0 || rc == -EBADMSG, "parse returned %d", rc);
	if (rc > 0) {
		FZ_CHECK((size_t)rc == r->head_len && (size_t)rc <= len && r->status == 0,
			 "head %d of %zu bytes, head_len %zu, status %d", rc, len, r->head_len, r->status);
		FZ_CHECK(r->target >= b && r->target + r->target_len <= b + len, "target outside the buffer");
		FZ_CHECK(r->target[0] == '/' || r->target[0] == '*', "target starts with %#x", r->target[0]);
		FZ_CHECK(b[rc - 1] == '\n', "head does not end a line");
		r->target = src + (r->target - b);     /* the caller's copy outlives b */
	} else if (rc < 0) {
		FZ_CHECK(r->status == 400 || r->status == 505, "status %d", r->status);
	}
	free(b);
	return rc;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3986 §2.1: "%" HEXDIG HEXDIG is one octet; anything else stands for itself. */
static int ref_decode(const char *p, size_t len, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)p[i];
		if (c == '%') {
			if (len - i < 3 || hexv(p[i + 1]) < 0 || hexv(p[i + 2]) < 0)
				return -EINVAL;
			c = hexv(p[i + 1]) * 16 + hexv(p[i + 2]);
			if (!c)
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	if (!outsz)
		return -ENAMETOOLONG;
	out[o] = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t outsz = data[0];
	const char *req = (const char *)data + 1;
	size_t len = size - 1;
	struct hxs_apphttp_req r, p;

	int rc = parse(req, len, &r);
	size_t cuts[3] = { len / 2, len ? len - 1 : 0, rc > 0 ? (size_t)rc : len };
	for (int i = 0; i < 3; i++) {
		int prc = parse(req, cuts[i], &p);
		if (rc > 0 && cuts[i] >= (size_t)rc)
			FZ_CHECK(prc == rc, "%zu bytes hold the %d-byte head, parse says %d", cuts[i], rc, prc);
		if (rc == 0)
			FZ_CHECK(prc == 0, "%zu-byte prefix of an incomplete head: %d", cuts[i], prc);
		if (prc < 0)
			FZ_CHECK(rc < 0, "an error in the first %zu bytes, none in all %zu", cuts[i], len);
	}
	if (rc <= 0)
		return 0;

	char *out = malloc(outsz), *ref = malloc(outsz + 1);     /* exactly outsz (ASan) */
	int d = hxs_apphttp_decode_path(r.target, r.target_len, out, outsz);
	int rd = ref_decode(r.target, r.target_len, ref, outsz);
	FZ_CHECK(d == rd, "decode %d, the reference %d", d, rd);
	if (!d)
		FZ_CHECK(!strcmp(out, ref), "decoded differently");
	free(out);
	free(ref);
	return 0;
}
