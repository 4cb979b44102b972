/*
 * build.c
 *	  HNSW index build.  Rows are inserted into an in-memory graph (same
 *	  algorithms as on disk, graph.c) while it fits in maintenance_work_mem;
 *	  the graph is then written out page by page and the whole index is
 *	  WAL-logged once with log_newpage_range.  If the graph outgrows
 *	  maintenance_work_mem it is written out at that point and the build goes
 *	  on inserting the remaining rows into the on-disk graph (insert.c), with
 *	  a NOTICE saying so.
 */
#include "hnsw/hnsw.h"

#include "access/tableam.h"
#include "commands/progress.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

#define ARENA_BLOCK (1024 * 1024)

/* One element of the in-memory graph. */
typedef struct BuildElement
{
	ItemPointerData heaptid;
	uint8		level;
	ItemPointerData tid;		/* where it lands on disk */
	void	   *vector;			/* stored form, in the arena */
	int32	   *neighbours;		/* HnswSlotCount(level, m) ids, -1 = empty */
} BuildElement;

typedef struct HnswBuildState
{
	HnswGraph	graph;			/* first: the in-memory graph interface */
	Relation	heap;
	Relation	index;
	const VaIndexOps *ops;
	int			m;
	int			ef_construction;
	int			dimensions;		/* -1 until the first value */

	/* the in-memory graph */
	BuildElement *elements;
	int			nelements;
	int			capacity;
	char	   *arena;			/* stored vectors are carved from blocks */
	Size		arena_left;
	uint32	   *marks;			/* visited marks, epoch-stamped */
	uint32		epoch;
	const void *query;
	int			entry;
	int			entry_level;
	Size		memory_used;
	Size		memory_limit;
	bool		on_disk;		/* graph outgrew memory: inserting on disk */

	/* per-insert scratch, sized once */
	VaHeap		result;
	VaCandidate *sorted;
	const void **vectors;
	int		   *selected;

	double		indtuples;
	double		reltuples;
	VaRandomState rng;
	MemoryContext graphctx;
	MemoryContext tmpctx;
} HnswBuildState;

static inline void *
element_vector(HnswBuildState *bs, int i)
{
	return bs->elements[i].vector;
}

static inline int32 *
element_layer(HnswBuildState *bs, int i, int layer)
{
	return bs->elements[i].neighbours + HnswLayerStart(layer, bs->m);
}

static void
mem_evaluate(HnswGraph *graph, VaCandidate *c)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	c->distance = bs->ops->distance(bs->query, element_vector(bs, (int) c->id));
	c->flags = 0;
	c->aux = c->id;
}

static int
mem_neighbours(HnswGraph *graph, uint64 id, int layer, uint64 *out)
{
	HnswBuildState *bs = (HnswBuildState *) graph;
	int			n = 0;

	if (layer <= bs->elements[id].level)
	{
		int32	   *list = element_layer(bs, (int) id, layer);
		int			cap = HnswLayerCapacity(layer, bs->m);

		while (n < cap && list[n] >= 0)
		{
			out[n] = (uint64) list[n];
			n++;
		}
	}
	return n;
}

static bool
mem_visit(HnswGraph *graph, uint64 id)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	if (bs->marks[id] == bs->epoch)
		return false;
	bs->marks[id] = bs->epoch;
	return true;
}

static void
mem_reset_visited(HnswGraph *graph)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	if (++bs->epoch == 0)
	{
		memset(bs->marks, 0, sizeof(uint32) * bs->capacity);
		bs->epoch = 1;
	}
}

/*
 * Replace the layer list of element base (in memory) by the best cap of its
 * current neighbours plus newcomer, chosen with the heuristic.
 */
