/*
 * openapi.json against the server's route table (src/server/route.c): the
 * document served at /api/v1/openapi.json must list exactly the routes the
 * server answers, under the names, auth levels and bodies the table gives.
 */
#include "testutil.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* src/server/openapi.json, embedded at build time (cmake/EmbedFile.cmake). */
extern const char lw__openapi_json[];

static const char *const METHODS[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace" };
#define NMETHODS (sizeof(METHODS) / sizeof(METHODS[0]))

static json_t *g_doc;

/* The parsed document; fails the test when it is not a JSON object. */
static json_t *doc(void)
{
	json_error_t e;

	if (!g_doc) {
		g_doc = json_loads(lw__openapi_json, JSON_REJECT_DUPLICATES, &e);
		if (!g_doc)
			fail_msg("openapi.json is not JSON: %s at line %d, column %d", e.text, e.line,
				 e.column);
		if (!json_is_object(g_doc))
			fail_msg("openapi.json is not a JSON object");
	}
	return g_doc;
}

static int teardown_doc(void **state)
{
	(void)state;
	json_decref(g_doc);
	g_doc = NULL;
	return 0;
}

static void lower(char *out, size_t size, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

static bool is_method(const char *key)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (!strcmp(key, METHODS[i]))
			return true;
	return false;
}

/* paths[pattern], or NULL. */
static json_t *path_item(const lw__route *r)
{
	return json_object_get(json_object_get(doc(), "paths"), r->pattern);
}

/* paths[pattern][method in lower case], or NULL. */
static json_t *operation(const lw__route *r)
{
	char m[16];

	lower(m, sizeof(m), r->method);
	return json_object_get(path_item(r), m);
}

/* The operation of a route the document must have. */
static json_t *operation_of(const lw__route *r)
{
	json_t *op = operation(r);

	if (!json_is_object(op))
		fail_msg("%s %s is in lw__routes but not an operation in openapi.json", r->method,
			 r->pattern);
	return op;
}

/* A local JSON pointer ("#/components/parameters/x"), or NULL when it names nothing. */
static json_t *pointer(const char *ref)
{
	json_t *at = doc();
	const char *p;
	char seg[256];

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	for (p = ref + 2; at;) {
		size_t n = 0;

		while (*p && *p != '/') {
			if (n + 1 >= sizeof(seg))
				return NULL;
			if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				seg[n++] = p[1] == '0' ? '~' : '/';
				p += 2;
			} else {
				seg[n++] = *p++;
			}
		}
		seg[n] = '\0';
		if (json_is_array(at)) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);

			at = *seg && !*end ? json_array_get(at, i) : NULL;
		} else {
			at = json_object_get(at, seg);
		}
		if (!*p)
			break;
		p++;
	}
	return at;
}

/* node, or what its "$ref" names (following chains); NULL for a dangling reference. */
static json_t *resolve(json_t *node)
{
	for (int depth = 0; depth < 16; depth++) {
		const char *ref = json_string_value(json_object_get(node, "$ref"));

		if (!json_is_object(node) || !ref)
			return node;
		node = pointer(ref);
	}
	return NULL;
}

/* The parameter `name` in `in`, declared on the operation or its path item. */
static json_t *parameter(const lw__route *r, const char *in, const char *name)
{
	json_t *lists[2] = { json_object_get(operation_of(r), "parameters"),
			     json_object_get(path_item(r), "parameters") };

	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *p;

		json_array_foreach(lists[l], i, p) {
			json_t *q = resolve(p);

			if (!q)
				fail_msg("%s %s: a parameter's $ref names nothing", r->method, r->pattern);
			if (json_is_object(q) && json_is_string(json_object_get(q, "in")) &&
			    !strcmp(json_string_value(json_object_get(q, "in")), in) &&
			    json_is_string(json_object_get(q, "name")) &&
			    !strcmp(json_string_value(json_object_get(q, "name")), name))
				return q;
		}
	}
	return NULL;
}

/* Copy the i-th "{name}" of a pattern into out; false when there is none. */
static bool pattern_param(const char *pattern, size_t i, char *out, size_t size)
{
	const char *p = pattern;

	for (;;) {
		const char *open = strchr(p, '{'), *close;

		if (!open || !(close = strchr(open, '}')))
			return false;
		if (i-- == 0) {
			size_t n = (size_t)(close - open - 1);

			assert_true(n > 0 && n < size);
			memcpy(out, open + 1, n);
			out[n] = '\0';
			return true;
		}
		p = close + 1;
	}
}

static bool pattern_has_param(const char *pattern, const char *name)
{
	char have[64];

	for (size_t i = 0; pattern_param(pattern, i, have, sizeof(have)); i++)
		if (!strcmp(have, name))
			return true;
	return false;
}

/* The security requirements that apply to an operation (its own, else the document's). */
static json_t *security_of(json_t *op)
{
	json_t *sec = json_object_get(op, "security");

	return sec ? sec : json_object_get(doc(), "security");
}

