/*
 * vectorann.h
 *	  The one home of what every layer shares: limits, the shims that hide
 *	  differences between PostgreSQL versions, prefetch hints and the
 *	  comparison-function macros of the types.  No buffer manager, no access
 *	  method: the buffer helpers are in common/page.h, the interface through
 *	  which a type plugs into an index in indexops.h, CPU detection in
 *	  distance/.
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

/* Largest number of dimensions any vector value may have. */
#define VA_MAX_DIM 16000

/*
 * Version shims.  Keep every #if PG_VERSION_NUM here, but for the buffer
 * manager's in common/page.h (VaExtendBuffer, VaReadRecentBuffer), which
 * only the layers that use buffers include.  Tested: PostgreSQL 15 only;
 * the branches for 13, 14, 16 and 17 are untested (see the top of this
 * file).
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
#define VaGlobalRandomUint64() pg_prng_uint64(&pg_global_prng_state)
#else
typedef unsigned short VaRandomState[3];
#define VaRandomSeed(state, seed) \
	((*(state))[0] = 0x330E, (*(state))[1] = (unsigned short) (seed), \
	 (*(state))[2] = (unsigned short) ((seed) >> 16))
#define VaRandomDouble(state) pg_erand48(*(state))
#define VaGlobalRandomDouble() ((double) random() / ((double) MAX_RANDOM_VALUE + 1))
#define VaGlobalRandomUint64() (((uint64) random() << 32) ^ (uint64) random())
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

#endif							/* VECTORANN_H */