static void
mem_prune(HnswBuildState *bs, int base, int layer, int newcomer)
{
	int32	   *list = element_layer(bs, base, layer);
	int			cap = HnswLayerCapacity(layer, bs->m);
	const void *bv = element_vector(bs, base);
	int			n = 0;
	int			k;
	VaHeap	   *heap = &bs->result;

	VaHeapReset(heap);
	for (int i = 0; i <= cap; i++)
	{
		VaCandidate c;

		c.id = (uint64) (i < cap ? list[i] : newcomer);
		c.distance = bs->ops->distance(bv,
									   element_vector(bs, (int) c.id));
		c.flags = 0;
		c.aux = 0;
		VaHeapPush(heap, &c);
	}
	n = VaHeapDrainSorted(heap, bs->sorted);
	for (int i = 0; i < n; i++)
		bs->vectors[i] = element_vector(bs, (int) bs->sorted[i].id);
	k = HnswSelectNeighbours(bs->sorted, bs->vectors, n, cap, bs->ops, bs->selected);
	for (int i = 0; i < cap; i++)
		list[i] = i < k ? (int32) bs->sorted[bs->selected[i]].id : -1;
}

/* Insert element i (vector, level and heaptid already set) into the graph. */
static void
mem_insert(HnswBuildState *bs, int i)
{
	int			level = bs->elements[i].level;
	VaCandidate ep;
	VaCandidate *entries;
	int			nentries;

	if (bs->entry < 0)
	{
		bs->entry = i;
		bs->entry_level = level;
		return;
	}

	bs->query = element_vector(bs, i);
	ep.id = (uint64) bs->entry;
	mem_evaluate(&bs->graph, &ep);
	HnswGreedyDescend(&bs->graph, &ep, bs->entry_level, level, &bs->result);

	entries = palloc(sizeof(VaCandidate) * (bs->ef_construction + 1));
	entries[0] = ep;
	nentries = 1;
	for (int layer = Min(level, bs->entry_level); layer >= 0; layer--)
	{
		int			n;
		int			k;
		int32	   *mine = element_layer(bs, i, layer);

		HnswSearchLayer(&bs->graph, entries, nentries, bs->ef_construction,
						layer, &bs->result);
		n = VaHeapDrainSorted(&bs->result, bs->sorted);
		for (int j = 0; j < n; j++)
			bs->vectors[j] = element_vector(bs, (int) bs->sorted[j].id);
		k = HnswSelectNeighbours(bs->sorted, bs->vectors, n, bs->m, bs->ops,
								 bs->selected);
		for (int j = 0; j < k; j++)
			mine[j] = (int32) bs->sorted[bs->selected[j]].id;
		memcpy(entries, bs->sorted, sizeof(VaCandidate) * n);
		nentries = n;

		/* link back; prune a full list with the heuristic */
		for (int j = 0; j < k; j++)
		{
			int			nb = mine[j];
			int32	   *list = element_layer(bs, nb, layer);
			int			cap = HnswLayerCapacity(layer, bs->m);
			int			slot = 0;

			while (slot < cap && list[slot] >= 0)
				slot++;
			if (slot < cap)
				list[slot] = i;
			else
				mem_prune(bs, nb, layer, i);
		}
	}
	pfree(entries);

	if (level > bs->entry_level)
	{
		bs->entry = i;
		bs->entry_level = level;
	}
}

/*
 * Give every element a way in.  Pruning a full list can drop the only link
 * to an element, which searches then can never reach (a few in ten thousand
 * on real data).  Breadth first from the entry point over all layers; each
 * element not reached gets a layer-0 link from the first reached element in
 * its own layer-0 list (or, when its whole list is cut off too, from the
 * nearest elements a search from the entry point finds), the first that
 * has a free slot, a link whose target has other links in, or a link to one
 * of the element's own neighbours (still reached, through the element).  Repeated while it
 * helps (at most 64 rounds).
 */
