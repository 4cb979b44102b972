/*
 * typeutil.h
 *	  The mechanisms the vector types share, each in one copy, parametrised
 *	  by what differs between the types: the type's name (for messages), its
 *	  largest number of dimensions, its struct, getarg/init and size macros,
 *	  its element conversions (to and from float4/float8) and its distance
 *	  kernels.
 *
 *	  Functions (typeutil.c, or inline here): checks of dimensions and
 *	  elements, the typmod input routine, the text-input token and list
 *	  readers, array coercion, the dense binary header, float arrays, the
 *	  avg aggregate state, the cosine distance from its parts.
 *
 *	  Macros that define whole families of fmgr functions, so that vector,
 *	  halfvec and sparsevec (and bit's VaIndexOps) have one copy of each:
 *	  distances (VA_BINARY_FLOAT8_FUNCTION), element-wise operators, btree
 *	  comparisons, typmod and length coercion, casts, I/O, norms, shape
 *	  functions, avg aggregates and the VaIndexOps of each operator class.
 *	  The macros expand to the code a type would write by hand: no function
 *	  pointers, so hot loops (distance kernels, input parsing) are as fast
 *	  as before.
 *
 *	  Used only by src/type; knows no index access method.
 */
#ifndef VA_TYPEUTIL_H
#define VA_TYPEUTIL_H

#include "indexops.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/varbit.h"

/* ---------------------------------------------------------------------
 * Checks
 * ---------------------------------------------------------------------
 */

/*
 * ERROR unless 1 <= dim <= maxdim: DATA_EXCEPTION "<typname> must have at
 * least 1 dimension", PROGRAM_LIMIT_EXCEEDED "<typname> cannot have more
 * than <maxdim> dimensions".
 */
extern void VaCheckDim(const char *typname, int64 dim, int32 maxdim);

/*
 * ERROR (DATA_EXCEPTION "expected <typmod> dimensions, not <dim>") when a
 * typmod is given (>= 0) and dim differs from it.
 */
extern void VaCheckExpectedDim(int32 typmod, int dim);

/* The ERRORs behind VaCheckElement and VaCheckSameDims (never return). */
extern void VaInvalidElement(const char *typname, float x) pg_attribute_noreturn();
extern void VaDifferentDims(const char *typname, int da, int db) pg_attribute_noreturn();

/*
 * ERROR (DATA_EXCEPTION "NaN not allowed in <typname>", or "infinite value
 * not allowed in <typname>") when x is not finite.  Inline: it runs once
 * per element of every input.
 */
static inline void
VaCheckElement(const char *typname, float x)
{
	if (unlikely(isnan(x) || isinf(x)))
		VaInvalidElement(typname, x);
}

/*
 * ERROR (DATA_EXCEPTION "different <typname> dimensions <da> and <db>")
 * when the two operands' (or an operand's and a state's) dimensions differ.
 */
static inline void
VaCheckSameDims(const char *typname, int da, int db)
{
	if (unlikely(da != db))
		VaDifferentDims(typname, da, db);
}

/*
 * ERROR (NUMERIC_VALUE_OUT_OF_RANGE, float_underflow_error) when a product
 * of the nonzero factors x and y came out zero (zero: the caller's test of
 * the rounded product), as for type real.
 */
static inline void
VaCheckUnderflow(bool zero, float x, float y)
{
	if (unlikely(zero) && x != 0.0f && y != 0.0f)
		float_underflow_error();
}

/*
 * The typmod input routine of <typname>(n): the n of a cstring[] of
 * typmods, exactly one integer in 1..maxdim.  Errors:
 * INVALID_PARAMETER_VALUE.
 */
extern int32 VaTypmodIn(ArrayType *typmods, const char *typname, int32 maxdim);

/*
 * -1, 0 or 1 as a is less than, equal to or greater than b (numbers, not
 * NaN; each argument is evaluated twice).
 */
#define VaCompare(a, b) (((a) > (b)) - ((a) < (b)))

/* ---------------------------------------------------------------------
 * Text input
 * ---------------------------------------------------------------------
 */

/* The whitespace text input skips: the C locale's isspace(). */
static inline bool
VaIsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * ERROR (INVALID_TEXT_REPRESENTATION) for malformed text str of typname,
 * quoting the whole input, with detail as errdetail.
 */
extern void VaInvalidText(const char *typname, const char *str,
						  const char *detail) pg_attribute_noreturn();

/*
 * After an element of a list in the text str of typname, at *pp: skip
 * whitespace, then read ',' (true: another element follows) or the closing
 * character close (false: the list ends), advancing *pp past it.  Errors:
 * INVALID_TEXT_REPRESENTATION "Unexpected end of input." or, for anything
 * else, with the detail expected.
 */
static inline bool
VaListContinues(const char *str, const char *typname, const char **pp,
				char close, const char *expected)
{
	const char *p = *pp;

	while (VaIsSpace(*p))
		p++;
	*pp = p + 1;
	if (*p == ',')
		return true;
	if (*p == close)
		return false;
	if (*p == '\0')
		VaInvalidText(typname, str, "Unexpected end of input.");
	VaInvalidText(typname, str, expected);
}

