#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the long-message vectors of FIPS 180-2 appendix B. */
static void test_sha256_vectors__match_fips_180_4(void **state)
{
	static const struct {
		const char *msg, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	char hex[LW_SHA256_HEX];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		lw__sha256_buf(hex, v[i].msg, strlen(v[i].msg));
		assert_string_equal(hex, v[i].hex);
	}
}

static void test_sha256_million_a__matches_fips_180_2(void **state)
{
	size_t n = 1000000;
	char *a = malloc(n), hex[LW_SHA256_HEX];

	(void)state;
	assert_non_null(a);
	memset(a, 'a', n);
	lw__sha256_buf(hex, a, n);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Feeding a message in pieces of every size gives the one-shot digest. */
static void test_sha256_update__is_independent_of_chunking(void **state)
{
	uint8_t msg[300], d[32];
	char whole[LW_SHA256_HEX], parts[LW_SHA256_HEX];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (size_t len = 0; len <= sizeof(msg); len += 13) {
		lw__sha256_buf(whole, msg, len);
		for (size_t chunk = 1; chunk <= 130; chunk += 3) {
			lw__sha256 c;

			lw__sha256_init(&c);
			for (size_t off = 0; off < len; off += chunk)
				lw__sha256_update(&c, msg + off, len - off < chunk ? len - off : chunk);
			lw__sha256_final(d, &c);
			lw__sha256_hex(parts, d);
			assert_string_equal(whole, parts);
		}
	}
}

/* Messages of 55, 56 and 64 bytes straddle the padding boundary. */
static void test_sha256_padding__boundaries(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	};
	char a[64], hex[LW_SHA256_HEX];

	(void)state;
	memset(a, 'a', sizeof(a));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		lw__sha256_buf(hex, a, v[i].len);
		assert_string_equal(hex, v[i].hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors__match_fips_180_4),
		cmocka_unit_test(test_sha256_million_a__matches_fips_180_2),
		cmocka_unit_test(test_sha256_update__is_independent_of_chunking),
		cmocka_unit_test(test_sha256_padding__boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
