/*
 * build.c
 *	  IVFFlat index build, in two passes over the heap.  The first draws a
 *	  uniform sample of the rows (reservoir sampling, Vitter's Algorithm R)
 *	  of up to IVFFLAT_SAMPLES_PER_LIST rows per list, bounded by
 *	  maintenance_work_mem, and clusters it into the centroids (kmeans.c).
 *	  The metapage, centroid pages and one empty page per list are then
 *	  written, and the second pass appends every row to the list of its
 *	  nearest centroid (found for blocks of rows at once, nearest.c: the
 *	  list an exact comparison with every centroid picks) through the same
 *	  IvfflatAppend the inserts use, WAL bypassed; the whole index is WAL-logged once at the end with
 *	  log_newpage_range.  A quantized index (quantization other than none)
 *	  stores, in place of each row's vector, the code its list codec makes
 *	  of it and its centroid (codec.c).
 *
 *	  With parallel workers the second pass is shared: the leader and the
 *	  workers each scan part of the heap (a parallel table scan), find each
 *	  row's nearest centroid and put (list, heap TID, stored form or code)
 *	  into their part of a shared tuplesort; the leader then merges the sorted
 *	  runs and appends the rows list by list, so each list's pages are
 *	  written one after another.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/parallel.h"
#include "common/am.h"
#include "common/wal.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/tuplesort.h"

/* pg_stat_progress_create_index subphases (see ivfflatbuildphasename) */
#define PHASE_SAMPLE	2
#define PHASE_KMEANS	3
#define PHASE_ASSIGN	4
#define PHASE_LOAD		5

/*
 * State shared by the participants of a parallel assignment pass (one DSM
 * chunk, the heap's ParallelTableScanDesc after it; the Sharedsort and the
 * centroids are chunks of their own).
 */
typedef struct IvfflatShared
{
	VaParallelShared rels;		/* first: what a worker opens */
	int			nlists;
	int			dimensions;
	Size		vector_size;
	Size		item_size;		/* bytes after a list item's heap TID */
	int			sortmem;		/* kB for each participant's sort */
	pg_atomic_uint64 tuples_done;	/* rows assigned, all participants */

	/* guarded by mutex */
	slock_t		mutex;
	double		reltuples;		/* heap rows scanned, all participants */
	double		indtuples;		/* rows sorted, all participants */
} IvfflatShared;

#define IVFFLAT_SHM_KEY_SHARED		UINT64CONST(0xA51E000000000001)
#define IVFFLAT_SHM_KEY_SORT		UINT64CONST(0xA51E000000000002)
#define IVFFLAT_SHM_KEY_CENTROIDS	UINT64CONST(0xA51E000000000003)

#define IvfflatSharedScan(shared) VaParallelSharedScan(shared, sizeof(IvfflatShared))

typedef struct IvfflatBuildState
{
	Relation	index;
	const VaIndexOps *ops;
	int			lists;			/* the option */
	int			dimensions;		/* -1 until the first indexable value */
	Size		vector_size;
	bool		quantized;		/* list items hold codec's codes */
	IvfflatCodec codec;
	Size		item_size;		/* bytes after a list item's heap TID */

	/* pass 1: the reservoir of stored forms */
	char	   *samples;
	int			nsamples;
	int			sample_capacity;	/* rows samples has room for */
	int			max_samples;
	double		seen;			/* indexable values so far */
	VaRandomState rng;

	/* pass 2: the lists */
	char	   *centroids;
	int			nlists;
	IvfflatListRef *refs;
	Buffer	   *recent;			/* per list, the buffer its insertpage was
								 * last seen in (IvfflatAppend) */
	IvfflatListTuple tup;

	/* pass 2: rows wait in blocks for their nearest centroids (nearest.c) */
	IvfflatNearest nearest;
	char	   *block;			/* IVFFLAT_NEAREST_BLOCK stored forms */
	char	   *block_codes;	/* their codes, by the codec's encode_block */
	ItemPointerData block_tids[IVFFLAT_NEAREST_BLOCK];
	int			nblock;			/* rows in block */

	/* parallel pass 2: rows go to a sort by list instead of the pages */
	IvfflatShared *shared;
	bool		is_leader;
	TupleDesc	sortdesc;
	Tuplesortstate *sort;
	TupleTableSlot *slot;
	bytea	   *row;			/* varlena copy of a stored form */

	double		indtuples;
	MemoryContext tmpctx;
} IvfflatBuildState;

