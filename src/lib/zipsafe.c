/*
 * Safe extraction of untrusted zips.
 *
 * Every entry is checked before the first byte is written: its name
 * (relative, no '..', no backslash or control byte, no two entries the same
 * after normalisation, no file where a folder is needed), its type (regular
 * files and folders only: a symbolic link entry could point a later entry
 * anywhere), and its declared sizes against the limits.  Then, while
 * decompressing, the bytes actually produced are counted against the same
 * limits and the header, since a header can lie.  Files are created with
 * O_EXCL | O_NOFOLLOW in folders opened with O_NOFOLLOW, so nothing can
 * redirect a write outside the target, and a failure removes what was
 * written.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "package.h"
#include "util.h"

#define COPY_CHUNK ((size_t)64 << 10)
/* Finder adds resource forks under this folder; they are never package files. */
#define MACOS_JUNK "__MACOSX"

char *lw__path_normalise(const char *name, const char **why)
{
	size_t len = strlen(name), depth = 0;
	const char *p = name;
	char *out, *o;

	*why = NULL;
	if (len == 0)
		return *why = "is empty", NULL;
	if (len > LW__NAME_MAX)
		return *why = "is longer than 1024 bytes", NULL;
	if (name[0] == '/')
		return *why = "is an absolute path", NULL;
	if (((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')) &&
	    name[1] == ':')
		return *why = "starts with a drive letter", NULL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '\\')
			return *why = "holds a backslash", NULL;
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return *why = "holds a control character", NULL;
	}
	if (!(o = out = lw__mallocarray(len + 1, 1)))
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "/");
		int skip = n == 0 || (n == 1 && p[0] == '.'); /* "//" and "/./" */

		if (n == 2 && p[0] == '.' && p[1] == '.')
			*why = "has a '..' component";
		else if (n > LW__COMPONENT_MAX)
			*why = "has a component over 255 bytes";
		else if (!skip && ++depth > LW__DEPTH_MAX)
			*why = "is nested more than 32 folders deep";
		if (*why) {
			free(out);
			return NULL;
		}
		if (!skip) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n + (p[n] == '/');
	}
	*o = '\0';
	if (o == out) {
		free(out);
		return *why = "names no file", NULL;
	}
	return out;
}

typedef struct {
	char *name; /* normalised; the stripped folder removed once planned */
	zip_uint64_t index;
	uint64_t size, comp_size;
	int dir, exec, skip;
} entry;

typedef struct {
	const char *zip; /* for messages */
	const lw_package_limits *lim;
	zip_t *za;
	entry *e;
	size_t n;
	char *strip;
} plan;

/* An entry name fit for a message: control bytes shown as '?', cut at 200 bytes. */
static const char *shown(char buf[208], const char *name)
{
	size_t i = 0;

	for (; name[i] && i < 200; i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	snprintf(buf + i, 8, "%s", name[i] ? "..." : "");
	return buf;
}

static int refuse(const plan *p, const char *name, const char *what)
{
	char buf[208];

	lw_error_set(LW_ERRCLASS_INVALID, "%s: entry '%s' %s; refusing the archive", p->zip,
		     shown(buf, name), what);
	return LW_EINVALID;
}

static int open_zip(plan *p, const char *path)
{
	zip_error_t ze;
	int code;

	if ((p->za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code)))
		return 0;
	/* Reopen to name the duplicate: check_names refuses it with the name. */
	if (code == ZIP_ER_EXISTS && (p->za = zip_open(path, ZIP_RDONLY, &code)))
		return 0;
	zip_error_init_with_code(&ze, code);
	if (code == ZIP_ER_NOENT)
		lw_error_set(LW_ERRCLASS_INVALID, "cannot open %s: no such file", path);
	else if (code == ZIP_ER_NOZIP)
		lw_error_set(LW_ERRCLASS_INVALID, "%s is not a zip archive", path);
	else
		lw_error_set(LW_ERRCLASS_INVALID, "cannot read %s: %s", path, zip_error_strerror(&ze));
	zip_error_fini(&ze);
	if (code == ZIP_ER_NOENT)
		return LW_ENOTFOUND;
	return code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_SEEK ? LW_EIO
										 : LW_EINVALID;
}