/* ERROR (NUMERIC_VALUE_OUT_OF_RANGE) quoting the number text [p, end). */
extern void VaFloatOutOfRange(const char *typname, const char *p,
							  const char *end) pg_attribute_noreturn();

/*
 * Read one number of the text str of typname at *pp, after any whitespace,
 * and advance *pp just past it.  The number is anything strtof() accepts
 * whole; a number too small even for a subnormal becomes a zero of its
 * sign.  Errors: INVALID_TEXT_REPRESENTATION "Expected a number." when the
 * token is empty (end of input, ',' or the closing character close),
 * NUMERIC_VALUE_OUT_OF_RANGE past FLT_MAX, DATA_EXCEPTION for NaN and
 * infinity (VaCheckElement).  Inline: the loop of every text input.
 */
static inline float
VaReadFloatToken(const char *str, const char *typname, const char **pp, char close)
{
	const char *p = *pp;
	char	   *end;
	float		val;

	while (VaIsSpace(*p))
		p++;
	/* an empty token is a syntax error (strtof would report it less clearly) */
	if (*p == '\0' || *p == ',' || *p == close)
		VaInvalidText(typname, str, "Expected a number.");
	errno = 0;
	val = strtof(p, &end);
	if (end == p)
		VaInvalidText(typname, str, "Expected a number.");
	/* ERANGE with a zero or subnormal result is underflow: keep it */
	if (errno == ERANGE && isinf(val))
		VaFloatOutOfRange(typname, p, end);
	VaCheckElement(typname, val);
	*pp = end;
	return val;
}

/* ---------------------------------------------------------------------
 * Array coercion and binary input
 * ---------------------------------------------------------------------
 */

/*
 * The elements of array, the argument of a cast to <typname>(typmod), as a
 * palloc'd Datum array of *nelems values of type ARR_ELEMTYPE(array) (read
 * each with VaArrayElementToFloat, type/vector.h).  The array must be
 * one-dimensional, hold 1..VA_MAX_DIM elements and no nulls; with a typmod
 * the count must equal it.  Errors: DATA_EXCEPTION (not 1-D, empty,
 * typmod), PROGRAM_LIMIT_EXCEEDED (VaCheckDim), NULL_VALUE_NOT_ALLOWED.
 */
extern Datum *VaArrayElements(ArrayType *array, int32 typmod,
							  const char *typname, int *nelems);

/*
 * Read the header of the binary form of a dense type (vector, halfvec):
 * int16 dim, int16 unused, and check that dim is in 1..VA_MAX_DIM, unused
 * is 0, that dim elements of elemsize bytes follow in buf and the typmod.
 * Returns dim; buf is left at the first element.  Errors:
 * INVALID_BINARY_REPRESENTATION, DATA_EXCEPTION, PROGRAM_LIMIT_EXCEEDED.
 */
extern int	VaRecvDenseHeader(StringInfo buf, int32 typmod, const char *typname,
							  Size elemsize);

/*
 * The floats x[0..n) as a one-dimensional real[] (as_float8 false) or,
 * each widened exactly, double precision[] (as_float8 true), lower bound 1.
 */
extern ArrayType *VaFloatArray(const float *x, int n, bool as_float8);

/* ---------------------------------------------------------------------
 * The avg aggregate state: a double precision[] {count, sum_1, ...,
 * sum_dims}, {0} before the first value (see VaAvgState, type/vector.h)
 * ---------------------------------------------------------------------
 */

/* A fresh double precision[] state holding values[0..n). */
extern ArrayType *VaAvgStateMake(const float8 *values, int n);

/*
 * The next state of an avg transition taking a value of dim dimensions:
 * a palloc'd {count + 1, sum_1, ..., sum_dim} (sums 0 for the initial
 * state) to which the caller adds the value's elements before
 * VaAvgStateMake(next, dim + 1).  Errors: DATA_EXCEPTION for a state of
 * other dimensions ("different <typname> dimensions") or a malformed state.
 */
extern float8 *VaAvgAccumStart(ArrayType *state, const char *typname, int dim);

/*
 * The avg combine function of two states (parallel aggregation): counts
 * and sums added; the initial state {0} combines with any state.  Errors:
 * DATA_EXCEPTION for states of different dimensions ("different <typname>
 * dimensions") or a malformed state.
 */
extern ArrayType *VaAvgCombine(ArrayType *sa, ArrayType *sb, const char *typname);

/*
 * The means of the final avg state, each sum / count rounded to float4, in
 * a palloc'd array of *dims values; NULL when the state has seen no value.
 * The caller converts and checks each (a hand-made state may overflow).
 * Errors: DATA_EXCEPTION for a malformed state.
 */
extern float *VaAvgMeans(ArrayType *state, const char *typname, int *dims);

/* ---------------------------------------------------------------------
 * Distances
 * ---------------------------------------------------------------------
 */