/*
 * A table scan callback's start: check for interrupts, detoast values[0]
 * and write its stored form into dst (NULL: a scratch buffer), allocating
 * in bs->tmpctx, which the callback resets when done with the row.
 * Returns the stored form, or NULL when the value is not indexed (NULL, or
 * declined by the opclass).  Fixes the dimensions at the first value and
 * errors on a later one that differs.
 */
static void *
stored_value(IvfflatBuildState *bs, Datum *values, bool *isnull, void *dst)
{
	MemoryContext old;
	Datum		value;
	Size		size;
	bool		indexed;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return NULL;
	old = MemoryContextSwitchTo(bs->tmpctx);
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	size = bs->ops->stored_size(value);
	if (dst == NULL || size != bs->vector_size)
		dst = palloc(size);
	indexed = bs->ops->to_stored(value, dst);
	MemoryContextSwitchTo(old);
	if (!indexed)
		return NULL;			/* e.g. zero vector under cosine */

	if (bs->dimensions < 0)
	{
		IvfflatCheckVectorSize(size, bs->quantized, bs->ops);
		bs->dimensions = bs->ops->dims(dst);
		bs->vector_size = size;
		/* a code too large for a page is an error now, not after k-means */
		if (bs->quantized)
			IvfflatCodecSetup(&bs->codec, bs->dimensions);
	}
	else if (size != bs->vector_size || bs->ops->dims(dst) != bs->dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d",
						bs->dimensions, bs->ops->dims(dst)),
				 errdetail("All values in an ivfflat index must have the same dimensions.")));
	return dst;
}

/* Bytes per sampled row: the row, and k-means' bound and assignment for it. */
#define SAMPLE_BYTES(bs) ((double) (bs)->vector_size + sizeof(float) + sizeof(int))

/*
 * How many rows pass 1 keeps at most: IVFFLAT_SAMPLES_PER_LIST per list, as
 * far as half of what maintenance_work_mem leaves after k-means' own arrays
 * allows (the other half is for Elkan's bounds), but never fewer than one
 * per list.  check_kmeans_memory has the last word once the sample is known.
 */
static int
sample_limit(IvfflatBuildState *bs)
{
	double		mem = (double) maintenance_work_mem * 1024.0;
	double		fixed = (double) IvfflatKmeansMemory(0, bs->lists, bs->dimensions,
													 bs->vector_size);
	double		budget = Max(mem - fixed, 0.0) / 2.0;

	return (int) Min((double) bs->lists * IVFFLAT_SAMPLES_PER_LIST,
					 Max(floor(budget / SAMPLE_BYTES(bs)), (double) bs->lists));
}

/*
 * ERROR (ERRCODE_PROGRAM_LIMIT_EXCEEDED) unless k-means over the sample
 * fits maintenance_work_mem: lists times dimensions doubles alone can be
 * gigabytes, and allocating them regardless could bring in the kernel's OOM
 * killer.
 */
static void
check_kmeans_memory(IvfflatBuildState *bs)
{
	int			k = Min(bs->lists, bs->nsamples);
	double		need = (double) IvfflatKmeansMemory(bs->nsamples, k, bs->dimensions,
													bs->vector_size) +
	(double) bs->nsamples * bs->vector_size;

	if (need > (double) maintenance_work_mem * 1024.0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("building ivfflat index \"%s\" needs %.0f MB of maintenance_work_mem, which is %d MB",
						RelationGetRelationName(bs->index), ceil(need / (1024.0 * 1024.0)),
						maintenance_work_mem / 1024),
				 errdetail("k-means over %d lists of %d dimensions keeps the centroids, per-list sums and %d sampled rows in memory.",
						   k, bs->dimensions, bs->nsamples),
				 errhint("Raise maintenance_work_mem or use fewer lists.")));
}

