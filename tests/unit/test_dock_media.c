/*
 * Text and image learnwares in the dock: the checker's rules for their
 * specifications, search among them (the language filter, the encoder
 * check, the cnn_gp ranking) and the user specification of any type.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dock.h"
#include "lw/image.h"
#include "testutil.h"

typedef lwt_dock_dir fixture;

/* A linear model summing its `dim` inputs: any width the test needs. */
static char *sum_model(size_t dim)
{
	char *s = malloc(dim * 2 + 256), *p = s;

	p += sprintf(p, "{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"linear\","
			"\"task\":\"regression\",\"input_dim\":%zu,\"output_dim\":1,\"layers\":"
			"[{\"weights\":[[", dim);
	for (size_t i = 0; i < dim; i++)
		p += sprintf(p, "%s1", i ? "," : "");
	sprintf(p, "]],\"bias\":[0],\"activation\":\"identity\"}]}");
	return s;
}

/* Semantic specification of a Data type; input_dim 0 leaves Input out. */
static char *semantic(const char *data, const char *name, size_t input_dim)
{
	char *s = malloc(1024), input[128] = "";

	if (input_dim)
		snprintf(input, sizeof(input), "\"Input\":{\"Dimension\":%zu,\"Description\":{}},", input_dim);
	snprintf(s, 1024,
		 "{\"Data\":{\"Type\":\"Class\",\"Values\":[\"%s\"]},"
		 "\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\"]},"
		 "\"Library\":{\"Type\":\"Class\",\"Values\":[\"Others\"]},"
		 "\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
		 "\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\"]},"
		 "\"Name\":{\"Type\":\"String\",\"Values\":\"%s\"},"
		 "\"Description\":{\"Type\":\"String\",\"Values\":\"test %s learnware\"},%s"
		 "\"Output\":{\"Dimension\":1,\"Description\":{\"0\":\"sum\"}}}",
		 data, name, data, input);
	return s;
}

/* A packed learnware with this semantic Data type, spec class and spec JSON. */
static char *make_zip(const fixture *f, const char *name, const char *data, const char *spec_class,
		      const char *spec_json, size_t model_dim, size_t declared_dim)
{
	char dir[4096], yaml[512], *zip = malloc(4200), *sem = semantic(data, name, declared_dim);
	char *model = sum_model(model_dim);

	snprintf(dir, sizeof(dir), "%s/src-%s", f->tmp, name);
	assert_true(mkdir(dir, 0755) == 0 || access(dir, F_OK) == 0);
	snprintf(yaml, sizeof(yaml),
		 "model:\n  kind: linear\n  file: model.json\n  output_shape: [1]\n"
		 "semantic_specification: semantic.json\nstat_specifications:\n"
		 "  - class_name: %s\n    file_name: spec.json\n",
		 spec_class);
	free(lwt_write_file(dir, "learnware.yaml", yaml));
	free(lwt_write_file(dir, "model.json", model));
	free(lwt_write_file(dir, "semantic.json", sem));
	free(lwt_write_file(dir, "spec.json", spec_json));
	sprintf(zip, "%s/%s.zip", f->tmp, name);
	assert_int_equal(lw_package_pack(NULL, dir, zip, NULL), 0);
	free(model);
	free(sem);
	return zip;
}

static lw_dock *open_dock(const fixture *f)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;

	assert_int_equal(lw_dock_open(&d, f->dock, &o), 0);
	return d;
}

static void add_expect(lw_dock *d, const char *zip, lw_check_status want)
{
	lw_dock_added a;
	int err = lw_dock_add(&a, d, zip, NULL, "tester");

	if (want == LW_CHECK_INVALID) {
		assert_int_equal(err, LW_EINVALID);
	} else {
		if (err != 0 || a.status != want)
			fail_msg("add %s: %d, status %d, log:\n%s", zip, err, a.status, a.log ? a.log : "");
	}
	lw_dock_added_dispose(&a);
}

/* --- text ------------------------------------------------------------------ */

static const char *const cooking[] = {
	"Simmer the tomato sauce with garlic and fresh basil for twenty minutes.",
	"Knead the bread dough until smooth, then let it rise in a warm kitchen.",
	"Roast the chicken with lemon, thyme and olive oil until the skin is golden.",
	"Whisk eggs, sugar and butter, fold in the flour and bake the cake.",
	"Slice the onions thinly and fry them slowly in butter until sweet.",
	"Season the soup with salt and pepper and serve it with crusty bread.",
	"Marinate the beef overnight in soy sauce, ginger and honey.",
	"Boil the pasta in salted water and toss it with the creamy mushroom sauce.",
	"Chop the vegetables, stir fry them in a hot wok with sesame oil.",
	"Bake the apple pie until the crust is crisp and the filling bubbles.",
	"Grill the fish with herbs and squeeze lemon juice over it before serving.",
	"Melt the chocolate gently and pour it over the cooled pastry cream.",
};