/*
 * The cosine distance 1 - dot / sqrt(na * nb) from the inner product and
 * the squared norms, in [0, 2] (the cosine is clamped to [-1, 1] against
 * rounding); NaN when either norm is zero.
 */
static inline double
VaCosineDistance(double dot, double na, double nb)
{
	double		cosine;

	if (na == 0.0 || nb == 0.0)
		return get_float8_nan();
	cosine = dot / sqrt(na * nb);
	if (cosine > 1.0)
		cosine = 1.0;
	else if (cosine < -1.0)
		cosine = -1.0;
	return 1.0 - cosine;
}

/*
 * fname(T, T) RETURNS double precision for a type whose struct Type has a
 * dim field, read with getarg (detoasting): expr, a double computed from
 * the operands a and b, after VaCheckSameDims(typname) (DATA_EXCEPTION on
 * different dimensions).  The SQL distance functions of the vector types.
 */
#define VA_BINARY_FLOAT8_FUNCTION(fname, Type, getarg, typname, expr) \
	VA_FMGR_FUNCTION(fname) \
	{ \
		Type	   *a = getarg(0); \
		Type	   *b = getarg(1); \
		VaCheckSameDims(typname, a->dim, b->dim); \
		PG_RETURN_FLOAT8(expr); \
	}

/*
 * fname(T, T) RETURNS T, an element-wise operator of a dense type (struct
 * Type with dim and x[dim], read with getarg, made by init(dim)): result
 * element x[i] is expr, computed from a, b and i, which raises any error of
 * the operation.  Errors: DATA_EXCEPTION on different dimensions
 * (VaCheckSameDims(typname)).
 */
#define VA_ELEMENTWISE_FUNCTION(fname, Type, getarg, init, typname, expr) \
	VA_FMGR_FUNCTION(fname) \
	{ \
		Type	   *a = getarg(0); \
		Type	   *b = getarg(1); \
		Type	   *result; \
		VaCheckSameDims(typname, a->dim, b->dim); \
		result = init(a->dim); \
		for (int i = 0; i < a->dim; i++) \
			result->x[i] = (expr); \
		PG_RETURN_POINTER(result); \
	}

/*
 * The btree comparison functions of a type: prefix_cmp (integer) and
 * prefix_eq .. prefix_ge (boolean, VA_DEFINE_COMPARISONS in vectorann.h),
 * all through the three-way prefix_cmp_internal(const Type *, const Type *)
 * the file defines, on operands read with getarg; detoasted copies are
 * freed.
 */
#define VA_DEFINE_TYPE_COMPARISONS(prefix, Type, getarg) \
	static int \
	prefix##_cmp_args(FunctionCallInfo fcinfo) \
	{ \
		Type	   *a = getarg(0); \
		Type	   *b = getarg(1); \
		int			c = prefix##_cmp_internal(a, b); \
		PG_FREE_IF_COPY(a, 0); \
		PG_FREE_IF_COPY(b, 1); \
		return c; \
	} \
	VA_DEFINE_COMPARISONS(prefix)

/*
 * The Euclidean norm of the point mean[0..dim) (k-means centroids), in
 * float8; false when it is zero or not finite (the point cannot be scaled
 * to unit length).
 */
extern bool VaMeanNorm(const double *mean, int dim, double *norm);

/* ---------------------------------------------------------------------
 * Index ops (VaIndexOps, vectorann.h)
 * ---------------------------------------------------------------------
 */

/*
 * The head of an fmgr (version 1) function fname: its info record, then
 * "Datum fname(PG_FUNCTION_ARGS)"; the body follows.
 */
#define VA_FMGR_FUNCTION(fname) \
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS)

/*
 * Type *fname(int dim): a zeroed value of a dense type (varlena struct
 * Type with dim, SIZE(dim) bytes) of dim dimensions, palloc'd in the
 * current memory context, with its varlena header and dim set.  The caller
 * guarantees 1 <= dim <= VA_MAX_DIM.
 */
#define VA_DEFINE_DENSE_INIT(fname, Type, SIZE) \
	Type * \
	fname(int dim) \
	{ \
		Size		size = SIZE(dim); \
		Type	   *result; \
		Assert(dim >= 1 && dim <= VA_MAX_DIM); \
		result = (Type *) palloc0(size); \
		SET_VARSIZE(result, size); \
		result->dim = dim; \
		return result; \
	}

/*
 * fname(internal) RETURNS internal: support function 1 of an hnsw or
 * ivfflat operator class; the argument is ignored (the AM passes
 * (Datum) 0), the result points to the static VaIndexOps ops.
 */
#define VA_INDEX_OPS_FUNCTION(fname, ops) \
	VA_FMGR_FUNCTION(fname) \
	{ \
		PG_RETURN_POINTER(&(ops)); \
	}

/*
 * static const VaIndexOps name: stored_size prefix_stored_size, dims
 * prefix_stored_dims, and the given to_stored, distance, to_sql,
 * averaging support (a const VaKmeansOps *, NULL for none), metric
 * (VaMetric) and float view (NULL for none).  One opclass's
 * view of a type; the one place that lists VaIndexOps' members.
 */
