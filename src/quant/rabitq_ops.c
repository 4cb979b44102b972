/*
 * rabitq_ops.c
 *	  RaBitQ codes seen through the VaIndexOps interface, so that an index's
 *	  graph or list algorithms run on codes unchanged: the "stored forms" are
 *	  codes (VaRabitqCode), and a search's query is a prepared query
 *	  (VaRabitqQuery).  distance(a, b) takes b a code and a either a prepared
 *	  query (the estimator, Gao & Long 2024) or another code (neighbour
 *	  selection and repair: VaRabitqCodeInnerProduct), and turns the
 *	  estimated inner product into the metric's distance with the exact norms
 *	  both carry.  Estimates may be slightly negative under L2; nothing here
 *	  clamps them (the order they give is what counts).
 *
 *	  Codes of a centred quantizer (VaRabitqSetCentre) estimate
 *	  <o - c, q - c>: squared L2 needs nothing more (the norms they carry are
 *	  those of o - c and q - c), inner product and cosine add the offsets
 *	  both sides carry, which are 0 for codes and queries of an uncentred
 *	  quantizer.
 */
#include "quant/rabitq.h"

#include "distance/distance.h"
#include "indexops.h"
#include "utils/float.h"

/* Estimated <a, b>: a a prepared query or a code, b a code. */
static inline float
estimate_ip(const void *a, const void *b)
{
	if (((const VaRabitqQuery *) a)->kind == VA_RABITQ_KIND_QUERY)
		return VaRabitqInnerProduct((const VaRabitqQuery *) a, (const VaRabitqCode *) b);
	return VaRabitqCodeInnerProduct((const VaRabitqCode *) a, (const VaRabitqCode *) b);
}

/* Both varlenas carry |v|^2 at the same place. */
static inline float
norm2_of(const void *a)
{
	return ((const VaRabitqCode *) a)->norm2;
}

/* The offset a prepared query or a code carries (rabitq.h). */
static inline float
offset_of(const void *a)
{
	if (((const VaRabitqQuery *) a)->kind == VA_RABITQ_KIND_QUERY)
		return ((const VaRabitqQuery *) a)->offset;
	return VaRabitqCodeOffset((const VaRabitqCode *) a);
}

/* Estimated <a, b> in input space: the centred estimate plus the offsets. */
static inline float
estimate_full_ip(const void *a, const void *b)
{
	return estimate_ip(a, b) + offset_of(a) + offset_of(b);
}

static float
code_l2_distance(const void *a, const void *b)
{
	return norm2_of(a) + norm2_of(b) - 2.0f * estimate_ip(a, b);
}

static float
code_ip_distance(const void *a, const void *b)
{
	return -estimate_full_ip(a, b);
}

static float
code_cosine_distance(const void *a, const void *b)
{
	return 1.0f - estimate_full_ip(a, b);
}

/*
 * slack (see indexops.h): from VaRabitqErrorBound on the inner product, a
 * prepared query a against a code b, given the estimated inner product the
 * distance was made of; unknown (infinite) between two codes.  Squared
 * L2 = |o|^2 + |q|^2 - 2 <o, q> moves by twice the inner product's error;
 * the negative inner product and cosine distance by once.  The bound is
 * on the centred estimate, so the offsets come off first.
 */
static float
ip_slack(const void *a, const void *b, float ip)
{
	if (((const VaRabitqQuery *) a)->kind != VA_RABITQ_KIND_QUERY)
		return get_float4_infinity();
	return VaRabitqErrorBound((const VaRabitqQuery *) a, (const VaRabitqCode *) b, ip);
}

static float
code_l2_slack(const void *a, const void *b, float distance)
{
	return 2.0f * ip_slack(a, b, 0.5f * (norm2_of(a) + norm2_of(b) - distance));
}

static float
code_ip_slack(const void *a, const void *b, float distance)
{
	return ip_slack(a, b, -distance - offset_of(a) - offset_of(b));
}

static float
code_cosine_slack(const void *a, const void *b, float distance)
{
	return ip_slack(a, b, 1.0f - distance - offset_of(a) - offset_of(b));
}

static Size
code_stored_size(Datum value)
{
	elog(ERROR, "RaBitQ codes are not made from SQL values directly");
	return 0;
}

static bool
code_to_stored(Datum value, void *dst)
{
	elog(ERROR, "RaBitQ codes are not made from SQL values directly");
	return false;
}

/* Codes do not record the input dimensions; callers keep them. */
static int
code_dims(const void *stored)
{
	return -1;
}

static const VaIndexOps rabitq_l2_ops = {
	.stored_size = code_stored_size,
	.to_stored = code_to_stored,
	.distance = code_l2_distance,
	.to_sql = VaToSqlSqrt,
	.dims = code_dims,
	.kmeans = NULL,
	.metric = VA_METRIC_L2,
	.to_floats = NULL,
	.slack = code_l2_slack,
};

static const VaIndexOps rabitq_ip_ops = {
	.stored_size = code_stored_size,
	.to_stored = code_to_stored,
	.distance = code_ip_distance,
	.to_sql = VaToSqlIdentity,
	.dims = code_dims,
	.kmeans = NULL,
	.metric = VA_METRIC_IP,
	.to_floats = NULL,
	.slack = code_ip_slack,
};

static const VaIndexOps rabitq_cosine_ops = {
	.stored_size = code_stored_size,
	.to_stored = code_to_stored,
	.distance = code_cosine_distance,
	.to_sql = VaToSqlCosine,
	.dims = code_dims,
	.kmeans = NULL,
	.metric = VA_METRIC_COSINE,
	.to_floats = NULL,
	.slack = code_cosine_slack,
};

/*
 * The VaIndexOps over codes of metric (L2, IP or cosine; others: elog
 * ERROR, callers check VaRabitqSupports first).  Its stored_size and
 * to_stored raise an error (codes come from VaRabitqEncode), and dims
 * returns -1.
 */
const VaIndexOps *
VaRabitqIndexOps(int metric)
{
	switch (metric)
	{
		case VA_METRIC_L2:
			return &rabitq_l2_ops;
		case VA_METRIC_IP:
			return &rabitq_ip_ops;
		case VA_METRIC_COSINE:
			return &rabitq_cosine_ops;
	}
	elog(ERROR, "RaBitQ has no estimator for metric %d", metric);
	return NULL;
}

/* Can values under ops be quantized (a float view and a known metric)? */
bool
VaRabitqSupports(const VaIndexOps *ops)
{
	return ops->to_floats != NULL &&
		(ops->metric == VA_METRIC_L2 || ops->metric == VA_METRIC_IP ||
		 ops->metric == VA_METRIC_COSINE);
}
