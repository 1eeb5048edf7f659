/*
 * Simplex-constrained QP by a primal active-set method (docs/qp.md).
 *
 * The free set F holds the variables allowed to be positive.  On the
 * simplex x'11'x = 1, so K and H = K + sigma 11' have the same minimisers;
 * H_FF is positive definite exactly when K is positive definite on the
 * directions {v : supp v in F, sum v = 0} that the constraint leaves, so
 * a plain Cholesky factor of H_FF, updated as F changes, solves each
 * equality-constrained subproblem in O(|F|^2).  Variables enter one at a
 * time (inertia control): when an entering variable would make H_FF
 * singular, K has a zero-curvature descent direction, followed until a
 * bound blocks, after which H_FF is definite again.
 */
#include "lw/qp.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "util.h"

#define NONE SIZE_MAX

/* Tolerances, relative to scale = max(1, max|K_ij|, max|c_i|). */
#define QP_TOL 1e-9	/* accepted KKT residual */
#define QP_PRICE 1e-13	/* multipliers above -QP_PRICE are taken as >= 0 */
#define QP_SYM 1e-9	/* accepted |K_ij - K_ji|, relative */
/* Pivots below this fraction of H_jj are treated as singular. */
#define QP_PIVOT 1e-12
/* Zero-length steps in a row before Bland's rule takes over. */
#define QP_STALL 8
/* Refactorisations from scratch allowed when the final check fails. */
#define QP_REFACTOR 2

struct qp {
	const double *K, *c;
	size_t n, f;	  /* problem size, free-set size */
	double sigma;	  /* weight of 11' in H */
	double price_tol; /* QP_PRICE * scale */
	double mu;	  /* multiplier of sum(x) = 1 in H's problem */
	double *x;	  /* n: the iterate (the caller's output array) */
	double *L;	  /* n*n: Cholesky factor of H_FF, row-major, stride n */
	size_t *idx;	  /* f: the free set in factor order */
	size_t *pos;	  /* n: position of a variable in idx, or NONE */
	double *yc, *y1;  /* f: L^-1 c_F and L^-1 1 */
	double *xn;	  /* n: subspace minimiser on F, or a direction */
	double *row;	  /* n: a new factor row; scratch */
	double *g;	  /* n: scratch */
	size_t iters, stall;
};

static inline double hval(const struct qp *s, size_t i, size_t j)
{
	return s->K[i * s->n + j] + s->sigma;
}

static inline double *lrow(const struct qp *s, size_t p)
{
	return s->L + p * s->n;
}

/* row = L^-1 H_Fj; returns the Schur complement H_jj - |row|^2. */
static double factor_row(struct qp *s, size_t j)
{
	size_t f = s->f;

	for (size_t p = 0; p < f; p++)
		s->row[p] = hval(s, s->idx[p], j);
	if (f)
		cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)f, s->L,
			    (int)s->n, s->row, 1);
	return hval(s, j, j) - (f ? cblas_ddot((int)f, s->row, 1, s->row, 1) : 0.0);
}

/* Append j to F with factor row s->row and Schur complement d2 > 0. */
static void push(struct qp *s, size_t j, double d2)
{
	size_t f = s->f;
	double d = sqrt(d2), *r = lrow(s, f);
	double lc = 0, l1 = 0;

	for (size_t p = 0; p < f; p++) {
		r[p] = s->row[p];
		lc += r[p] * s->yc[p];
		l1 += r[p] * s->y1[p];
	}
	r[f] = d;
	s->yc[f] = (s->c[j] - lc) / d;
	s->y1[f] = (1.0 - l1) / d;
	s->idx[f] = j;
	s->pos[j] = f;
	s->f = f + 1;
}

/* Recompute yc and y1 after the factor changed other than by a push. */
static void refresh_y(struct qp *s)
{
	for (size_t p = 0; p < s->f; p++) {
		s->yc[p] = s->c[s->idx[p]];
		s->y1[p] = 1.0;
	}
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)s->f, s->L,
		    (int)s->n, s->yc, 1);
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)s->f, s->L,
		    (int)s->n, s->y1, 1);
}

/*
 * Remove position k from F.  Dropping row k of L leaves rows k.. with one
 * entry above the diagonal; Givens rotations of column pairs clear it.
 */
