/*
 * rabitq.c
 *	  RaBitQ quantization (see rabitq.h for the notation and the papers):
 *	  the seeded random rotation, extended-RaBitQ encoding (into packed
 *	  nibbles or bit planes), query preparation, the query-code and
 *	  code-code inner product estimators, and decoding.  Knows no access
 *	  method; the integer kernel of the query-code estimator is
 *	  VaRabitqDotPlanes, and the encoder's level search VaRabitqLevels (the
 *	  same bits on every CPU), in src/distance/.
 *
 *	  The rotation R.  D (the padded dimension) is a multiple of 64; P is
 *	  the largest power of two <= D.  R is VA_RABITQ_ROUNDS rounds, each a
 *	  diagonal of random signs (+1/-1, one bit per coordinate, from pg_prng
 *	  seeded with the quantizer's seed) followed by a normalised fast
 *	  Walsh-Hadamard transform (H / sqrt(P), its own inverse) on a block of
 *	  P coordinates: [0, P) in even rounds, [D - P, D) in odd ones, so that
 *	  when D is not a power of two the two blocks overlap and every
 *	  coordinate is mixed with every other within two rounds; and, when D is
 *	  not a power of two, a butterfly between the halves [0, D/2) and
 *	  [D/2, D) (fold_halves), without which energy would cross between the
 *	  blocks only through their overlap.  Each step is orthogonal, so R is
 *	  (up to float4 rounding, about 1e-7 relative per round); R^T applies
 *	  the rounds backwards.  Only the sign bits are kept
 *	  (VA_RABITQ_ROUNDS * D / 8 bytes).  Applying R costs
 *	  O(rounds * P log P) float operations.  Random sign flips with
 *	  Hadamard transforms are the fast Johnson-Lindenstrauss-style rotation
 *	  the RaBitQ papers suggest in place of a dense random orthogonal matrix.
 */
#include "vectorann.h"

#include <math.h>

#include "port/pg_bitutils.h"

#include "distance/cpu.h"
#include "distance/distance.h"
#include "quant/rabitq.h"

#ifndef VA_HAVE_PG_PRNG
#error "the RaBitQ rotation is defined by pg_prng (PostgreSQL 15 and later)"
#endif

/*
 * GCC's and clang's vector extensions: eight floats (or their bit patterns)
 * as one value, which the compiler maps onto whatever SIMD the build's
 * baseline has (two SSE2 registers on x86-64); element-wise arithmetic, so
 * the results are those of the scalar loops they replace.  Other compilers
 * run the scalar loops.
 */
#if defined(__GNUC__) || defined(__clang__)
#define RABITQ_VECTOR_EXT 1
typedef float rabitq_v8sf __attribute__((vector_size(32)));
typedef uint32 rabitq_v8su __attribute__((vector_size(32)));
typedef int32 rabitq_v8si __attribute__((vector_size(32)));
typedef int8 rabitq_v8qi __attribute__((vector_size(8)));
typedef float rabitq_v4sf __attribute__((vector_size(16)));
typedef double rabitq_v4df __attribute__((vector_size(32)));
#endif

/*
 * The rotation and the query's quantization are also compiled for AVX2
 * (without FMA, so no multiply-add is fused: the operations, and so the
 * results, stay those of the baseline build), and run that way when
 * VaDistanceInit found AVX2: the eight-float vectors then fit one register
 * each instead of two, and nothing spills.  The bodies are inlined into
 * both versions.
 */
#if defined(RABITQ_VECTOR_EXT) && defined(__x86_64__)
#define RABITQ_AVX2_CLONES 1
#endif

/* rounds of (sign flips, Walsh-Hadamard transform) in R */
#define VA_RABITQ_ROUNDS 4

/* What VaRabitq.rotation points to. */
typedef struct RabitqRotation
{
	int			padded;			/* D */
	int			block;			/* P: largest power of two <= D */
	/* round r's signs: bit i % 64 of signs[r * D / 64 + i / 64], 1 = flip */
	uint64		signs[FLEXIBLE_ARRAY_MEMBER];
} RabitqRotation;

/* ---------------------------------------------------------------------
 * The rotation
 * ---------------------------------------------------------------------
 */

/*
 * In-place normalised fast Walsh-Hadamard transform of x[0..n), n a power
 * of two >= 8: x := H_n x / sqrt(n), an orthogonal involution.  The first
 * three levels (strides 1, 2, 4) run together on blocks of 8 held in
 * locals, the later ones as loops over contiguous runs that the compiler
 * vectorises; every output is the same sequence of float additions as the
 * textbook triple loop, so the result is bit for bit the same.
 */
