/*
 * The route table: every API path, who may call it and what body it
 * takes.  openapi.json is checked against this table by a test, so the
 * document cannot drift from what the server answers.
 */
#include <string.h>

#include "server.h"

#define A "/api/v1"

const lw__route lw__routes[] = {
	{ "GET", "/healthz", lw__api_healthz, AUTH_NONE, BODY_NONE, "liveness and store check", "healthz" },
	{ "GET", "/metrics", lw__api_metrics, AUTH_NONE, BODY_NONE, "Prometheus metrics", "metrics" },
	{ "GET", A "/openapi.json", lw__api_openapi, AUTH_NONE, BODY_NONE, "this document", "openapi" },
	{ "GET", A "/taxonomy", lw__api_taxonomy, AUTH_NONE, BODY_NONE, "the semantic taxonomy", "taxonomy" },

	{ "POST", A "/auth/register", lw__api_register, AUTH_NONE, BODY_JSON, "create an account", "register" },
	{ "POST", A "/auth/login", lw__api_login, AUTH_NONE, BODY_JSON, "log in: a session token", "login" },
	{ "POST", A "/auth/logout", lw__api_logout, AUTH_USER, BODY_NONE, "revoke this token", "logout" },
	{ "GET", A "/me", lw__api_me, AUTH_USER, BODY_NONE, "the profile", "me" },
	{ "PATCH", A "/me", lw__api_me_update, AUTH_USER, BODY_JSON, "change the profile", "me_update" },
	{ "POST", A "/me/password", lw__api_password, AUTH_USER, BODY_JSON, "change the password", "password" },
	{ "GET", A "/me/tokens", lw__api_tokens, AUTH_USER, BODY_NONE, "the user's tokens", "tokens" },
	{ "POST", A "/me/tokens", lw__api_token_create, AUTH_USER, BODY_JSON, "create an API token", "token_create" },
	{ "DELETE", A "/me/tokens/{id}", lw__api_token_delete, AUTH_USER, BODY_NONE, "revoke a token", "token_delete" },

	{ "GET", A "/learnwares", lw__api_learnware_list, AUTH_OPTIONAL, BODY_NONE, "list learnwares", "learnware_list" },
	{ "POST", A "/learnwares", lw__api_learnware_add, AUTH_USER, BODY_MULTIPART, "submit a learnware", "learnware_add" },
	{ "GET", A "/learnwares/{id}", lw__api_learnware_get, AUTH_OPTIONAL, BODY_NONE, "a learnware", "learnware_get" },
	{ "PATCH", A "/learnwares/{id}", lw__api_learnware_patch, AUTH_USER, BODY_JSON, "change the semantic specification", "learnware_patch" },
	{ "DELETE", A "/learnwares/{id}", lw__api_learnware_delete, AUTH_USER, BODY_NONE, "delete a learnware", "learnware_delete" },
	{ "PUT", A "/learnwares/{id}/file", lw__api_learnware_replace, AUTH_USER, BODY_MULTIPART, "replace the package", "learnware_replace" },
	{ "GET", A "/learnwares/{id}/file", lw__api_learnware_file, AUTH_OPTIONAL, BODY_NONE, "download the package", "learnware_file" },
	{ "GET", A "/learnwares/{id}/verification", lw__api_learnware_verification, AUTH_USER, BODY_NONE, "verification status and log", "learnware_verification" },
	{ "GET", A "/learnwares/{id}/specs/{type}", lw__api_learnware_spec, AUTH_OPTIONAL, BODY_NONE, "a statistical specification", "learnware_spec" },
	{ "GET", A "/download", lw__api_download, AUTH_OPTIONAL, BODY_NONE, "several packages in one zip", "download" },

	{ "POST", A "/uploads", lw__api_upload_create, AUTH_USER, BODY_JSON, "start a resumable upload", "upload_create" },
	{ "GET", A "/uploads/{id}", lw__api_upload_get, AUTH_USER, BODY_NONE, "where to resume", "upload_get" },
	{ "PUT", A "/uploads/{id}", lw__api_upload_put, AUTH_USER, BODY_STREAM, "append a chunk", "upload_put" },
	{ "POST", A "/uploads/{id}/finish", lw__api_upload_finish, AUTH_USER, BODY_JSON, "check the hash and submit", "upload_finish" },
	{ "DELETE", A "/uploads/{id}", lw__api_upload_delete, AUTH_USER, BODY_NONE, "abandon an upload", "upload_delete" },

	{ "POST", A "/search", lw__api_search, AUTH_OPTIONAL, BODY_MULTIPART, "search learnwares", "search" },

	{ "GET", A "/admin/summary", lw__api_admin_summary, AUTH_ADMIN, BODY_NONE, "counts for the dashboard", "admin_summary" },
	{ "GET", A "/admin/users", lw__api_admin_users, AUTH_ADMIN, BODY_NONE, "all users", "admin_users" },
	{ "PATCH", A "/admin/users/{id}", lw__api_admin_user_patch, AUTH_ADMIN, BODY_JSON, "set a role", "admin_user_patch" },
	{ "DELETE", A "/admin/users/{id}", lw__api_admin_user_delete, AUTH_ADMIN, BODY_NONE, "delete a user", "admin_user_delete" },
	{ "GET", A "/admin/learnwares", lw__api_admin_learnwares, AUTH_ADMIN, BODY_NONE, "learnwares of every status", "admin_learnwares" },
	{ NULL, NULL, NULL, AUTH_NONE, BODY_NONE, NULL, NULL },
};

/* Match one pattern; {name} takes one non-empty segment of safe characters. */
static bool match(const char *pat, const char *path, char params[2][64])
{
	int np = 0;

	while (*pat && *path) {
		if (*pat == '{') {
			size_t n = 0;

			pat = strchr(pat, '}') + 1;
			while (path[n] && path[n] != '/')
				n++;
			if (n == 0 || n >= 64 || np >= 2)
				return false;
			memcpy(params[np], path, n);
			params[np][n] = '\0';
			np++;
			path += n;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return *pat == '\0' && *path == '\0';
}

const lw__route *lw__route_match(const char *method, const char *path, char params[2][64],
				 bool *path_known)
{
	const lw__route *found = NULL;

	*path_known = false;
	for (const lw__route *r = lw__routes; r->method && !found; r++) {
		char p[2][64] = { "", "" };

		if (!match(r->pattern, path, p))
			continue;
		*path_known = true;
		if (!strcmp(r->method, method) || (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"))) {
			memcpy(params, p, sizeof(p));
			found = r;
		}
	}
	return found;
}