static void pop_at(struct qp *s, size_t k)
{
	size_t f = s->f;

	s->pos[s->idx[k]] = NONE;
	for (size_t r = k + 1; r < f; r++) {
		memmove(lrow(s, r - 1), lrow(s, r), (r + 1) * sizeof(double));
		s->idx[r - 1] = s->idx[r];
		s->pos[s->idx[r - 1]] = r - 1;
	}
	for (size_t i = k; i + 1 < f; i++) {
		double a = lrow(s, i)[i], b = lrow(s, i)[i + 1];
		double h = hypot(a, b), cs = a / h, sn = b / h;

		for (size_t t = i; t + 1 < f; t++) {
			double *r = lrow(s, t), u = r[i], v = r[i + 1];

			r[i] = cs * u + sn * v;
			r[i + 1] = cs * v - sn * u;
		}
		lrow(s, i)[i + 1] = 0;
	}
	s->f = f - 1;
	if (k + 1 < f)
		refresh_y(s);
}

/* xn = argmin over {supp x in F, sum x = 1} of 1/2 x'Hx - c'x; sets mu. */
static void subspace_min(struct qp *s)
{
	size_t f = s->f;

	s->mu = (cblas_ddot((int)f, s->y1, 1, s->yc, 1) - 1.0) /
		cblas_ddot((int)f, s->y1, 1, s->y1, 1);
	for (size_t p = 0; p < f; p++)
		s->xn[p] = s->yc[p] - s->mu * s->y1[p];
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)f, s->L, (int)s->n,
		    s->xn, 1);
	if (f == 1)
		s->xn[0] = 1.0; /* a vertex is exact, not 1 + rounding */
}

/*
 * Longest step t <= tmax from x along d (indexed like F) keeping x_F >= 0;
 * *k is the blocking position or NONE.  Ties go to the lowest variable
 * index, which with Bland's entering rule rules out cycling.
 */
static double ratio_test(const struct qp *s, const double *d, double tmax, size_t *k)
{
	double best = tmax;

	*k = NONE;
	for (size_t p = 0; p < s->f; p++) {
		double t;

		if (!(d[p] < 0))
			continue;
		t = s->x[s->idx[p]] / -d[p];
		if (t < best || (t == best && *k != NONE && s->idx[p] < s->idx[*k])) {
			best = t;
			*k = p;
		}
	}
	return best;
}

/* Move x by t*d on F; the blocking position k, if any, lands on zero. */
static void step(struct qp *s, const double *d, double t, size_t k)
{
	for (size_t p = 0; p < s->f; p++) {
		double *xi = &s->x[s->idx[p]];

		*xi = p == k ? 0.0 : fmax(*xi + t * d[p], 0.0);
	}
}