static pg_attribute_always_inline void
fwht_normalised(float *x, int n)
{
	float		scale;

	for (int i = 0; i < n; i += 8)
	{
		float	   *y = x + i;
		float		a0 = y[0] + y[1],
					a1 = y[0] - y[1],
					a2 = y[2] + y[3],
					a3 = y[2] - y[3],
					a4 = y[4] + y[5],
					a5 = y[4] - y[5],
					a6 = y[6] + y[7],
					a7 = y[6] - y[7];
		float		b0 = a0 + a2,
					b1 = a1 + a3,
					b2 = a0 - a2,
					b3 = a1 - a3,
					b4 = a4 + a6,
					b5 = a5 + a7,
					b6 = a4 - a6,
					b7 = a5 - a7;

		y[0] = b0 + b4;
		y[1] = b1 + b5;
		y[2] = b2 + b6;
		y[3] = b3 + b7;
		y[4] = b0 - b4;
		y[5] = b1 - b5;
		y[6] = b2 - b6;
		y[7] = b3 - b7;
	}
	for (int h = 8; h < n; h <<= 1)
	{
		for (int i = 0; i < n; i += 2 * h)
		{
			for (int j = i; j < i + h; j += 8)
			{
#ifdef RABITQ_VECTOR_EXT
				rabitq_v8sf a;
				rabitq_v8sf b;
				rabitq_v8sf sum;
				rabitq_v8sf diff;

				memcpy(&a, x + j, sizeof(a));
				memcpy(&b, x + j + h, sizeof(b));
				sum = a + b;
				diff = a - b;
				memcpy(x + j, &sum, sizeof(sum));
				memcpy(x + j + h, &diff, sizeof(diff));
#else
				for (int k = j; k < j + 8; k++)
				{
					float		a = x[k];
					float		b = x[k + h];

					x[k] = a + b;
					x[k + h] = a - b;
				}
#endif
			}
		}
	}
	scale = (float) (1.0 / sqrt((double) n));
#ifdef RABITQ_VECTOR_EXT
	for (int i = 0; i < n; i += 8)
	{
		rabitq_v8sf a;

		memcpy(&a, x + i, sizeof(a));
		a *= scale;
		memcpy(x + i, &a, sizeof(a));
	}
#else
	for (int i = 0; i < n; i++)
		x[i] *= scale;
#endif
}

/*
 * flip_masks[byte][k]: the float sign bit where bit k of byte is set, so
 * that XOR with it negates the coordinates a byte of sign bits selects.
 * Filled by VaRabitqInit (the same 8 kB every time).
 */
static uint32 flip_masks[256][8];
static bool flip_masks_ready = false;

static void
fill_flip_masks(void)
{
	for (int byte = 0; byte < 256; byte++)
		for (int k = 0; k < 8; k++)
			flip_masks[byte][k] = ((byte >> k) & 1) ? UINT32_C(0x80000000) : 0;
	flip_masks_ready = true;
}

/*
 * x[i] := -x[i] where round's sign bit i is set, i in [0, D): the float's
 * sign bit flipped by XOR with a mask looked up per byte of sign bits, no
 * branch (the bits are random, a branch would mispredict half the time).
 */
static pg_attribute_always_inline void
flip_signs(const RabitqRotation *rot, int round, float *x)
{
	const uint64 *words = rot->signs + (size_t) round * (rot->padded / 64);

	for (int w = 0; w < rot->padded / 64; w++)
	{
		uint64		bits = words[w];

		for (int byte = 0; byte < 8; byte++)
		{
			const uint32 *mask = flip_masks[(bits >> (8 * byte)) & 0xFF];
#ifdef RABITQ_VECTOR_EXT
			rabitq_v8su y;
			rabitq_v8su m;

			memcpy(&y, x + 64 * w + 8 * byte, sizeof(y));
			memcpy(&m, mask, sizeof(m));
			y ^= m;
			memcpy(x + 64 * w + 8 * byte, &y, sizeof(y));
#else
			uint32		y[8];

			memcpy(y, x + 64 * w + 8 * byte, sizeof(y));
			for (int k = 0; k < 8; k++)
				y[k] ^= mask[k];
			memcpy(x + 64 * w + 8 * byte, y, sizeof(y));
#endif
		}
	}
}

/*
 * When D is not a power of two: x[i], x[i + D/2] := (x[i] + x[i + D/2]) /
 * sqrt(2), (x[i] - x[i + D/2]) / sqrt(2) for i in [0, D/2), an orthogonal
 * involution (a Haar butterfly between the two halves).  The two Hadamard
 * blocks overlap in only 2P - D coordinates, as few as 64 when D is just
 * below a power of two (D = 16000: 384 of them), and without this step
 * energy would cross between the blocks only through the overlap, leaving
 * the rotated vector's coordinates far from evenly spread (the estimator
 * then becomes biased); the fold moves half of it across every round.
 */
static pg_attribute_always_inline void
fold_halves(const RabitqRotation *rot, float *x)
{
	int			mid = rot->padded / 2;
	float		scale = (float) (1.0 / sqrt(2.0));

	if (rot->block == rot->padded)
		return;
#ifdef RABITQ_VECTOR_EXT
	/* mid is a multiple of 32 */
	for (int i = 0; i < mid; i += 8)
	{
		rabitq_v8sf a;
		rabitq_v8sf b;
		rabitq_v8sf sum;
		rabitq_v8sf diff;

		memcpy(&a, x + i, sizeof(a));
		memcpy(&b, x + i + mid, sizeof(b));
		sum = (a + b) * scale;
		diff = (a - b) * scale;
		memcpy(x + i, &sum, sizeof(sum));
		memcpy(x + i + mid, &diff, sizeof(diff));
	}
	return;
#endif
	for (int i = 0; i < mid; i++)
	{
		float		a = x[i];
		float		b = x[i + mid];

		x[i] = (a + b) * scale;
		x[i + mid] = (a - b) * scale;
	}
}

