/*
 * The hetero map's saved form: one little-endian binary file.
 *
 *   offset   size  field
 *        0      6  magic "LWHMAP"
 *        6      1  format version (1)
 *        7      1  reserved, 0
 *        8  14 x 8 uint64: embed_dim m, token_dim t, hidden, out_dim h,
 *                  partitions, epochs, batch_sources, batch_rows, seed,
 *                  generation, sources, rows, n_params, n_anchors
 *      120  10 x 8 binary64: gamma, overlap, temperature, lr, clip,
 *                  loss_initial, loss_final (NaN losses: untrained),
 *                  set_weight, set_temperature, noise
 *      200  8 n_params  binary64 parameters: Wv (m x t), Wb (m x t), b0 (t),
 *                  W1 (t x hidden), b1 (hidden), W2 (hidden x h), b2 (h),
 *                  each row-major
 *           8 n_anchors (m + 2)  binary64 anchors: a column embedding (m),
 *                  its pooled mean and std
 *      end     32  SHA-256 of every byte before it
 *
 * The map id is the first 8 bytes of that SHA-256 in hex.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetero.h"
#include "sha256.h"
#include "util.h"

#define MAGIC "LWHMAP"
#define MAGIC_LEN 6
#define FORMAT_VERSION 1
#define N_U64 14
#define N_F64 10
#define HEADER_BYTES (8 + 8 * N_U64 + 8 * N_F64)
#define HASH_BYTES 32
/* Largest file read: MAX_PARAMS doubles and the header. */
#define MAX_FILE_BYTES (((size_t)1 << 31) + 4096)

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_f64(unsigned char *p, double x)
{
	uint64_t v;

	memcpy(&v, &x, sizeof(v));
	put_u64(p, v);
}

static double get_f64(const unsigned char *p)
{
	uint64_t v = get_u64(p);
	double x;

	memcpy(&x, &v, sizeof(x));
	return x;
}

int lw_hetero_map_to_buffer(unsigned char **out, size_t *len, const lw_hetero_map *map)
{
	size_t body, abody, total;
	unsigned char *buf, *p;
	uint8_t digest[32];
	lw__sha256 c;
	uint64_t u[N_U64];
	double f[N_F64];

	LW_ASSERT_ARG(out && len && map);
	*out = NULL;
	*len = 0;
	if (!lw__mul_ok(&body, map->n_params, 8) ||
	    !lw__mul_ok(&abody, map->n_anchors, 8 * (map->m + 2)) ||
	    (total = HEADER_BYTES + body + abody + HASH_BYTES) < body + abody)
		return LW_ENOMEM;
	if (!(buf = lw__mallocarray(total, 1)))
		return LW_ENOMEM;
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[6] = FORMAT_VERSION;
	buf[7] = 0;
	u[0] = map->m;
	u[1] = map->t;
	u[2] = map->hidden;
	u[3] = map->h;
	u[4] = map->partitions;
	u[5] = map->epochs;
	u[6] = map->batch_sources;
	u[7] = map->batch_rows;
	u[8] = map->seed;
	u[9] = map->generation;
	u[10] = map->sources;
	u[11] = map->rows;
	u[12] = map->n_params;
	u[13] = map->n_anchors;
	f[0] = map->gamma;
	f[1] = map->overlap;
	f[2] = map->temperature;
	f[3] = map->lr;
	f[4] = map->clip;
	f[5] = map->loss_initial;
	f[6] = map->loss_final;
	f[7] = map->set_weight;
	f[8] = map->set_temperature;
	f[9] = map->noise;
	p = buf + 8;
	for (int i = 0; i < N_U64; i++, p += 8)
		put_u64(p, u[i]);
	for (int i = 0; i < N_F64; i++, p += 8)
		put_f64(p, f[i]);
	for (size_t i = 0; i < map->n_params; i++, p += 8)
		put_f64(p, map->theta[i]);
	for (size_t i = 0; i < map->n_anchors * (map->m + 2); i++, p += 8)
		put_f64(p, map->anchors[i]);
	lw__sha256_init(&c);
	lw__sha256_update(&c, buf, total - HASH_BYTES);
	lw__sha256_final(digest, &c);
	memcpy(p, digest, HASH_BYTES);
	*out = buf;
	*len = total;
	return 0;
}

static void id_from_digest(char id[LW_HETERO_ID_SIZE], const unsigned char *digest)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 8; i++) {
		id[2 * i] = hex[digest[i] >> 4];
		id[2 * i + 1] = hex[digest[i] & 15];
	}
	id[16] = '\0';
}

int lw__hetero_update_id(lw_hetero_map *map)
{
	unsigned char *buf;
	size_t len;
	int err;

	if ((err = lw_hetero_map_to_buffer(&buf, &len, map)) < 0)
		return err;
	id_from_digest(map->id, buf + len - HASH_BYTES);
	free(buf);
	return 0;
}

static int refuse(const char *source, const char *why)
{
	lw_error_set(LW_ERRCLASS_DATA, "%s: %s", source, why);
	return LW_EINVALID;
}

