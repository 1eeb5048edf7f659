/*
 * A Debian package's family, for splitting the descriptions corpus without
 * leakage: libfoo1, libfoo-dev, libfoo-doc, python3-foo and foo-utils all
 * belong to "foo" (the shared data README warns that such siblings share
 * near-identical texts).  Used by the encoder's tools and its tests.
 */
#ifndef LW_TOOLS_TEXT_FAMILY_H
#define LW_TOOLS_TEXT_FAMILY_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The family of package name `pkg` into out (size bytes). */
static inline void lw_text_family(char *out, size_t size, const char *pkg)
{
	static const char *const prefixes[] = {
		"golang-github-", "golang-gopkg-", "golang-", "librust-", "rust-", "python3-",
		"python-", "pypy-", "node-", "ruby-", "r-cran-", "r-bioc-", "r-other-", "libghc-",
		"haskell-", "php-", "lua-", "libocaml-", "ocaml-", "elpa-", "gir1.2-", "fonts-",
		"xfonts-", "texlive-", "libjs-", "libjava-", "libperl-", "perl-", "lib",
	};
	size_t n = 0, i;
	int again = 1;

	while (again) {
		again = 0;
		for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t l = strlen(prefixes[i]);

			if (!strncmp(pkg, prefixes[i], l) && pkg[l]) {
				pkg += l;
				again = 1;
				break;
			}
		}
	}
	/* The first component, less trailing version digits and dots: foo1.2-dev -> foo. */
	while (pkg[n] && pkg[n] != '-' && pkg[n] != '+' && n + 1 < size) {
		out[n] = (char)tolower((unsigned char)pkg[n]);
		n++;
	}
	while (n > 1 && (isdigit((unsigned char)out[n - 1]) || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
}

/* 1 when the package's family is in the held-out fifth (FNV-1a of the family). */
static inline int lw_text_family_heldout(const char *pkg)
{
	char fam[128];
	uint64_t h = 0xcbf29ce484222325ULL;

	lw_text_family(fam, sizeof(fam), pkg);
	for (const char *p = fam; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h % 5 == 0;
}

#endif