/* Pass 1: keep a uniform sample of max_samples indexable values. */
static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	void	   *stored = stored_value(bs, values, isnull, NULL);
	int			slot = -1;

	if (stored != NULL)
	{
		if (bs->samples == NULL)
		{
			/* grown as rows come, so a small table takes little memory */
			bs->max_samples = sample_limit(bs);
			bs->sample_capacity = Min(bs->max_samples, 1024);
			bs->samples = palloc_extended((Size) bs->sample_capacity * bs->vector_size,
										  MCXT_ALLOC_HUGE);
		}
		if (bs->nsamples == bs->sample_capacity && bs->sample_capacity < bs->max_samples)
		{
			bs->sample_capacity = (int) Min((int64) bs->sample_capacity * 2,
											(int64) bs->max_samples);
			bs->samples = repalloc_huge(bs->samples,
										(Size) bs->sample_capacity * bs->vector_size);
		}
		if (bs->nsamples < bs->max_samples)
			slot = bs->nsamples++;
		else
		{
			double		j = floor(VaRandomDouble(&bs->rng) * (bs->seen + 1));

			if (j < bs->max_samples)
				slot = (int) j;
		}
		if (slot >= 0)
			memcpy(bs->samples + (Size) slot * bs->vector_size, stored, bs->vector_size);
		bs->seen++;
	}
	MemoryContextReset(bs->tmpctx);
}

/*
 * Pass 2's state for the rows' nearest centroids (bs->centroids, bs->nlists
 * and the dimensions known) and the block they wait in.
 */
static void
assign_begin(IvfflatBuildState *bs)
{
	IvfflatNearestInit(&bs->nearest, bs->ops, bs->centroids, bs->nlists,
					   bs->vector_size, bs->dimensions);
	bs->block = palloc((Size) IVFFLAT_NEAREST_BLOCK * bs->vector_size);
	bs->block_codes = NULL;
	if (bs->quantized && bs->codec.methods->encode_block != NULL)
		bs->block_codes = palloc((Size) IVFFLAT_NEAREST_BLOCK * bs->codec.code_size);
	bs->nblock = 0;
}

/*
 * Pass 2's work on the rows waiting in the block, in the order they came:
 * find their nearest centroids, then append each to its list, or in a
 * parallel build put it into this participant's sort.
 */
static void
assign_block(IvfflatBuildState *bs)
{
	int			lists[IVFFLAT_NEAREST_BLOCK];

	IvfflatNearestBlock(&bs->nearest, bs->block, bs->nblock, lists);
	if (bs->block_codes != NULL)
		bs->codec.methods->encode_block(&bs->codec, bs->block, bs->nblock, bs->vector_size,
										bs->centroids, lists, bs->block_codes);
	for (int r = 0; r < bs->nblock; r++)
	{
		const char *stored = bs->block + (Size) r * bs->vector_size;
		int			best = lists[r];
		MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);

		CHECK_FOR_INTERRUPTS();
		bs->indtuples++;
		if (bs->block_codes != NULL)
			memcpy(bs->tup->vector, bs->block_codes + (Size) r * bs->codec.code_size,
				   bs->codec.code_size);
		else if (bs->quantized)
			bs->codec.methods->encode(&bs->codec, stored,
									  bs->centroids + (Size) best * bs->vector_size,
									  bs->tup->vector);
		else
			memcpy(bs->tup->vector, stored, bs->vector_size);
		if (bs->sort != NULL)
		{
			uint64		done;

			memcpy(VARDATA(bs->row), bs->tup->vector, bs->item_size);
			ExecClearTuple(bs->slot);
			bs->slot->tts_values[0] = Int32GetDatum(best);
			bs->slot->tts_values[1] = PointerGetDatum(&bs->block_tids[r]);
			bs->slot->tts_values[2] = PointerGetDatum(bs->row);
			memset(bs->slot->tts_isnull, 0, sizeof(bool) * 3);
			ExecStoreVirtualTuple(bs->slot);
			tuplesort_puttupleslot(bs->sort, bs->slot);
			done = pg_atomic_add_fetch_u64(&bs->shared->tuples_done, 1);
			if (bs->is_leader)
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
		}
		else
		{
			bs->tup->heaptid = bs->block_tids[r];
			bs->refs[best].insertpage =
				IvfflatAppend(bs->index, &bs->refs[best], bs->tup,
							  IVFFLAT_LIST_TUPLE_SIZE(bs->item_size), true,
							  &bs->recent[best]);
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->indtuples);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpctx);
	}
	bs->nblock = 0;
}