#define VA_INDEX_OPS_STRUCT(name, prefix, to_stored_fn, distance_fn, to_sql_fn, \
							kmeans_ops, metric_, to_floats_fn, value_distance_fn) \
	static const VaIndexOps name = { \
		.stored_size = prefix##_stored_size, \
		.max_stored_size = prefix##_max_stored_size, \
		.to_stored = to_stored_fn, \
		.distance = distance_fn, \
		.to_sql = to_sql_fn, \
		.dims = prefix##_stored_dims, \
		.kmeans = kmeans_ops, \
		.metric = metric_, \
		.to_floats = to_floats_fn, \
		.value_distance = value_distance_fn, \
	}

/* static const VaKmeansOps name of the given members (see indexops.h). */
#define VA_KMEANS_OPS_STRUCT(name, accum_fn, from_mean_fn, distance_fn) \
	static const VaKmeansOps name = { \
		.accum = accum_fn, \
		.from_mean = from_mean_fn, \
		.distance = distance_fn, \
	}

/*
 * The l2, ip, cosine and l1 VaIndexOps of a type, prefix_l2_ops ..
 * prefix_l1_ops, and their support functions prefix_l2_index_ops ..
 * prefix_l1_index_ops.  The file defines before it: prefix_stored_size,
 * prefix_max_stored_size, prefix_stored_dims, prefix_to_stored_copy (l2, ip, l1),
 * prefix_to_stored_normalized (cosine) and the distances
 * prefix_index_l2_distance (squared L2), prefix_index_ip_distance
 * (negative inner product), prefix_index_cosine_distance (1 - inner
 * product of unit vectors) and prefix_index_l1_distance.  The averaging
 * support of l2 and ip (kmeans_l2) and of cosine (kmeans_cosine) is given
 * (const VaKmeansOps *), or NULL for a type that cannot be averaged; l1
 * has none.  floats_fn writes a stored form's elements as floats
 * (VaIndexOps.to_floats of l2, ip and cosine, which a quantized index
 * needs), or NULL for a type without a dense float view; l1 has none.
 * value_l2, value_ip and value_cosine are the VaIndexOps.value_distance
 * of those three, or NULL; l1 has none.
 */
