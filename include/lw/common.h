/*
 * learnware dock - common definitions shared by every public header.
 */
#ifndef LW_COMMON_H
#define LW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define LW_VERSION "0.1.0"

#ifdef __cplusplus
#define LW_BEGIN_DECL extern "C" {
#define LW_END_DECL }
#else
#define LW_BEGIN_DECL
#define LW_END_DECL
#endif

/* Only symbols marked LW_EXTERN leave the shared library. */
#if defined(__GNUC__)
#define LW_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define LW_EXTERN(type) extern type
#endif

/**
 * Progress report from a long computation: `stage` names the phase, `done`
 * runs from 0 to 1 within it.  Return non-zero to cancel; the computation
 * then stops with LW_ECANCEL.
 */
typedef int (*lw_progress_cb)(const char *stage, double done, void *payload);

#endif