static void
repair_unreachable(HnswBuildState *bs)
{
	int			n = bs->nelements;
	int32	   *indegree;
	bool	   *seen;
	int32	   *queue;
	int32	   *cands;
	int			cap0 = HnswLayerCapacity(0, bs->m);

	if (n < 2)
		return;
	indegree = palloc0(sizeof(int32) * n);
	seen = palloc(sizeof(bool) * n);
	queue = palloc(sizeof(int32) * n);
	cands = palloc(sizeof(int32) * cap0);
	for (int i = 0; i < n; i++)
		for (int s = 0; s < HnswSlotCount(bs->elements[i].level, bs->m); s++)
			if (bs->elements[i].neighbours[s] >= 0)
				indegree[bs->elements[i].neighbours[s]]++;

	for (int round = 0; round < 64; round++)
	{
		int			head = 0;
		int			tail = 0;
		int			fixed = 0;
		int			missing = 0;

		memset(seen, 0, sizeof(bool) * n);
		seen[bs->entry] = true;
		queue[tail++] = bs->entry;
		while (head < tail)
		{
			BuildElement *e = &bs->elements[queue[head++]];

			for (int s = 0; s < HnswSlotCount(e->level, bs->m); s++)
			{
				int32		t = e->neighbours[s];

				if (t >= 0 && !seen[t])
				{
					seen[t] = true;
					queue[tail++] = t;
				}
			}
		}

		for (int i = 0; i < n; i++)
		{
			int32	   *mine = element_layer(bs, i, 0);
			int			ncand = 0;
			bool		linked = false;

			if (seen[i])
				continue;
			missing++;

			/* who could link to it: reachable members of its own list ... */
			for (int s = 0; s < cap0 && mine[s] >= 0; s++)
				if (seen[mine[s]])
					cands[ncand++] = mine[s];
			if (ncand == 0)
			{
				/*
				 * ... or, when its whole neighbourhood is cut off too (e.g. a
				 * cluster no link leads into), the nearest elements a search
				 * from the entry point finds, which are all reachable.
				 */
				VaCandidate ep;
				int			k;

				bs->query = element_vector(bs, i);
				ep.id = (uint64) bs->entry;
				mem_evaluate(&bs->graph, &ep);
				HnswGreedyDescend(&bs->graph, &ep, bs->entry_level, 0, &bs->result);
				HnswSearchLayer(&bs->graph, &ep, 1, bs->ef_construction, 0, &bs->result);
				k = VaHeapDrainSorted(&bs->result, bs->sorted);
				for (int j = 0; j < k && ncand < cap0; j++)
					if ((int) bs->sorted[j].id != i && seen[bs->sorted[j].id])
						cands[ncand++] = (int) bs->sorted[j].id;
			}

			/* the first with a free slot or a link it can spare */
			for (int c = 0; c < ncand && !linked; c++)
			{
				int32	   *list = element_layer(bs, cands[c], 0);
				int			slot = 0;

				while (slot < cap0 && list[slot] >= 0)
					slot++;
				if (slot == cap0)
				{
					for (slot = cap0 - 1; slot >= 0; slot--)
						if (indegree[list[slot]] > 1)
							break;
				}
				/* or a link to one of its own neighbours: reached via it then */
				for (int t = cap0 - 1; slot < 0 && t >= 0; t--)
					for (int s = 0; s < cap0 && mine[s] >= 0; s++)
						if (list[t] == mine[s])
						{
							slot = t;
							break;
						}
				if (slot >= 0)
				{
					if (list[slot] >= 0)
						indegree[list[slot]]--;
					list[slot] = i;
					indegree[i]++;
					fixed++;
					linked = true;
				}
			}
		}
		if (missing == 0 || fixed == 0)
			break;
	}
	pfree(indegree);
	pfree(seen);
	pfree(queue);
	pfree(cands);
}

