/*
 * learnware dock - statistical search: rank specifications by their MMD to
 * a user's RKME and find a weighted mixture that matches the user better
 * than any single one, with the reference engine's scoring.
 */
#ifndef LW_SEARCH_H
#define LW_SEARCH_H

#include "common.h"
#include "rkme.h"

LW_BEGIN_DECL

typedef enum {
	LW_MIXTURE_GREEDY = 0, /**< add the learnware that lowers the mixture MMD most, while it drops 5% */
	LW_MIXTURE_AUTO,       /**< one QP over all candidates, keep the heaviest up to 98% of the weight */
	LW_MIXTURE_NONE        /**< single results only */
} lw_mixture_method;

typedef struct {
	unsigned int version;
	size_t max_search_num;    /**< mixture size cap; the top max^2 are candidates (5) */
	lw_mixture_method method; /**< (greedy) */
} lw_stat_search_options;

#define LW_STAT_SEARCH_OPTIONS_VERSION 1
#define LW_STAT_SEARCH_OPTIONS_INIT { LW_STAT_SEARCH_OPTIONS_VERSION, 5, LW_MIXTURE_GREEDY }

/** One ranked specification. */
typedef struct {
	size_t index; /**< position in the candidate array given to the search */
	double mmd2;  /**< squared MMD to the user */
	double score; /**< the reference's score in (0, 1] */
} lw_search_single;

/** The recommended mixture, with the weights the reference does not return. */
typedef struct {
	size_t count;    /**< 0 when no mixture is recommended */
	size_t *indices; /**< candidate positions, in the order they joined */
	double *weights; /**< non-negative, summing to 1 */
	double mmd2;     /**< squared MMD of the weighted mixture to the user */
	double score;
} lw_search_mixture;

typedef struct {
	lw_search_single *singles; /**< best first, filtered at score 0.6 (the first is always kept) */
	size_t n_singles;
	lw_search_mixture mixture;
} lw_stat_search_result;

/**
 * Search the candidates for the user's specification.  Candidates whose
 * dimension differs from the user's, or whose distance is not finite, are
 * skipped (not an error); a user specification whose self-distance is not
 * finite is an error.
 *
 * @param[out] out  filled in; release its contents with lw_stat_search_result_dispose
 */
LW_EXTERN(int) lw_stat_search(lw_stat_search_result *out, const lw_rkme *user,
			      const lw_rkme *const *candidates, size_t n,
			      const lw_stat_search_options *opts);

LW_EXTERN(void) lw_stat_search_result_dispose(lw_stat_search_result *r);

/**
 * Any kernel's candidates, for specifications that are not table RKMEs
 * (the image specification's convolutional kernel): the search sees only
 * distances and inner products, through these callbacks.
 */
typedef struct {
	size_t n;         /**< candidates, numbered 0..n-1 */
	double user_self; /**< <user, user> */
	/** d[i] = MMD^2(user, candidate i); a non-finite value skips the candidate */
	int (*dist_all)(double *d, void *payload);
	/** <user, candidate i> */
	int (*inner_user)(double *out, size_t i, void *payload);
	/** <candidate i, candidate j>, i == j included */
	int (*inner)(double *out, size_t i, size_t j, void *payload);
	/** applied to distances before they become scores (NULL: none); results keep the raw MMD^2 */
	double (*score_transform)(double mmd2);
	void *payload;
} lw_search_space;

/** lw_stat_search over a search space: the same ranking, mixture and scores. */
LW_EXTERN(int) lw_stat_search_space(lw_stat_search_result *out, const lw_search_space *space,
				    const lw_stat_search_options *opts);

/**
 * The reference's distance-to-score map, applied in place to n distances
 * (the single results' and, last, the mixture's).
 */
LW_EXTERN(void) lw_search_scores(double *scores, const double *dist, size_t n);

LW_END_DECL

#endif