/* First coordinate of round's Walsh-Hadamard block. */
static inline int
block_start(const RabitqRotation *rot, int round)
{
	return (round % 2 == 0) ? 0 : rot->padded - rot->block;
}

/* VaRabitqRotate's work, inlined into its baseline and AVX2 versions */
static pg_attribute_always_inline void
rotate_body(const VaRabitq *rq, const float *v, float *out)
{
	const RabitqRotation *rot = (const RabitqRotation *) rq->rotation;

	memcpy(out, v, sizeof(float) * rq->dims);
	for (int i = rq->dims; i < rq->padded; i++)
		out[i] = 0.0f;
	for (int r = 0; r < VA_RABITQ_ROUNDS; r++)
	{
		flip_signs(rot, r, out);
		fwht_normalised(out + block_start(rot, r), rot->block);
		fold_halves(rot, out);
	}
}

static void
rotate_baseline(const VaRabitq *rq, const float *v, float *out)
{
	rotate_body(rq, v, out);
}

#ifdef RABITQ_AVX2_CLONES
static void
__attribute__((target("avx2")))
rotate_avx2(const VaRabitq *rq, const float *v, float *out)
{
	rotate_body(rq, v, out);
}
#endif

/*
 * out[0..D) := R (v[0..dims) zero-padded to D).  v and out must not
 * overlap.  For the encoder, the query preparation and tests; no
 * allocation, no errors.  The same result from either version.
 */
void
VaRabitqRotate(const VaRabitq *rq, const float *v, float *out)
{
#ifdef RABITQ_AVX2_CLONES
	if (va_cpu_has_avx2)
	{
		rotate_avx2(rq, v, out);
		return;
	}
#endif
	rotate_baseline(rq, v, out);
}

/* x[0..D) := R^T x[0..D), in place.  No allocation, no errors. */
void
VaRabitqRotateInverse(const VaRabitq *rq, float *x)
{
	const RabitqRotation *rot = (const RabitqRotation *) rq->rotation;

	for (int r = VA_RABITQ_ROUNDS - 1; r >= 0; r--)
	{
		fold_halves(rot, x);
		fwht_normalised(x + block_start(rot, r), rot->block);
		flip_signs(rot, r, x);
	}
}

/*
 * Set up rq (see rabitq.h).  The sign bits come from pg_prng seeded with
 * seed, drawn round by round, 64 coordinates per draw, so they depend on
 * (dims rounded to D, seed) only and are the same on every platform.
 */
void
VaRabitqInit(VaRabitq *rq, int dims, int bits, uint64 seed)
{
	RabitqRotation *rot;
	pg_prng_state state;
	int			padded;
	int			nwords;

	if (dims < 1 || dims > VA_MAX_DIM)
		elog(ERROR, "RaBitQ quantizer for %d dimensions: expected 1 to %d", dims, VA_MAX_DIM);
	if (bits < VA_RABITQ_MIN_BITS || bits > VA_RABITQ_MAX_BITS)
		elog(ERROR, "RaBitQ quantizer with %d bits: expected %d to %d",
			 bits, VA_RABITQ_MIN_BITS, VA_RABITQ_MAX_BITS);

	if (!flip_masks_ready)
		fill_flip_masks();
	padded = VaRabitqPadded(dims);
	nwords = VA_RABITQ_ROUNDS * (padded / 64);
	rot = palloc(offsetof(RabitqRotation, signs) + sizeof(uint64) * nwords);
	rot->padded = padded;
	rot->block = 1;
	while (rot->block * 2 <= padded)
		rot->block *= 2;
	pg_prng_seed(&state, seed);
	for (int w = 0; w < nwords; w++)
		rot->signs[w] = pg_prng_uint64(&state);

	rq->dims = dims;
	rq->padded = padded;
	rq->bits = bits;
	rq->seed = seed;
	rq->rotation = rot;
	rq->centre = NULL;
	rq->centre_half_norm2 = 0.0;
}

/*
 * sum of a[i] * b[i], i < n, in double: eight running sums (one chain
 * would wait on each addition), added in a fixed order, so that the result,
 * which codes keep, is the same on every CPU (element-wise vector
 * operations where the compiler has them).
 */
static double
dot_double(const float *a, const float *b, int n)
{
	double		sum = 0.0;
	int			i = 0;

#ifdef RABITQ_VECTOR_EXT
	rabitq_v4df s0 = {0};
	rabitq_v4df s1 = {0};

	for (; i + 8 <= n; i += 8)
	{
		rabitq_v4sf xl,
					xh,
					yl,
					yh;

		memcpy(&xl, a + i, sizeof(xl));
		memcpy(&xh, a + i + 4, sizeof(xh));
		memcpy(&yl, b + i, sizeof(yl));
		memcpy(&yh, b + i + 4, sizeof(yh));
		s0 += __builtin_convertvector(xl, rabitq_v4df) * __builtin_convertvector(yl, rabitq_v4df);
		s1 += __builtin_convertvector(xh, rabitq_v4df) * __builtin_convertvector(yh, rabitq_v4df);
	}
	s0 += s1;
	sum = (s0[0] + s0[1]) + (s0[2] + s0[3]);
#endif
	for (; i < n; i++)
		sum += (double) a[i] * b[i];
	return sum;
}

