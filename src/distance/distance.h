/*
 * distance.h
 *	  Distance kernels on plain float arrays: no fmgr, no palloc, no Postgres
 *	  types.  Each kernel is a function pointer chosen once at load time by
 *	  VaDistanceInit() from the CPU's features (scalar, AVX2+FMA, ...).
 *
 *	  *Float kernels accumulate in float4: they are the index hot path.
 *	  *Double kernels accumulate in float8: they back the SQL functions,
 *	  whose results must be exact to float8 accumulation.
 */
#ifndef VA_DISTANCE_H
#define VA_DISTANCE_H

/* sum (a[i]-b[i])^2, n >= 0 */
extern float (*VaL2SquaredFloat) (const float *a, const float *b, int n);
/* sum a[i]*b[i] */
extern float (*VaInnerProductFloat) (const float *a, const float *b, int n);
/* sum |a[i]-b[i]| */
extern float (*VaL1Float) (const float *a, const float *b, int n);

extern double (*VaL2SquaredDouble) (const float *a, const float *b, int n);
extern double (*VaInnerProductDouble) (const float *a, const float *b, int n);
extern double (*VaL1Double) (const float *a, const float *b, int n);

/* Name of the kernel set in use, e.g. "avx2+fma" or "scalar". */
extern const char *VaDistanceKernelName(void);

#endif							/* VA_DISTANCE_H */