/*
 * Pass 2: add each row to the block; a full block is assigned (the caller
 * assigns the last, partial one after the scan).
 */
static void
assign_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	void	   *slot = bs->block + (Size) bs->nblock * bs->vector_size;
	void	   *stored = stored_value(bs, values, isnull, slot);

	if (stored != NULL)
	{
		if (stored != slot)
			memcpy(slot, stored, bs->vector_size);
		bs->block_tids[bs->nblock++] = *tid;
	}
	MemoryContextReset(bs->tmpctx);
	if (bs->nblock == IVFFLAT_NEAREST_BLOCK)
		assign_block(bs);
}

/* ---------------------------------------------------------------------
 * Parallel pass 2
 * ---------------------------------------------------------------------
 */

/* The sort's rows: (list int4, heaptid tid, vector bytea: stored form or code). */
static TupleDesc
sort_tupdesc(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(3);

	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "heaptid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "vector", BYTEAOID, -1, 0);
	return desc;
}

/* A sort of sort_tupdesc rows by list, then heap TID. */
static Tuplesortstate *
begin_sort(TupleDesc desc, int workmem, SortCoordinate coord)
{
	AttrNumber	attnums[] = {1, 2};
	Oid			sortops[] = {Int4LessOperator, TIDLessOperator};
	Oid			collations[] = {InvalidOid, InvalidOid};
	bool		nullsfirst[] = {false, false};

	return tuplesort_begin_heap(desc, 2, attnums, sortops, collations, nullsfirst,
								workmem, coord, VA_TUPLESORT_NONE);
}

/*
 * One participant's share of parallel pass 2: scan the heap blocks the
 * parallel scan hands out, sort this participant's rows into its run of
 * the shared sort, and add its counts to the shared ones.
 */
static void
participate(IvfflatBuildState *bs, Relation heap, Relation index,
			IndexInfo *indexInfo, Sharedsort *sharedsort)
{
	SortCoordinate coord = palloc0(sizeof(SortCoordinateData));
	TableScanDesc scan;
	double		reltuples;

	coord->isWorker = true;
	coord->nParticipants = -1;
	coord->sharedsort = sharedsort;
	bs->sortdesc = sort_tupdesc();
	bs->sort = begin_sort(bs->sortdesc, bs->shared->sortmem, coord);
	bs->slot = MakeSingleTupleTableSlot(bs->sortdesc, &TTSOpsVirtual);
	bs->row = palloc(VARHDRSZ + bs->item_size);
	SET_VARSIZE(bs->row, VARHDRSZ + bs->item_size);

	scan = table_beginscan_parallel(heap, IvfflatSharedScan(bs->shared));
	reltuples = table_index_build_scan(heap, index, indexInfo, true, bs->is_leader,
									   assign_callback, bs, scan);
	assign_block(bs);
	tuplesort_performsort(bs->sort);
	tuplesort_end(bs->sort);
	bs->sort = NULL;
	ExecDropSingleTupleTableSlot(bs->slot);
	bs->slot = NULL;

	SpinLockAcquire(&bs->shared->mutex);
	bs->shared->reltuples += reltuples;
	bs->shared->indtuples += bs->indtuples;
	SpinLockRelease(&bs->shared->mutex);
}

/*
 * Entry point of a parallel build worker (CreateParallelContext calls it by
 * name): open the relations the leader named and do a participant's share
 * of pass 2.
 */
