/*
 * kernel_check.c
 *	  The SQL face of the distance-kernel self check: vectorann_kernel_check()
 *	  runs every SIMD kernel this build has and the CPU supports against its
 *	  scalar reference (VaDistanceCheckKernels in src/distance/distance.c)
 *	  and returns one row per comparison, and vectorann_kernels() names the
 *	  kernel set in use.  For tests and diagnostics.
 */
#include "vectorann.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "distance/distance.h"

/* Appends one (kernel, n, ok) row to the tuplestore behind arg. */
static void
add_row(const char *kernel, int n, int ok, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(kernel);
	values[1] = Int32GetDatum(n);
	values[2] = BoolGetDatum(ok != 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * vectorann_kernel_check(OUT kernel text, OUT n integer, OUT ok boolean)
 * RETURNS SETOF record
 *
 * One row per (SIMD kernel, input length) compared with the scalar
 * reference on pseudo-random inputs of lengths 1, 7, 15, 16, 17, 1023 and
 * 16000; ok says whether the results agree within the tolerance documented
 * at VaDistanceCheckKernels (float4 kernels 1e-5, float8 kernels 1e-12 of
 * the sum of absolute terms; bit kernels exactly).  No rows on a CPU
 * without SIMD kernels.  Errors: OUT_OF_MEMORY.
 */
PG_FUNCTION_INFO_V1(vectorann_kernel_check);
Datum
vectorann_kernel_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext oldcxt;

	/* materialize mode, set up by hand */
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcxt);

	if (VaDistanceCheckKernels(add_row, rsinfo) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while checking the distance kernels")));
	return (Datum) 0;
}

/*
 * vectorann_kernels() RETURNS text
 *
 * The kernel set picked at load time, e.g. "avx2+fma+f16c+popcnt" or
 * "scalar".  Depends on the CPU, so STABLE rather than IMMUTABLE.
 */
PG_FUNCTION_INFO_V1(vectorann_kernels);
Datum
vectorann_kernels(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(VaDistanceKernelName()));
}
