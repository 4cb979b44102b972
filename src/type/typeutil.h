/*
 * typeutil.h
 *	  The mechanisms the vector types share, each in one copy, parametrised
 *	  by what differs between the types: the type's name (for messages), its
 *	  largest number of dimensions, and for the macro-generated index ops its
 *	  struct, size macro and distance kernels.  Checks of dimensions and
 *	  elements, the typmod input routine, the text-input token reader, array
 *	  coercion, the dense binary header, the avg aggregate state, the cosine
 *	  distance from its parts and the VaIndexOps definitions.  Used only by
 *	  src/type; knows no index access method.
 */
#ifndef VA_TYPEUTIL_H
#define VA_TYPEUTIL_H

#include "vectorann.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/float.h"

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
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS) \
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
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS) \
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
 * fname(internal) RETURNS internal: support function 1 of an hnsw or
 * ivfflat operator class; the argument is ignored (the AM passes
 * (Datum) 0), the result points to the static VaIndexOps ops.
 */
#define VA_INDEX_OPS_FUNCTION(fname, ops) \
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS) \
	{ \
		PG_RETURN_POINTER(&(ops)); \
	}

/*
 * static const VaIndexOps name: stored_size prefix_stored_size, dims
 * prefix_stored_dims, and the given to_stored, distance, to_sql and
 * k-means members (accum, from_mean, kmeans_distance; NULL for none).  One
 * opclass's view of a type; the one place that lists VaIndexOps' members.
 */
#define VA_INDEX_OPS_STRUCT(name, prefix, to_stored_fn, distance_fn, to_sql_fn, \
							accum_fn, from_mean_fn, kmeans_fn) \
	static const VaIndexOps name = { \
		.stored_size = prefix##_stored_size, \
		.to_stored = to_stored_fn, \
		.distance = distance_fn, \
		.to_sql = to_sql_fn, \
		.dims = prefix##_stored_dims, \
		.accum = accum_fn, \
		.from_mean = from_mean_fn, \
		.kmeans_distance = kmeans_fn, \
	}

/*
 * The l2, ip, cosine and l1 VaIndexOps of a type, prefix_l2_ops ..
 * prefix_l1_ops, and their support functions prefix_l2_index_ops ..
 * prefix_l1_index_ops.  The file defines before it: prefix_stored_size,
 * prefix_stored_dims, prefix_to_stored_copy (l2, ip, l1),
 * prefix_to_stored_normalized (cosine) and the distances
 * prefix_index_l2_distance (squared L2), prefix_index_ip_distance
 * (negative inner product), prefix_index_cosine_distance (1 - inner
 * product of unit vectors) and prefix_index_l1_distance.  The k-means
 * members of l2 and ip (accum, from_mean, kmeans_l2) and of cosine (accum,
 * from_mean_normalized, kmeans_cosine) are given, or NULL for a type
 * ivfflat cannot average; l1 has none.
 */
#define VA_DEFINE_INDEX_OPS(prefix, accum_fn, from_mean_fn, from_mean_normalized_fn, \
							kmeans_l2, kmeans_cosine) \
	VA_INDEX_OPS_STRUCT(prefix##_l2_ops, prefix, prefix##_to_stored_copy, prefix##_index_l2_distance, VaToSqlSqrt, accum_fn, from_mean_fn, kmeans_l2); \
	VA_INDEX_OPS_STRUCT(prefix##_ip_ops, prefix, prefix##_to_stored_copy, prefix##_index_ip_distance, VaToSqlIdentity, accum_fn, from_mean_fn, kmeans_l2); \
	VA_INDEX_OPS_STRUCT(prefix##_cosine_ops, prefix, prefix##_to_stored_normalized, prefix##_index_cosine_distance, VaToSqlCosine, accum_fn, from_mean_normalized_fn, kmeans_cosine); \
	VA_INDEX_OPS_STRUCT(prefix##_l1_ops, prefix, prefix##_to_stored_copy, prefix##_index_l1_distance, VaToSqlIdentity, NULL, NULL, NULL); \
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
 * VA_DEFINE_INDEX_OPS for a dense type (a varlena struct Type with dim and
 * elements x[dim], SIZE(dim) bytes), with the k-means members.  The stored
 * form is the value itself (scaled to unit length under cosine); the
 * distances are the float4 kernels L2SQ (squared L2), IP (inner product)
 * and L1 on (x, x, dim); k-means minimises squared L2 under l2 and ip, the
 * cosine distance under cosine.  The file defines before it:
 * prefix_to_stored_normalized, prefix_index_accum (VaIndexOps.accum) and
 * prefix_from_doubles(mean, dim, scale, dst), which writes the stored form
 * of mean[0..dim) / scale.
 */
#define VA_DENSE_INDEX_OPS(prefix, Type, SIZE, L2SQ, IP, L1) \
	static Size \
	prefix##_stored_size(Datum value) \
	{ \
		return SIZE(((const Type *) PG_DETOAST_DATUM(value))->dim); \
	} \
	static bool \
	prefix##_to_stored_copy(Datum value, void *dst) \
	{ \
		const Type *v = (const Type *) PG_DETOAST_DATUM(value); \
		memcpy(dst, v, SIZE(v->dim)); \
		return true; \
	} \
	static int \
	prefix##_stored_dims(const void *stored) \
	{ \
		return ((const Type *) stored)->dim; \
	} \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_l2_distance, Type, L2SQ(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_ip_distance, Type, -IP(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_cosine_distance, Type, 1.0f - IP(a->x, b->x, a->dim)) \
	VA_DENSE_INDEX_DISTANCE(prefix##_index_l1_distance, Type, L1(a->x, b->x, a->dim)) \
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
	VA_DEFINE_INDEX_OPS(prefix, prefix##_index_accum, prefix##_index_from_mean, \
						prefix##_index_from_mean_normalized, \
						prefix##_index_l2_distance, prefix##_index_cosine_distance)

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
	PG_FUNCTION_INFO_V1(prefix##_typmod_in); \
	Datum \
	prefix##_typmod_in(PG_FUNCTION_ARGS) \
	{ \
		PG_RETURN_INT32(VaTypmodIn(PG_GETARG_ARRAYTYPE_P(0), #prefix, maxdim)); \
	} \
	PG_FUNCTION_INFO_V1(prefix); \
	Datum \
	prefix(PG_FUNCTION_ARGS) \
	{ \
		Type	   *v = getarg(0); \
		VaCheckExpectedDim(PG_GETARG_INT32(1), v->dim); \
		PG_RETURN_POINTER(v); \
	}

/*
 * fname(From, integer, boolean) RETURNS To, a cast between dense types
 * (structs with dim and x[dim]; the source read with getarg, the result
 * made by init(dim)): element x[i] of the result is expr of vec and i,
 * which raises any error of the conversion.  Errors: DATA_EXCEPTION when a
 * typmod is given and differs from the dimensions.
 */
#define VA_DENSE_CAST_FUNCTION(fname, From, getarg, To, init, expr) \
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS) \
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
	PG_FUNCTION_INFO_V1(prefix##_accum); \
	Datum \
	prefix##_accum(PG_FUNCTION_ARGS) \
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
	PG_FUNCTION_INFO_V1(prefix##_avg); \
	Datum \
	prefix##_avg(PG_FUNCTION_ARGS) \
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