/* Regular files and folders only, the name agreeing with the Unix mode. */
static int check_type(entry *e, const plan *p, const char *name)
{
	zip_uint8_t opsys;
	zip_uint32_t attr, mode, type;

	if (zip_file_get_external_attributes(p->za, e->index, 0, &opsys, &attr) < 0)
		return refuse(p, name, "has unreadable attributes");
	if (opsys != ZIP_OPSYS_UNIX)
		return 0;
	mode = attr >> 16;
	type = mode & S_IFMT;
	if (type == S_IFLNK)
		return refuse(p, name, "is a symbolic link; packages hold regular files only");
	if (type && type != S_IFREG && type != S_IFDIR)
		return refuse(p, name, "is not a regular file or folder");
	if ((type == S_IFDIR) != e->dir && type)
		return refuse(p, name, e->dir ? "ends in '/' but is marked as a file"
					       : "is marked as a folder but has no trailing '/'");
	e->exec = !e->dir && (mode & S_IXUSR);
	return 0;
}

/* Declared sizes against the limits: cheap, and refuses most bombs before any work. */
static int check_sizes(const plan *p, const entry *e, const char *name)
{
	const lw_package_limits *l = p->lim;
	char what[160];

	if (e->dir && e->size)
		return refuse(p, name, "is a folder holding data");
	if (e->size > l->max_file_bytes) {
		snprintf(what, sizeof(what), "is %llu bytes uncompressed, over the limit of %llu "
			 "per file", (unsigned long long)e->size, (unsigned long long)l->max_file_bytes);
		return refuse(p, name, what);
	}
	if (e->size > l->ratio_min_bytes && (double)e->size > (double)e->comp_size * l->max_ratio) {
		snprintf(what, sizeof(what), "expands %llu bytes to %llu (over the ratio limit of "
			 "%.0f:1; a zip bomb?)", (unsigned long long)e->comp_size,
			 (unsigned long long)e->size, l->max_ratio);
		return refuse(p, name, what);
	}
	return 0;
}

/* --- names as stored: libzip shows a NUL in a name as a space ----------------------- */

static uint64_t get_le(const unsigned char *b, int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | b[bytes];
	return v;
}

static int read_at(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	return off <= (uint64_t)INT64_MAX && pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

#define TAIL_MAX (22 + 65535) /* the end record and the longest comment */

/* Where the central directory starts: from the end record, or its ZIP64 form. */
static int find_cd(uint64_t *out, int fd, unsigned char *buf)
{
	unsigned char rec[56];
	struct stat st;
	size_t len;

	if (fstat(fd, &st) != 0 || st.st_size < 22)
		return -1;
	len = (uint64_t)st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
	if (read_at(fd, buf, len, (uint64_t)st.st_size - len) < 0)
		return -1;
	for (size_t i = len - 22 + 1; i-- > 0;) {
		if (get_le(buf + i, 4) != 0x06054b50)
			continue;
		*out = get_le(buf + i + 16, 4);
		if (*out != 0xffffffff)
			return 0;
		/* ZIP64: the locator sits just before the end record. */
		if (i < 20 || get_le(buf + i - 20, 4) != 0x07064b50 ||
		    read_at(fd, rec, sizeof(rec), get_le(buf + i - 12, 8)) < 0 ||
		    get_le(rec, 4) != 0x06064b50)
			return -1;
		*out = get_le(rec + 48, 8);
		return 0;
	}
	return -1;
}

/* 1 when an entry's stored name holds a NUL (*bad is its index), 0 when none, -1 unreadable. */
static int find_nul_name(zip_uint64_t *bad, int fd, zip_uint64_t n, unsigned char *buf)
{
	unsigned char hdr[46];
	uint64_t off;

	if (find_cd(&off, fd, buf) < 0)
		return -1;
	for (zip_uint64_t i = 0; i < n; i++) {
		size_t nlen;

		if (read_at(fd, hdr, sizeof(hdr), off) < 0 || get_le(hdr, 4) != 0x02014b50)
			return -1;
		nlen = (size_t)get_le(hdr + 28, 2);
		if (read_at(fd, buf, nlen, off + 46) < 0)
			return -1;
		if (memchr(buf, '\0', nlen)) {
			*bad = i;
			return 1;
		}
		off += 46 + nlen + get_le(hdr + 30, 2) + get_le(hdr + 32, 2);
	}
	return 0;
}

/*
 * Tools disagree about a name with a NUL byte (libzip reads a space, Python
 * stops at it), so such an archive is refused; libzip hides the byte, so the
 * names are read from the central directory itself.
 */
static int check_raw_names(const plan *p, const char *path, zip_uint64_t n)
{
	unsigned char *buf = lw__mallocarray(TAIL_MAX, 1);
	zip_uint64_t bad = 0;
	int fd, found = -1;

	if (!buf)
		return LW_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		found = find_nul_name(&bad, fd, n, buf);
		close(fd);
	}
	free(buf);
	if (found == 1)
		return refuse(p, zip_get_name(p->za, bad, 0), "holds a NUL byte in its name");
	if (found < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: cannot read its central directory", p->zip);
		return LW_EINVALID;
	}
	return 0;
}

