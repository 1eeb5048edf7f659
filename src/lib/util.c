/*
 * Checked allocation: every failure leaves a message in the error slot so
 * callers only need to propagate LW_ENOMEM.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *oom(size_t n, size_t sz)
{
	lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory allocating %zu x %zu bytes", n, sz);
	return NULL;
}

void *lw__calloc(size_t n, size_t sz)
{
	size_t total;
	void *p;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	p = calloc(total ? n : 1, total ? sz : 1);
	return p ? p : oom(n, sz);
}

void *lw__mallocarray(size_t n, size_t sz)
{
	size_t total;
	void *p;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	p = malloc(total ? total : 1);
	return p ? p : oom(n, sz);
}

void *lw__reallocarray(void *p, size_t n, size_t sz)
{
	size_t total;
	void *q;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	q = realloc(p, total ? total : 1);
	return q ? q : oom(n, sz);
}

char *lw__strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = lw__mallocarray(len, 1);

	if (p)
		memcpy(p, s, len);
	return p;
}

int lw__read_file(char **out, size_t *len, const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	size_t size;

	*out = NULL;
	if (!f) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", path);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is not a regular file", path);
		fclose(f);
		return LW_EINVALID;
	}
	size = (size_t)st.st_size;
	if (size > max) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is %zu bytes, over the limit of %zu", path,
			     size, max);
		fclose(f);
		return LW_EINVALID;
	}
	if (!(buf = lw__mallocarray(size + 1, 1))) {
		fclose(f);
		return LW_ENOMEM;
	}
	if (fread(buf, 1, size, f) != size) {
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s", path);
		free(buf);
		fclose(f);
		return LW_EIO;
	}
	fclose(f);
	buf[size] = '\0';
	*out = buf;
	*len = size;
	return 0;
}

/* mkstemp makes 0600 files; give the final file the mode open() would (0666 less umask). */
static void default_mode(int fd)
{
	mode_t mask = umask(0);

	umask(mask);
	fchmod(fd, 0666 & ~mask);
}

int lw__write_file_atomic(const char *path, const char *data, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = lw__mallocarray(plen + 16, 1);
	int fd, err = 0;

	if (!tmp)
		return LW_ENOMEM;
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a temporary file beside %s", path);
		free(tmp);
		return LW_EIO;
	}
	default_mode(fd);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
			err = LW_EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!err && fsync(fd) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot flush %s", path);
		err = LW_EIO;
	}
	close(fd);
	if (!err && rename(tmp, path) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot rename %s to %s", tmp, path);
		err = LW_EIO;
	}
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

int lw__format_double(char *buf, double v)
{
	int len = 0;

	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return len;
}

int lw__atomic_open(FILE **f, char **tmp, const char *path)
{
	size_t plen = strlen(path);
	int fd;

	*f = NULL;
	if (!(*tmp = lw__mallocarray(plen + 16, 1)))
		return LW_ENOMEM;
	snprintf(*tmp, plen + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(*tmp)) < 0 || !(*f = fdopen(fd, "wb"))) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a temporary file beside %s", path);
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		return LW_EIO;
	}
	default_mode(fd);
	return 0;
}

int lw__atomic_close(FILE *f, char *tmp, const char *path, int ok)
{
	int err = 0;

	if (ok && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)) {
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
		err = LW_EIO;
	}
	if (fclose(f) != 0 && ok && !err) {
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
		err = LW_EIO;
	}
	if (ok && !err && rename(tmp, path) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot rename %s to %s", tmp, path);
		err = LW_EIO;
	}
	if (!ok || err)
		unlink(tmp);
	free(tmp);
	return ok ? err : 0;
}

int lw__invalid(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw_error_set(LW_ERRCLASS_INVALID, "%s", msg);
	return LW_EINVALID;
}