static const char *const networking[] = {
	"The router forwards packets between the local network and the internet.",
	"Configure the firewall to drop incoming connections on unused ports.",
	"The DNS server resolves host names to IP addresses for every client.",
	"TCP retransmits lost segments and controls congestion on the link.",
	"Set up a VPN tunnel with strong encryption between the two offices.",
	"The switch learns MAC addresses and forwards frames to the right port.",
	"Monitor network latency and packet loss with ping and traceroute.",
	"The web server listens on port 443 and negotiates TLS with each client.",
	"DHCP hands out IP addresses, gateways and DNS servers to new hosts.",
	"Capture traffic on the interface and inspect the HTTP headers.",
	"Bandwidth limits and quality of service rules shape the uplink traffic.",
	"The proxy caches web pages and filters requests from the office network.",
};

static lw_text_spec *text_spec(const char *const *texts, size_t n, size_t k)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_text_spec *t = NULL;

	o.k = k;
	assert_int_equal(lw_text_spec_fit(&t, NULL, texts, NULL, n, &o), 0);
	return t;
}

static char *text_zip(const fixture *f, const char *name, const char *const *texts, size_t n)
{
	lw_text_spec *t = text_spec(texts, n, 6);
	char *json = NULL, *zip;

	assert_int_equal(lw_text_spec_to_json(&json, t), 0);
	zip = make_zip(f, name, "Text", "RKMETextSpecification", json, lw_rkme_dim(t->rkme), 0);
	free(json);
	lw_text_spec_free(t);
	return zip;
}

static void test_dock_search_text__ranks_the_learnware_of_the_users_topic_first(void **state)
{
	fixture *f = *state;
	char *za = text_zip(f, "cooking", cooking, 12), *zb = text_zip(f, "networking", networking, 12);
	lw_text_spec *user = text_spec(networking + 2, 8, 4);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	lw_dock *d = open_dock(f);

	add_expect(d, za, LW_CHECK_USABLE);
	add_expect(d, zb, LW_CHECK_USABLE);
	q.text = user;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_true(r.statistical);
	assert_int_equal(r.candidates, 2);
	assert_true(r.count >= 1);
	assert_string_equal(r.hits[0].name, "networking");
	assert_true(isfinite(r.hits[0].mmd2));
	lw_dock_result_dispose(&r);

	/* The reference's language filter: a user writing in another language finds nothing. */
	snprintf(user->language.code[0], sizeof(user->language.code[0]), "de");
	user->language.count = 1;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_int_equal(r.candidates, 0);
	assert_int_equal(r.count, 0);
	lw_dock_result_dispose(&r);

	/* A specification made by another encoder is refused with a message. */
	snprintf(user->encoder_sha256, sizeof(user->encoder_sha256), "%064d", 0);
	assert_int_equal(lw_dock_search(&r, d, &q), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "encoder"));

	lw_dock_free(d);
	lw_text_spec_free(user);
	free(za);
	free(zb);
}

static void test_dock_check_text__spec_of_another_encoder_is_invalid(void **state)
{
	fixture *f = *state;
	lw_text_spec *t = text_spec(cooking, 12, 6);
	char *json = NULL, *zip;
	lw_dock *d = open_dock(f);

	snprintf(t->encoder_sha256, sizeof(t->encoder_sha256), "%064d", 1);
	assert_int_equal(lw_text_spec_to_json(&json, t), 0);
	zip = make_zip(f, "foreign", "Text", "RKMETextSpecification", json, lw_rkme_dim(t->rkme), 0);
	add_expect(d, zip, LW_CHECK_INVALID);
	assert_non_null(strstr(lw_error_last()->message, "encoder"));
	lw_dock_free(d);
	lw_text_spec_free(t);
	free(json);
	free(zip);
}

/* --- images ---------------------------------------------------------------- */

/* n 28 x 28 grey images: vertical stripes (kind 0) or a bright disc (kind 1), jittered. */
static void draw(lw_image_batch *b, size_t n, int kind, uint64_t seed)
{
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_image_batch_init(b, n, 1, 28, 28), 0);
	for (size_t i = 0; i < n; i++) {
		float *img = lw_image_batch_at(b, i);
		double cx = 14 + 3 * lw_rng_normal(&rng), cy = 14 + 3 * lw_rng_normal(&rng);
		size_t phase = lw_rng_below(&rng, 6);

		for (size_t y = 0; y < 28; y++)
			for (size_t x = 0; x < 28; x++) {
				double v = kind == 0 ? ((x + phase) / 3 % 2 ? 230 : 20)
						     : (hypot(x - cx, y - cy) < 8 ? 240 : 10);

				img[y * 28 + x] = (float)(v + 10 * lw_rng_normal(&rng));
			}
	}
}

