/*
 * upper.c
 *	  A backend's copy of an hnsw index's upper layers, for the greedy
 *	  descent every search starts with (Malkov & Yashunin 2018, Algorithm 5,
 *	  lines 1-4: SEARCH-LAYER with ef = 1 from the entry point down to layer
 *	  1).
 *
 *	  Why: on Fashion-MNIST (60,000 rows, m = 16, quantized) a descent makes
 *	  about 110 evaluations, two thirds of them on layers >= 2, which hold
 *	  only about 1 / m^2 of the elements.  On pages each evaluation costs a
 *	  pin, a content lock and a chain of cache misses (about 200 ns); in a
 *	  backend's memory it costs the distance (about 30 ns).  So the elements
 *	  that a walk over the links of layers >= HNSW_UPPER_LOWEST reaches from
 *	  the entry point are copied once (their stored forms and those layers'
 *	  lists), as long as the copy stays under HNSW_UPPER_MAX_BYTES; when the
 *	  lowest of those layers does not fit, the copy keeps the layers above it
 *	  (none at all when the top layer alone does not fit).  Copying layer 1
 *	  too (3,700 elements, 2.4 MB here, with a version of its own so that
 *	  inserts of level 1 would not make the rest stale) measured no faster:
 *	  a copy that size is not held in the CPU's caches, and an evaluation
 *	  there still waits on memory, as one on a page does.
 *
 *	  When a copy is used.  The metapage's upper_version is random when the
 *	  index is built (0 in indexes built before it existed: never copied),
 *	  and HnswBumpUpperVersion increments it (WAL-logged) after every change
 *	  of those layers has been written: an insert of an element of level >=
 *	  HNSW_UPPER_LOWEST, once its links are written, and a VACUUM's repair
 *	  and relinking.  A copy is used only while the metapage still shows the
 *	  version, entry point and entry level it was made under.  A descent
 *	  through it then walks exactly as one on the pages: the same stored
 *	  forms, the same lists in the same order, the same distance function.
 *	  While such an insert or VACUUM is under way the copy may lag the
 *	  pages by that change, as a search on the pages racing the change may
 *	  see either side of it; so the element the copied descent ends on is
 *	  evaluated again on its page, and unless that gives the same distance
 *	  (a slot VACUUM freed and an insert reused would not), the descent
 *	  starts over on the pages.  Either way the lower layers are searched on
 *	  the pages.
 *
 *	  Up to HNSW_UPPER_SLOTS copies (indexes) per backend, the least
 *	  recently used giving way; none for indexes in local buffers
 *	  (temporary tables).  hnsw_check compares the backend's copy, when it
 *	  has a current one, with a fresh one.
 */
#include "hnsw/hnsw.h"

#include <float.h>

#include "common/wal.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* copies kept per backend, and the bytes one may take */
#define HNSW_UPPER_SLOTS		8
#define HNSW_UPPER_MAX_BYTES	(4 * 1024 * 1024)

/* No next list entry (end of a list shorter than m). */
#define HNSW_UPPER_END			(-1)

typedef struct HnswUpperElement
{
	uint64		id;				/* the element's TID as an id */
	uint32		vector;			/* offset of its stored form in vectors */
	int32		links;			/* its lists (-1: none, see below) */
	int16		level;			/* -1: not an element (a reused slot) */
} HnswUpperElement;

/*
 * A copy.  Element 0 is the entry point.  An element of level >= lowest has
 * lists for layers lowest .. level, m entries each (indexes into elements,
 * HNSW_UPPER_END after the last), starting at links[element.links].
 */
typedef struct HnswUpper
{
	RelFileNode node;			/* relNode InvalidOid: slot unused */
	uint64		version;		/* the metapage's upper_version, */
	ItemPointerData entry_point;	/* entry point and */
	int16		entry_level;	/* entry level it was made under */
	int			lowest;			/* lowest layer copied; > entry_level: none */
	int			m;
	int			nelements;
	HnswUpperElement *elements;
	int32	   *links;
	char	   *vectors;
	MemoryContext context;		/* holds all of the above but the key */
	uint64		last_use;
	uint64		searches;		/* descents since it was made */
} HnswUpper;

static HnswUpper upper_slots[HNSW_UPPER_SLOTS];
static uint64 upper_clock;

/* An id's element number while a copy is made. */
typedef struct UpperIdEntry
{
	uint64		id;
	int32		index;
} UpperIdEntry;

