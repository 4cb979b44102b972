/*
 * heapvalue.c
 *	  Reading the indexed value of heap rows by TID (see heapvalue.h): the
 *	  exact values behind a quantized index's codes, for re-ranking and
 *	  checks.  Knows no access method.
 */
#include "common/heapvalue.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"

void
VaHeapValuesBegin(VaHeapValues *hv, Relation heap, Relation index,
				  const VaIndexOps *ops)
{
	hv->ops = ops;
	hv->fetch = table_index_fetch_begin(heap);
	hv->slot = table_slot_create(heap, NULL);
	hv->estate = CreateExecutorState();
	hv->indexInfo = BuildIndexInfo(index);
}

void *
VaHeapValue(VaHeapValues *hv, const ItemPointerData *tid, Snapshot snapshot,
			bool *seen)
{
	ExprContext *econtext = GetPerTupleExprContext(hv->estate);
	ItemPointerData t = *tid;	/* the fetch may move it along a HOT chain */
	bool		call_again = false;
	bool		all_dead = false;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old;
	void	   *stored = NULL;

	ResetExprContext(econtext);
	if (seen)
		*seen = false;
	if (!table_index_fetch_tuple(hv->fetch, &t, snapshot, hv->slot,
								 &call_again, &all_dead))
		return NULL;
	if (seen)
		*seen = true;
	econtext->ecxt_scantuple = hv->slot;
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	FormIndexDatum(hv->indexInfo, hv->slot, hv->estate, values, isnull);
	if (!isnull[0])
	{
		Datum		value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));

		stored = palloc(hv->ops->stored_size(value));
		if (!hv->ops->to_stored(value, stored))
			stored = NULL;
	}
	MemoryContextSwitchTo(old);
	return stored;
}

void
VaHeapValuesRelease(VaHeapValues *hv)
{
	table_index_fetch_reset(hv->fetch);
}

void
VaHeapValuesEnd(VaHeapValues *hv)
{
	table_index_fetch_end(hv->fetch);
	ExecDropSingleTupleTableSlot(hv->slot);
	FreeExecutorState(hv->estate);
}
