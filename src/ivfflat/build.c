/*
 * build.c
 *	  IVFFlat index build, in two passes over the heap.  The first draws a
 *	  uniform sample of the rows (reservoir sampling, Vitter's Algorithm R)
 *	  of up to IVFFLAT_SAMPLES_PER_LIST rows per list, bounded by
 *	  maintenance_work_mem, and clusters it into the centroids (kmeans.c).
 *	  The metapage, centroid pages and one empty page per list are then
 *	  written, and the second pass appends every row to the list of its
 *	  nearest centroid through the same IvfflatAppend the inserts use, WAL
 *	  bypassed; the whole index is WAL-logged once at the end with
 *	  log_newpage_range.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "commands/progress.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

/* pg_stat_progress_create_index subphases (see ivfflatbuildphasename) */
#define PHASE_SAMPLE	2
#define PHASE_KMEANS	3
#define PHASE_ASSIGN	4

typedef struct IvfflatBuildState
{
	Relation	index;
	const VaIndexOps *ops;
	int			lists;			/* the option */
	int			dimensions;		/* -1 until the first indexable value */
	Size		vector_size;

	/* pass 1: the reservoir of stored forms */
	char	   *samples;
	int			nsamples;
	int			max_samples;
	double		seen;			/* indexable values so far */
	VaRandomState rng;

	/* pass 2: the lists */
	char	   *centroids;
	int			nlists;
	IvfflatListRef *refs;
	IvfflatListTuple tup;

	double		indtuples;
	MemoryContext tmpctx;
} IvfflatBuildState;

/*
 * Detoast values[0] and write its stored form into dst (NULL: a scratch
 * buffer).  Returns the stored form, or NULL when the value is not indexed
 * (NULL, or declined by the opclass).  Fixes the dimensions at the first
 * value and errors on a later one that differs.
 */
static void *
stored_value(IvfflatBuildState *bs, Datum *values, bool *isnull, void *dst)
{
	Datum		value;
	Size		size;

	if (isnull[0])
		return NULL;
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	size = bs->ops->stored_size(value);
	if (dst == NULL || size != bs->vector_size)
		dst = palloc(size);
	if (!bs->ops->to_stored(value, dst))
		return NULL;			/* e.g. zero vector under cosine */

	if (bs->dimensions < 0)
	{
		IvfflatCheckVectorSize(size);
		bs->dimensions = bs->ops->dims(dst);
		bs->vector_size = size;
	}
	else if (size != bs->vector_size || bs->ops->dims(dst) != bs->dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d",
						bs->dimensions, bs->ops->dims(dst)),
				 errdetail("All values in an ivfflat index must have the same dimensions.")));
	return dst;
}