/* Write the in-memory graph to pages 1.. and point the metapage at it. */
static void
flush_graph(HnswBuildState *bs)
{
	BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1;
	Size		avail = 0;
	OffsetNumber off = InvalidOffsetNumber;
	Size		pagefree = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(VaPageOpaqueData));
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	HnswElementTuple tup;
	Buffer		metabuf;
	HnswMetaPage meta;
	VaWal		wal;

	if (bs->nelements == 0)
		return;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);
	repair_unreachable(bs);

	/* first pass: where each element goes */
	blkno = HNSW_METAPAGE_BLKNO;
	for (int i = 0; i < bs->nelements; i++)
	{
		Size		need = MAXALIGN(HnswElementSize(HnswStoredSize(bs->elements[i].vector),
													bs->elements[i].level, bs->m)) +
			sizeof(ItemIdData);

		if (off == InvalidOffsetNumber || need > avail)
		{
			blkno++;
			avail = pagefree;
			off = FirstOffsetNumber;
		}
		else
			off++;
		avail -= need;
		ItemPointerSet(&bs->elements[i].tid, blkno, off);
	}

	/* second pass: write them, translating neighbour ids to TIDs */
	tup = palloc0(VA_MAX_ITEM_SIZE);
	for (int i = 0; i < bs->nelements; i++)
	{
		BuildElement *e = &bs->elements[i];
		int			nslots = HnswSlotCount(e->level, bs->m);
		Size		size = HnswElementSize(HnswStoredSize(e->vector), e->level, bs->m);
		ItemPointerData *slots;

		CHECK_FOR_INTERRUPTS();
		if (!BufferIsValid(buf) ||
			BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&e->tid))
		{
			if (BufferIsValid(buf))
			{
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = VaNewBuffer(bs->index, MAIN_FORKNUM);
			if (BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&e->tid))
				elog(ERROR, "hnsw build expected block %u, got %u",
					 ItemPointerGetBlockNumber(&e->tid), BufferGetBlockNumber(buf));
			page = BufferGetPage(buf);
			VaInitPage(page, VA_PAGE_ID_HNSW);
		}

		memset(tup, 0, size);
		tup->heaptid = e->heaptid;
		tup->level = e->level;
		tup->flags = 0;
		memcpy(HnswElementVector(tup), e->vector, VARSIZE(e->vector));
		slots = HnswElementNeighbours(tup);
		for (int s = 0; s < nslots; s++)
		{
			if (e->neighbours[s] >= 0)
				slots[s] = bs->elements[e->neighbours[s]].tid;
			else
				ItemPointerSetInvalid(&slots[s]);
		}
		if (PageAddItem(page, (Item) tup, size, InvalidOffsetNumber, false, false) !=
			ItemPointerGetOffsetNumber(&e->tid))
			elog(ERROR, "hnsw build failed to add element to block %u",
				 ItemPointerGetBlockNumber(&e->tid));
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(tup);

	metabuf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, bs->index, true);
	meta = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
	meta->dimensions = bs->dimensions;
	meta->vector_size = (uint32) HnswStoredSize(bs->elements[0].vector);
	meta->insert_page = ItemPointerGetBlockNumber(&bs->elements[bs->nelements - 1].tid);
	meta->entry_point = bs->elements[bs->entry].tid;
	meta->entry_level = (int16) bs->entry_level;
	VaWalFinish(&wal);
	UnlockReleaseBuffer(metabuf);
}

/* Switch from the in-memory graph to inserting on disk. */
static void
spill_to_disk(HnswBuildState *bs)
{
	double		per_element = (double) bs->memory_used / Max(bs->nelements, 1);
	bool		known = bs->reltuples > bs->indtuples;
	double		need_mb = per_element * (known ? bs->reltuples : bs->indtuples) /
		(1024.0 * 1024.0) + 1;

	ereport(NOTICE,
			(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
					bs->indtuples),
			 errdetail("The rest of the build inserts into the on-disk graph and takes significantly longer."),
			 known ?
			 errhint("Increase maintenance_work_mem to about %.0f MB to build this index in memory.",
					 need_mb) :
			 errhint("Increase maintenance_work_mem to well over %.0f MB to build this index in memory.",
					 need_mb)));
	flush_graph(bs);
	bs->on_disk = true;
	MemoryContextDelete(bs->graphctx);
	bs->graphctx = NULL;
	bs->elements = NULL;
	bs->arena = NULL;
	bs->arena_left = 0;
	bs->marks = NULL;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
}

