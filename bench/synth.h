/*
 * bench/synth: the synthetic learnwares of the dock benchmarks (bench_dock,
 * bench_serve).
 *
 * Each learnware is a linear model on d = SYNTH_D inputs with an RKME of
 * K = SYNTH_K points drawn from one of `families` Gaussian families
 * (centres N(0, 2^2 I), a per-learnware shift of 0.3 N(0, I), unit noise),
 * so that every user has close and far learnwares.  Users draw their points
 * from one family with no shift.
 */
#ifndef LW_BENCH_SYNTH_H
#define LW_BENCH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "lw.h"

#define SYNTH_D 20
#define SYNTH_K 100

/* The name error messages start with ("bench_dock", ...); set it first. */
extern const char *synth_prog;

/* Print "<prog>: <what>: <the library's last error>" and exit 1. */
void synth_die(const char *what);

/* Seconds on the monotonic clock. */
double synth_now(void);

/* The p-quantile (0..1) of v[0..n), which it sorts. */
double synth_pct(double *v, size_t n, double p);

/* The families' centres (families x SYNTH_D), from the fixed seed 42. */
void synth_centres(lw_mat *centres, size_t families);

/* SYNTH_K points of family f, shifted by shift * N(0, I) drawn from seed. */
lw_rkme *synth_rkme(const lw_mat *centres, size_t f, uint64_t seed, double shift);

/* The RKME of user u, as bench_dock draws its users. */
lw_rkme *synth_user(const lw_mat *centres, size_t families, size_t u);

/* Make <tmp>/src and <tmp>/zip, where synth_package writes. */
void synth_dirs(const char *tmp);

/* Learnware i: its files in <tmp>/src/<i>/, its package <tmp>/zip/<i>.zip. */
void synth_package(const char *tmp, size_t i, const lw_mat *centres, size_t families);

#endif