/* Pass 1: keep a uniform sample of max_samples indexable values. */
static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);
	void	   *stored;
	int			slot = -1;

	CHECK_FOR_INTERRUPTS();
	stored = stored_value(bs, values, isnull, NULL);
	MemoryContextSwitchTo(old);
	if (stored != NULL)
	{
		if (bs->samples == NULL)
		{
			/* half of maintenance_work_mem, but at least one row per list */
			Size		budget = (Size) maintenance_work_mem * 1024 / 2;

			bs->max_samples = (int) Min((Size) bs->lists * IVFFLAT_SAMPLES_PER_LIST,
										Max(budget / bs->vector_size, (Size) bs->lists));
			bs->samples = palloc_extended((Size) bs->max_samples * bs->vector_size,
										  MCXT_ALLOC_HUGE);
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

/* Pass 2: append each row to the list of its nearest centroid. */
static void
assign_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);
	void	   *stored;
	int			best = 0;
	float		bestd = FLT_MAX;

	CHECK_FOR_INTERRUPTS();
	stored = stored_value(bs, values, isnull, bs->tup->vector);
	if (stored != NULL)
	{
		for (int j = 0; j < bs->nlists; j++)
		{
			float		d = bs->ops->distance(stored,
											  bs->centroids + (Size) j * bs->vector_size);

			if (d < bestd)
			{
				bestd = d;
				best = j;
			}
		}
		bs->tup->heaptid = *tid;
		bs->refs[best].insertpage =
			IvfflatAppend(bs->index, &bs->refs[best], bs->tup,
						  IVFFLAT_LIST_TUPLE_SIZE(bs->vector_size), true);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
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
 * Write the metapage (block 0) and the centroid pages (blocks 1..) of fork
 * for nlists centroids (contiguous stored forms; none for an empty index,
 * which still gets one empty centroid page), and one empty list page per
 * centroid after them.  Fills refs[0..nlists).  Not WAL-logged here.
 */
static void
write_skeleton(Relation index, ForkNumber fork, int lists, int nlists,
			   int dimensions, Size vector_size, const char *centroids,
			   IvfflatListRef *refs)
{
	Size		csize = IVFFLAT_CENTROID_SIZE(vector_size);
	Size		room = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(VaPageOpaqueData));
	int			per_page = (int) (room / (MAXALIGN(csize) + sizeof(ItemIdData)));
	int			npages = nlists > 0 ? (nlists + per_page - 1) / per_page : 1;
	BlockNumber first_list = IVFFLAT_FIRST_CENTROID_BLKNO + npages;
	Buffer		buf;
	Page		page;
	IvfflatMetaPage meta;
	IvfflatCentroidTuple ctup = palloc0(csize);

	buf = new_page(index, fork, IVFFLAT_PAGE_META, IVFFLAT_METAPAGE_BLKNO);
	page = BufferGetPage(buf);
	meta = IvfflatPageGetMeta(page);
	meta->header.magic = IVFFLAT_MAGIC;
	meta->header.version = IVFFLAT_VERSION;
	meta->lists = (uint32) lists;
	meta->nlists = (uint32) nlists;
	meta->dimensions = dimensions;
	meta->vector_size = (uint32) vector_size;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfflatMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	for (int p = 0; p < npages; p++)
	{
		BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO + p;

		buf = new_page(index, fork, IVFFLAT_PAGE_CENTROIDS, blkno);
		page = BufferGetPage(buf);
		if (p + 1 < npages)
			VaPageGetOpaque(page)->nextblkno = blkno + 1;
		for (int j = p * per_page; j < Min(nlists, (p + 1) * per_page); j++)
		{
			OffsetNumber off;

			ctup->startpage = ctup->insertpage = first_list + j;
			memcpy(ctup->centroid, centroids + (Size) j * vector_size, vector_size);
			off = PageAddItem(page, (Item) ctup, csize, InvalidOffsetNumber, false, false);
			if (off == InvalidOffsetNumber)
				elog(ERROR, "failed to add centroid to ivfflat index \"%s\"",
					 RelationGetRelationName(index));
			ItemPointerSet(&refs[j].centroid, blkno, off);
			refs[j].startpage = refs[j].insertpage = first_list + j;
		}
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}

	for (int j = 0; j < nlists; j++)
	{
		buf = new_page(index, fork, IVFFLAT_PAGE_LIST, first_list + j);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	pfree(ctup);
}

/*
 * ambuild: build the index over all rows of heap.  Errors: vectors too
 * large for a page, mixed dimensions, a type without k-means support.
 * A table with fewer indexable rows than lists gets one list per row (a
 * NOTICE says so); an empty one gets no list until the first insert.
 * Reports phases and tuple counts to pg_stat_progress_create_index.
 */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IvfflatBuildState *bs = palloc0(sizeof(IvfflatBuildState));
	IndexBuildResult *result;
	double		reltuples;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	bs->index = index;
	bs->ops = IvfflatGetIndexOps(index);
	bs->lists = IvfflatGetLists(index);
	bs->dimensions = -1;
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	VaRandomSeed(&bs->rng, 0x5EED);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_SAMPLE);
	reltuples = table_index_build_scan(heap, index, indexInfo, false, true,
									   sample_callback, bs, NULL);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
	if (bs->nsamples > 0)
	{
		bs->centroids = palloc_extended((Size) Min(bs->lists, bs->nsamples) * bs->vector_size,
										MCXT_ALLOC_HUGE);
		bs->nlists = IvfflatKmeans(bs->ops, bs->samples, bs->nsamples, bs->vector_size,
								   bs->dimensions, bs->lists, bs->centroids);
		pfree(bs->samples);
		bs->samples = NULL;
	}
	if (bs->nlists < bs->lists)
		ereport(NOTICE,
				(errmsg("ivfflat index created with little data"),
				 errdetail("The index has %d lists instead of %d because the table has only %.0f indexable rows.",
						   bs->nlists, bs->lists, bs->seen),
				 errhint("Recreate the index once the table has more rows.")));

	bs->refs = palloc(sizeof(IvfflatListRef) * Max(bs->nlists, 1));
	write_skeleton(index, MAIN_FORKNUM, bs->lists, bs->nlists, bs->dimensions,
				   bs->vector_size, bs->centroids, bs->refs);

	if (bs->nlists > 0)
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->seen);
		bs->tup = palloc0(IVFFLAT_LIST_TUPLE_SIZE(bs->vector_size));
		reltuples = table_index_build_scan(heap, index, indexInfo, false, true,
										   assign_callback, bs, NULL);
	}
	MemoryContextDelete(bs->tmpctx);

	VaWalLogRange(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index));

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs->indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an index with no lists. */
void
ivfflatbuildempty(Relation index)
{
	write_skeleton(index, INIT_FORKNUM, IvfflatGetLists(index), 0, -1, 0, NULL, NULL);
	VaWalLogRange(index, INIT_FORKNUM, 0, IVFFLAT_FIRST_CENTROID_BLKNO + 1);
}