/* Make room for one more element in the in-memory graph. */
static void
grow(HnswBuildState *bs)
{
	MemoryContext old = MemoryContextSwitchTo(bs->graphctx);

	if (bs->nelements == bs->capacity)
	{
		int			newcap = bs->capacity * 2;

		bs->elements = repalloc_huge(bs->elements, sizeof(BuildElement) * newcap);
		bs->marks = repalloc_huge(bs->marks, sizeof(uint32) * newcap);
		memset(bs->marks + bs->capacity, 0, sizeof(uint32) * (newcap - bs->capacity));
		bs->memory_used += (sizeof(BuildElement) + sizeof(uint32)) * (newcap - bs->capacity);
		bs->capacity = newcap;
	}
	MemoryContextSwitchTo(old);
}

/* size bytes (MAXALIGNed) for a stored vector, carved from arena blocks. */
static void *
arena_alloc(HnswBuildState *bs, Size size)
{
	void	   *p;

	size = MAXALIGN(size);
	if (size > bs->arena_left)
	{
		Size		block = Max(ARENA_BLOCK, size);

		bs->arena = MemoryContextAllocHuge(bs->graphctx, block);
		bs->arena_left = block;
	}
	p = bs->arena;
	bs->arena += size;
	bs->arena_left -= size;
	return p;
}

/* Give back the last arena_alloc of size bytes. */
static void
arena_unalloc(HnswBuildState *bs, Size size)
{
	size = MAXALIGN(size);
	bs->arena -= size;
	bs->arena_left += size;
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;
	Datum		value;
	Size		size;
	int			i;
	BuildElement *e;
	int			nslots;

	if (isnull[0])
		return;
	CHECK_FOR_INTERRUPTS();

	old = MemoryContextSwitchTo(bs->tmpctx);
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	size = bs->ops->stored_size(value);

	if (bs->on_disk)
	{
		void	   *stored = palloc(size);

		if (bs->ops->to_stored(value, stored))
		{
			HnswInsertStored(index, bs->ops, stored, size, tid, true, &bs->rng);
			bs->indtuples++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpctx);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->indtuples);
		return;
	}

	grow(bs);
	i = bs->nelements;
	e = &bs->elements[i];
	e->vector = arena_alloc(bs, size);
	if (!bs->ops->to_stored(value, e->vector))
	{
		arena_unalloc(bs, size);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpctx);
		return;					/* e.g. zero vector under cosine: not indexed */
	}
	if (VARSIZE(e->vector) != size)
		elog(ERROR, "hnsw stored form of %zu bytes has varlena size %zu",
			 size, (Size) VARSIZE(e->vector));
	if (bs->dimensions < 0)
		bs->dimensions = bs->ops->dims(e->vector);
	else if (bs->ops->dims(e->vector) != bs->dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d",
						bs->dimensions, bs->ops->dims(e->vector)),
				 errdetail("All values in an hnsw index must have the same dimensions.")));

	bs->memory_used += MAXALIGN(size);
	e->heaptid = *tid;
	e->level = (uint8) Min(HnswRandomLevel(bs->m, &bs->rng),
						   HnswMaxLevel(HnswStoredSize(e->vector), bs->m));
	nslots = HnswSlotCount(e->level, bs->m);
	e->neighbours = MemoryContextAlloc(bs->graphctx, sizeof(int32) * nslots);
	memset(e->neighbours, 0xFF, sizeof(int32) * nslots);	/* all -1 */
	bs->memory_used += sizeof(int32) * nslots + 16;
	bs->nelements++;

	mem_insert(bs, i);
	bs->indtuples++;

	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->indtuples);

	if (bs->memory_used > bs->memory_limit)
		spill_to_disk(bs);
}

