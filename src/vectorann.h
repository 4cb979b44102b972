/*
 * vectorann.h
 *	  The one home of what every module shares: limits, the index-ops
 *	  interface through which a type plugs into an index, and the shims that
 *	  hide differences between PostgreSQL versions.
 *
 *	  Only PostgreSQL 15 is built and tested (Debian 12 packages no other
 *	  server version).  The shims below also take the other branch for 13,
 *	  14, 16 and 17, written from those versions' headers, but nothing here
 *	  compiles or runs them; treat any other version as untested.
 */
#ifndef VECTORANN_H
#define VECTORANN_H

#include "postgres.h"

#include "fmgr.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/rel.h"

/* Largest number of dimensions any vector value may have. */
#define VA_MAX_DIM 16000

/*
 * What an index access method needs to know of a data type under one
 * operator class.  Each opclass's support function 1 has the SQL signature
 * (internal) RETURNS internal and returns a pointer to a static VaIndexOps;
 * the AM calls it once per scan/build/insert and then only these C functions,
 * so the hot loop has no fmgr call, palloc or detoast.
 *
 * The "stored form" is a self-describing, MAXALIGN-able byte image of a value
 * (for vector: the Vector struct itself, normalised for cosine).
 */
typedef struct VaIndexOps
{
	/* Bytes of the stored form of a detoasted, non-null value. */
	Size		(*stored_size) (Datum value);

	/*
	 * Write the stored form of value into dst (stored_size bytes).  Returns
	 * false when the value must not be indexed (e.g. zero norm for cosine);
	 * dst is then undefined.
	 */
	bool		(*to_stored) (Datum value, void *dst);

	/* Distance between two stored forms of equal dimensions; smaller is closer. */
	float		(*distance) (const void *a, const void *b);

	/* Map an index distance to the value the SQL ordering operator returns. */
	double		(*to_sql) (float distance);

	/* Number of dimensions of a stored form. */
	int			(*dims) (const void *stored);

	/*
	 * k-means support for ivfflat (optional; NULL when the type cannot be
	 * averaged, and ivfflat then refuses the operator class).
	 *
	 * accum adds the dims elements of a stored form to sum[0..dims).
	 * from_mean writes into dst (as many bytes as a stored form of dims
	 * dimensions) the stored form of the point mean[0..dims); under cosine
	 * it is scaled to unit length (spherical k-means).  Returns false when
	 * the point cannot be stored (zero norm under cosine).
	 * kmeans_distance is the non-negative distance k-means minimises and
	 * seeds with: squared L2 for l2 and ip, 1 - a.b of unit vectors for
	 * cosine.
	 */
	void		(*accum) (const void *stored, double *sum);
	bool		(*from_mean) (const double *mean, int dims, void *dst);
	float		(*kmeans_distance) (const void *a, const void *b);
} VaIndexOps;

/* Fetch the VaIndexOps behind an opclass support function (see above). */
static inline const VaIndexOps *
VaGetIndexOps(FmgrInfo *support)
{
	return (const VaIndexOps *) DatumGetPointer(FunctionCall1(support, (Datum) 0));
}

/*
 * Version shims.  Keep every #if PG_VERSION_NUM here.  Tested: PostgreSQL 15
 * only; the branches for 13, 14, 16 and 17 are untested (see the top of
 * this file).
 */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define VA_HAVE_PG_PRNG 1
#endif

/* aminsert gained "bool indexUnchanged" in PG 14. */
#if PG_VERSION_NUM >= 140000
#define VA_INDEX_UNCHANGED_PARAM , bool indexUnchanged
#else
#define VA_INDEX_UNCHANGED_PARAM
#endif

/*
 * Extend fork of rel by one block; return it pinned and exclusively locked.
 */
static inline Buffer
VaExtendBuffer(Relation rel, ForkNumber fork)
{
#if PG_VERSION_NUM >= 160000
	return ExtendBufferedRel(BMR_REL(rel), fork, NULL, EB_LOCK_FIRST);
#else
	Buffer		buf;

	LockRelationForExtension(rel, ExclusiveLock);
	buf = ReadBufferExtended(rel, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(rel, ExclusiveLock);
	return buf;
#endif
}

/*
 * Pin blkno of rel's main fork if buffer recent still holds it (no buffer
 * mapping lookup); false otherwise.  PG 14 added ReadRecentBuffer.
 */
static inline bool
VaReadRecentBuffer(Relation rel, BlockNumber blkno, Buffer recent)
{
#if PG_VERSION_NUM >= 160000
	return ReadRecentBuffer(rel->rd_locator, MAIN_FORKNUM, blkno, recent);
#elif PG_VERSION_NUM >= 140000
	return ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blkno, recent);
#else
	return false;
#endif
}

