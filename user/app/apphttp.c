/* apphttp.c - HTTP/1.x request heads: request line, header fields, keep-alive rules.
 *
 * hxs_apphttp_parse() -> find_line() -> parse_request_line() -> parse_field() per line
 *                     -> keep-alive from version + Connection
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "apphttp.h"

/* RFC 7230 3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* One line ending in LF (CRLF or bare LF, RFC 7230 3.5). Returns the length without the
 * terminator and sets *next past it; -1 when no LF yet. */
static long find_line(const char *b, size_t len, size_t off, size_t *next)
{
	const char *lf = memchr(b + off, '\n', len - off);
	size_t end;

	if (!lf)
		return -1;
	end = (size_t)(lf - b);
	*next = end + 1;
	if (end > off && b[end - 1] == '\r')
		end--;
	return (long)(end - off);
}

static enum hxs_apphttp_method method_of(const char *m, size_t n)
{
	static const char *const other[] = { "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
					     "TRACE", "PATCH" };
	size_t i;

	if (n == 3 && !memcmp(m, "GET", 3))
		return HXS_HTTP_GET;
	if (n == 4 && !memcmp(m, "HEAD", 4))
		return HXS_HTTP_HEAD;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strlen(other[i]) == n && !memcmp(m, other[i], n))
			return HXS_HTTP_KNOWN_OTHER;
	return HXS_HTTP_UNKNOWN;
}

/* RFC 7230 3.1.1: request-line = method SP request-target SP HTTP-version CRLF */
static int parse_request_line(const char *l, size_t n, struct hxs_apphttp_req *r)
{
	const char *sp1, *sp2, *t, *v;
	size_t i, tl;

	sp1 = memchr(l, ' ', n);
	if (!sp1 || sp1 == l)
		return -EBADMSG;
	for (i = 0; i < (size_t)(sp1 - l); i++)
		if (!is_tchar((unsigned char)l[i]))
			return -EBADMSG;
	r->method = method_of(l, (size_t)(sp1 - l));
	t = sp1 + 1;
	sp2 = memchr(t, ' ', n - (size_t)(t - l));
	if (!sp2 || sp2 == t)
		return -EBADMSG;
	tl = (size_t)(sp2 - t);
	for (i = 0; i < tl; i++)
		if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
			return -EBADMSG;
	/* RFC 7230 5.3.2: "a server MUST accept the absolute-form in requests" */
	if (tl > 7 && (!strncasecmp(t, "http://", 7) || (tl > 8 && !strncasecmp(t, "https://", 8)))) {
		const char *a = memchr(t, ':', tl) + 3, *s = memchr(a, '/', tl - (size_t)(a - t));

		if (!s)
			return -EBADMSG;
		tl -= (size_t)(s - t);
		t = s;
	}
	if (t[0] != '/' && !(tl == 1 && t[0] == '*'))
		return -EBADMSG;
	r->target = t;
	for (i = 0; i < tl && t[i] != '?' && t[i] != '#'; i++)
		;
	r->target_len = i;
	v = sp2 + 1;
	/* RFC 7230 2.6: HTTP-version = "HTTP" "/" DIGIT "." DIGIT */
	if ((size_t)(l + n - v) != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return -EBADMSG;
	if (v[5] != '1') {
		r->status = 505;
		return -EBADMSG;
	}
	r->minor = v[7] - '0';
	return 0;
}

static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

/* RFC 7230 3.2: header-field = field-name ":" OWS field-value OWS */
static int parse_field(const char *l, size_t n, struct hxs_apphttp_req *r, bool *conn_close,
		       bool *conn_keep, bool *have_cl)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nl, vl, i;
	uint64_t cl = 0;

	/* RFC 7230 3.2.4: "A server MUST reject any received request message that contains
	 * whitespace between a header field-name and colon" (and obs-fold lines). */
	if (!colon || colon == l)
		return -EBADMSG;
	nl = (size_t)(colon - l);
	for (i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)l[i]))
			return -EBADMSG;
	v = colon + 1;
	vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	for (i = 0; i < vl; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return -EBADMSG;
	if (nl == 4 && !strncasecmp(l, "host", 4)) {
		if (r->has_host)   /* RFC 7230 5.4: more than one Host -> 400 */
			return -EBADMSG;
		r->has_host = true;
	} else if (nl == 10 && !strncasecmp(l, "connection", 10)) {
		*conn_close |= has_token(v, vl, "close");
		*conn_keep |= has_token(v, vl, "keep-alive");
	} else if (nl == 14 && !strncasecmp(l, "content-length", 14)) {
		if (!vl)
			return -EBADMSG;
		for (i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9' || cl > (UINT64_MAX - 9) / 10)
				return -EBADMSG;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		/* RFC 7230 3.3.2: differing Content-Length values are unrecoverable */
		if (*have_cl && cl != r->content_length)
			return -EBADMSG;
		*have_cl = true;
		r->content_length = cl;
	} else if (nl == 17 && !strncasecmp(l, "transfer-encoding", 17)) {
		r->chunked = true;
	}
	return 0;
}

int hxs_apphttp_parse(const char *buf, size_t len, struct hxs_apphttp_req *r)
{
	bool conn_close = false, conn_keep = false, have_cl = false;
	size_t off = 0, next;
	long n;
	int err;

	memset(r, 0, sizeof(*r));
	r->status = 400;
	/* RFC 7230 3.5: "a server that is expecting to receive and parse a request-line SHOULD
	 * ignore at least one empty line (CRLF) received prior to the request-line" */
	while (off < len && (buf[off] == '\r' || buf[off] == '\n') && off < 4)
		off++;
	n = find_line(buf, len, off, &next);
	if (n < 0)
		return 0;
	err = parse_request_line(buf + off, (size_t)n, r);
	if (err)
		return err;
	off = next;
	for (;;) {
		n = find_line(buf, len, off, &next);
		if (n < 0)
			return 0;
		if (n == 0)
			break;
		if (buf[off] == ' ' || buf[off] == '\t')   /* obs-fold */
			return -EBADMSG;
		err = parse_field(buf + off, (size_t)n, r, &conn_close, &conn_keep, &have_cl);
		if (err)
			return err;
		off = next;
	}
	/* RFC 7230 5.4: "A server MUST respond with a 400 (Bad Request) status code to any
	 * HTTP/1.1 request message that lacks a Host header field" */
	if (r->minor >= 1 && !r->has_host)
		return -EBADMSG;
	/* RFC 7230 6.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	r->keep_alive = r->minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	r->head_len = next;
	r->status = 0;
	return (int)next;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hxs_apphttp_decode_path(const char *p, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = p[i];

		if (c == '%') {
			if (i + 2 >= len)
				return -EINVAL;
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			if (!c)
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

const char *hxs_apphttp_mime(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
		{ "js", "text/javascript" }, { "json", "application/json" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "ico", "image/x-icon" },
		{ "pdf", "application/pdf" }, { "wasm", "application/wasm" },
		{ "xml", "application/xml" }, { "gz", "application/gzip" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot && (!slash || dot > slash))
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

const char *hxs_apphttp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}