static int scan_entry(plan *p, zip_uint64_t i)
{
	entry *e = &p->e[p->n];
	const char *why;
	zip_stat_t st;
	int err;

	zip_stat_init(&st);
	if (zip_stat_index(p->za, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME) || !st.name) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: entry %llu: %s", p->zip,
			     (unsigned long long)i, zip_strerror(p->za));
		return LW_EINVALID;
	}
	if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
		return refuse(p, st.name, "has no sizes in the central directory");
	if (!(e->name = lw__path_normalise(st.name, &why)))
		return why ? refuse(p, st.name, why) : LW_ENOMEM;
	e->index = i;
	e->size = st.size;
	e->comp_size = st.comp_size;
	e->dir = st.name[strlen(st.name) - 1] == '/';
	p->n++;
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
		return refuse(p, st.name, "is encrypted");
	if ((st.valid & ZIP_STAT_COMP_METHOD) && !zip_compression_method_supported(st.comp_method, 0))
		return refuse(p, st.name, "uses a compression method this dock cannot read");
	if ((err = check_type(e, p, st.name)) < 0)
		return err;
	if (!strcmp(e->name, MACOS_JUNK) || !strncmp(e->name, MACOS_JUNK "/", sizeof(MACOS_JUNK)))
		e->skip = 1;
	return check_sizes(p, e, st.name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static const entry *find(const plan *p, const char *name, size_t len)
{
	char buf[LW__NAME_MAX + 1];
	entry key = { 0 };

	memcpy(buf, name, len);
	buf[len] = '\0';
	key.name = buf;
	return bsearch(&key, p->e, p->n, sizeof(entry), by_name);
}

/* No two entries with one name; every folder on an entry's path is not a file. */
static int check_names(plan *p)
{
	char buf[208];

	qsort(p->e, p->n, sizeof(entry), by_name);
	for (size_t i = 0; i < p->n; i++) {
		const char *name = p->e[i].name, *slash;

		if (i + 1 < p->n && !strcmp(name, p->e[i + 1].name)) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s: two entries are named '%s' (after "
				     "removing './' and '//'); refusing the archive", p->zip,
				     shown(buf, name));
			return LW_EINVALID;
		}
		for (slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
			const entry *parent = find(p, name, (size_t)(slash - name));

			if (parent && !parent->dir) {
				lw_error_set(LW_ERRCLASS_INVALID, "%s: entry '%s' needs '%.*s' to be a "
					     "folder, but the archive has a file of that name; "
					     "refusing the archive", p->zip, shown(buf, name),
					     (int)(slash - name), name);
				return LW_EINVALID;
			}
		}
	}
	return 0;
}

static int check_total(const plan *p)
{
	uint64_t total = 0;

	for (size_t i = 0; i < p->n; i++)
		if (__builtin_add_overflow(total, p->e[i].size, &total))
			total = UINT64_MAX;
	if (total > p->lim->max_total_bytes) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s unpacks to %llu bytes, over the limit of %llu; "
			     "refusing the archive", p->zip, (unsigned long long)total,
			     (unsigned long long)p->lim->max_total_bytes);
		return LW_EINVALID;
	}
	return 0;
}

/*
 * When every entry lies in one folder (the zip of a folder, not of its
 * contents), strip it, as the reference does.
 */