PGDLLEXPORT void IvfflatParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
IvfflatParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	IvfflatShared *shared = shm_toc_lookup(toc, IVFFLAT_SHM_KEY_SHARED, false);
	Sharedsort *sharedsort = shm_toc_lookup(toc, IVFFLAT_SHM_KEY_SORT, false);
	char	   *centroids = shm_toc_lookup(toc, IVFFLAT_SHM_KEY_CENTROIDS, false);
	IvfflatBuildState *bs = palloc0(sizeof(IvfflatBuildState));
	VaParallelWorker w;

	VaParallelWorkerOpen(&shared->rels, &w);
	tuplesort_attach_shared(sharedsort, seg);

	bs->index = w.index;
	bs->ops = IvfflatGetIndexOps(w.index);
	bs->lists = IvfflatGetOptions(w.index).lists;
	bs->dimensions = shared->dimensions;
	bs->vector_size = shared->vector_size;
	bs->item_size = shared->item_size;
	bs->nlists = shared->nlists;
	bs->centroids = centroids;
	{
		/* the leader's metapage: the codec's trained state is on its pages */
		IvfflatMetaPageData meta;

		IvfflatReadMeta(w.index, &meta);
		bs->quantized = IvfflatCodecInit(&bs->codec, w.index, bs->ops, &meta);
	}
	if (bs->quantized)
		IvfflatCodecSetup(&bs->codec, bs->dimensions);
	bs->tup = palloc0(IVFFLAT_LIST_TUPLE_SIZE(bs->item_size));
	bs->shared = shared;
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	assign_begin(bs);
	participate(bs, w.heap, w.index, w.indexInfo, sharedsort);
	VaParallelWorkerClose(&w);
}

/* Leader: append the merged, sorted rows to their lists. */
static void
load_sorted(IvfflatBuildState *bs, Tuplesortstate *sort)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(bs->sortdesc, &TTSOpsMinimalTuple);
	int64		loaded = 0;

	while (tuplesort_gettupleslot(sort, true, false, slot, NULL))
	{
		int			list;
		bytea	   *v;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		list = DatumGetInt32(slot->tts_values[0]);
		v = DatumGetByteaPP(slot->tts_values[2]);
		if (list < 0 || list >= bs->nlists || VARSIZE_ANY_EXHDR(v) != bs->item_size)
			elog(ERROR, "ivfflat parallel build: bad sorted row for list %d", list);
		bs->tup->heaptid = *(ItemPointer) DatumGetPointer(slot->tts_values[1]);
		memcpy(bs->tup->vector, VARDATA_ANY(v), bs->item_size);
		bs->refs[list].insertpage =
			IvfflatAppend(bs->index, &bs->refs[list], bs->tup,
						  IVFFLAT_LIST_TUPLE_SIZE(bs->item_size), true,
						  &bs->recent[list]);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ++loaded);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * Pass 2 with nworkers parallel workers plus the leader (see the file
 * header).  Each participant's sort gets maintenance_work_mem divided
 * among them, the leader's merge all of it.  Returns false, having done
 * nothing, when no DSM segment could be had; the caller then runs pass 2
 * alone.
 */
static bool
assign_parallel(IvfflatBuildState *bs, Relation heap, Relation index,
				IndexInfo *indexInfo, int nworkers, double *reltuples)
{
	VaParallelBuild pb;
	ParallelContext *pcxt;
	Size		sort_size;
	Size		centroids_size = (Size) bs->nlists * bs->vector_size;
	Size		chunk_sizes[2];
	IvfflatShared *shared;
	Sharedsort *sharedsort;
	char	   *centroids;
	SortCoordinate coord;
	Tuplesortstate *merge;
	int			nparticipants;

	VaParallelBuildBegin(&pb, "IvfflatParallelBuildMain", nworkers, indexInfo);
	pcxt = pb.pcxt;
	sort_size = tuplesort_estimate_shared(nworkers + 1);
	chunk_sizes[0] = sort_size;
	chunk_sizes[1] = centroids_size;
	shared = VaParallelBuildInitDSM(&pb, heap, index, indexInfo, sizeof(IvfflatShared),
									IVFFLAT_SHM_KEY_SHARED, chunk_sizes, 2);
	if (shared == NULL)
		return false;
	shared->nlists = bs->nlists;
	shared->dimensions = bs->dimensions;
	shared->vector_size = bs->vector_size;
	shared->item_size = bs->item_size;
	shared->sortmem = Max(maintenance_work_mem / (nworkers + 1), 64);
	pg_atomic_init_u64(&shared->tuples_done, 0);
	SpinLockInit(&shared->mutex);

	sharedsort = shm_toc_allocate(pcxt->toc, sort_size);
	tuplesort_initialize_shared(sharedsort, nworkers + 1, pcxt->seg);
	shm_toc_insert(pcxt->toc, IVFFLAT_SHM_KEY_SORT, sharedsort);

	centroids = shm_toc_allocate(pcxt->toc, centroids_size);
	memcpy(centroids, bs->centroids, centroids_size);
	shm_toc_insert(pcxt->toc, IVFFLAT_SHM_KEY_CENTROIDS, centroids);

	/* the merge below must know how many runs there are */
	nparticipants = VaParallelBuildLaunch(&pb, "ivfflat");

	bs->shared = shared;
	bs->is_leader = true;
	participate(bs, heap, index, indexInfo, sharedsort);
	WaitForParallelWorkersToFinish(pcxt);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_LOAD);
	coord = palloc0(sizeof(SortCoordinateData));
	coord->isWorker = false;
	coord->nParticipants = nparticipants;
	coord->sharedsort = sharedsort;
	merge = begin_sort(bs->sortdesc, maintenance_work_mem, coord);
	tuplesort_performsort(merge);
	load_sorted(bs, merge);
	tuplesort_end(merge);

	*reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;
	VaParallelBuildEnd(&pb);
	return true;
}