int lw_hetero_map_from_buffer(lw_hetero_map **out, const void *data, size_t len,
			      const char *source)
{
	const unsigned char *buf = data, *p;
	uint64_t u[N_U64];
	double f[N_F64];
	uint8_t digest[32];
	lw__sha256 c;
	lw_hetero_map *map = NULL;
	size_t expect, room, acells = 0;
	int err;

	LW_ASSERT_ARG(out && (data || len == 0));
	*out = NULL;
	if (!source)
		source = "hetero map";
	if (len < 8 || memcmp(buf, MAGIC, MAGIC_LEN))
		return refuse(source, "not a hetero map file (it does not start with \"LWHMAP\")");
	if (buf[6] != FORMAT_VERSION) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: hetero map format version %u; this build reads version %d",
			     source, buf[6], FORMAT_VERSION);
		return LW_EINVALID;
	}
	if (len < HEADER_BYTES + HASH_BYTES)
		return refuse(source, "hetero map file cut short (no complete header)");
	lw__sha256_init(&c);
	lw__sha256_update(&c, buf, len - HASH_BYTES);
	lw__sha256_final(digest, &c);
	if (memcmp(digest, buf + len - HASH_BYTES, HASH_BYTES))
		return refuse(source, "hetero map checksum mismatch: the file is corrupt or cut short");
	p = buf + 8;
	for (int i = 0; i < N_U64; i++, p += 8)
		u[i] = get_u64(p);
	for (int i = 0; i < N_F64; i++, p += 8)
		f[i] = get_f64(p);
	room = (len - HEADER_BYTES - HASH_BYTES) / 8;
	if (u[0] > 0 && u[0] <= ((uint64_t)1 << 20) && u[13] <= room / (u[0] + 2))
		acells = (size_t)(u[13] * (u[0] + 2));
	if (u[12] > room || u[0] == 0 || u[0] > ((uint64_t)1 << 20) || u[13] > room / (u[0] + 2) ||
	    (expect = HEADER_BYTES + 8 * ((size_t)u[12] + acells) + HASH_BYTES) != len) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: hetero map file is %zu bytes but its header announces %llu "
			     "parameters and %llu anchors (cut short, or bytes added)",
			     source, len, (unsigned long long)u[12], (unsigned long long)u[13]);
		return LW_EINVALID;
	}
	for (int i = 0; i < 4; i++)
		if (u[i] == 0 || u[i] > ((uint64_t)1 << 20))
			return refuse(source, "hetero map dimensions out of range");
	if ((err = lw__hetero_alloc(&map, (size_t)u[0], (size_t)u[1], (size_t)u[2],
				    (size_t)u[3])) < 0)
		return err;
	if (map->n_params != u[12]) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: hetero map holds %llu parameters, its dimensions need %zu", source,
			     (unsigned long long)u[12], map->n_params);
		err = LW_EINVALID;
		goto done;
	}
	if (u[4] < 2 || u[4] > 64 || u[6] == 0 || u[7] == 0 || !(f[0] > 0) || !isfinite(f[0]) ||
	    !(f[2] > 0) || !isfinite(f[2]) || !(f[4] > 0) || !isfinite(f[4]) || !(f[7] >= 0) ||
	    !isfinite(f[7]) || !(f[8] > 0) || !isfinite(f[8]) ||
	    !(f[9] >= 0) || !isfinite(f[9])) {
		err = refuse(source, "hetero map settings out of range (partitions, batch, gamma, "
				     "temperature or clip)");
		goto done;
	}
	map->partitions = (unsigned int)u[4];
	map->epochs = u[5] > UINT32_MAX ? UINT32_MAX : (unsigned int)u[5];
	map->batch_sources = (size_t)u[6];
	map->batch_rows = (size_t)u[7];
	map->seed = u[8];
	map->generation = u[9];
	map->sources = (size_t)u[10];
	map->rows = (size_t)u[11];
	map->gamma = f[0];
	map->overlap = f[1];
	map->temperature = f[2];
	map->lr = f[3];
	map->clip = f[4];
	map->loss_initial = f[5];
	map->loss_final = f[6];
	map->set_weight = f[7];
	map->set_temperature = f[8];
	map->noise = f[9];
	for (size_t i = 0; i < map->n_params; i++, p += 8) {
		map->theta[i] = get_f64(p);
		if (!isfinite(map->theta[i])) {
			lw_error_set(LW_ERRCLASS_DATA, "%s: hetero map parameter %zu is not finite",
				     source, i);
			err = LW_EINVALID;
			goto done;
		}
	}
	if (acells) {
		if (!(map->anchors = lw__mallocarray(acells, sizeof(double)))) {
			err = LW_ENOMEM;
			goto done;
		}
		for (size_t i = 0; i < acells; i++, p += 8) {
			map->anchors[i] = get_f64(p);
			if (!isfinite(map->anchors[i]) ||
			    (i % (map->m + 2) == map->m + 1 && !(map->anchors[i] > 0))) {
				lw_error_set(LW_ERRCLASS_DATA,
					     "%s: hetero map anchor %zu holds a non-finite number or a "
					     "std that is not positive",
					     source, i / (map->m + 2));
				err = LW_EINVALID;
				goto done;
			}
		}
		map->n_anchors = (size_t)u[13];
	}
	id_from_digest(map->id, digest);
	*out = map;
	map = NULL;
	err = 0;
done:
	lw_hetero_map_free(map);
	return err;
}

int lw_hetero_map_save(const lw_hetero_map *map, const char *path)
{
	unsigned char *buf;
	size_t len;
	int err;

	LW_ASSERT_ARG(map && path);
	if ((err = lw_hetero_map_to_buffer(&buf, &len, map)) < 0)
		return err;
	err = lw__write_file_atomic(path, (const char *)buf, len);
	free(buf);
	return err;
}

int lw_hetero_map_load(lw_hetero_map **out, const char *path)
{
	char *buf;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&buf, &len, path, MAX_FILE_BYTES)) < 0)
		return err;
	err = lw_hetero_map_from_buffer(out, buf, len, path);
	free(buf);
	return err;
}