static int plan_strip(plan *p)
{
	const char *first = NULL;
	size_t len = 0, inside = 0;

	for (size_t i = 0; i < p->n; i++) {
		const char *name = p->e[i].name;

		if (p->e[i].skip)
			continue;
		if (!first)
			first = name, len = strcspn(name, "/");
		if (strncmp(name, first, len) ||
		    (name[len] != '/' && !(name[len] == '\0' && p->e[i].dir)))
			return 0;
		inside += name[len] == '/';
	}
	if (!first || !inside)
		return 0;
	if (!(p->strip = lw__mallocarray(len + 1, 1)))
		return LW_ENOMEM;
	memcpy(p->strip, first, len);
	p->strip[len] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		entry *e = &p->e[i];

		if (e->skip || e->name[len] == '\0') {
			e->skip = 1;
			continue;
		}
		memmove(e->name, e->name + len + 1, strlen(e->name + len + 1) + 1);
	}
	return 0;
}

static void plan_free(plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].name);
	free(p->e);
	free(p->strip);
	if (p->za)
		zip_discard(p->za);
	memset(p, 0, sizeof(*p));
}

static int plan_zip(plan *p, const char *zip_path, const lw_package_limits *limits)
{
	zip_int64_t n;
	int err;

	p->zip = zip_path;
	p->lim = limits;
	if ((err = open_zip(p, zip_path)) < 0)
		return err;
	if ((n = zip_get_num_entries(p->za, 0)) <= 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is an empty zip archive", zip_path);
		return LW_EINVALID;
	}
	if ((uint64_t)n > limits->max_entries) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s holds %lld entries, over the limit of %zu; "
			     "refusing the archive", zip_path, (long long)n, limits->max_entries);
		return LW_EINVALID;
	}
	if ((err = check_raw_names(p, zip_path, (zip_uint64_t)n)) < 0)
		return err;
	if (!(p->e = lw__calloc((size_t)n, sizeof(entry))))
		return LW_ENOMEM;
	for (zip_int64_t i = 0; i < n; i++)
		if ((err = scan_entry(p, (zip_uint64_t)i)) < 0)
			return err;
	if ((err = check_names(p)) < 0 || (err = check_total(p)) < 0)
		return err;
	return plan_strip(p);
}

static void default_limits(lw_package_limits *l, const lw_package_limits *given)
{
	lw_package_limits d = LW_PACKAGE_LIMITS_INIT;

	*l = given ? *given : d;
}

int lw__zip_scan(const char *zip_path, const lw_package_limits *limits)
{
	lw_package_limits lim;
	plan p = { 0 };
	int err;

	default_limits(&lim, limits);
	err = plan_zip(&p, zip_path, &lim);
	plan_free(&p);
	return err;
}

/* --- writing ----------------------------------------------------------------------- */

static int remove_below(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		/* A folder: empty it (never through a link: O_NOFOLLOW), then remove it. */
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || depth > 2 * LW__DEPTH_MAX || remove_below(fd, depth + 1) < 0 ||
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
			err = -1;
		if (fd >= 0 && depth > 2 * LW__DEPTH_MAX)
			close(fd);
	}
	closedir(d);
	return err;
}

void lw__remove_tree(const char *dir, int remove_root)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		remove_below(fd, 0);
	if (remove_root)
		rmdir(dir);
}