/* Write an empty metapage as block 0 of fork (not WAL-logged here). */
void
HnswWriteMetaPage(Relation index, ForkNumber fork, int m, int ef_construction)
{
	Buffer		buf = VaNewBuffer(index, fork);
	Page		page = BufferGetPage(buf);
	HnswMetaPage meta;

	if (BufferGetBlockNumber(buf) != HNSW_METAPAGE_BLKNO)
		elog(ERROR, "hnsw metapage must be block %d", HNSW_METAPAGE_BLKNO);
	VaInitPage(page, VA_PAGE_ID_HNSW);
	meta = HnswPageGetMeta(page);
	meta->header.magic = HNSW_MAGIC;
	meta->header.version = HNSW_VERSION;
	meta->m = (uint16) m;
	meta->ef_construction = (uint16) ef_construction;
	meta->dimensions = -1;
	meta->vector_size = 0;
	meta->insert_page = InvalidBlockNumber;
	ItemPointerSetInvalid(&meta->entry_point);
	meta->entry_level = -1;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * ambuild: build the index over all rows of heap.  Errors: vectors too
 * large for a page, mixed dimensions.  Reports tuple counts and phases to
 * pg_stat_progress_create_index.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	HnswBuildState *bs = palloc0(sizeof(HnswBuildState));
	IndexBuildResult *result;
	double		reltuples;
	int			initial;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	bs->heap = heap;
	bs->index = index;
	bs->ops = HnswGetIndexOps(index);
	bs->m = HnswGetM(index);
	bs->ef_construction = HnswGetEfConstruction(index);
	bs->dimensions = -1;
	bs->entry = -1;
	bs->entry_level = -1;
	bs->epoch = 1;
	bs->memory_limit = (Size) maintenance_work_mem * 1024;
	bs->reltuples = heap->rd_rel->reltuples > 0 ? heap->rd_rel->reltuples : 0;
	VaRandomSeed(&bs->rng, 0x5EED);

	bs->graphctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										 ALLOCSET_DEFAULT_SIZES);
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	initial = 1024;
	bs->capacity = initial;
	bs->elements = MemoryContextAllocHuge(bs->graphctx, sizeof(BuildElement) * initial);
	bs->marks = MemoryContextAllocHuge(bs->graphctx, sizeof(uint32) * initial);
	memset(bs->marks, 0, sizeof(uint32) * initial);
	bs->memory_used = (sizeof(BuildElement) + sizeof(uint32)) * initial;

	HnswGraphInitCommon(&bs->graph, bs->m, bs->ef_construction);
	bs->graph.evaluate = mem_evaluate;
	bs->graph.neighbours = mem_neighbours;
	bs->graph.visit = mem_visit;
	bs->graph.reset_visited = mem_reset_visited;
	VaHeapInit(&bs->result, bs->ef_construction + 1, true);
	bs->sorted = palloc(sizeof(VaCandidate) * (Max(bs->ef_construction, 2 * bs->m) + 2));
	bs->vectors = palloc(sizeof(void *) * (Max(bs->ef_construction, 2 * bs->m) + 2));
	bs->selected = palloc(sizeof(int) * (Max(bs->ef_construction, 2 * bs->m) + 2));

	HnswWriteMetaPage(index, MAIN_FORKNUM, bs->m, bs->ef_construction);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->reltuples);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   build_callback, bs, NULL);

	if (!bs->on_disk)
	{
		flush_graph(bs);
		MemoryContextDelete(bs->graphctx);
	}
	MemoryContextDelete(bs->tmpctx);

	VaWalLogRange(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index));

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs->indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an empty metapage. */
void
hnswbuildempty(Relation index)
{
	HnswWriteMetaPage(index, INIT_FORKNUM, HnswGetM(index), HnswGetEfConstruction(index));
	VaWalLogRange(index, INIT_FORKNUM, 0, 1);
}
