/*
 * Who is asking: password hashes, tokens, e-mail checks and the login
 * throttle.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "server.h"
#include "testutil.h"

static void test_password_hash__is_argon2id_and_verifies_only_the_password(void **state)
{
	char a[128], b[128];

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(lw__password_hash(a, "correct horse"), 0);
	assert_int_equal(lw__password_hash(b, "correct horse"), 0);
	assert_non_null(strstr(a, "$argon2id$"));
	assert_string_not_equal(a, b); /* salted */
	assert_true(lw__password_verify(a, "correct horse"));
	assert_false(lw__password_verify(a, "correct horsE"));
	assert_false(lw__password_verify(NULL, "correct horse"));
	assert_false(lw__password_verify("not a hash", "x"));
}

static void test_token_new__is_random_urlsafe_and_hashed(void **state)
{
	char t1[48], h1[65], t2[48], h2[65], again[65];

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	lw__token_new(t1, h1);
	lw__token_new(t2, h2);
	assert_int_equal(strlen(t1), 43);
	assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(t1, t2);
	assert_int_equal(strlen(h1), 64);
	lw__token_hash(again, t1);
	assert_string_equal(again, h1);
	assert_null(strstr(h1, t1));
}

static void test_valid_email__accepts_addresses_and_refuses_markup(void **state)
{
	(void)state;
	assert_true(lw__valid_email("ada@example.org"));
	assert_true(lw__valid_email("a.b+tag@sub.example.co"));
	assert_false(lw__valid_email("ada"));
	assert_false(lw__valid_email("@example.org"));
	assert_false(lw__valid_email("ada@org"));
	assert_false(lw__valid_email("ada@@example.org"));
	assert_false(lw__valid_email("a da@example.org"));
	assert_false(lw__valid_email("<script>@x.org"));
	assert_false(lw__valid_email("a@example.org."));
}

static void test_login_throttle__per_email_and_per_address(void **state)
{
	lw_server s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.c.login_attempts = 3;
	s.c.login_window_s = 60;
	assert_int_equal(lw__auth_init(&s), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lw__login_throttled(&s, "ada@example.org", "10.0.0.1"), 0);
		lw__login_failed(&s, "ada@example.org", "10.0.0.1");
	}
	/* The e-mail is throttled from any address, case aside... */
	assert_true(lw__login_throttled(&s, "ADA@example.org", "10.0.0.2") > 0);
	assert_true(lw__login_throttled(&s, "ada@example.org", "10.0.0.1") <= 60);
	/* ...and the address for any e-mail. */
	assert_true(lw__login_throttled(&s, "bob@example.org", "10.0.0.1") > 0);
	assert_int_equal(lw__login_throttled(&s, "bob@example.org", "10.0.0.2"), 0);
	/* A success clears the e-mail's count, not the address's. */
	lw__login_succeeded(&s, "ada@example.org");
	assert_int_equal(lw__login_throttled(&s, "ada@example.org", "10.0.0.3"), 0);
	lw__auth_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_hash__is_argon2id_and_verifies_only_the_password),
		cmocka_unit_test(test_token_new__is_random_urlsafe_and_hashed),
		cmocka_unit_test(test_valid_email__accepts_addresses_and_refuses_markup),
		cmocka_unit_test(test_login_throttle__per_email_and_per_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