void
VaRabitqSetCentre(VaRabitq *rq, const float *c)
{
	rq->centre = c;
	rq->centre_half_norm2 = dot_double(c, c, rq->dims) / 2.0;
}

Size
VaRabitqCodeSize(int dims, int bits, bool centred)
{
	return offsetof(VaRabitqCode, data) + (Size) VaRabitqPadded(dims) / 8 * bits +
		(centred ? sizeof(float) : 0);
}

/*
 * v_out[0..dims) := v - c, returning <v - c, c> + |c|^2 / 2 (the offset of
 * rabitq.h), in double.
 */
static float
subtract_centre(const VaRabitq *rq, const float *v, float *v_out)
{
	for (int i = 0; i < rq->dims; i++)
		v_out[i] = v[i] - rq->centre[i];
	return (float) (dot_double(v_out, rq->centre, rq->dims) + rq->centre_half_norm2);
}

Size
VaRabitqQuerySize(int dims)
{
	return offsetof(VaRabitqQuery, qq) + (Size) VaRabitqPadded(dims);
}

/* ---------------------------------------------------------------------
 * The code layout (rabitq.h): packed nibbles at 4 bits, bit planes
 * otherwise
 * ---------------------------------------------------------------------
 */

/* Where u[i] of a 4-bit code lives: byte *byte, high nibble or low. */
static inline void
nibble_of(int padded, int i, int *byte, bool *high)
{
	int			s = i & ~127;
	int half = Min(128, padded - s) / 2;
	int			k = i - s;

	*high = k >= half;

	*byte = s / 2 + (*high ? k - half : k);
}

/* data[] := u[0..D) in the layout for bits (data zeroed by the caller). */
static void
code_put(uint8 *data, int padded, int bits, const uint8 *u)
{
	int			nbytes = padded / 8;

	for (int i = 0; i < padded; i++)
	{
		if (bits == 4)
		{
			int			byte;
			bool		high;

			nibble_of(padded, i, &byte, &high);
			data[byte] |= (uint8) (high ? u[i] << 4 : u[i]);
		}
		else
		{
			for (int b = 0; b < bits; b++)
				if ((u[i] >> b) & 1)
					data[b * nbytes + i / 8] |= (uint8) (1 << (i % 8));
		}
	}
}

/* u[i] of a code of (padded, bits). */
static inline int
code_get(const uint8 *data, int padded, int bits, int i)
{
	int			nbytes = padded / 8;
	int			u = 0;

	if (bits == 4)
	{
		int			byte;
		bool		high;

		nibble_of(padded, i, &byte, &high);
		return high ? data[byte] >> 4 : data[byte] & 15;
	}
	for (int b = 0; b < bits; b++)
		u |= ((data[b * nbytes + i / 8] >> (i % 8)) & 1) << b;
	return u;
}

/* ---------------------------------------------------------------------
 * Encoding: the grid vector of largest cosine (Gao et al. 2025)
 * ---------------------------------------------------------------------
 */

/*
 * The cosine objective of the grid vector nearest to t * a (levels
 * k[i] = min(floor(t * a[i]), maxk)), as its numerator <a, k + 1/2> in *ip
 * and |k + 1/2|^2 in *nx.  O(D), in float (only comparisons use it), by
 * the VaRabitqLevels kernel, whose every implementation gives the same
 * bits: 0 <= t * a[i] <= 32 (maxk + 1) * ratio (t never passes the top of
 * choose_levels's bracket), so the floor is the kernel's truncation.
 */
static inline void
levels_at(const float *a, int padded, int maxk, float t, float *ip, float *nx)
{
	VaRabitqLevels(a, padded, maxk, &t, 1, ip, nx);
}

/* Rescalings of choose_levels's grid evaluated by one kernel call. */
#define GRID_BATCH 32

/* Is the cosine ip1 / sqrt(nx1) larger than ip2 / sqrt(nx2)?  (ip > 0) */
static inline bool
better(float ip1, float nx1, float ip2, float nx2)
{
	return (double) ip1 * ip1 * nx2 > (double) ip2 * ip2 * nx1;
}

