/*
 * The sketch index's internals, shared by src/lib/index*.c and the tests.
 *
 * index.c        the object, the id map, updates and queries
 * index_sketch.c feature maps, sketches and their int8 codes
 * index_ivf.c    coarse lists: k-means training and reassignment
 * index_file.c   the file format (save and load)
 */
#ifndef LW_INDEX_INTERNAL_H
#define LW_INDEX_INTERNAL_H

#include "lw/index.h"

#define LW__INDEX_MAX_FEATURES 65536
#define LW__INDEX_MAX_DIM 1000000
#define LW__INDEX_MAX_PARTS 4096
/* A feature map holds at most this many doubles (256 MiB): dim * D/2. */
#define LW__INDEX_MAP_DOUBLES ((size_t)1 << 25)
#define LW__INDEX_MAX_LISTS 65536
/* Slots per list are uint32_t; one partition holds at most this many entries. */
#define LW__INDEX_MAX_ENTRIES ((size_t)1 << 32)

/*
 * Hot loops get an AVX2 clone beside the baseline one, picked at load time
 * (the build targets plain x86-64).  Their results do not depend on the
 * clone except for the order of float sums in dot products.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LW__INDEX_VECTOR __attribute__((target_clones("avx2", "default")))
#else
#define LW__INDEX_VECTOR
#endif

/* One coarse list: entries with their codes, in slot order. */
typedef struct {
	uint64_t *ids;
	float *scale;  /* the sketch is scale * code */
	float *norm2;  /* |scale * code|^2 */
	int8_t *codes; /* cap x D */
	uint32_t count, cap;
} lw__index_list;

typedef struct {
	size_t dim;
	double gamma;
	double *WT;            /* dim x D/2: the frequencies, one per column */
	size_t count;          /* entries over all lists */
	size_t nlist;          /* 1 while flat */
	size_t trained_at;     /* count at the last training; 0 while flat */
	float *centroids;      /* nlist x D; NULL while flat */
	float *cnorm2;         /* |centroid|^2 */
	lw__index_list *lists; /* nlist */
} lw__index_part;

/* Where an id lives; pos == UINT32_MAX marks an empty bucket. */
typedef struct {
	uint64_t id;
	uint32_t part, list, pos;
} lw__index_bucket;

struct lw_index {
	lw_index_options o;
	lw__index_part *parts;
	size_t nparts;
	lw__index_bucket *map; /* open addressing, linear probing, load < 1/2 */
	size_t map_cap, map_used;
};

/* A sketch as stored: D int8 codes and their scale. */
typedef struct {
	float scale, norm2;
	uint32_t list;
} lw__index_code;

/* --- index.c ------------------------------------------------------------- */

uint64_t lw__index_mix64(uint64_t x);
/* The partition for (dim, gamma), created with its feature map when missing. */
int lw__index_part_get(lw__index_part **out, lw_index *ix, size_t dim, double gamma);
int lw__index_map_reserve(lw_index *ix, size_t want);
size_t lw__index_map_find(const lw_index *ix, uint64_t id);
void lw__index_map_put(lw_index *ix, lw__index_bucket b);
/* Append an entry to a list (the map is not touched). */
int lw__index_list_push(lw__index_list *l, size_t D, uint64_t id, const int8_t *code, float scale,
			float norm2);
int lw__index_list_reserve(lw__index_list *l, size_t D, size_t cap);
void lw__index_list_dispose(lw__index_list *l);
void lw__index_part_dispose(lw__index_part *p);
/* Retrain p when its size calls for it (see lw_index_add). */
int lw__index_maybe_train(lw_index *ix, lw__index_part *p);

/* --- index_sketch.c ------------------------------------------------------ */

/*
 * The m frequencies for (seed, dim, gamma), stored transposed (dim x m):
 * blocks of min(m, dim) orthonormal directions, each scaled by the norm of
 * an independent Gaussian vector, times sqrt(2 gamma).
 */
int lw__index_feature_map(double *WT, size_t m, size_t dim, double gamma, uint64_t seed);

/* Scratch doubles lw__index_sketch needs. */
size_t lw__index_sketch_scratch(size_t D);

/* The D-vector sketch of r under WT (dim x D/2); LW_EINVALID when not finite. */
int lw__index_sketch(double *out, const double *WT, size_t D, const lw_rkme *r, double *scratch);

/* int8 codes of a sketch: code = round(s / scale), scale = max|s| / 127. */
void lw__index_quantise(int8_t *code, float *scale, float *norm2, const double *s, size_t D);

/* |scale * code|^2 */
float lw__index_code_norm2(const int8_t *code, float scale, size_t D);

/* sum_j u[j] * code[j] */
float lw__index_code_dot(const float *u, const int8_t *code, size_t D);

/* sum_j a[j] * b[j] */
float lw__index_dot(const float *a, const float *b, size_t D);

/* --- index_ivf.c --------------------------------------------------------- */

/* The nearest centroid of a sketch u (D floats). */
uint32_t lw__index_nearest_list(const lw__index_part *p, const float *u, size_t D);

/*
 * Cluster p's sketches into nlist lists (k-means on a sample), or merge
 * them into one list when nlist <= 1, and move every entry to its list.
 */
int lw__index_relist(lw_index *ix, lw__index_part *p, size_t nlist);

/* --- index_file.c -------------------------------------------------------- */

/* Nothing shared yet beyond lw_index_save and lw_index_load. */

#endif