static bool requirement_is_bearer(json_t *req)
{
	return json_is_object(req) && json_object_size(req) == 1 &&
	       json_is_array(json_object_get(req, "bearerAuth"));
}

/* --- the document ------------------------------------------------------------------ */

static void test_openapi_is_an_openapi_3_document_with_bearer_auth(void **state)
{
	json_t *d = doc(), *info = json_object_get(d, "info"), *scheme;

	(void)state;
	assert_non_null(json_string_value(json_object_get(d, "openapi")));
	assert_true(strncmp(json_string_value(json_object_get(d, "openapi")), "3.0.", 4) == 0);
	assert_string_equal(json_string_value(json_object_get(info, "title")), "learnware dock API");
	assert_string_equal(json_string_value(json_object_get(info, "version")), "1");
	assert_true(json_is_object(json_object_get(d, "paths")));
	scheme = json_object_get(json_object_get(json_object_get(d, "components"), "securitySchemes"),
				 "bearerAuth");
	assert_true(json_is_object(scheme));
	assert_string_equal(json_string_value(json_object_get(scheme, "type")), "http");
	assert_string_equal(json_string_value(json_object_get(scheme, "scheme")), "bearer");
}

/* Fail on any "$ref" under node that names nothing. */
static void walk_refs(json_t *node, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	assert_true(depth < 64);
	if (json_is_object(node)) {
		const char *ref = json_string_value(json_object_get(node, "$ref"));

		if (ref && !pointer(ref))
			fail_msg("$ref \"%s\" names nothing in openapi.json", ref);
		json_object_foreach(node, key, v)
			walk_refs(v, depth + 1);
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			walk_refs(v, depth + 1);
	}
}

static void test_openapi_every_reference_resolves(void **state)
{
	(void)state;
	walk_refs(doc(), 0);
}

/* --- the document against the route table ------------------------------------------ */

static void test_openapi_lists_every_route(void **state)
{
	size_t n = 0;

	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++, n++)
		operation_of(r);
	assert_true(n > 0);
}

static void test_openapi_lists_no_route_the_server_lacks(void **state)
{
	const char *path, *key;
	json_t *item, *op;
	size_t nops = 0, nroutes = 0;

	(void)state;
	json_object_foreach(json_object_get(doc(), "paths"), path, item) {
		json_object_foreach(item, key, op) {
			const lw__route *found = NULL;
			char m[16];

			if (!is_method(key))
				continue;
			for (const lw__route *r = lw__routes; r->method && !found; r++) {
				lower(m, sizeof(m), r->method);
				if (!strcmp(m, key) && !strcmp(r->pattern, path))
					found = r;
			}
			if (!found)
				fail_msg("openapi.json lists %s %s, which is not in lw__routes", key, path);
			nops++;
		}
	}
	for (const lw__route *r = lw__routes; r->method; r++)
		nroutes++;
	assert_int_equal(nops, nroutes); /* no route twice in the table */
}

static void test_openapi_operation_ids_are_the_route_names(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		const char *id = json_string_value(json_object_get(operation_of(r), "operationId"));

		if (!id || strcmp(id, r->name) != 0)
			fail_msg("%s %s: operationId \"%s\", the route's name is \"%s\"", r->method,
				 r->pattern, id ? id : "(none)", r->name);
		for (const lw__route *s = lw__routes; s != r; s++)
			if (!strcmp(s->name, r->name))
				fail_msg("routes %s %s and %s %s share the name \"%s\"", s->method, s->pattern,
					 r->method, r->pattern, r->name);
	}
}

static void test_openapi_summaries_are_the_route_summaries(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		const char *summary = json_string_value(json_object_get(operation_of(r), "summary"));

		if (!summary || strcmp(summary, r->summary) != 0)
			fail_msg("%s %s: summary \"%s\", the route's is \"%s\"", r->method, r->pattern,
				 summary ? summary : "(none)", r->summary);
	}
}

static void test_openapi_security_follows_the_route_auth_level(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		json_t *op = operation_of(r), *sec = security_of(op), *req;
		json_t *responses = json_object_get(op, "responses");
		bool anonymous = false, bearer = false, other = false;
		size_t i;

		if (sec && !json_is_array(sec))
			fail_msg("%s %s: security is not an array", r->method, r->pattern);
		json_array_foreach(sec, i, req) {
			if (json_is_object(req) && json_object_size(req) == 0)
				anonymous = true;
			else if (requirement_is_bearer(req))
				bearer = true;
			else
				other = true;
		}
		if (other)
			fail_msg("%s %s: a security requirement other than bearerAuth", r->method, r->pattern);
		switch (r->auth) {
		case AUTH_NONE:
			if (bearer || anonymous)
				fail_msg("%s %s takes no token but its security is not empty", r->method,
					 r->pattern);
			break;
		case AUTH_OPTIONAL:
			if (!bearer || !anonymous)
				fail_msg("%s %s takes an optional token: security needs {} and bearerAuth",
					 r->method, r->pattern);
			break;
		case AUTH_USER:
		case AUTH_ADMIN:
			if (!bearer || anonymous)
				fail_msg("%s %s needs a token: security must require bearerAuth", r->method,
					 r->pattern);
			if (!json_object_get(responses, "401"))
				fail_msg("%s %s needs a token but declares no 401", r->method, r->pattern);
			if (r->auth == AUTH_ADMIN && !json_object_get(responses, "403"))
				fail_msg("%s %s is for admins but declares no 403", r->method, r->pattern);
			break;
		}
	}
}

