/*
 * am.c
 *	  Index access method plumbing shared by hnsw and ivfflat (see am.h).
 */
#include "common/am.h"

#include "access/htup_details.h"
#include "access/itup.h"
#include "catalog/pg_opfamily.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "common/page.h"
#include "common/wal.h"
#include "storage/freespace.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

IndexAmRoutine *
VaMakeAmRoutine(int nprocs)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = nprocs;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;
	/* no amcanreturn, amproperty, bitmaps, mark/restore or parallel scans */
	return am;
}

relopt_kind
VaAddReloptions(const VaReloption *opts, int n)
{
	relopt_kind kind = add_reloption_kind();

	for (int i = 0; i < n; i++)
	{
		if (opts[i].type == RELOPT_TYPE_ENUM)
			add_enum_reloption(kind, opts[i].name, opts[i].desc, opts[i].members,
							   opts[i].default_value, opts[i].detail,
							   AccessExclusiveLock);
		else
			add_int_reloption(kind, opts[i].name, opts[i].desc,
							  opts[i].default_value, opts[i].min, opts[i].max,
							  AccessExclusiveLock);
	}
	return kind;
}

void *
VaParseReloptions(Datum reloptions, bool validate, relopt_kind kind, Size size,
				  const VaReloption *opts, int n)
{
	relopt_parse_elt *tab = palloc(sizeof(relopt_parse_elt) * n);
	void	   *result;

	for (int i = 0; i < n; i++)
	{
		tab[i].optname = opts[i].name;
		tab[i].opttype = opts[i].type;
		tab[i].offset = opts[i].offset;
	}
	result = build_reloptions(reloptions, validate, kind, size, tab, n);
	pfree(tab);
	return result;
}

void
VaGetReloptions(Relation index, void *dst, Size size, const VaReloption *opts,
				int n)
{
	if (index->rd_options != NULL)
	{
		memcpy(dst, index->rd_options, size);
		return;
	}
	memset(dst, 0, size);
	for (int i = 0; i < n; i++)
		*(int *) ((char *) dst + opts[i].offset) = opts[i].default_value;
}

bool
VaInsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		 const VaIndexOps *(*get_ops) (Relation index), VaInsertStoredFn insert)
{
	MemoryContext ctx;
	MemoryContext old;
	const VaIndexOps *ops;
	Datum		value;
	void	   *stored;
	Size		size;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "vectorann insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	ops = get_ops(index);
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	size = ops->stored_size(value);
	stored = palloc(size);
	if (ops->to_stored(value, stored))
		insert(index, ops, stored, size, heap_tid);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}

IndexScanDesc
VaBeginScan(Relation index, int nkeys, int norderbys, Size opaque_size,
			const VaIndexOps *ops, const char *ctxname)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	Size		size = Max(opaque_size, sizeof(VaScanBase));
	VaScanBase *base = palloc0(size);
	int			n = Max(norderbys, 1);

	base->ops = ops;
	base->size = size;
	/* ctxname is a string literal of the caller's, which outlives the context */
	base->ctx = AllocSetContextCreateInternal(CurrentMemoryContext, ctxname,
											  ALLOCSET_DEFAULT_SIZES);
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * n);
	scan->xs_orderbynulls = palloc(sizeof(bool) * n);
	memset(scan->xs_orderbynulls, true, sizeof(bool) * n);
	scan->opaque = base;
	return scan;
}

VaHeapValues *
VaScanHeapValues(IndexScanDesc scan, VaHeapValues *hv, bool *reading,
				 const char *amname)
{
	if (!*reading)
	{
		if (scan->heapRelation == NULL)
			elog(ERROR, "%s scan of a quantized index needs its heap relation",
				 amname);
		VaHeapValuesBegin(hv, scan->heapRelation, scan->indexRelation,
						  ((VaScanBase *) scan->opaque)->ops);
		*reading = true;
	}
	return hv;
}

void
VaRescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
		 int norderbys)
{
	VaScanBase *base = (VaScanBase *) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	if (base->release)
		base->release(base);
	MemoryContextReset(base->ctx);
	memset((char *) base + sizeof(VaScanBase), 0, base->size - sizeof(VaScanBase));
}

void *
VaScanQuery(IndexScanDesc scan, int dimensions)
{
	const VaIndexOps *ops = ((VaScanBase *) scan->opaque)->ops;
	Datum		value;
	void	   *query;

	if (scan->orderByData == NULL || (scan->orderByData[0].sk_flags & SK_ISNULL))
		return NULL;
	value = PointerGetDatum(PG_DETOAST_DATUM(scan->orderByData[0].sk_argument));
	query = palloc(ops->stored_size(value));
	if (!ops->to_stored(value, query))
	{
		pfree(query);
		return NULL;
	}
	if (ops->dims(query) != dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						dimensions, ops->dims(query))));
	return query;
}

IndexBuildResult *
VaFinishBuild(Relation index, double heap_tuples, double index_tuples)
{
	IndexBuildResult *result = palloc(sizeof(IndexBuildResult));

	VaWalLogRange(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index));
	result->heap_tuples = heap_tuples;
	result->index_tuples = index_tuples;
	return result;
}

char *
VaBuildPhaseName(int64 phasenum, const char *const *names, int nnames)
{
	if (phasenum < 1 || phasenum > nnames)
		return NULL;
	return unconstify(char *, names[phasenum - 1]);
}

void
VaPrepareIndexOnly(IndexScanDesc scan)
{
	TupleDesc	desc;
	Datum		values[INDEX_MAX_KEYS] = {0};
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old;

	if (!scan->xs_want_itup || scan->xs_itup != NULL)
		return;
	desc = RelationGetDescr(scan->indexRelation);
	memset(isnull, true, sizeof(isnull));
	old = MemoryContextSwitchTo(GetMemoryChunkContext(scan));
	scan->xs_itupdesc = desc;
	scan->xs_itup = index_form_tuple(desc, values, isnull);
	MemoryContextSwitchTo(old);
}

IndexBulkDeleteResult *
VaVacuumCount(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			  BlockNumber first, VaCountPageFn count, bool fsm)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_pages = nblocks;
	stats->num_index_tuples = 0;
	for (BlockNumber blkno = first; blkno < nblocks; blkno++)
	{
		Buffer		buf = VaVacuumReadBuffer(index, blkno, info->strategy,
											 BUFFER_LOCK_SHARE);
		Size		room = 0;

		stats->num_index_tuples += count(index, buf, &room);
		UnlockReleaseBuffer(buf);
		if (fsm)
			RecordPageWithFreeSpace(index, blkno, room);
	}
	if (fsm)
		FreeSpaceMapVacuum(index);
	return stats;
}

void
VaEndScan(IndexScanDesc scan)
{
	VaScanBase *base = (VaScanBase *) scan->opaque;

	if (base->release)
		base->release(base);
	MemoryContextDelete(base->ctx);
	pfree(base);
	scan->opaque = NULL;
}

void
VaQuantizationUnsupported(Relation index, const char *quantization, const char *hint)
{
	HeapTuple	tup;
	char	   *opcname = "?";

	/* our operator classes each have a family of the same name */
	tup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(index->rd_opfamily[0]));
	if (HeapTupleIsValid(tup))
	{
		opcname = pstrdup(NameStr(((Form_pg_opfamily) GETSTRUCT(tup))->opfname));
		ReleaseSysCache(tup);
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("quantization \"%s\" does not support operator class \"%s\"",
					quantization, opcname),
			 errhint("%s", hint)));
}