/* A new page of kind flags, pinned and locked, as the next block of fork. */
static Buffer
new_page(Relation index, ForkNumber fork, uint16 flags, BlockNumber expect)
{
	Buffer		buf = VaNewBuffer(index, fork);

	if (BufferGetBlockNumber(buf) != expect)
		elog(ERROR, "ivfflat build expected block %u, got %u",
			 expect, BufferGetBlockNumber(buf));
	VaInitPage(BufferGetPage(buf), VA_PAGE_ID_IVFFLAT);
	VaPageGetOpaque(BufferGetPage(buf))->flags = flags;
	return buf;
}

/*
 * Where the centroid items go: centroid pages filled in order, a piece
 * (IvfflatCentroidPieces) per item, a new page when the next item does not
 * fit the current one.  room is what the current page has left.
 */
typedef struct CentroidPacker
{
	Size		room;
	int			npages;
} CentroidPacker;

#define CENTROID_PAGE_ROOM \
	(BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(VaPageOpaqueData)))

/*
 * Place an item of size bytes (PageAddItem's rule: its aligned size and a
 * line pointer must fit); returns whether it starts a new page.
 */
static bool
pack_centroid_item(CentroidPacker *p, Size size)
{
	Size		need = MAXALIGN(size) + sizeof(ItemIdData);
	bool		new_page = p->npages == 0 || need > p->room;

	if (new_page)
	{
		p->npages++;
		p->room = CENTROID_PAGE_ROOM;
	}
	p->room -= need;
	return new_page;
}

/* The centroid pages nlists centroids of vector_size bytes take (at least 1). */
static int
centroid_pages(int nlists, Size vector_size)
{
	CentroidPacker p = {0, 0};
	int			pieces = IvfflatCentroidPieces(vector_size);

	for (int j = 0; j < nlists; j++)
		for (int k = 0; k < pieces; k++)
			pack_centroid_item(&p, IVFFLAT_CENTROID_SIZE(IvfflatCentroidPieceBytes(vector_size, k)));
	return Max(p.npages, 1);
}