/* sum_p kj[idx_p] xf_p, in four chains to hide the add latency. */
static double gather_dot(const struct qp *s, const double *kj, const double *xf)
{
	double acc[4] = { 0, 0, 0, 0 };
	size_t p = 0;

	for (; p + 4 <= s->f; p += 4)
		for (int q = 0; q < 4; q++)
			acc[q] += kj[s->idx[p + q]] * xf[p + q];
	for (; p < s->f; p++)
		acc[0] += kj[s->idx[p]] * xf[p];
	return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/*
 * The most negative multiplier z_j = (Hx - c)_j + mu over j outside F
 * (Bland: the first below tolerance); NONE when x is optimal.
 */
static size_t price(const struct qp *s, int bland, double *zout)
{
	const double *xf = s->xn;
	int dense = 4 * s->f > s->n; /* then a contiguous dot over x is cheaper */
	size_t best = NONE;
	double zbest = -s->price_tol;

	for (size_t j = 0; j < s->n; j++) {
		const double *kj = s->K + j * s->n;
		double z = s->sigma - s->c[j] + s->mu;

		if (s->pos[j] != NONE)
			continue;
		z += dense ? cblas_ddot((int)s->n, kj, 1, s->x, 1) : gather_dot(s, kj, xf);
		if (z < zbest) {
			zbest = z;
			best = j;
			if (bland)
				break;
		}
	}
	*zout = zbest;
	return best;
}

/* v'Kv for v indexed like F plus vj at variable j. */
static double curvature(const struct qp *s, const double *v, size_t j, double vj)
{
	double sum = vj * vj * s->K[j * s->n + j];

	for (size_t p = 0; p < s->f; p++) {
		const double *ki = s->K + s->idx[p] * s->n;
		double acc = 2.0 * vj * ki[j];

		for (size_t q = 0; q < s->f; q++)
			acc += ki[s->idx[q]] * v[q];
		sum += v[p] * acc;
	}
	return sum;
}

static int breakdown(size_t j)
{
	lw_error_set(LW_ERRCLASS_NUMERIC,
		     "qp: numerical breakdown bringing in variable %zu (is K positive semi-definite?)",
		     j);
	return LW_ERROR;
}

/*
 * Bring in j (z_j < 0) when H_{F+j} is singular: v = (-H_FF^-1 H_Fj, 1)
 * then spans K's null directions on F + j, and g'v = z_j v_j < 0.  Line
 * search along v, capped by the bounds; a blocking variable leaves F,
 * which makes H_{F+j} definite again.  Expects s->row = L^-1 H_Fj.
 */
static int singular_step(struct qp *s, size_t j, double zj, double d2)
{
	double *v = s->xn, vj = 0, curv, t, tstar = INFINITY;
	size_t k;

	memcpy(v, s->row, s->f * sizeof(double));
	if (s->f)
		cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)s->f, s->L,
			    (int)s->n, v, 1);
	for (size_t p = 0; p < s->f; p++) {
		v[p] = -v[p];
		vj -= v[p];	/* exact sum(v) = 0 keeps x on the simplex */
	}
	if (!(vj > 0))
		return breakdown(j);
	curv = curvature(s, v, j, vj);
	if (curv > 0 && d2 > 0)
		tstar = -zj * vj / curv;
	t = ratio_test(s, v, tstar, &k);
	if (!isfinite(t))
		return breakdown(j);
	step(s, v, t, k);
	s->x[j] = t * vj;
	if (k != NONE) {
		pop_at(s, k);
		d2 = factor_row(s, j);
	}
	if (!(d2 > 0))
		return breakdown(j);
	push(s, j, d2);
	return 0;
}

/* Enter j: a plain push when H_{F+j} is safely definite. */
static int enter(struct qp *s, size_t j, double zj, size_t *fresh)
{
	double d2 = factor_row(s, j);

	if (d2 > QP_PIVOT * hval(s, j, j)) {
		push(s, j, d2);
		*fresh = j;
		return 0;
	}
	return singular_step(s, j, zj, d2);
}

static size_t start_vertex(const double *K, const double *c, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (0.5 * K[i * n + i] - c[i] < 0.5 * K[best * n + best] - c[best])
			best = i;
	return best;
}

/* Run active-set iterations until optimal or out of iterations. */
static int iterate(struct qp *s)
{
	size_t maxit = s->iters + 100 + 20 * s->n, fresh = NONE, entered, j, k;
	double z, t;
	int err;

	while (s->iters < maxit) {
		subspace_min(s);
		/*
		 * An entering variable must grow.  Above QP_PIVOT rounding
		 * cannot flip its sign; should it anyway, stop rather than let
		 * j cycle in and out.
		 */
		if ((entered = fresh) != NONE && !(s->xn[s->pos[fresh]] > 0))
			return breakdown(fresh);
		fresh = NONE;
		for (size_t p = 0; p < s->f; p++)
			s->row[p] = s->xn[p] - s->x[s->idx[p]];
		t = ratio_test(s, s->row, 1.0, &k);
		if (k != NONE) {
			s->stall = t > 0 ? 0 : s->stall + 1;
			step(s, s->row, t, k);
			pop_at(s, k);
			s->iters++;
			continue;
		}
		for (size_t p = 0; p < s->f; p++)
			s->x[s->idx[p]] = s->xn[p];
		if (entered != NONE)
			s->stall = 0; /* x_entered grew: strict progress */
		j = price(s, s->stall > QP_STALL, &z);
		if (j == NONE)
			return 0;
		s->iters++;
		if ((err = enter(s, j, z, &fresh)) < 0)
			return err;
	}
	return 0;
}

/* Rebuild L from H_FF, dropping the rounding that updates accumulate. */
static int refactor(struct qp *s)
{
	size_t f = s->f;

	for (size_t p = 0; p < f; p++)
		for (size_t q = 0; q <= p; q++)
			lrow(s, p)[q] = hval(s, s->idx[p], s->idx[q]);
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)f, s->L, (int)s->n) != 0) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "qp: free block lost definiteness");
		return LW_ERROR;
	}
	refresh_y(s);
	return 0;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
}