/* dir: created, or an existing empty folder (never a link to one). */
static int prepare_dir(int *dfd, int *created, const char *dir)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*created = mkdir(dir, 0755) == 0;
	if (!*created && errno != EEXIST) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s", dir);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	if ((*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s exists and is not a folder", dir);
		return LW_EINVALID;
	}
	if (*created)
		return 0;
	if ((fd = dup(*dfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s", dir);
		return LW_EIO;
	}
	while ((de = readdir(d)) && (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")))
		;
	closedir(d);
	if (de) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s exists and is not empty; unpack into a new or "
			     "empty folder", dir);
		return LW_EINVALID;
	}
	return 0;
}

/* The folder that will hold rel's last component, created as needed. */
static int open_parent(int *out, const char **base, int dfd, char *rel, const char *dir)
{
	char *slash;
	int fd = dfd, next;

	while ((slash = strchr(rel, '/'))) {
		*slash = '\0';
		if (mkdirat(fd, rel, 0755) < 0 && errno != EEXIST)
			next = -1;
		else
			next = openat(fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		if (fd != dfd)
			close(fd);
		if (next < 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot create a folder under %s", dir);
			return LW_EIO;
		}
		fd = next;
		rel = slash + 1;
	}
	*out = fd;
	*base = rel;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len, const char *dir, const char *name)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot write %s/%s", dir, name);
			return LW_EIO;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Count what decompression really produces: the header may lie. */
static int check_produced(const plan *p, const entry *e, uint64_t got, uint64_t total)
{
	const lw_package_limits *l = p->lim;
	char what[200];

	if (got > e->size)
		snprintf(what, sizeof(what), "holds more than the %llu bytes its header says",
			 (unsigned long long)e->size);
	else if (got > l->max_file_bytes || total > l->max_total_bytes)
		snprintf(what, sizeof(what), "unpacks past the size limits");
	else if (got > l->ratio_min_bytes && (double)got > (double)e->comp_size * l->max_ratio)
		snprintf(what, sizeof(what), "expands past the ratio limit of %.0f:1", l->max_ratio);
	else
		return 0;
	return refuse(p, e->name, what);
}

static int copy_entry(const plan *p, const entry *e, int fd, uint64_t *total, char *buf,
		      const char *dir)
{
	zip_file_t *zf = zip_fopen_index(p->za, e->index, 0);
	uint64_t got = 0;
	zip_int64_t r;
	int err = 0;

	if (!zf) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: entry '%s': %s", p->zip, e->name,
			     zip_strerror(p->za));
		return LW_EINVALID;
	}
	while (!err && (r = zip_fread(zf, buf, COPY_CHUNK)) > 0) {
		got += (uint64_t)r;
		*total += (uint64_t)r;
		if (!(err = check_produced(p, e, got, *total)))
			err = write_all(fd, buf, (size_t)r, dir, e->name);
	}
	if (!err && r < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: entry '%s': %s; refusing the archive", p->zip,
			     e->name, zip_file_strerror(zf));
		err = LW_EINVALID;
	}
	zip_fclose(zf);
	if (!err && got != e->size)
		err = refuse(p, e->name, "holds fewer bytes than its header says");
	return err;
}

static int write_entry(const plan *p, const entry *e, int dfd, uint64_t *total, char *buf,
		       const char *dir)
{
	char *rel = lw__strdup(e->name);
	const char *base;
	int pfd, fd, err;

	if (!rel)
		return LW_ENOMEM;
	if ((err = open_parent(&pfd, &base, dfd, rel, dir)) < 0)
		goto done;
	if (e->dir) {
		if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
			lw_error_set(LW_ERRCLASS_OS, "cannot create %s/%s", dir, e->name);
			err = LW_EIO;
		}
	} else if ((fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				e->exec ? 0755 : 0644)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s/%s", dir, e->name);
		err = LW_EIO;
	} else {
		err = copy_entry(p, e, fd, total, buf, dir);
		if (close(fd) != 0 && !err) {
			lw_error_set(LW_ERRCLASS_OS, "cannot write %s/%s", dir, e->name);
			err = LW_EIO;
		}
	}
	if (pfd != dfd)
		close(pfd);
done:
	free(rel);
	return err;
}

static int write_all_entries(const plan *p, int dfd, const char *dir)
{
	char *buf = lw__mallocarray(COPY_CHUNK, 1);
	uint64_t total = 0;
	int err = buf ? 0 : LW_ENOMEM;

	for (size_t i = 0; !err && i < p->n; i++)
		if (!p->e[i].skip)
			err = write_entry(p, &p->e[i], dfd, &total, buf, dir);
	free(buf);
	return err;
}

int lw__zip_extract(lw__extract_info *out, const char *zip_path, const char *dir,
		    const lw_package_limits *limits)
{
	lw_package_limits lim;
	plan p = { 0 };
	int dfd = -1, err;

	memset(out, 0, sizeof(*out));
	default_limits(&lim, limits);
	if ((err = plan_zip(&p, zip_path, &lim)) < 0)
		goto done;
	if ((err = prepare_dir(&dfd, &out->created, dir)) < 0) {
		if (out->created)
			rmdir(dir);
		goto done;
	}
	if ((err = write_all_entries(&p, dfd, dir)) < 0) {
		lw__remove_tree(dir, out->created);
		goto done;
	}
	out->stripped = p.strip;
	p.strip = NULL;
done:
	if (dfd >= 0)
		close(dfd);
	plan_free(&p);
	return err;
}