/*
 * Choose levels k[0..D) in [0, maxk] for magnitudes a[0..D) (a[i] >= 0)
 * maximising the cosine between a and (k + 1/2), maxk = 2^(B-1) - 1.
 *
 * Extended RaBitQ (Gao et al., SIGMOD 2025, section 3.2): with signs fixed
 * to those of the rotated vector, the candidates are, for a rescaling t > 0,
 * the grid vectors nearest to t * a, levels min(floor(t * a[i]), maxk).
 * The paper enumerates every critical t exactly (O(D 2^B log D)), which
 * took 2 ms per 784-dimension vector at 4 bits and made quantized builds
 * eight times slower; the cosine as a function of t is a staircase whose
 * envelope rises to one maximum and falls (the paper's figure 3, and the
 * reason a fixed t per B serves its fast variant), so this searches t
 * instead: a geometric grid of ratio 2^(1/8) from 1 / max(a) (the largest
 * coordinate reaches level 1) to 32 (maxk + 1) / max(a), then a
 * golden-section search of the bracket around the best grid point; about
 * 100 evaluations of O(D).  The cosine it reaches was within 1.1e-6 of
 * the exact enumeration's on Gaussian vectors (256 and 832 dimensions, 2 to
 * 8 bits; vectorann_rabitq_check bounds the estimator error it leads to).  Returns <a, k + 1/2> in *ip_out and |k + 1/2|^2 in
 * *nx_out, in double from the final levels.  a is the caller's scratch: a
 * vector so short that the grid's end overflows a float (every a[i] below
 * about 1e-35; the grid then never ended) is scaled up by a power of two
 * in place first, which changes no product t * a[i] the search compares,
 * and *ip_out scaled back.
 */
static void
choose_levels(float *a, int padded, int bits, uint8 *k,
			  double *ip_out, double *nx_out)
{
	int			maxk = (1 << (bits - 1)) - 1;
	float		amax = 0.0f;
	float		best_t = 0.0f;
	double		ip = 0.0;
	double		nx = 0.0;
	int			scale_exp = 0;

	{
		/* eight running maxima: eight short chains instead of one long one */
		float		m[8] = {0};

		for (int i = 0; i < padded; i += 8)
			for (int l = 0; l < 8; l++)
				m[l] = Max(m[l], a[i + l]);
		for (int l = 0; l < 8; l++)
			amax = Max(amax, m[l]);
	}
	if (amax > 0.0f && isinf(32.0f * (maxk + 1) / amax))
	{
		/* amax = f * 2^scale_exp, f in [0.5, 1): bring it to f */
		(void) frexpf(amax, &scale_exp);
		for (int i = 0; i < padded; i++)
			a[i] = ldexpf(a[i], -scale_exp);
		amax = ldexpf(amax, -scale_exp);
	}

	if (maxk > 0 && amax > 0.0f)
	{
		const float ratio = 1.0905077f; /* 2^(1/8) */
		const float golden = 0.618034f;
		float		t0 = 1.0f / amax;
		float		tmax = 32.0f * (maxk + 1) / amax;
		float		best_ip;
		float		best_nx;
		float		lo;
		float		hi;
		float		t;

		levels_at(a, padded, maxk, t0, &best_ip, &best_nx);
		best_t = t0;

		/*
		 * The grid t0 * ratio, (t0 * ratio) * ratio, ... up to tmax, as a
		 * running product, GRID_BATCH points to a kernel call, then taken in
		 * ascending order as one at a time would.
		 */
		t = t0 * ratio;
		while (t <= tmax)
		{
			float		ts[GRID_BATCH];
			float		tips[GRID_BATCH];
			float		tnxs[GRID_BATCH];
			int			nt = 0;

			for (; nt < GRID_BATCH && t <= tmax; t *= ratio)
				ts[nt++] = t;
			VaRabitqLevels(a, padded, maxk, ts, nt, tips, tnxs);
			for (int e = 0; e < nt; e++)
			{
				if (better(tips[e], tnxs[e], best_ip, best_nx))
				{
					best_ip = tips[e];
					best_nx = tnxs[e];
					best_t = ts[e];
				}
			}
		}

		/* golden-section search of [best / ratio, best * ratio] */
		lo = best_t / ratio;
		hi = best_t * ratio;
		for (int step = 0; step < 24; step++)
		{
			float		m[2];
			float		ips[2];
			float		nxs[2];
			float		m1;
			float		m2;
			float		ip1;
			float		nx1;
			float		ip2;
			float		nx2;

			m[0] = m1 = hi - golden * (hi - lo);
			m[1] = m2 = lo + golden * (hi - lo);
			VaRabitqLevels(a, padded, maxk, m, 2, ips, nxs);
			ip1 = ips[0];
			nx1 = nxs[0];
			ip2 = ips[1];
			nx2 = nxs[1];
			if (better(ip1, nx1, ip2, nx2))
				hi = m2;
			else
				lo = m1;
			if (better(ip1, nx1, best_ip, best_nx))
			{
				best_ip = ip1;
				best_nx = nx1;
				best_t = m1;
			}
			if (better(ip2, nx2, best_ip, best_nx))
			{
				best_ip = ip2;
				best_nx = nx2;
				best_t = m2;
			}
		}
	}

	/*
	 * the levels at the best t (0 <= best_t * a[i] < 2^31, so truncation is
	 * the floor), and the factors from them in double
	 */
	for (int i = 0; i < padded; i++)
		k[i] = best_t > 0.0f ? (uint8) Min((int) (best_t * a[i]), maxk) : 0;
	for (int i = 0; i < padded; i++)
	{
		double		x = k[i] + 0.5;

		ip += x * a[i];
		nx += x * x;
	}
	*ip_out = ldexp(ip, scale_exp);
	*nx_out = nx;
}

/*
 * Encode v (see rabitq.h).  The rotated vector o_r is split into signs and
 * magnitudes; choose_levels picks the magnitude levels k; the code stores
 * u[i] = 2^(B-1) + k[i] where o_r[i] >= 0 and 2^(B-1) - 1 - k[i] where it is
 * negative, i.e. x[i] = +-(k[i] + 1/2).  Scratch: 2 D floats and D bytes,
 * and dims floats for v - c with a centre (palloc, freed).
 */