static void test_openapi_declares_every_path_parameter(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		json_t *lists[2] = { json_object_get(operation_of(r), "parameters"),
				     json_object_get(path_item(r), "parameters") };
		char name[64];

		/* every {name} of the pattern is a required path parameter with a schema */
		for (size_t i = 0; pattern_param(r->pattern, i, name, sizeof(name)); i++) {
			json_t *p = parameter(r, "path", name);

			if (!p)
				fail_msg("%s %s: path parameter {%s} is not declared", r->method, r->pattern,
					 name);
			if (!json_is_true(json_object_get(p, "required")))
				fail_msg("%s %s: path parameter {%s} is not required", r->method, r->pattern,
					 name);
			if (!json_is_object(json_object_get(p, "schema")))
				fail_msg("%s %s: path parameter {%s} has no schema", r->method, r->pattern,
					 name);
		}
		/* and no path parameter is declared that the pattern lacks */
		for (size_t l = 0; l < 2; l++) {
			size_t i;
			json_t *p;

			json_array_foreach(lists[l], i, p) {
				json_t *q = resolve(p);
				const char *in = json_string_value(json_object_get(q, "in"));
				const char *pname = json_string_value(json_object_get(q, "name"));

				if (!in || !pname)
					fail_msg("%s %s: a parameter without \"in\" or \"name\"", r->method,
						 r->pattern);
				if (!strcmp(in, "path") && !pattern_has_param(r->pattern, pname))
					fail_msg("%s %s declares path parameter {%s}, which it lacks", r->method,
						 r->pattern, pname);
			}
		}
	}
}

static void test_openapi_request_bodies_follow_the_route_body_kind(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		json_t *body = json_object_get(operation_of(r), "requestBody"), *content;
		const char *type = NULL;

		switch (r->body) {
		case BODY_NONE:
			break;
		case BODY_JSON:
			type = "application/json";
			break;
		case BODY_MULTIPART:
			type = "multipart/form-data";
			break;
		case BODY_STREAM:
			type = "application/octet-stream";
			break;
		}
		if (!type) {
			if (body)
				fail_msg("%s %s takes no body but declares a requestBody", r->method,
					 r->pattern);
			continue;
		}
		if (body && !(body = resolve(body)))
			fail_msg("%s %s: the requestBody's $ref names nothing", r->method, r->pattern);
		content = json_object_get(body, "content");
		if (!json_is_object(json_object_get(content, type)))
			fail_msg("%s %s takes %s but its requestBody does not", r->method, r->pattern, type);
	}
}

static void test_openapi_every_operation_has_a_tag_and_responses(void **state)
{
	(void)state;
	for (const lw__route *r = lw__routes; r->method; r++) {
		json_t *op = operation_of(r), *responses = json_object_get(op, "responses");
		const char *code;
		json_t *resp;

		if (!json_string_value(json_array_get(json_object_get(op, "tags"), 0)))
			fail_msg("%s %s has no tag", r->method, r->pattern);
		if (!json_is_object(responses) || json_object_size(responses) == 0)
			fail_msg("%s %s has no responses", r->method, r->pattern);
		json_object_foreach(responses, code, resp) {
			json_t *res = resolve(resp);

			if (!json_string_value(json_object_get(res, "description")))
				fail_msg("%s %s: response %s has no description", r->method, r->pattern, code);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openapi_is_an_openapi_3_document_with_bearer_auth),
		cmocka_unit_test(test_openapi_every_reference_resolves),
		cmocka_unit_test(test_openapi_lists_every_route),
		cmocka_unit_test(test_openapi_lists_no_route_the_server_lacks),
		cmocka_unit_test(test_openapi_operation_ids_are_the_route_names),
		cmocka_unit_test(test_openapi_summaries_are_the_route_summaries),
		cmocka_unit_test(test_openapi_security_follows_the_route_auth_level),
		cmocka_unit_test(test_openapi_declares_every_path_parameter),
		cmocka_unit_test(test_openapi_request_bodies_follow_the_route_body_kind),
		cmocka_unit_test(test_openapi_every_operation_has_a_tag_and_responses),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_doc);
}