/* What a copy is made of, before its lists become element numbers. */
typedef struct UpperBuild
{
	HnswUpper  *copy;
	Relation	index;
	HTAB	   *ids;
	int			capacity;		/* of copy->elements and list_start */
	uint64	   *list_ids;		/* lists of layers >= HNSW_UPPER_LOWEST, m ids
								 * each (0 after the last), by element */
	int32	   *list_start;
	int			nlist_ids;
	int			list_capacity;
	Size		vectors_used;
	Size		vectors_capacity;
	Size		bytes;			/* what the copy would take */
} UpperBuild;

/*
 * Read element id (a TID as an id) into the copy being made: its level,
 * stored form and lists of layers >= HNSW_UPPER_LOWEST as ids.  Returns its
 * element number, or -1 when the link is bad (an item past the page's end:
 * the copy is then given up, and the search on the pages meets the same
 * link and reports it).
 */
static int
read_element(UpperBuild *ub, uint64 id)
{
	HnswUpper  *copy = ub->copy;
	BlockNumber blkno = (BlockNumber) (id >> 16);
	OffsetNumber off = (OffsetNumber) (id & 0xFFFF);
	Buffer		buf;
	Page		page;
	HnswElementTuple tup;
	HnswUpperElement *e;
	int			n = copy->nelements;
	int			nlayers = 0;

	buf = HnswReadIndexBuffer(ub->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
	{
		UnlockReleaseBuffer(buf);
		return -1;
	}
	tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

	if (n == ub->capacity)
	{
		ub->capacity *= 2;
		copy->elements = repalloc(copy->elements, sizeof(HnswUpperElement) * ub->capacity);
		ub->list_start = repalloc(ub->list_start, sizeof(int32) * ub->capacity);
	}
	e = &copy->elements[n];
	e->id = id;
	e->links = -1;
	ub->list_start[n] = -1;
	if (tup->flags & HNSW_ELEMENT_DUPLICATE)
	{
		/* a stale link to a reused slot: as evaluate_element sees it */
		e->level = -1;
		e->vector = 0;
	}
	else
	{
		Size		size = VARSIZE(HnswElementVector(tup));

		e->level = tup->level;
		if (ub->vectors_used + MAXALIGN(size) > ub->vectors_capacity)
		{
			ub->vectors_capacity = Max(ub->vectors_capacity * 2,
									   ub->vectors_used + MAXALIGN(size));
			copy->vectors = repalloc_huge(copy->vectors, ub->vectors_capacity);
		}
		e->vector = (uint32) ub->vectors_used;
		memcpy(copy->vectors + ub->vectors_used, HnswElementVector(tup), size);
		ub->vectors_used += MAXALIGN(size);
		ub->bytes += MAXALIGN(size);

		if (tup->level >= HNSW_UPPER_LOWEST)
		{
			ItemPointerData *slots = HnswElementNeighbours(tup);

			nlayers = tup->level - HNSW_UPPER_LOWEST + 1;
			if (ub->nlist_ids + nlayers * copy->m > ub->list_capacity)
			{
				ub->list_capacity = Max(ub->list_capacity * 2,
										ub->nlist_ids + nlayers * copy->m);
				ub->list_ids = repalloc_huge(ub->list_ids,
											 sizeof(uint64) * ub->list_capacity);
			}
			ub->list_start[n] = ub->nlist_ids;
			for (int layer = HNSW_UPPER_LOWEST; layer <= tup->level; layer++)
			{
				ItemPointerData *list = slots + HnswLayerStart(layer, copy->m);

				for (int j = 0; j < copy->m; j++)
					ub->list_ids[ub->nlist_ids++] =
						ItemPointerIsValid(&list[j]) ? VaTidToId(&list[j]) : 0;
			}
			ub->bytes += sizeof(int32) * nlayers * copy->m;
		}
	}
	UnlockReleaseBuffer(buf);
	ub->bytes += sizeof(HnswUpperElement) + sizeof(UpperIdEntry) * 2;
	copy->nelements++;
	return n;
}

/* The element number of id, reading it in if new; -1 on a bad link. */
static int
element_number(UpperBuild *ub, uint64 id)
{
	UpperIdEntry *entry;
	bool		found;

	entry = hash_search(ub->ids, &id, HASH_ENTER, &found);
	if (!found)
	{
		entry->index = read_element(ub, id);
		if (entry->index < 0)
			return -1;
	}
	return entry->index;
}

/*
 * Make copy (key set, context empty) from the pages: a walk from the entry
 * point over the lists of layers entry_level, entry_level - 1, ...,
 * HNSW_UPPER_LOWEST, each layer's walk starting from every element found
 * so far that has the layer, stopping before a layer that would take the
 * copy past HNSW_UPPER_MAX_BYTES.  Sets copy->lowest to the lowest layer
 * walked whole.
 */
static void
make_copy(HnswUpper *copy, Relation index)
{
	UpperBuild	ub;
	HASHCTL		ctl;
	MemoryContext old = MemoryContextSwitchTo(copy->context);
	int			walked = copy->entry_level + 1;

	memset(&ub, 0, sizeof(ub));
	ub.copy = copy;
	ub.index = index;
	ub.capacity = 64;
	ub.list_capacity = 64 * copy->m;
	ub.vectors_capacity = 64 * 1024;
	copy->elements = palloc(sizeof(HnswUpperElement) * ub.capacity);
	copy->vectors = palloc(ub.vectors_capacity);
	copy->nelements = 0;
	ub.list_start = palloc(sizeof(int32) * ub.capacity);
	ub.list_ids = palloc(sizeof(uint64) * ub.list_capacity);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(UpperIdEntry);
	ctl.hcxt = CurrentMemoryContext;
	ub.ids = hash_create("hnsw upper layer ids", 256, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (element_number(&ub, VaTidToId(&copy->entry_point)) == 0)
	{
		for (int layer = copy->entry_level; layer >= HNSW_UPPER_LOWEST; layer--)
		{
			bool		whole = true;

			/* elements found on this layer's walk are appended: walk them too */
			for (int i = 0; i < copy->nelements && whole; i++)
			{
				int			list;

				CHECK_FOR_INTERRUPTS();
				if (copy->elements[i].level < layer)
					continue;

				/*
				 * An offset, not a pointer: reading an element in may move
				 * the arrays (repalloc)
				 */
				list = ub.list_start[i] + (layer - HNSW_UPPER_LOWEST) * copy->m;
				for (int j = 0; j < copy->m && ub.list_ids[list + j] != 0 && whole; j++)
				{
					if (element_number(&ub, ub.list_ids[list + j]) < 0 ||
						ub.bytes > HNSW_UPPER_MAX_BYTES)
						whole = false;
				}
			}
			if (!whole)
				break;
			walked = layer;
		}
	}
	copy->lowest = walked;

	/*
	 * The lists of layers lowest and up as element numbers.  Every element
	 * they name was found by the walk, except in lists of elements found on a
	 * layer given up, which no walk on the copied layers reaches: theirs end
	 * at the first element not found.
	 */
	if (copy->lowest <= copy->entry_level)
	{
		int			nlinks = 0;

		for (int i = 0; i < copy->nelements; i++)
			if (copy->elements[i].level >= copy->lowest)
				nlinks += (copy->elements[i].level - copy->lowest + 1) * copy->m;
		copy->links = palloc(sizeof(int32) * Max(nlinks, 1));
		nlinks = 0;
		for (int i = 0; i < copy->nelements; i++)
		{
			HnswUpperElement *e = &copy->elements[i];

			if (e->level < copy->lowest)
				continue;
			e->links = nlinks;
			for (int layer = copy->lowest; layer <= e->level; layer++)
			{
				uint64	   *list = ub.list_ids + ub.list_start[i] +
				(layer - HNSW_UPPER_LOWEST) * copy->m;
				bool		ended = false;

				for (int j = 0; j < copy->m; j++)
				{
					UpperIdEntry *found = NULL;

					if (!ended && list[j] != 0)
						found = hash_search(ub.ids, &list[j], HASH_FIND, NULL);
					if (found == NULL || found->index < 0)
						ended = true;
					copy->links[nlinks++] = ended ? HNSW_UPPER_END : found->index;
				}
			}
		}
	}
	hash_destroy(ub.ids);
	pfree(ub.list_ids);
	pfree(ub.list_start);
	MemoryContextSwitchTo(old);
}

/* Was copy made under what *meta shows now (see the top of this file)? */
static inline bool
copy_current(const HnswUpper *copy, const HnswMetaPageData *meta)
{
	return copy->version == meta->upper_version &&
		ItemPointerEquals((ItemPointer) &copy->entry_point, (ItemPointer) &meta->entry_point) &&
		copy->entry_level == meta->entry_level && copy->m == meta->m;
}

/*
 * Elements a copy of index's upper layers would hold, roughly: the
 * elements that fit its pages (each taken to have the metapage's vector
 * size and one upper layer), over m^2 (1 / m^2 of them reach layer 2).
 */
static int
estimate_elements(Relation index, const HnswMetaPageData *meta)
{
	double		pages = RelationGetNumberOfBlocks(index);
	Size		element = HnswElementSize(SHORTALIGN(Max(meta->vector_size, 8)), 1, meta->m) +
	sizeof(ItemIdData);

	return (int) Min(pages * BLCKSZ / element / ((double) meta->m * meta->m), INT_MAX / 2);
}

/*
 * The backend's current copy of index's upper layers under *meta, made now
 * when it is due (its context a child of the current memory context until
 * made, so an ERROR while reading frees it); NULL when there is none to use
 * yet (see below), or none at all (an index in local buffers, or built
 * before upper_version existed).
 *
 * Making a copy reads each of its elements from its page once, about what
 * a search through the copy saves for every 70 (the evaluations a descent
 * makes on those layers).  Under a stream of inserts that change the upper
 * layers every few searches, or in a backend that searches an index only a
 * few times, copying at once would cost more than it saves: a copy is made
 * only once the backend has searched the index (on the pages) as many
 * times as an eighth of the elements it would hold, since its last copy of
 * the index or since it first searched it.  So copies take at most about
 * eight page reads per search, and pay for themselves about nine times over
 * when they last.
 */
static HnswUpper *
get_copy(Relation index, const HnswMetaPageData *meta)
{
	HnswUpper  *slot = NULL;

	if (meta->upper_version == 0 || RelationUsesLocalBuffers(index) ||
		!ItemPointerIsValid(&meta->entry_point))
		return NULL;
	for (int i = 0; i < HNSW_UPPER_SLOTS; i++)
	{
		HnswUpper  *s = &upper_slots[i];

		if (RelFileNodeEquals(s->node, index->rd_node))
		{
			s->last_use = ++upper_clock;
			if (copy_current(s, meta))
				return s;
			/* stale, or none made yet: search on the pages until due */
			if (++s->searches < (uint64) s->nelements / 8)
				return NULL;
			slot = s;
			break;
		}
		if (slot == NULL || s->node.relNode == InvalidOid ||
			(slot->node.relNode != InvalidOid && s->last_use < slot->last_use))
			slot = s;
	}

	if (!RelFileNodeEquals(slot->node, index->rd_node))
	{
		/* the index's first search here: take the slot, copy when due */
		if (slot->node.relNode != InvalidOid && slot->context != NULL)
			MemoryContextDelete(slot->context);
		slot->context = NULL;
		slot->version = 0;		/* no metapage has it */
		slot->nelements = estimate_elements(index, meta);
		slot->searches = 1;
		slot->node = index->rd_node;
		slot->last_use = ++upper_clock;
		if (slot->searches < (uint64) slot->nelements / 8)
			return NULL;
	}

	/* (re)make the slot's copy */
	slot->node.relNode = InvalidOid;
	if (slot->context != NULL)
		MemoryContextDelete(slot->context);
	slot->version = meta->upper_version;
	slot->entry_point = meta->entry_point;
	slot->entry_level = meta->entry_level;
	slot->m = meta->m;
	slot->links = NULL;
	slot->context = AllocSetContextCreate(CurrentMemoryContext, "hnsw upper layers",
										  ALLOCSET_DEFAULT_SIZES);
	make_copy(slot, index);
	MemoryContextSetParent(slot->context, TopMemoryContext);
	if (slot->lowest <= slot->entry_level)
		elog(DEBUG1, "hnsw index \"%s\": cached layers %d to %d for searches (%d elements, %zu bytes)",
			 RelationGetRelationName(index), slot->lowest, slot->entry_level,
			 slot->nelements, MemoryContextMemAllocated(slot->context, true));
	else
		elog(DEBUG1, "hnsw index \"%s\": its top layer is too large to cache",
			 RelationGetRelationName(index));
	slot->node = index->rd_node;
	slot->last_use = ++upper_clock;
	slot->searches = 0;
	return slot;
}

/* The graph of a copy, searched with the disk graph's query and ops. */
typedef struct UpperGraph
{
	HnswGraph	graph;
	HnswUpper  *copy;
	HnswDiskGraph *dg;
} UpperGraph;

static void
upper_evaluate(HnswGraph *graph, VaCandidate *c)
{
	UpperGraph *ug = (UpperGraph *) graph;
	HnswUpperElement *e = &ug->copy->elements[c->id];

	c->flags = 0;
	c->aux = 0;
	c->distance = e->level < 0 ? FLT_MAX :
		ug->dg->ops->distance(ug->dg->query, ug->copy->vectors + e->vector);
}

static int
upper_neighbours(HnswGraph *graph, uint64 id, int layer, uint64 *out)
{
	UpperGraph *ug = (UpperGraph *) graph;
	HnswUpper  *copy = ug->copy;
	HnswUpperElement *e = &copy->elements[id];
	const int32 *list;
	int			n = 0;

	if (layer > e->level || layer < copy->lowest)
		return 0;
	list = copy->links + e->links + (layer - copy->lowest) * copy->m;
	while (n < copy->m && list[n] != HNSW_UPPER_END)
	{
		out[n] = (uint64) list[n];
		n++;
	}
	return n;
}

/*
 * The descent of a search of dg's index (*meta read for it): from *entry,
 * the entry point evaluated by dg, greedily down to layer to_layer + 1
 * (HnswGreedyDescend; to_layer 0 or 1, below the copy's layers), leaving in
 * *entry, evaluated by dg, the element to search layer to_layer from.
 * The layers of the backend's copy (see the top of this file)
 * are walked in memory, the rest on the pages.  ERRORs: as reading pages
 * (a bad link, query cancel).
 */
void
HnswDescend(HnswDiskGraph *dg, const HnswMetaPageData *meta, VaCandidate *entry,
			int to_layer)
{
	HnswUpper  *copy = get_copy(dg->index, meta);
	int			from = meta->entry_level;

	if (copy != NULL && copy->lowest <= meta->entry_level)
	{
		UpperGraph	ug;
		VaCandidate c;
		VaCandidate v;

		memset(&ug, 0, sizeof(ug));
		ug.graph.evaluate = upper_evaluate;
		ug.graph.neighbours = upper_neighbours;
		ug.graph.m = dg->graph.m;
		ug.graph.scratch = dg->graph.scratch;
		ug.graph.batch = dg->graph.batch;
		ug.copy = copy;
		ug.dg = dg;

		c.id = 0;
		upper_evaluate(&ug.graph, &c);
		HnswGreedyDescend(&ug.graph, &c, meta->entry_level, copy->lowest - 1);

		/* the element it ended on, on its page: the same, or start over */
		v.id = copy->elements[c.id].id;
		dg->graph.evaluate(&dg->graph, &v);
		if (v.distance == c.distance)
		{
			*entry = v;
			from = copy->lowest - 1;
		}
	}
	Assert(to_layer < HNSW_UPPER_LOWEST);
	HnswGreedyDescend(&dg->graph, entry, from, to_layer);
}

/*
 * Does the backend's copy of index's upper layers, if it has one under
 * *meta, still match the pages?  Makes a fresh copy and compares them:
 * elements, levels, stored forms and lists.  True when there is no copy to
 * check.  For hnsw_check.
 */
bool
HnswCheckUpperCopy(Relation index, const HnswMetaPageData *meta)
{
	HnswUpper  *copy = NULL;
	HnswUpper	fresh;
	bool		same;

	if (meta->upper_version == 0)
		return true;
	for (int i = 0; i < HNSW_UPPER_SLOTS; i++)
		if (RelFileNodeEquals(upper_slots[i].node, index->rd_node) &&
			copy_current(&upper_slots[i], meta))
			copy = &upper_slots[i];
	if (copy == NULL)
		return true;

	fresh = *copy;
	fresh.links = NULL;
	fresh.context = AllocSetContextCreate(CurrentMemoryContext, "hnsw upper layers check",
										  ALLOCSET_DEFAULT_SIZES);
	make_copy(&fresh, index);
	same = fresh.lowest == copy->lowest && fresh.nelements == copy->nelements;
	for (int i = 0; same && i < copy->nelements; i++)
	{
		HnswUpperElement *a = &copy->elements[i];
		HnswUpperElement *b = &fresh.elements[i];
		const void *va = copy->vectors + a->vector;
		const void *vb = fresh.vectors + b->vector;

		same = a->id == b->id && a->level == b->level &&
			(a->level < 0 || (VARSIZE(va) == VARSIZE(vb) &&
							  memcmp(va, vb, VARSIZE(va)) == 0));
		if (same && a->level >= copy->lowest)
			same = memcmp(copy->links + a->links, fresh.links + b->links,
						  sizeof(int32) * (a->level - copy->lowest + 1) * copy->m) == 0;
	}
	MemoryContextDelete(fresh.context);
	return same;
}

/*
 * Increment index's upper_version (see the top of this file), unless it is
 * 0; building: as for VaWalBegin.  Call once the change of the upper layers
 * is written, holding no buffer lock.
 */
void
HnswBumpUpperVersion(Relation index, bool building)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage meta;
	VaWal		wal;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (HnswPageGetMeta(BufferGetPage(metabuf))->upper_version != 0)
	{
		VaWalBegin(&wal, index, building);
		meta = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
		meta->upper_version++;
		if (meta->upper_version == 0)
			meta->upper_version = 1;
		VaWalFinish(&wal);
	}
	UnlockReleaseBuffer(metabuf);
}
