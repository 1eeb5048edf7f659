/*
 * Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer, so
 * the committed corpora run as ordinary tests under any compiler:
 *
 *   csv_fuzzer_standalone fuzzers/corpora/csv [more files or folders]
 *
 * Each input is copied flush against a PROT_NONE page: a read one byte
 * past its end faults even in a build without AddressSanitizer.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			unsigned char *grown = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
		}
		n += r = fread(buf + n, 1, cap - n, f);
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static int run_one(const char *path)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len, span;
	unsigned char *buf = slurp(path, &len), *map;

	if (!buf) {
		perror(path);
		return -1;
	}
	span = (len + page - 1) / page * page + page;
	map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + span - page, page, PROT_NONE) != 0) {
		perror("mmap");
		free(buf);
		return -1;
	}
	if (len)
		memcpy(map + span - page - len, buf, len);
	free(buf);
	printf("replay %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(map + span - page - len, len);
	munmap(map, span);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular, non-hidden file of dir, in name order. */
static int run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!grown)
				abort();
			names = grown;
		}
		if (!(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
			abort();
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (!err && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			err = run_one(names[i]);
			++*count;
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	size_t count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int err;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			err = run_dir(argv[i], &count);
		} else {
			err = run_one(argv[i]);
			count++;
		}
		if (err < 0)
			return 1;
	}
	printf("%zu inputs replayed without a crash\n", count);
	/* An empty corpus tests nothing: most likely a misplaced folder. */
	return count ? 0 : 1;
}