#define VA_DEFINE_INDEX_OPS(prefix, kmeans_l2, kmeans_cosine, floats_fn, value_l2, value_ip, value_cosine) \
	VA_INDEX_OPS_STRUCT(prefix##_l2_ops, prefix, prefix##_to_stored_copy, prefix##_index_l2_distance, VaToSqlSqrt, kmeans_l2, VA_METRIC_L2, floats_fn, value_l2); \
	VA_INDEX_OPS_STRUCT(prefix##_ip_ops, prefix, prefix##_to_stored_copy, prefix##_index_ip_distance, VaToSqlIdentity, kmeans_l2, VA_METRIC_IP, floats_fn, value_ip); \
	VA_INDEX_OPS_STRUCT(prefix##_cosine_ops, prefix, prefix##_to_stored_normalized, prefix##_index_cosine_distance, VaToSqlCosine, kmeans_cosine, VA_METRIC_COSINE, floats_fn, value_cosine); \
	VA_INDEX_OPS_STRUCT(prefix##_l1_ops, prefix, prefix##_to_stored_copy, prefix##_index_l1_distance, VaToSqlIdentity, NULL, VA_METRIC_OTHER, NULL, NULL); \
	VA_INDEX_OPS_FUNCTION(prefix##_l2_index_ops, prefix##_l2_ops) \
	VA_INDEX_OPS_FUNCTION(prefix##_ip_index_ops, prefix##_ip_ops) \
	VA_INDEX_OPS_FUNCTION(prefix##_cosine_index_ops, prefix##_cosine_ops) \
	VA_INDEX_OPS_FUNCTION(prefix##_l1_index_ops, prefix##_l1_ops)

/*
 * A VaIndexOps distance (a float4) between two stored forms of struct Type:
 * expr of a and b, the stored forms cast to Type.
 */
#define VA_DENSE_INDEX_DISTANCE(fname, Type, expr) \
	static float \
	fname(const void *stored_a, const void *stored_b) \
	{ \
		const Type *a = (const Type *) stored_a; \
		const Type *b = (const Type *) stored_b; \
		return expr; \
	}

/*
 * A VaIndexOps value_distance of a dense type: expr of the stored form a
 * and the detoasted value v, both cast to Type, when their dimensions
 * agree.
 */
#define VA_DENSE_VALUE_DISTANCE(fname, Type, expr) \
	static bool \
	fname(const void *stored_a, Datum value, float *distance) \
	{ \
		const Type *a = (const Type *) stored_a; \
		const Type *v = (const Type *) DatumGetPointer(value); \
		if (v->dim != a->dim) \
			return false; \
		*distance = expr; \
		return true; \
	}

/*
 * VA_DEFINE_INDEX_OPS for a dense type (a varlena struct Type with int16
 * dim, int16 unused and elements x[dim], SIZE(dim) bytes, whose elements
 * are the floats ELEM(x[i]), made from a double by FROMDOUBLE, with
 * NORMSQ(v) its squared Euclidean norm in float8), with the k-means
 * members.  The stored form is the value itself, scaled to unit length
 * under cosine (not indexable when the norm is zero); the distances are
 * the float4 kernels L2SQ (squared L2), IP (inner product) and L1 on
 * (x, x, dim); k-means sums the elements in float8 and minimises squared
 * L2 under l2 and ip, the cosine distance under cosine, whose centroids
 * are scaled to unit length (spherical k-means).
 */
#define VA_DENSE_INDEX_OPS(prefix, Type, SIZE, ELEM, FROMDOUBLE, NORMSQ, L2SQ, IP, L1) \
	static Size \
	prefix##_stored_size(Datum value) \
	{ \
		return SIZE(((const Type *) PG_DETOAST_DATUM(value))->dim); \
	} \
	static Size \
	prefix##_max_stored_size(int32 typmod) \
	{ \
		return SIZE(typmod); \
	} \
	static bool \
	prefix##_to_stored_copy(Datum value, void *dst) \
	{ \
		const Type *v = (const Type *) PG_DETOAST_DATUM(value); \
		memcpy(dst, v, SIZE(v->dim)); \
		return true; \
	} \
	static bool \
	prefix##_to_stored_normalized(Datum value, void *dst) \
	{ \
		const Type *v = (const Type *) PG_DETOAST_DATUM(value); \
		Type	   *out = (Type *) dst; \
		double		norm = sqrt(NORMSQ(v)); \
		int			dim = v->dim; \
		double		inv; \
		if (!(norm > 0.0) || isinf(norm)) \
			return false; \
		/* a multiply per element and dim in a local: the loop vectorises */ \
		inv = 1.0 / norm; \
		SET_VARSIZE(out, SIZE(dim)); \
		out->dim = dim; \
		out->unused = 0; \
		for (int i = 0; i < dim; i++) \
			out->x[i] = FROMDOUBLE((double) ELEM(v->x[i]) * inv); \
		return true; \
	} \
	static int \
	prefix##_stored_dims(const void *stored) \
	{ \
		return ((const Type *) stored)->dim; \
	} \
	static void \
	prefix##_stored_floats(const void *stored, float *out) \
	{ \
		const Type *v = (const Type *) stored; \
		for (int i = 0; i < v->dim; i++) \
			out[i] = ELEM(v->x[i]); \
	} \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_l2_distance, Type, L2SQ(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_ip_distance, Type, -IP(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_cosine_distance, Type, 1.0f - IP(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_l1_distance, Type, L1(a->x, b->x, a->dim)) \
	static void \
	prefix##_index_accum(const void *stored, double *sum) \
	{ \
		const Type *v = (const Type *) stored; \
		for (int i = 0; i < v->dim; i++) \
			sum[i] += ELEM(v->x[i]); \
	} \
	static void \
	prefix##_from_doubles(const double *mean, int dim, double scale, void *dst) \
	{ \
		Type	   *out = (Type *) dst; \
		SET_VARSIZE(out, SIZE(dim)); \
		out->dim = dim; \
		out->unused = 0; \
		for (int i = 0; i < dim; i++) \
			out->x[i] = FROMDOUBLE(mean[i] / scale); \
	} \
	static bool \
	prefix##_index_from_mean(const double *mean, int dim, void *dst) \
	{ \
		prefix##_from_doubles(mean, dim, 1.0, dst); \
		return true; \
	} \
	static bool \
	prefix##_index_from_mean_normalized(const double *mean, int dim, void *dst) \
	{ \
		double		norm; \
		if (!VaMeanNorm(mean, dim, &norm)) \
			return false; \
		prefix##_from_doubles(mean, dim, norm, dst); \
		return true; \
	} \
	VA_KMEANS_OPS_STRUCT(prefix##_kmeans_l2, prefix##_index_accum, \
						 prefix##_index_from_mean, prefix##_index_l2_distance); \
	VA_KMEANS_OPS_STRUCT(prefix##_kmeans_cosine, prefix##_index_accum, \
						 prefix##_index_from_mean_normalized, \
						 prefix##_index_cosine_distance); \
	VA_DENSE_VALUE_DISTANCE(prefix##_value_l2_distance, Type, L2SQ(a->x, v->x, a->dim)) \
	VA_DENSE_VALUE_DISTANCE(prefix##_value_ip_distance, Type, -IP(a->x, v->x, a->dim)) \
	static bool \
	prefix##_value_cosine_distance(const void *stored_a, Datum value, float *distance) \
	{ \
		const Type *a = (const Type *) stored_a; \
		const Type *v = (const Type *) DatumGetPointer(value); \
		double		norm; \
		if (v->dim != a->dim) \
			return false; \
		norm = sqrt(NORMSQ(v)); \
		if (!(norm > 0.0) || isinf(norm)) \
			return false; \
		*distance = 1.0f - (float) (IP(a->x, v->x, a->dim) / norm); \
		return true; \
	} \
	VA_DEFINE_INDEX_OPS(prefix, &prefix##_kmeans_l2, &prefix##_kmeans_cosine, prefix##_stored_floats, \
						prefix##_value_l2_distance, prefix##_value_ip_distance, \
						prefix##_value_cosine_distance)

/*
 * The norm functions of a dense type (struct Type with dim and x[dim], read
 * with getarg, made by init(dim); elements ELEM(x[i]) as floats, made from
 * a double by FROMDOUBLE; NORMSQ(v) the squared Euclidean norm in float8):
 * norm_fn(T) RETURNS double precision, sqrt(NORMSQ), and normalize_fn(T)
 * RETURNS T, a / |a| with each element FROMDOUBLE(x / norm); the zero
 * vector is returned unchanged.  Neither fails.
 */
#define VA_DENSE_NORM_FUNCTIONS(norm_fn, normalize_fn, Type, getarg, init, \
								ELEM, FROMDOUBLE, NORMSQ) \
	VA_FMGR_FUNCTION(norm_fn) \
	{ \
		Type	   *a = getarg(0); \
		PG_RETURN_FLOAT8(sqrt(NORMSQ(a))); \
	} \
	VA_FMGR_FUNCTION(normalize_fn) \
	{ \
		Type	   *a = getarg(0); \
		double		norm = sqrt(NORMSQ(a)); \
		Type	   *result = init(a->dim); \
		if (norm > 0.0) \
		{ \
			for (int i = 0; i < a->dim; i++) \
				result->x[i] = FROMDOUBLE((double) ELEM(a->x[i]) / norm); \
		} \
		PG_RETURN_POINTER(result); \
	}

/*
 * The shape functions of a dense type typname (struct Type with dim and
 * x[dim], read with getarg, made by init(dim); elements ELEM(x[i]) as
 * floats):
 *
 * dims_fn(T) RETURNS integer: the number of dimensions.
 *
 * concat_fn(T, T) RETURNS T: operator ||, a's elements then b's.  Errors:
 * PROGRAM_LIMIT_EXCEEDED past VA_MAX_DIM dimensions.
 *
 * subvector_fn(T, start integer, count integer) RETURNS T: elements start
 * .. start+count-1 (1-based), clipped to the vector like substring(); at
 * least one must remain.  Errors: DATA_EXCEPTION when nothing is left.
 *
 * quantize_fn(T) RETURNS bit: binary_quantize, one bit per element, set
 * when the element is > 0; bit i (0-based from the left) is element i+1.
 */
#define VA_DENSE_SHAPE_FUNCTIONS(dims_fn, concat_fn, subvector_fn, quantize_fn, \
								 Type, getarg, init, typname, ELEM) \
	VA_FMGR_FUNCTION(dims_fn) \
	{ \
		Type	   *a = getarg(0); \
		PG_RETURN_INT32(a->dim); \
	} \
	VA_FMGR_FUNCTION(concat_fn) \
	{ \
		Type	   *a = getarg(0); \
		Type	   *b = getarg(1); \
		Type	   *result; \
		VaCheckDim(typname, a->dim + b->dim, VA_MAX_DIM); \
		result = init(a->dim + b->dim); \
		memcpy(result->x, a->x, sizeof(a->x[0]) * a->dim); \
		memcpy(result->x + a->dim, b->x, sizeof(b->x[0]) * b->dim); \
		PG_RETURN_POINTER(result); \
	} \
	VA_FMGR_FUNCTION(subvector_fn) \
	{ \
		Type	   *a = getarg(0); \
		int64		start = PG_GETARG_INT32(1); \
		int64		count = PG_GETARG_INT32(2); \
		int64		end = start + count;	/* exclusive; int64 cannot overflow */ \
		int64		first = Max(start, 1); \
		int64		last = Min(end, (int64) a->dim + 1);	/* exclusive */ \
		Type	   *result; \
		if (count < 1 || last <= first) \
			VaCheckDim(typname, 0, VA_MAX_DIM); \
		result = init((int) (last - first)); \
		memcpy(result->x, a->x + (first - 1), sizeof(a->x[0]) * (last - first)); \
		PG_RETURN_POINTER(result); \
	} \
	VA_FMGR_FUNCTION(quantize_fn) \
	{ \
		Type	   *a = getarg(0); \
		int			len = VARBITTOTALLEN(a->dim); \
		VarBit	   *result = (VarBit *) palloc0(len); \
		bits8	   *bits = VARBITS(result); \
		SET_VARSIZE(result, len); \
		VARBITLEN(result) = a->dim; \
		for (int i = 0; i < a->dim; i++) \
		{ \
			if (ELEM(a->x[i]) > 0.0f) \
				bits[i / BITS_PER_BYTE] |= (bits8) (0x80 >> (i % BITS_PER_BYTE)); \
		} \
		PG_RETURN_VARBIT_P(result); \
	}

/*
 * The type modifier functions of type prefix (struct Type with a dim field,
 * read with getarg): prefix_typmod_in(cstring[]) RETURNS integer, the n of
 * prefix(n) in 1..maxdim (VaTypmodIn), and prefix(prefix, integer,
 * boolean) RETURNS prefix, the length-coercion cast to prefix(n): the value
 * unchanged when its dimension equals the typmod (or there is none), else
 * DATA_EXCEPTION (VaCheckExpectedDim).  The typmod output function of all
 * the types is vector_typmod_out.
 */
#define VA_DEFINE_TYPMOD(prefix, Type, getarg, maxdim) \
	VA_FMGR_FUNCTION(prefix##_typmod_in) \
	{ \
		PG_RETURN_INT32(VaTypmodIn(PG_GETARG_ARRAYTYPE_P(0), #prefix, maxdim)); \
	} \
	VA_FMGR_FUNCTION(prefix) \
	{ \
		Type	   *v = getarg(0); \
		VaCheckExpectedDim(PG_GETARG_INT32(1), v->dim); \
		PG_RETURN_POINTER(v); \
	}

/*
 * The I/O functions of a dense type prefix (struct Type with int16 dim and
 * x[dim], read with getarg, made by init(dim)):
 *
 * prefix_in(cstring, oid, integer) RETURNS prefix: the text
 * "[x1,x2,...,xn]" read by VaParseVectorText (its errors name prefix),
 * then, with a typmod, n must equal it (DATA_EXCEPTION), then element i is
 * FROMFLOAT(xi), which raises the type's range errors.
 *
 * prefix_out(prefix) RETURNS cstring: "[x1,x2,...]", each TOFLOAT(x[i]) in
 * the shortest decimal that reads back as the same float4, so text
 * round-trips exactly (e.g. 0.1, 1e-45).
 *
 * prefix_recv(internal, oid, integer) RETURNS prefix: the binary form
 * (VaRecvDenseHeader for int16 dim, int16 unused, then dim elements of
 * ELEMSIZE bytes, network order), each read and checked by RECV(buf).
 * Errors: INVALID_BINARY_REPRESENTATION, DATA_EXCEPTION,
 * PROGRAM_LIMIT_EXCEEDED.
 *
 * prefix_send(prefix) RETURNS bytea: that binary form, each element
 * written by SEND(&buf, x[i]).
 */
#define VA_DENSE_IO_FUNCTIONS(prefix, Type, getarg, init, FROMFLOAT, TOFLOAT, \
							  ELEMSIZE, RECV, SEND) \
	VA_FMGR_FUNCTION(prefix##_in) \
	{ \
		int			dim; \
		float	   *values = VaParseVectorText(PG_GETARG_CSTRING(0), #prefix, &dim); \
		Type	   *result; \
		VaCheckExpectedDim(PG_GETARG_INT32(2), dim); \
		result = init(dim); \
		for (int i = 0; i < dim; i++) \
			result->x[i] = FROMFLOAT(values[i]); \
		pfree(values); \
		PG_RETURN_POINTER(result); \
	} \
	VA_FMGR_FUNCTION(prefix##_out) \
	{ \
		Type	   *vec = getarg(0); \
		/* each element: at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars, then , or ] */ \
		char	   *buf = (char *) palloc((Size) vec->dim * FLOAT_SHORTEST_DECIMAL_LEN + 2); \
		char	   *p = buf; \
		*p++ = '['; \
		for (int i = 0; i < vec->dim; i++) \
		{ \
			if (i > 0) \
				*p++ = ','; \
			p += float_to_shortest_decimal_bufn(TOFLOAT(vec->x[i]), p); \
		} \
		*p++ = ']'; \
		*p = '\0'; \
		PG_FREE_IF_COPY(vec, 0); \
		PG_RETURN_CSTRING(buf); \
	} \
	VA_FMGR_FUNCTION(prefix##_recv) \
	{ \
		StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0); \
		int			dim = VaRecvDenseHeader(buf, PG_GETARG_INT32(2), #prefix, ELEMSIZE); \
		Type	   *result = init(dim); \
		for (int i = 0; i < dim; i++) \
			result->x[i] = RECV(buf); \
		PG_RETURN_POINTER(result); \
	} \
	VA_FMGR_FUNCTION(prefix##_send) \
	{ \
		Type	   *vec = getarg(0); \
		StringInfoData buf; \
		pq_begintypsend(&buf); \
		pq_sendint16(&buf, vec->dim); \
		pq_sendint16(&buf, 0); \
		for (int i = 0; i < vec->dim; i++) \
			SEND(&buf, vec->x[i]); \
		PG_RETURN_BYTEA_P(pq_endtypsend(&buf)); \
	}

/*
 * fname(integer[] | real[] | double precision[] | numeric[], integer,
 * boolean) RETURNS T: the cast of a one-dimensional array without nulls to
 * the dense type typname(typmod) (struct Type with dim and x[dim], made by
 * init(dim)): each element to float4 by VaArrayElementToFloat
 * (type/vector.h; a value too small for a float4 becomes a zero of its
 * sign), then element i is FROMFLOAT of it, which checks it for the type.
 * Errors: DATA_EXCEPTION (not 1-D, empty, NaN/infinite element, typmod),
 * NULL_VALUE_NOT_ALLOWED, NUMERIC_VALUE_OUT_OF_RANGE, PROGRAM_LIMIT_EXCEEDED
 * (VaArrayElements).
 */
#define VA_DENSE_ARRAY_CAST_FUNCTION(fname, Type, init, typname, FROMFLOAT) \
	VA_FMGR_FUNCTION(fname) \
	{ \
		ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0); \
		Oid			elemtype = ARR_ELEMTYPE(array); \
		int			nelems; \
		Datum	   *elems = VaArrayElements(array, PG_GETARG_INT32(1), typname, &nelems); \
		Type	   *result = init(nelems); \
		for (int i = 0; i < nelems; i++) \
			result->x[i] = FROMFLOAT(VaArrayElementToFloat(elems[i], elemtype, typname)); \
		pfree(elems); \
		PG_RETURN_POINTER(result); \
	}

/*
 * fname(From, integer, boolean) RETURNS To, a cast between dense types
 * (structs with dim and x[dim]; the source read with getarg, the result
 * made by init(dim)): element x[i] of the result is expr of vec and i,
 * which raises any error of the conversion.  Errors: DATA_EXCEPTION when a
 * typmod is given and differs from the dimensions.
 */
#define VA_DENSE_CAST_FUNCTION(fname, From, getarg, To, init, expr) \
	VA_FMGR_FUNCTION(fname) \
	{ \
		From	   *vec = getarg(0); \
		To		   *result; \
		VaCheckExpectedDim(PG_GETARG_INT32(1), vec->dim); \
		result = init(vec->dim); \
		for (int i = 0; i < vec->dim; i++) \
			result->x[i] = (expr); \
		PG_RETURN_POINTER(result); \
	}

/*
 * The btree comparison functions of a dense type (VA_DEFINE_TYPE_COMPARISONS)
 * with its three-way prefix_cmp_internal: the first differing element, as
 * the float ELEM(x[i]), decides (-0 equals 0; elements are never NaN); if
 * one value is a prefix of the other, the shorter sorts first.
 */
#define VA_DEFINE_DENSE_COMPARISONS(prefix, Type, getarg, ELEM) \
	static int \
	prefix##_cmp_internal(const Type *a, const Type *b) \
	{ \
		int			n = Min(a->dim, b->dim); \
		for (int i = 0; i < n; i++) \
		{ \
			float		fa = ELEM(a->x[i]); \
			float		fb = ELEM(b->x[i]); \
			if (fa != fb) \
				return VaCompare(fa, fb); \
		} \
		return VaCompare(a->dim, b->dim); \
	} \
	VA_DEFINE_TYPE_COMPARISONS(prefix, Type, getarg)

/*
 * The avg aggregate functions of a dense type prefix (struct Type with dim
 * and x[dim], read with getarg, made by init(dim)); the combine function
 * of all is vector_combine (VaAvgCombine).
 *
 * prefix_accum(double precision[], prefix) RETURNS double precision[]: avg
 * transition, count + 1 and sums + the value's elements as ELEM(x[i]) in
 * float8.  The initial state {0} takes a value of any dimensions, any
 * other state only values of as many dimensions as it has sums.  Errors:
 * DATA_EXCEPTION for different dimensions or a malformed state
 * (VaAvgState).
 *
 * prefix_avg(double precision[]) RETURNS prefix: avg final, NULL when no
 * value was seen, else element i is FROMFLOAT(the float4 mean), which
 * raises NUMERIC_VALUE_OUT_OF_RANGE for a mean beyond the type's range
 * (only a hand-made state can hold one).
 */
#define VA_DENSE_AVG_FUNCTIONS(prefix, Type, getarg, init, ELEM, FROMFLOAT) \
	VA_FMGR_FUNCTION(prefix##_accum) \
	{ \
		Type	   *v = getarg(1); \
		float8	   *next = VaAvgAccumStart(PG_GETARG_ARRAYTYPE_P(0), #prefix, v->dim); \
		ArrayType  *result; \
		for (int i = 0; i < v->dim; i++) \
			next[i + 1] += (double) ELEM(v->x[i]); \
		result = VaAvgStateMake(next, v->dim + 1); \
		pfree(next); \
		PG_RETURN_ARRAYTYPE_P(result); \
	} \
	VA_FMGR_FUNCTION(prefix##_avg) \
	{ \
		int			dims; \
		float	   *means = VaAvgMeans(PG_GETARG_ARRAYTYPE_P(0), #prefix, &dims); \
		Type	   *result; \
		if (means == NULL) \
			PG_RETURN_NULL(); \
		result = init(dims); \
		for (int i = 0; i < dims; i++) \
			result->x[i] = FROMFLOAT(means[i]); \
		pfree(means); \
		PG_RETURN_POINTER(result); \
	}

#endif							/* VA_TYPEUTIL_H */