/*
 * The last argument of tuplesort_begin_heap for a sort read once, forward:
 * PG 15 made the bool randomAccess an int of TUPLESORT_* flags.
 */
#if PG_VERSION_NUM >= 150000
#define VA_TUPLESORT_NONE TUPLESORT_NONE
#else
#define VA_TUPLESORT_NONE false
#endif

/* Reserve a GUC prefix so misspelt settings under it are reported. */
#if PG_VERSION_NUM >= 150000
#define VaReserveGucPrefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define VaReserveGucPrefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* Random double in [0, 1): pg_prng from PG 15, random() before. */
#ifdef VA_HAVE_PG_PRNG
typedef pg_prng_state VaRandomState;
#define VaRandomSeed(state, seed) pg_prng_seed((state), (seed))
#define VaRandomDouble(state) pg_prng_double(state)
#define VaGlobalRandomDouble() pg_prng_double(&pg_global_prng_state)
#else
typedef unsigned short VaRandomState[3];
#define VaRandomSeed(state, seed) \
	((*(state))[0] = 0x330E, (*(state))[1] = (unsigned short) (seed), \
	 (*(state))[2] = (unsigned short) ((seed) >> 16))
#define VaRandomDouble(state) pg_erand48(*(state))
#define VaGlobalRandomDouble() ((double) random() / ((double) MAX_RANDOM_VALUE + 1))
#endif

/*
 * Hint the CPU to start loading the cache line at addr (no effect on
 * compilers without the builtin).
 */
#if defined(__GNUC__) || defined(__clang__)
#define VaPrefetch(addr) __builtin_prefetch(addr)
#else
#define VaPrefetch(addr) ((void) (addr))
#endif

/*
 * Hint the CPU to load the cache line at addr for writing: in exclusive
 * state, so that an atomic operation on it soon after (pinning a buffer
 * updates its descriptor's state word) does not wait for ownership too.
 * On x86-64 that takes PREFETCHW, which compilers emit for
 * __builtin_prefetch(addr, 1) only when told the CPU has it, so it is used
 * when CPUID says so (VaCpuInit); an ordinary prefetch otherwise.  Other
 * architectures' write prefetch comes from the builtin.
 */
extern bool va_cpu_has_prefetchw;
extern void VaCpuInit(void);

static inline void
VaPrefetchWrite(const void *addr)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (va_cpu_has_prefetchw)
	{
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *) addr));
		return;
	}
#endif
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(addr, 1);
#else
	(void) addr;
#endif
}

/*
 * A type's btree support and comparison functions, all from one
 * static int prefix_cmp_args(FunctionCallInfo) that detoasts both
 * arguments, compares them (-1, 0 or 1) and frees any copies:
 * prefix_cmp RETURNS integer (btree support 1) and prefix_eq, _ne, _lt,
 * _le, _gt, _ge RETURNS boolean (operators = <> < <= > >=).
 */
#define VA_COMPARISON_FUNCTION(prefix, name, test) \
	PG_FUNCTION_INFO_V1(prefix##_##name); \
	Datum \
	prefix##_##name(PG_FUNCTION_ARGS) \
	{ \
		PG_RETURN_BOOL(prefix##_cmp_args(fcinfo) test); \
	}

#define VA_DEFINE_COMPARISONS(prefix) \
	PG_FUNCTION_INFO_V1(prefix##_cmp); \
	Datum \
	prefix##_cmp(PG_FUNCTION_ARGS) \
	{ \
		PG_RETURN_INT32(prefix##_cmp_args(fcinfo)); \
	} \
	VA_COMPARISON_FUNCTION(prefix, eq, == 0) \
	VA_COMPARISON_FUNCTION(prefix, ne, != 0) \
	VA_COMPARISON_FUNCTION(prefix, lt, < 0) \
	VA_COMPARISON_FUNCTION(prefix, le, <= 0) \
	VA_COMPARISON_FUNCTION(prefix, gt, > 0) \
	VA_COMPARISON_FUNCTION(prefix, ge, >= 0)

/* Module initialisers, called from _PG_init in vectorann.c. */
extern void VaDistanceInit(void);
extern void HnswInit(void);
extern void IvfflatInit(void);

#endif							/* VECTORANN_H */
