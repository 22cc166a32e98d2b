// CBLAS + LAPACKE as OpenBLAS ships them on Debian (libopenblas-dev, liblapacke-dev).
// Complex types are plain structs so that Swift's importer sees every LAPACKE prototype.
#ifndef PRUNELANG_CBLAS_SHIM_H
#define PRUNELANG_CBLAS_SHIM_H
#define LAPACK_COMPLEX_STRUCTURE 1
#include <cblas.h>
#include <lapacke.h>
#endif