/* Write the metapage of an index built as write_skeleton says. */
static void
write_metapage(Relation index, ForkNumber fork, int lists, int nlists,
			   int dimensions, Size vector_size, BlockNumber first_list,
			   IvfflatCodec *codec)
{
	Buffer		buf = new_page(index, fork, IVFFLAT_PAGE_META, IVFFLAT_METAPAGE_BLKNO);
	Page		page = BufferGetPage(buf);
	IvfflatMetaPage meta = IvfflatPageGetMeta(page);

	meta->header.magic = IVFFLAT_MAGIC;
	meta->header.version = IVFFLAT_VERSION;
	meta->lists = (uint32) lists;
	meta->nlists = (uint32) nlists;
	meta->dimensions = dimensions;
	meta->vector_size = (uint32) vector_size;
	if (codec != NULL)
	{
		meta->quantization = (uint8) codec->quantization;
		meta->bits = (uint8) codec->bits;
		meta->seed = codec->seed;
		meta->pq_m = (uint16) codec->pq_m;
		/* where IvfflatCodecWriteState will put the state, after the lists */
		if (codec->methods->save != NULL && codec->dims > 0)
			meta->codec_blkno = first_list + nlists;
	}
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfflatMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Write the metapage (block 0) and the centroid pages (blocks 1..) of fork
 * for nlists centroids (contiguous stored forms; none for an empty index,
 * which still gets one empty centroid page; a centroid too large for an
 * item goes in pieces, see IvfflatCentroidPieces), and one empty list page
 * per centroid after them.  Fills refs[0..nlists).  codec: the quantizer
 * of list items, NULL for none; a trained codec's state (PQ codebooks)
 * goes on pages after the list pages, named in the metapage.  Not
 * WAL-logged here.
 */
static void
write_skeleton(Relation index, ForkNumber fork, int lists, int nlists,
			   int dimensions, Size vector_size, const char *centroids,
			   IvfflatListRef *refs, IvfflatCodec *codec)
{
	int			pieces = IvfflatCentroidPieces(vector_size);
	BlockNumber first_list = IVFFLAT_FIRST_CENTROID_BLKNO + centroid_pages(nlists, vector_size);
	CentroidPacker packer = {0, 0};
	BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO;
	Buffer		buf;
	IvfflatCentroidTuple ctup = palloc0(IVFFLAT_CENTROID_SIZE(IvfflatCentroidPieceBytes(vector_size, 0)));

	write_metapage(index, fork, lists, nlists, dimensions, vector_size, first_list, codec);

	buf = new_page(index, fork, IVFFLAT_PAGE_CENTROIDS, blkno);
	for (int j = 0; j < nlists; j++)
	{
		for (int k = 0; k < pieces; k++)
		{
			Size		bytes = IvfflatCentroidPieceBytes(vector_size, k);
			Size		csize = IVFFLAT_CENTROID_SIZE(bytes);
			OffsetNumber off;

			if (pack_centroid_item(&packer, csize) && packer.npages > 1)
			{
				/* this item starts the next centroid page */
				VaPageGetOpaque(BufferGetPage(buf))->nextblkno = ++blkno;
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
				buf = new_page(index, fork, IVFFLAT_PAGE_CENTROIDS, blkno);
			}
			ctup->startpage = ctup->insertpage = k == 0 ? first_list + j : InvalidBlockNumber;
			memcpy(ctup->centroid,
				   centroids + (Size) j * vector_size + (Size) k * IVFFLAT_CENTROID_PIECE, bytes);
			off = PageAddItem(BufferGetPage(buf), (Item) ctup, csize, InvalidOffsetNumber,
							  false, false);
			if (off == InvalidOffsetNumber)
				elog(ERROR, "failed to add centroid to ivfflat index \"%s\"",
					 RelationGetRelationName(index));
			if (k == 0)
			{
				ItemPointerSet(&refs[j].centroid, blkno, off);
				refs[j].startpage = refs[j].insertpage = first_list + j;
			}
		}
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	if (blkno + 1 != first_list)
		elog(ERROR, "ivfflat build wrote centroid pages up to block %u, expected %u",
			 blkno, first_list - 1);

	for (int j = 0; j < nlists; j++)
	{
		buf = new_page(index, fork, IVFFLAT_PAGE_LIST, first_list + j);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	if (codec != NULL)
		IvfflatCodecWriteState(codec, index, fork, first_list + nlists);
	pfree(ctup);
}

/*
 * ambuild: build the index over all rows of heap.  Errors: vectors too
 * large for a page, mixed dimensions, a type without k-means support.
 * A table with fewer indexable rows than lists gets one list per row (a
 * NOTICE says so); an empty one gets no list until the first insert.
 * Reports phases and tuple counts to pg_stat_progress_create_index.  The
 * sampling pass and k-means run in this backend; the assignment pass runs
 * in parallel workers when the planner's plan_create_index_workers
 * (max_parallel_maintenance_workers, the table's parallel_workers and
 * size) grants some.
 */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IvfflatBuildState *bs = palloc0(sizeof(IvfflatBuildState));
	IvfflatOptions opts = IvfflatGetOptions(index);
	double		reltuples;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	bs->index = index;
	bs->ops = IvfflatGetIndexOps(index);
	bs->lists = opts.lists;
	bs->dimensions = -1;
	IvfflatCodecCheckSupported(index, bs->ops, opts.quantization);
	bs->quantized = IvfflatCodecInit(&bs->codec, index, bs->ops, NULL);
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	VaRandomSeed(&bs->rng, 0x5EED);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_SAMPLE);
	reltuples = table_index_build_scan(heap, index, indexInfo, false, true,
									   sample_callback, bs, NULL);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
	if (bs->nsamples > 0)
	{
		check_kmeans_memory(bs);
		bs->centroids = palloc_extended((Size) Min(bs->lists, bs->nsamples) * bs->vector_size,
										MCXT_ALLOC_HUGE);
		bs->nlists = IvfflatKmeans(bs->ops, bs->samples, bs->nsamples, bs->vector_size,
								   bs->dimensions, bs->lists, bs->centroids);
		if (bs->quantized && bs->codec.methods->train != NULL)
		{
			/* a quantizer that learns from the sample (PQ): its codebooks */
			IvfflatCodecSetup(&bs->codec, bs->dimensions);
			bs->codec.methods->train(&bs->codec, bs->samples, bs->nsamples,
									 bs->vector_size, bs->centroids, bs->nlists);
		}
		pfree(bs->samples);
		bs->samples = NULL;
	}
	if (bs->nlists < bs->lists)
		ereport(NOTICE,
				(errmsg("ivfflat index created with little data"),
				 errdetail("The index has %d lists instead of %d because the table has only %.0f indexable rows.",
						   bs->nlists, bs->lists, bs->seen),
				 errhint("Recreate the index once the table has more rows.")));

	bs->item_size = bs->vector_size;
	if (bs->quantized && bs->dimensions > 0)
	{
		IvfflatCodecSetup(&bs->codec, bs->dimensions);
		bs->item_size = bs->codec.code_size;
	}
	bs->refs = palloc(sizeof(IvfflatListRef) * Max(bs->nlists, 1));
	/* InvalidBuffer is 0: no list's page read yet */
	bs->recent = palloc0(sizeof(Buffer) * Max(bs->nlists, 1));
	write_skeleton(index, MAIN_FORKNUM, bs->lists, bs->nlists, bs->dimensions,
				   bs->vector_size, bs->centroids, bs->refs,
				   bs->quantized ? &bs->codec : NULL);

	if (bs->nlists > 0)
	{
		int			nworkers;
		bool		parallel = false;

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->seen);
		bs->tup = palloc0(IVFFLAT_LIST_TUPLE_SIZE(bs->item_size));
		assign_begin(bs);
		nworkers = IsNormalProcessingMode() ?
			plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index)) : 0;
		if (nworkers > 0)
			parallel = assign_parallel(bs, heap, index, indexInfo, nworkers, &reltuples);
		if (!parallel)
		{
			reltuples = table_index_build_scan(heap, index, indexInfo, false, true,
											   assign_callback, bs, NULL);
			assign_block(bs);
		}
		elog(DEBUG1, "ivfflat build: %.0f rows, %llu decided by prefix bounds with %llu exact distances, %llu among near ties by %llu exact distances",
			 bs->indtuples, (unsigned long long) bs->nearest.pruned_rows,
			 (unsigned long long) bs->nearest.survivors,
			 (unsigned long long) bs->nearest.tied_rows,
			 (unsigned long long) bs->nearest.rechecked);
	}
	MemoryContextDelete(bs->tmpctx);

	return VaFinishBuild(index, reltuples, bs->indtuples);
}

/* ambuildempty: the init fork of an unlogged index, an index with no lists. */
void
ivfflatbuildempty(Relation index)
{
	const VaIndexOps *ops = IvfflatGetIndexOps(index);
	IvfflatOptions opts = IvfflatGetOptions(index);
	IvfflatCodec codec;
	bool		quantized;

	IvfflatCodecCheckSupported(index, ops, opts.quantization);
	quantized = IvfflatCodecInit(&codec, index, ops, NULL);
	write_skeleton(index, INIT_FORKNUM, opts.lists, 0, -1, 0, NULL, NULL,
				   quantized ? &codec : NULL);
	VaWalLogRange(index, INIT_FORKNUM, 0, IVFFLAT_FIRST_CENTROID_BLKNO + 1);
}