static lw_rkme_image *image_spec(int kind, uint64_t seed)
{
	lw_rkme_image_options o;
	lw_image_batch b;
	lw_rkme_image *r = NULL;

	lw_rkme_image_options_init(&o);
	o.k = 4;
	o.steps = 3;
	o.batch = 16;
	o.seed = seed;
	draw(&b, 24, kind, seed);
	assert_int_equal(lw_rkme_image_fit(&r, &b, &o), 0);
	lw_image_batch_dispose(&b);
	return r;
}

static char *image_zip(const fixture *f, const char *name, int kind, size_t model_dim, size_t declared)
{
	lw_rkme_image *r = image_spec(kind, 11 + (uint64_t)kind);
	char *json = NULL, *zip;

	assert_int_equal(lw_rkme_image_to_json(&json, r), 0);
	zip = make_zip(f, name, "Image", "RKMEImageSpecification", json, model_dim, declared);
	free(json);
	lw_rkme_image_free(r);
	return zip;
}

static void test_dock_search_image__ranks_by_the_cnn_gp_mmd(void **state)
{
	fixture *f = *state;
	char *za = image_zip(f, "stripes", 0, 1024, 1024), *zb = image_zip(f, "discs", 1, 1024, 0);
	lw_rkme_image *user = image_spec(1, 99);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	lw_dock *d = open_dock(f);

	add_expect(d, za, LW_CHECK_USABLE);
	add_expect(d, zb, LW_CHECK_USABLE);
	/* Image learnwares stay out of the table index. */
	assert_int_equal(lw_dock_indexed(d), 0);
	q.image = user;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_int_equal(r.candidates, 2);
	assert_true(r.count >= 1);
	assert_string_equal(r.hits[0].name, "discs");
	if (r.count == 2)
		assert_true(r.hits[0].mmd2 < r.hits[1].mmd2);
	{
		/* Again, with the learnwares' products from the handle's cache: the same answer. */
		lw_dock_result again;

		assert_int_equal(lw_dock_search(&again, d, &q), 0);
		assert_int_equal(again.count, r.count);
		assert_int_equal(again.mixture_count, r.mixture_count);
		for (size_t i = 0; i < r.count; i++)
			assert_true(again.hits[i].mmd2 == r.hits[i].mmd2);
		if (r.mixture_count)
			lwt_assert_near(again.mixture_mmd2, r.mixture_mmd2, 1e-12);
		lw_dock_result_dispose(&again);
	}
	lw_dock_result_dispose(&r);

	/* Two user specifications at once is a bad query. */
	{
		lw_rkme_image *other = user;
		lw_dock_query q2 = q;
		lw_text_spec *t = text_spec(cooking, 12, 4);

		q2.image = other;
		q2.text = t;
		assert_int_equal(lw_dock_search(&r, d, &q2), LW_EINVALID);
		lw_text_spec_free(t);
	}
	lw_dock_free(d);
	lw_rkme_image_free(user);
	free(za);
	free(zb);
}

static void test_dock_check_image__input_dimension_must_be_channels_by_32_by_32(void **state)
{
	fixture *f = *state;
	char *zip = image_zip(f, "wrongdim", 0, 784, 784);
	lw_dock *d = open_dock(f);

	add_expect(d, zip, LW_CHECK_INVALID);
	assert_non_null(strstr(lw_error_last()->message, "32"));
	lw_dock_free(d);
	free(zip);
}

/* --- the user's specification of any type ---------------------------------------- */

static void test_dock_user_spec__type_decides_the_parser(void **state)
{
	fixture *f = *state;
	lw_text_spec *t = text_spec(cooking, 12, 4);
	lw_dock_user_spec u;
	char *json = NULL, *path;

	(void)f;
	assert_int_equal(lw_text_spec_to_json(&json, t), 0);
	assert_int_equal(lw_dock_user_spec_parse(&u, json, strlen(json), "user.json"), 0);
	assert_non_null(u.text);
	assert_null(u.rkme);
	assert_string_equal(lw_dock_user_spec_type(&u), "RKMETextSpecification");
	lw_dock_user_spec_dispose(&u);

	path = lwt_write_file(f->tmp, "bad.json", "{\"type\":\"RKMEVideoSpecification\",\"z\":[]}");
	assert_int_equal(lw_dock_user_spec_load(&u, path), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "RKMEVideoSpecification"));
	free(path);
	path = lwt_write_file(f->tmp, "untyped.json", "{\"z\":[[1]],\"beta\":[1]}");
	assert_int_equal(lw_dock_user_spec_load(&u, path), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "type"));
	free(path);
	free(json);
	lw_text_spec_free(t);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lwt_dock_dir_setup, lwt_dock_dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_dock_search_text__ranks_the_learnware_of_the_users_topic_first),
		T(test_dock_check_text__spec_of_another_encoder_is_invalid),
		T(test_dock_search_image__ranks_by_the_cnn_gp_mmd),
		T(test_dock_check_image__input_dimension_must_be_channels_by_32_by_32),
		T(test_dock_user_spec__type_decides_the_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
