/*
 * Who is asking: argon2id password hashes (libsodium), random bearer
 * tokens of which the store keeps only a SHA-256, and login throttling.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server.h"

double lw__now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t lw__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lw__password_hash(char out[128], const char *password)
{
	/* The interactive limits (64 MiB, 2 passes) keep a login near 0.1 s on one core. */
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "cannot hash a password: out of memory");
		return LW_ENOMEM;
	}
	return 0;
}

bool lw__password_verify(const char *hash, const char *password)
{
	return hash && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void lw__token_hash(char hash[65], const char *token)
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hash, 65, d, sizeof(d));
}

void lw__token_new(char token[48], char hash[65])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, 48, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	lw__token_hash(hash, token);
}

bool lw__valid_email(const char *e)
{
	const char *at = strchr(e, '@');
	size_t n = strlen(e);

	if (!at || at == e || n > 254 || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    at[1] == '.' || e[n - 1] == '.')
		return false;
	for (const char *p = e; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
		    *p == ',' || *p == ';' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

int lw__auth_request(lw__request *q, lw_store *st)
{
	const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Authorization");
	lw_token_record t = { 0 };
	lw_user_record u = { 0 };
	char hash[65];
	int err;

	q->user_id = 0;
	if (!h)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) > 128) {
		lw_error_set(LW_ERRCLASS_INVALID, "the Authorization header must be \"Bearer <token>\"");
		return LW_EINVALID;
	}
	lw__token_hash(hash, h + 7);
	if ((err = lw_store_token_find(&t, st, hash, lw__now_ms())) == LW_ENOTFOUND ||
	    (err == 0 && (err = lw_store_user_get(&u, st, t.user_id)) == LW_ENOTFOUND)) {
		lw_token_record_dispose(&t);
		lw_error_set(LW_ERRCLASS_INVALID, "the token is wrong, expired or revoked: log in again");
		return LW_EINVALID;
	}
	if (err == 0) {
		q->user_id = u.id;
		q->role = u.role;
		q->token_id = t.id;
	}
	lw_token_record_dispose(&t);
	lw_user_record_dispose(&u);
	return err;
}

/* --- login throttling ------------------------------------------------------------ */

/*
 * A small open-addressed table of (key hash -> failures in the current
 * window).  When full, the oldest windows are overwritten: an attacker can
 * at worst reset counters by flooding with other keys, which the
 * per-address limit catches.
 */
#define RL_SLOTS 4096

typedef struct {
	uint64_t key;
	double start;
	int failures;
} rl_slot;

struct lw__ratelimit {
	pthread_mutex_t lock;
	rl_slot s[RL_SLOTS];
};

int lw__auth_init(lw_server *s)
{
	if (sodium_init() < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "libsodium cannot start");
		return LW_ERROR;
	}
	if (!(s->logins = calloc(1, sizeof(*s->logins))))
		return LW_ENOMEM;
	pthread_mutex_init(&s->logins->lock, NULL);
	return 0;
}

void lw__auth_free(lw_server *s)
{
	if (!s->logins)
		return;
	pthread_mutex_destroy(&s->logins->lock);
	free(s->logins);
	s->logins = NULL;
}

static uint64_t key_of(const char *prefix, const char *v)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (const char *p = v; *p; p++)
		h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 1099511628211ull;
	return h ? h : 1;
}

static rl_slot *slot_for(lw__ratelimit *rl, uint64_t key, double now, double window)
{
	size_t i = key % RL_SLOTS, oldest = i;

	for (size_t n = 0; n < 16; n++, i = (i + 1) % RL_SLOTS) {
		rl_slot *sl = &rl->s[i];

		if (sl->key == key)
			return sl;
		if (sl->key == 0 || now - sl->start > window) {
			sl->key = key;
			sl->start = now;
			sl->failures = 0;
			return sl;
		}
		if (sl->start < rl->s[oldest].start)
			oldest = i;
	}
	rl->s[oldest] = (rl_slot){ key, now, 0 };
	return &rl->s[oldest];
}

static int wait_for(lw_server *s, uint64_t key, double now)
{
	double window = s->c.login_window_s;
	rl_slot *sl = slot_for(s->logins, key, now, window);

	if (now - sl->start > window) {
		sl->start = now;
		sl->failures = 0;
	}
	if (sl->failures < s->c.login_attempts)
		return 0;
	return (int)(window - (now - sl->start)) + 1;
}

int lw__login_throttled(lw_server *s, const char *email, const char *client)
{
	double now = lw__now_s();
	int a, b;

	pthread_mutex_lock(&s->logins->lock);
	a = wait_for(s, key_of("e:", email), now);
	b = wait_for(s, key_of("a:", client), now);
	pthread_mutex_unlock(&s->logins->lock);
	return a > b ? a : b;
}

void lw__login_failed(lw_server *s, const char *email, const char *client)
{
	double now = lw__now_s(), window = s->c.login_window_s;

	pthread_mutex_lock(&s->logins->lock);
	slot_for(s->logins, key_of("e:", email), now, window)->failures++;
	slot_for(s->logins, key_of("a:", client), now, window)->failures++;
	pthread_mutex_unlock(&s->logins->lock);
}

void lw__login_succeeded(lw_server *s, const char *email)
{
	double now = lw__now_s();

	pthread_mutex_lock(&s->logins->lock);
	slot_for(s->logins, key_of("e:", email), now, s->c.login_window_s)->failures = 0;
	pthread_mutex_unlock(&s->logins->lock);
}
