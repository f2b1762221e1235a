#pragma once
#include <cblas.h>
#include <dlfcn.h>

/// Function-pointer types of the OpenBLAS entry points resolved with dlsym.
typedef void (*skipdit_sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                                 const blasint, const blasint, const blasint, const float, const float *, const blasint,
                                 const float *, const blasint, const float, float *, const blasint);
typedef void (*skipdit_set_threads_fn)(int);
typedef char *(*skipdit_get_corename_fn)(void);