/* The shift tau of the projection, from a sorted copy u of v. */
static double tau_sorted(const double *v, double *u, size_t n)
{
	double sum = 0, tau;

	memcpy(u, v, n * sizeof(double));
	qsort(u, n, sizeof(double), cmp_desc);
	tau = u[0] - 1.0;
	for (size_t k = 0; k < n; k++) {
		double t;

		sum += u[k];
		t = (sum - 1.0) / (double)(k + 1);
		if (!(u[k] > t))
			break;
		tau = t;
	}
	return tau;
}

/* Michelot's fixed point: no memory, O(n^2) worst case; the OOM fallback. */
static double tau_inplace(const double *v, size_t n)
{
	size_t count = n, prev;
	double sum = 0, tau;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	tau = (sum - 1.0) / (double)n;
	do {
		prev = count;
		sum = 0;
		count = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i] > tau) {
				sum += v[i];
				count++;
			}
		if (count)
			tau = (sum - 1.0) / (double)count;
	} while (count && count < prev);
	return tau;
}

void lw_qp_project_simplex(double *v, size_t n)
{
	double *u, tau;

	if (!v || n == 0)
		return;
	u = malloc(n * sizeof(double));
	tau = u ? tau_sorted(v, u, n) : tau_inplace(v, n);
	free(u);
	for (size_t i = 0; i < n; i++)
		v[i] = fmax(v[i] - tau, 0.0);
}

/* Residual with caller scratch g, u (n each); *obj gets the objective. */
static double kkt_residual(const double *x, const double *K, const double *c, size_t n,
			   double *g, double *u, double *obj)
{
	double r = 0, o = 0, tau;

	cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, 1.0, K, (int)n, x, 1, 0.0, g, 1);
	for (size_t i = 0; i < n; i++) {
		o += x[i] * (0.5 * g[i] - c[i]);
		g[i] = x[i] - (g[i] - c[i]);
	}
	tau = tau_sorted(g, u, n);
	for (size_t i = 0; i < n; i++)
		r = fmax(r, fabs(x[i] - fmax(g[i] - tau, 0.0)));
	if (obj)
		*obj = o;
	return r;
}

double lw_qp_kkt_residual(const double *x, const double *K, const double *c, size_t n)
{
	double *g, r;

	if (!x || !K || !c)
		return NAN;
	if (n == 0)
		return 0;
	if (!(g = lw__mallocarray(n, 2 * sizeof(double))))
		return NAN;
	r = kkt_residual(x, K, c, n, g, g + n, NULL);
	free(g);
	return r;
}

/* Non-zero when the bit pattern of v is an infinity or a NaN. */
static inline int bad_bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return ((u >> 52) & 0x7ff) == 0x7ff;
}

/*
 * max(init, max_i |a_i|), and *bad set when some a_i is not finite.  Four
 * running maxima keep the loop from waiting on one dependency chain.
 */
static double scan(const double *a, size_t m, double init, int *bad)
{
	double mx[4] = { init, init, init, init };
	int b = 0;

	for (size_t i = 0; i < m; i++) {
		double v = fabs(a[i]);

		b |= bad_bits(a[i]);
		mx[i & 3] = v > mx[i & 3] ? v : mx[i & 3];
	}
	*bad = b;
	return fmax(fmax(mx[0], mx[1]), fmax(mx[2], mx[3]));
}

static size_t first_bad(const double *a)
{
	size_t i = 0;

	while (!bad_bits(a[i]))
		i++;
	return i;
}

/* Check K's symmetry in 32x32 tiles, so the transposed reads stay cached. */
static int check_symmetric(const double *K, size_t n)
{
	for (size_t ib = 0; ib < n; ib += 32)
		for (size_t jb = 0; jb <= ib; jb += 32)
			for (size_t i = ib; i < n && i < ib + 32; i++)
				for (size_t j = jb; j < i && j < jb + 32; j++) {
					double a = K[i * n + j], b = K[j * n + i];

					if (fabs(a - b) <= QP_SYM * (1 + fabs(a) + fabs(b)))
						continue;
					lw_error_set(LW_ERRCLASS_INVALID,
						     "qp: K is not symmetric: K[%zu][%zu] = %g, K[%zu][%zu] = %g",
						     i, j, a, j, i, b);
					return LW_EINVALID;
				}
	return 0;
}