void
VaRabitqEncode(const VaRabitq *rq, const float *v, VaRabitqCode *code)
{
	int			padded = rq->padded;
	int			bits = rq->bits;
	int			mid = 1 << (bits - 1);
	int			nbytes = padded / 8;
	float	   *o = palloc(sizeof(float) * padded);
	float	   *a = palloc(sizeof(float) * padded);
	uint8	   *k = palloc(padded);
	double		norm2 = 0.0;
	double		xo;
	double		nx;
	uint32		usum = 0;
	float	   *centred = NULL;

	if (rq->centre != NULL)
	{
		float		offset;

		centred = palloc(sizeof(float) * rq->dims);
		offset = subtract_centre(rq, v, centred);
		v = centred;
		SET_VARSIZE(code, VaRabitqCodeSize(rq->dims, bits, true));
		code->kind = VA_RABITQ_KIND_CENTRED_CODE;
		memcpy((char *) code + VARSIZE(code) - sizeof(float), &offset, sizeof(float));
	}
	else
	{
		SET_VARSIZE(code, VaRabitqCodeSize(rq->dims, bits, false));
		code->kind = VA_RABITQ_KIND_CODE;
	}
	/* (one chain as before centres existed: old codes must come out the same) */
	if (centred)
		norm2 = dot_double(v, v, rq->dims);
	else
		for (int i = 0; i < rq->dims; i++)
			norm2 += (double) v[i] * v[i];

	code->bits = (uint8) bits;
	code->padded_div64 = (uint16) (padded / 64);
	code->norm2 = (float) norm2;
	memset(code->data, 0, (Size) nbytes * bits);

	VaRabitqRotate(rq, v, o);
	for (int i = 0; i < padded; i++)
	{
		if (unlikely(isinf(o[i]) || isnan(o[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("vector is too large to quantize with RaBitQ"),
					 errdetail("Its rotated coordinates overflow single precision (coordinates of magnitude above about 1e35)."),
					 errhint("Scale the vectors down, or use quantization = 'none'.")));
		a[i] = fabsf(o[i]);
	}
	choose_levels(a, padded, bits, k, &xo, &nx);

	for (int i = 0; i < padded; i++)
	{
		/* k becomes u in place */
		k[i] = (uint8) ((o[i] >= 0.0f) ? mid + k[i] : mid - 1 - k[i]);
		usum += k[i];
	}
	code_put(code->data, padded, bits, k);
	code->usum = usum;

	if (norm2 > 0.0 && xo > 0.0)
	{
		code->ip_scale = (float) (norm2 / xo);
		code->recon_scale = (float) (xo / nx);
	}
	else
	{
		/* o = 0 (or underflowed to 0 on rotation): every estimate is 0 */
		code->ip_scale = 0.0f;
		code->recon_scale = 0.0f;
	}

	pfree(o);
	pfree(a);
	pfree(k);
	if (centred)
		pfree(centred);
}

/* ---------------------------------------------------------------------
 * Queries and estimators
 * ---------------------------------------------------------------------
 */

/*
 * Quantize the rotated query qr[0..D) of squared norm norm2 into query:
 * delta = max |qr[i]| / 127; qq[i] = qr[i] / delta rounded to nearest (so
 * |qq[i]| <= 127); qr = 0 gives delta = 0 and qq = 0.
 */
static pg_attribute_always_inline void
prepare_rotated_body(const VaRabitq *rq, const float *qr, double norm2, VaRabitqQuery *query)
{
	int			padded = rq->padded;
	float		maxabs = 0.0f;
	int32		qqsum = 0;

#ifdef RABITQ_VECTOR_EXT
	{
		/* D is a multiple of 64; the maximum is exact in any order */
		rabitq_v8sf m = {0};

		for (int i = 0; i < padded; i += 8)
		{
			rabitq_v8sf a;
			rabitq_v8si greater;

			memcpy(&a, qr + i, sizeof(a));
			a = (rabitq_v8sf) ((rabitq_v8su) a & 0x7FFFFFFFu);
			greater = a > m;
			m = (rabitq_v8sf) (((rabitq_v8si) a & greater) | ((rabitq_v8si) m & ~greater));
		}
		for (int k = 0; k < 8; k++)
			maxabs = Max(maxabs, m[k]);
	}
#else
	for (int i = 0; i < padded; i++)
		maxabs = Max(maxabs, fabsf(qr[i]));
#endif

	SET_VARSIZE(query, VaRabitqQuerySize(rq->dims));
	query->kind = VA_RABITQ_KIND_QUERY;
	query->bits = (uint8) rq->bits;
	query->padded_div64 = (uint16) (padded / 64);
	query->norm2 = (float) norm2;
	query->offset = 0.0f;
	if (maxabs > 0.0f)
	{
		float		inv = 127.0f / maxabs;

		query->delta = maxabs / 127.0f;
#ifdef RABITQ_VECTOR_EXT

		/*
		 * rintf without a call (the x86-64 baseline has no rounding
		 * instruction): adding and taking away 1.5 * 2^23 rounds a float of
		 * magnitude below 2^22 to the nearest integer, ties to even, as rintf
		 * does in the default rounding mode; |qr[i] * inv| <= 127 up to
		 * rounding.
		 */
		{
			const rabitq_v8sf magic = {12582912.0f, 12582912.0f, 12582912.0f, 12582912.0f,
			12582912.0f, 12582912.0f, 12582912.0f, 12582912.0f};
			rabitq_v8si sum = {0};

			for (int i = 0; i < padded; i += 8)
			{
				rabitq_v8sf r;
				rabitq_v8si ri;
				rabitq_v8si above;
				rabitq_v8qi q8;

				memcpy(&r, qr + i, sizeof(r));
				r = ((r * inv) + magic) - magic;
				ri = __builtin_convertvector(r, rabitq_v8si);
				above = ri > 127;
				ri = (ri & ~above) | (above & 127);
				above = ri < -127;
				ri = (ri & ~above) | (above & -127);
				q8 = __builtin_convertvector(ri, rabitq_v8qi);
				memcpy(query->qq + i, &q8, sizeof(q8));
				sum += ri;
			}
			for (int k = 0; k < 8; k++)
				qqsum += sum[k];
		}
#else
		for (int i = 0; i < padded; i++)
		{
			float		r = rintf(qr[i] * inv);

			r = Min(Max(r, -127.0f), 127.0f);
			query->qq[i] = (int8) r;
			qqsum += (int8) r;
		}
#endif
	}
	else
	{
		query->delta = 0.0f;
		memset(query->qq, 0, padded);
	}
	query->qqsum = qqsum;
}

static void
prepare_rotated_baseline(const VaRabitq *rq, const float *qr, double norm2,
						 VaRabitqQuery *query)
{
	prepare_rotated_body(rq, qr, norm2, query);
}

#ifdef RABITQ_AVX2_CLONES
static void
__attribute__((target("avx2")))
prepare_rotated_avx2(const VaRabitq *rq, const float *qr, double norm2,
					 VaRabitqQuery *query)
{
	prepare_rotated_body(rq, qr, norm2, query);
}
#endif

/* prepare_rotated_body, compiled for AVX2 when the CPU has it */
static void
prepare_rotated(const VaRabitq *rq, const float *qr, double norm2, VaRabitqQuery *query)
{
#ifdef RABITQ_AVX2_CLONES
	if (va_cpu_has_avx2)
	{
		prepare_rotated_avx2(rq, qr, norm2, query);
		return;
	}
#endif
	prepare_rotated_baseline(rq, qr, norm2, query);
}

/*
 * Prepare q (see rabitq.h): q_r = R q; delta = max |q_r[i]| / 127;
 * qq[i] = q_r[i] / delta rounded to nearest (so |qq[i]| <= 127); q_r = 0
 * gives delta = 0 and qq = 0; with a centre, of q - c.  Scratch: D floats,
 * and dims more with a centre (palloc, freed).
 */
void
VaRabitqPrepareQuery(const VaRabitq *rq, const float *q, VaRabitqQuery *query)
{
	float	   *qr = palloc(sizeof(float) * rq->padded);
	float	   *centred = NULL;
	float		offset = 0.0f;
	double		norm2 = 0.0;

	if (rq->centre != NULL)
	{
		centred = palloc(sizeof(float) * rq->dims);
		offset = subtract_centre(rq, q, centred);
		q = centred;
		norm2 = dot_double(q, q, rq->dims);
	}
	else
		for (int i = 0; i < rq->dims; i++)
			norm2 += (double) q[i] * q[i];
	VaRabitqRotate(rq, q, qr);
	prepare_rotated(rq, qr, norm2, query);
	query->offset = offset;
	pfree(qr);
	if (centred)
		pfree(centred);
}

/* Prepare an already rotated query (see rabitq.h). */
void
VaRabitqPrepareRotatedQuery(const VaRabitq *rq, const float *qr, VaRabitqQuery *query)
{
	double		norm2 = 0.0;

	for (int i = 0; i < rq->padded; i++)
		norm2 += (double) qr[i] * qr[i];
	prepare_rotated(rq, qr, norm2, query);
}

/*
 * Estimated <o, q> (see rabitq.h): <x, q_r> ~ delta * (sum u qq - c qqsum)
 * with c = (2^B - 1) / 2, times ip_scale.  Computed as
 * delta * (2 sum u qq - (2^B - 1) qqsum) / 2 in integers first (exact).
 * A query and code of different D or B are a caller's bug: elog ERROR.
 */
float
VaRabitqInnerProduct(const VaRabitqQuery *query, const VaRabitqCode *code)
{
	int			padded = code->padded_div64 * 64;
	int			bits = code->bits;
	int64		dot;

	if (unlikely(query->padded_div64 != code->padded_div64 || query->bits != bits))
		elog(ERROR, "RaBitQ query (%d dimensions, %d bits) does not match the code (%d dimensions, %d bits)",
			 query->padded_div64 * 64, query->bits, padded, bits);

	dot = 2 * (int64) VaRabitqDotPlanes(code->data, query->qq, padded, bits) -
		(int64) ((1 << bits) - 1) * query->qqsum;
	return code->ip_scale * (query->delta * 0.5f) * (float) dot;
}

/*
 * See rabitq.h.  With |x|^2 = <x, o_r> / recon_scale and <x, o_r> =
 * |o|^2 / ip_scale: cos^2 theta = recon_scale / ip_scale, and the rounding
 * term ip_scale |x| = |o| / cos theta.
 */
float
VaRabitqErrorBound(const VaRabitqQuery *query, const VaRabitqCode *code, float ip)
{
	int			padded = code->padded_div64 * 64;
	float		norm = sqrtf(code->norm2);
	float		cos2,
				cos_theta,
				tan_theta,
				rotation,
				rounding,
				bound,
				least_ip;

	if (code->ip_scale <= 0.0f || code->recon_scale <= 0.0f || code->norm2 <= 0.0f)
		return 0.0f;
	cos2 = Min(code->recon_scale / code->ip_scale, 1.0f);
	cos_theta = sqrtf(cos2);
	tan_theta = sqrtf(1.0f - cos2) / cos_theta;

	/* the rotation's term per unit of |q_perp|, and the rounding's term */
	rotation = VA_RABITQ_BOUND_EPS0 * norm * tan_theta / sqrtf((float) Max(padded - 1, 1));
	rounding = VA_RABITQ_BOUND_EPS0 * norm * query->delta / (sqrtf(12.0f) * cos_theta);

	/* first with |q_perp| <= |q| */
	bound = rotation * sqrtf(query->norm2) + rounding;

	/*
	 * then with the longest q_perp that <o, q> in [ip - bound, ip + bound]
	 * allows (a NaN ip keeps the first bound)
	 */
	least_ip = fabsf(ip) - bound;
	if (least_ip > 0.0f)
	{
		float		perp2 = query->norm2 - least_ip * least_ip / code->norm2;

		bound = rotation * sqrtf(Max(perp2, 0.0f)) + rounding;
	}
	return bound;
}

/* Read 8 bytes at p (any alignment) as a word. */
static inline uint64
load_word(const uint8 *p)
{
	uint64		w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * Estimated <a, b> (see rabitq.h): ip_scale_a * recon_scale_b * <x_a, x_b>,
 * where <x_a, x_b> = sum u_a u_b - c (usum_a + usum_b) + D c^2 and
 * sum u_a u_b is, for bit planes, the sum over plane pairs (p, r) of
 * 2^(p+r) popcount(a_p & b_r), and for packed nibbles the sum of the
 * products of nibbles in the same place.
 * Codes of different D or B: elog ERROR.
 */
float
VaRabitqCodeInnerProduct(const VaRabitqCode *a, const VaRabitqCode *b)
{
	int			padded = a->padded_div64 * 64;
	int			bits = a->bits;
	int			nbytes = padded / 8;
	double		c = ((1 << bits) - 1) / 2.0;
	int64		uu = 0;
	double		xx;

	if (a->padded_div64 != b->padded_div64 || a->bits != b->bits)
		elog(ERROR, "RaBitQ codes of different shapes (%d dimensions, %d bits and %d dimensions, %d bits)",
			 padded, bits, b->padded_div64 * 64, b->bits);

	if (bits == 4)
	{
		/* the same layout in both: nibble meets nibble */
		for (int j = 0; j < nbytes * bits; j++)
			uu += (a->data[j] & 15) * (b->data[j] & 15) + (a->data[j] >> 4) * (b->data[j] >> 4);
	}
	else
	{
		for (int p = 0; p < bits; p++)
		{
			const uint8 *ap = a->data + p * nbytes;

			for (int r = 0; r < bits; r++)
			{
				const uint8 *br = b->data + r * nbytes;
				int64		count = 0;

				for (int j = 0; j < nbytes; j += 8)
					count += pg_popcount64(load_word(ap + j) & load_word(br + j));
				uu += count << (p + r);
			}
		}
	}
	xx = (double) uu - c * ((double) a->usum + (double) b->usum) + padded * c * c;
	return (float) ((double) a->ip_scale * b->recon_scale * xx);
}

/*
 * out[0..dims) := R^T (recon_scale * x) truncated to dims (see rabitq.h).
 * Scratch: D floats (palloc, freed).
 */
void
VaRabitqDecode(const VaRabitq *rq, const VaRabitqCode *code, float *out)
{
	int			padded = rq->padded;
	int			bits = rq->bits;
	float		c = ((1 << bits) - 1) / 2.0f;
	float	   *y = palloc(sizeof(float) * padded);

	if (code->padded_div64 * 64 != padded || code->bits != bits)
		elog(ERROR, "RaBitQ code (%d dimensions, %d bits) does not match the quantizer (%d dimensions, %d bits)",
			 code->padded_div64 * 64, code->bits, padded, bits);

	for (int i = 0; i < padded; i++)
		y[i] = code->recon_scale * ((float) code_get(code->data, padded, bits, i) - c);
	VaRabitqRotateInverse(rq, y);
	for (int i = 0; i < rq->dims; i++)
		out[i] = rq->centre != NULL ? y[i] + rq->centre[i] : y[i];
	pfree(y);
}