/* Validate the input; *scale = max(1, max|K|, max|c|), *diag = max K_ii. */
static int check_input(const double *K, const double *c, size_t n, double *scale, double *diag)
{
	double m;
	size_t at;
	int bad;

	m = scan(K, n * n, 1.0, &bad);
	if (bad) {
		at = first_bad(K);
		lw_error_set(LW_ERRCLASS_INVALID, "qp: K[%zu][%zu] is not finite (%g)", at / n,
			     at % n, K[at]);
		return LW_EINVALID;
	}
	m = scan(c, n, m, &bad);
	if (bad) {
		at = first_bad(c);
		lw_error_set(LW_ERRCLASS_INVALID, "qp: c[%zu] is not finite (%g)", at, c[at]);
		return LW_EINVALID;
	}
	*diag = 0;
	for (size_t i = 0; i < n; i++) {
		if (K[i * n + i] < 0) {
			lw_error_set(LW_ERRCLASS_INVALID,
				     "qp: K[%zu][%zu] = %g < 0: K is not positive semi-definite", i,
				     i, K[i * n + i]);
			return LW_EINVALID;
		}
		*diag = fmax(*diag, K[i * n + i]);
	}
	*scale = m;
	return check_symmetric(K, n);
}

static void qp_dispose(struct qp *s)
{
	free(s->L);
	free(s->idx);
	free(s->pos);
	free(s->yc);
}

static int qp_init(struct qp *s, double *x, const double *K, const double *c, size_t n)
{
	size_t nn;

	memset(s, 0, sizeof(*s));
	s->K = K;
	s->c = c;
	s->n = n;
	s->x = x;
	if (!lw__mul_ok(&nn, n, n)) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "qp: %zu x %zu matrix overflows", n, n);
		return LW_ENOMEM;
	}
	s->L = lw__mallocarray(nn, sizeof(double));
	s->idx = lw__mallocarray(n, sizeof(size_t));
	s->pos = lw__mallocarray(n, sizeof(size_t));
	s->yc = lw__mallocarray(n, 5 * sizeof(double));
	if (!s->L || !s->idx || !s->pos || !s->yc) {
		qp_dispose(s);
		return LW_ENOMEM;
	}
	s->y1 = s->yc + n;
	s->xn = s->y1 + n;
	s->row = s->xn + n;
	s->g = s->row + n;
	for (size_t i = 0; i < n; i++) {
		s->pos[i] = NONE;
		x[i] = 0;
	}
	return 0;
}

/* Iterate, verify the KKT residual, refactor and resume if it falls short. */
static int solve(struct qp *s, double tol, double *res, double *obj)
{
	size_t j = start_vertex(s->K, s->c, s->n);
	int err;

	s->x[j] = 1.0;
	push(s, j, factor_row(s, j));
	for (int round = 0;; round++) {
		if ((err = iterate(s)) < 0)
			return err;
		*res = kkt_residual(s->x, s->K, s->c, s->n, s->g, s->row, obj);
		if (*res <= tol)
			return 0;
		if (round == QP_REFACTOR)
			break;
		if ((err = refactor(s)) < 0)
			return err;
	}
	lw_error_set(LW_ERRCLASS_NUMERIC, "qp: KKT residual %.3g above tolerance %.3g after %zu iterations",
		     *res, tol, s->iters);
	return LW_ERROR;
}

int lw_qp_simplex(double *x, const double *K, const double *c, size_t n, lw_qp_info *info)
{
	struct qp s;
	double scale, diag, res = NAN, obj = NAN;
	int err;

	LW_ASSERT_ARG(x && K && c);
	if (n == 0 || n > INT32_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "qp: size %zu out of range", n);
		return LW_EINVALID;
	}
	if ((err = check_input(K, c, n, &scale, &diag)) < 0)
		return err;
	if ((err = qp_init(&s, x, K, c, n)) < 0)
		return err;
	/* sigma on K's scale keeps H as well conditioned as K allows. */
	s.sigma = diag > 0 ? diag : 1.0;
	s.price_tol = QP_PRICE * scale;
	err = solve(&s, QP_TOL * scale, &res, &obj);
	if (info) {
		info->iterations = s.iters;
		info->objective = obj;
		info->kkt_residual = res;
	}
	qp_dispose(&s);
	return err;
}
