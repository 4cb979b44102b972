/*
 * hnsw.h
 *	  HNSW index access method (Malkov & Yashunin, "Efficient and robust
 *	  approximate nearest neighbor search using Hierarchical Navigable Small
 *	  World graphs", IEEE TPAMI 2018): on-disk structures, options and the
 *	  functions the AM's files share.  README.md beside this file draws the
 *	  page layout and states the locking and WAL rules.
 */
#ifndef HNSW_H
#define HNSW_H

#include "vectorann.h"

#include "access/amapi.h"
#include "access/itup.h"
#include "common/am.h"
#include "common/candidates.h"
#include "indexops.h"
#include "common/page.h"
#include "nodes/execnodes.h"
#include "quant/rabitq.h"
#include "storage/itemptr.h"

/* Options and settings */
#define HNSW_DEFAULT_M				16
#define HNSW_MIN_M					2
#define HNSW_MAX_M					100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION	4
#define HNSW_MAX_EF_CONSTRUCTION	1000
#define HNSW_DEFAULT_EF_SEARCH		40
#define HNSW_MIN_EF_SEARCH			1
#define HNSW_MAX_EF_SEARCH			1000
#define HNSW_DEFAULT_LAYER1_EF		1	/* hnsw.layer1_ef: the greedy descent */

/* quantization (index option): what elements hold in place of the vector */
#define HNSW_QUANTIZATION_NONE		0	/* the stored form itself */
#define HNSW_QUANTIZATION_RABITQ	1	/* a RaBitQ code (src/quant/) */
#define HNSW_DEFAULT_BITS			4
#define HNSW_DEFAULT_RERANK			0	/* hnsw.rerank_candidates */
/* the rotation of every quantized index (recorded in its metapage) */
#define HNSW_ROTATION_SEED			UINT64CONST(0x52614269745121)

/* Highest layer an element may get; P(level >= 16) is m^-16, negligible. */
#define HNSW_MAX_LEVEL				16

/* On-disk format */
#define HNSW_MAGIC					0x56414E48	/* "VANH" */
#define HNSW_VERSION				2	/* 2: duplicate chains */
#define HNSW_METAPAGE_BLKNO			VA_METAPAGE_BLKNO

/*
 * The heavyweight page lock (on the metapage's number): inserts share it
 * (RowExclusiveLock), VACUUM's repair and inserts of a new entry point hold
 * it alone (ExclusiveLock), hnsw_check keeps inserts out (ShareLock).
 */
#define HNSW_INSERT_LOCK			HNSW_METAPAGE_BLKNO

/* support function numbers */
#define HNSW_INDEX_OPS_PROC			1
#define HNSW_NPROCS					1
/* operator strategy numbers: 1, the distance ORDER BY operator */
#define HNSW_NSTRATEGIES				1

typedef struct HnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			m;				/* neighbours per element per layer (2m on
								 * layer 0) */
	int			ef_construction;	/* candidate list size while building */
	int			quantization;	/* HNSW_QUANTIZATION_* */
	int			bits;			/* code bits per dimension (rabitq) */
} HnswOptions;

/*
 * Metapage contents (block 0, after the page header).  entry_point is the
 * element searches start from, on layer entry_level; both are invalid/-1
 * while the index is empty.  insert_page is the last page, where new
 * elements go.  relink_nblocks and relink_heap_tuples let a VACUUM that
 * deleted nothing skip its relink pass while neither the index nor the table
 * has grown by a tenth since the last one (indexes written before the
 * fields existed read 0 there: the hole between pd_lower and pd_upper is
 * zeros).
 */
typedef struct HnswMetaPageData
{
	VaMetaPageHeader header;
	uint16		m;
	uint16		ef_construction;
	int32		dimensions;		/* -1 until the first element */
	uint32		vector_size;	/* first element's stored size (informational) */
	BlockNumber insert_page;
	ItemPointerData entry_point;
	int16		entry_level;
	BlockNumber relink_nblocks; /* index size at the last relink (0: never) */
	/* quantization: 0 in every index written before it existed */
	uint8		quantization;	/* HNSW_QUANTIZATION_* */
	uint8		bits;			/* code bits per dimension */
	uint16		centred;		/* 1: an HnswCentreData follows (quantize.c) */
	uint64		seed;			/* rotation seed of the codes */
	double		relink_heap_tuples; /* heap rows at the last relink (0: never) */
	/* random at build, then one more at each change of layers >= 2 (upper.c) */
	uint64		upper_version;	/* 0 in every index written before it existed */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

/*
 * The centre a quantized index's codes are taken about (VaRabitqSetCentre):
 * on the metapage at HNSW_CENTRE_OFFSET from its contents when the
 * metapage's centred is 1 (pd_lower covers it).  A build sets it from a
 * sample of the rows before the first code (quantize.c); it never changes
 * afterwards.  The coordinates are binary16 (VaFloatToHalf, clamped to
 * +-65504), so that a centre of up to HNSW_CENTRE_MAX_DIMS dimensions fits
 * the page; any centre gives exact codes' offsets, so rounding costs
 * nothing but a slightly worse centre.  Indexes of more dimensions, and
 * those written before the field (its bytes were zero padding), have no
 * centre: their codes are taken about the origin.
 */
typedef struct HnswCentreData
{
	int32		dims;
	uint16		c[FLEXIBLE_ARRAY_MEMBER];	/* binary16 */
} HnswCentreData;

#define HNSW_CENTRE_OFFSET		MAXALIGN(sizeof(HnswMetaPageData))
#define HNSW_CENTRE_MAX_DIMS \
	((int) ((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - \
			 MAXALIGN(sizeof(VaPageOpaqueData)) - HNSW_CENTRE_OFFSET - \
			 offsetof(HnswCentreData, c)) / sizeof(uint16)))

#define HnswPageGetMeta(page) ((HnswMetaPage) PageGetContents(page))

/*
 * One element (one indexed heap row) is one item on an element page:
 *
 *	 heaptid | level | flags | duplicates | vector (vector_size bytes) | neighbour TIDs
 *
 * The neighbour area has m * (level + 2) slots: 2m for layer 0, then m for
 * each of layers 1..level.  Each layer's list is compact: valid TIDs first,
 * then invalid ones.  The size of an element never changes after it is
 * written, so every later change is an in-place overwrite.
 *
 * Rows whose stored vector is identical to an element's do not get elements
 * of their own: each is a duplicate item (HnswDuplicateTupleData) on a chain
 * that starts at the element's duplicates field, much as a heap page chains
 * the versions of a row.  Identical vectors would otherwise fill each
 * other's neighbour lists (all at distance 0) and cut themselves off from
 * the rest of the graph.  A scan that returns an element returns its chain
 * with it, at the same distance.
 *
 * selection says what wrote the layer-0 list: k + 1 when it is the output
 * of the neighbour heuristic (HnswSelectNeighbours) whose first k members
 * the heuristic kept itself (nearest first) and whose other members filled
 * the list up (nearest first); 0 when unknown: slots appended or repaired
 * since, or written before the field had a meaning (it was zero padding, so
 * older indexes read 0).  Every writer of a layer-0 list keeps it true:
 * HnswAddBacklink uses it to settle most back-links to a full list without
 * a new selection (see there).  The field also keeps the vector 4-byte
 * aligned.
 */
typedef struct HnswElementTupleData
{
	ItemPointerData heaptid;	/* invalid once the row is deleted */
	uint8		level;
	uint8		flags;
	ItemPointerData duplicates; /* first duplicate item, or invalid */
	uint16		selection;		/* layer-0 list's selection state, see below */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} HnswElementTupleData;

typedef HnswElementTupleData *HnswElementTuple;

/*
 * A duplicate item: one heap row whose stored vector equals its owner
 * element's.  The first fields line up with an element's (heaptid, level 0,
 * flags with HNSW_ELEMENT_DUPLICATE, next in place of duplicates), so the
 * page-wide passes of VACUUM read both alike.  Never in a neighbour list,
 * never the entry point.
 */
typedef struct HnswDuplicateTupleData
{
	ItemPointerData heaptid;	/* invalid once the row is deleted */
	uint8		level;			/* always 0 */
	uint8		flags;			/* HNSW_ELEMENT_DUPLICATE | ... */
	ItemPointerData next;		/* next item of the owner's chain, or invalid */
	uint16		unused;
	ItemPointerData owner;		/* the element whose vector this row has */
} HnswDuplicateTupleData;

typedef HnswDuplicateTupleData *HnswDuplicateTuple;

#define HNSW_DUPLICATE_SIZE			sizeof(HnswDuplicateTupleData)

#define HNSW_ELEMENT_DELETED		0x01	/* heap row dead: never returned */
#define HNSW_ELEMENT_FREE			0x02	/* deleted and unlinked: slot
											 * reusable */
#define HNSW_ELEMENT_DUPLICATE		0x04	/* a duplicate item, not an
											 * element */

/* selection of an element whose layer-0 list's selection state is unknown */
#define HNSW_SELECTION_UNKNOWN		0

#define HnswElementVector(tup)		((void *) (tup)->data)
#define HnswElementNeighbours(tup) \
	((ItemPointerData *) ((tup)->data + HnswStoredSize((tup)->data)))

/*
 * Bytes a stored vector takes in an element: its varlena size (stored forms
 * are varlenas with 4-byte headers), rounded up for the TIDs that follow.
 * Stored forms may differ in size (sparsevec), so each element's own size
 * places its neighbour TIDs.
 */
static inline Size
HnswStoredSize(const void *stored)
{
	return SHORTALIGN(VARSIZE(stored));
}

static inline int
HnswSlotCount(int level, int m)
{
	return m * (level + 2);
}

static inline int
HnswLayerStart(int layer, int m)
{
	return layer == 0 ? 0 : m * (layer + 1);
}

static inline int
HnswLayerCapacity(int layer, int m)
{
	return layer == 0 ? 2 * m : m;
}

/*
 * A repair that gives an unreachable element a way in may take over, in a
 * full layer-0 list of cap slots, only the slots from this one on: the last
 * quarter, where the links the selection valued least sit.  Under inner
 * product most elements of small norm are nobody's near neighbour, and
 * linking all of them in place of the links searches need wrecked recall
 * (0.93 instead of 1.0 on 3-dimension data); so such an index may keep
 * elements that no search reaches, as the graph's construction left them.
 */
static inline int
HnswRepairFirstSlot(int cap)
{
	return cap - Max(cap / 4, 1);
}

/* Bytes of an element whose stored vector takes vector_size (HnswStoredSize). */
static inline Size
HnswElementSize(Size vector_size, int level, int m)
{
	return offsetof(HnswElementTupleData, data) + vector_size +
		sizeof(ItemPointerData) * HnswSlotCount(level, m);
}

/*
 * Is the item of length len a well-formed element (header, vector and
 * neighbour area exactly filling it)?  Safe on garbage.
 */
static inline bool
HnswElementFits(HnswElementTuple tup, Size len, int m)
{
	if ((tup->flags & HNSW_ELEMENT_DUPLICATE) ||
		len < offsetof(HnswElementTupleData, data) + VARHDRSZ ||
		tup->level > HNSW_MAX_LEVEL ||
		VARSIZE(tup->data) > len - offsetof(HnswElementTupleData, data))
		return false;
	return len == HnswElementSize(HnswStoredSize(tup->data), tup->level, m);
}

/* Is the item of length len a well-formed duplicate item?  Safe on garbage. */
static inline bool
HnswDuplicateFits(HnswElementTuple tup, Size len)
{
	return len == HNSW_DUPLICATE_SIZE && (tup->flags & HNSW_ELEMENT_DUPLICATE) &&
		tup->level == 0;
}

/*
 * Does (da, a) come before (db, b) in a selection's order: distance, then
 * id, as VaHeap sorts candidates (common/candidates.c)?  Ids are element
 * ids (in-memory build: non-negative int32; on disk: VaTidToId).
 */
static inline bool
HnswPrecedes(float da, uint64 a, float db, uint64 b)
{
	return da < db || (da == db && a < b);
}

/* Are two stored forms identical (same bytes)? */
static inline bool
HnswSameVector(const void *a, const void *b)
{
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/* candidate flags */
#define HNSW_CANDIDATE_DELETED		0x01
#define HNSW_CANDIDATE_DUPLICATES	0x02	/* the element has a duplicate
											 * chain */
#define HNSW_CANDIDATE_FAR			0x04	/* evaluate_many: beyond the
											 * caller's cut (estimated) */

/*
 * A graph as the search algorithms see it, independent of where it lives
 * (in memory during a build, in shared buffers otherwise).
 */
typedef struct HnswGraph HnswGraph;
struct HnswGraph
{
	/* Set c->distance (to the current query), c->aux and c->flags for c->id. */
	void		(*evaluate) (HnswGraph *graph, VaCandidate *c);

	/*
	 * Optional: evaluate cs[0..n-1] at once (may overlap their memory loads).
	 * A candidate whose distance an estimate and its error bound place beyond
	 * graph->beyond may get flag HNSW_CANDIDATE_FAR and the estimate instead:
	 * callers set beyond where a candidate no nearer changes their outcome
	 * (SEARCH-LAYER's furthest result once it holds ef, the greedy descent's
	 * nearest so far), and drop such candidates.
	 */
	void		(*evaluate_many) (HnswGraph *graph, VaCandidate *cs, int n);
	/* Copy the ids of id's neighbours on layer into out; return how many. */
	int			(*neighbours) (HnswGraph *graph, uint64 id, int layer, uint64 *out);
	/* Mark id visited; true if it had not been visited since the last reset. */
	bool		(*visit) (HnswGraph *graph, uint64 id);

	/*
	 * Optional, with evaluate_many: visit ids[0..n-1] in order, setting the
	 * id of out[0], out[1], ... to each one not visited before; returns how
	 * many (what visit() one by one would give, in one call).
	 */
	int			(*visit_many) (HnswGraph *graph, const uint64 *ids, int n,
							   VaCandidate *out);
	/* Forget all visits. */
	void		(*reset_visited) (HnswGraph *graph);
	float		beyond;			/* cut, set before each evaluate_many() */

	/*
	 * SEARCH-LAYER's result holds live elements only: deleted ones are walked
	 * through but neither kept nor counted against ef (false by default; see
	 * HnswSearchLayer)
	 */
	bool		live_results;
	int			m;
	uint64	   *scratch;		/* 2m ids, for neighbours() */
	VaCandidate *batch;			/* 2m candidates, for evaluate_many() */
	VaHeap		candidates;		/* min-heap, scratch for HnswSearchLayer */
};

/* graph.c */
extern void HnswGraphInitCommon(HnswGraph *graph, int m, int ef);
extern void HnswSearchLayer(HnswGraph *graph, const VaCandidate *entries,
							int nentries, int ef, int layer, VaHeap *result);
extern void HnswGreedyDescend(HnswGraph *graph, VaCandidate *entry,
							  int from_layer, int to_layer);
extern int	HnswSelectNeighbours(const VaCandidate *cands,
								 const void *const *vectors, int ncands,
								 int cap, const VaIndexOps *ops, int *selected,
								 int *ndiverse, uint8 *blockers);
extern int	HnswRandomLevel(int m, VaRandomState *state);
extern int	HnswMaxLevel(Size vector_size, int m);

/* A set of element ids (a simplehash inside graph.c). */
typedef struct HnswIdSet HnswIdSet;
extern HnswIdSet *HnswIdSetCreate(int size);
extern bool HnswIdSetAdd(HnswIdSet *set, uint64 id);
extern bool HnswIdSetContains(HnswIdSet *set, uint64 id);
extern void HnswIdSetReset(HnswIdSet *set);

/* The on-disk graph used by insert and scan. */
typedef struct HnswDiskGraph
{
	HnswGraph	graph;
	Relation	index;
	const VaIndexOps *ops;
	const void *query;			/* stored form of the query */
	uint64	   *visited;		/* visited ids, open addressing (graph.c) */
	MemoryContext visited_cxt;	/* where it lives (and grows) */
	uint32		visited_shift;	/* 64 - log2 of its slots */
	uint32		visited_count;
	struct VaBlockMap *blockmap;	/* index's block map (common/blockmap.h) */
	int			prefetch;		/* bytes of an element an evaluation reads
								 * (prefetched ahead; 256 unless set) */
} HnswDiskGraph;

extern Buffer HnswReadBuffer(HnswDiskGraph *dg, BlockNumber blkno);
extern Buffer HnswReadIndexBuffer(Relation index, BlockNumber blkno);

extern void HnswDiskGraphInit(HnswDiskGraph *dg, Relation index,
							  const VaIndexOps *ops, int m, int ef);
extern float HnswDiskGraphLowerBound(HnswDiskGraph *dg, const VaCandidate *c);
extern HnswElementTuple HnswReadElement(Relation index, const ItemPointerData *tid);
extern bool HnswElementDistances(Relation index, const VaIndexOps *ops,
								 const ItemPointerData *tid, const void *a,
								 const void *b, float *da, float *db,
								 float *dvb);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);

/* upper.c: a backend's cache of the upper layers, for searches' descents */
#define HNSW_UPPER_LOWEST		2	/* the lowest layer it may hold */
extern void HnswDescend(HnswDiskGraph *dg, const HnswMetaPageData *meta,
						VaCandidate *entry, int to_layer);
extern bool HnswCheckUpperCopy(Relation index, const HnswMetaPageData *meta);
extern void HnswBumpUpperVersion(Relation index, bool building);
typedef void (*HnswDuplicateFn) (void *arg, const ItemPointerData *tid,
								 const HnswDuplicateTupleData *dup);
extern int	HnswWalkDuplicates(Relation index, const ItemPointerData *owner,
							   HnswDuplicateFn fn, void *arg);
extern void HnswLoadCandidates(Relation index, const VaIndexOps *ops,
							   const void *base, VaCandidate *cands, int n,
							   const void **vectors);

/*
 * The items of a whole on-disk index numbered densely, for per-item arrays:
 * item (block, offset) is number base[block] + offset - 1 (graph.c,
 * HnswMapItems).
 */
typedef struct HnswItemMap
{
	BlockNumber nblocks;
	OffsetNumber *maxoff;		/* items per block, 0 for pages not ours */
	uint32	   *base;			/* number of (block, 1); base[nblocks] =
								 * nelements */
	uint32		nelements;		/* items in all */
} HnswItemMap;

/* A page that is not ours, at block blkno (pinned and share-locked). */
typedef void (*HnswBadPageFn) (void *arg, BlockNumber blkno, Page page);

/*
 * A visit of item (blkno, off), number n, of a page pinned and
 * share-locked: its line pointer iid and what it points to, tup (an
 * element only if iid is normal and the size fits: HnswElementFits).
 */
typedef void (*HnswItemFn) (void *arg, BlockNumber blkno, OffsetNumber off,
							uint32 n, ItemId iid, HnswElementTuple tup);

extern void HnswMapItems(Relation index, BufferAccessStrategy strategy,
						 HnswItemMap *map, HnswBadPageFn bad_page, void *arg);
extern int64 HnswItemNumber(const HnswItemMap *map, const ItemPointerData *tid);
extern void HnswForEachMappedItem(Relation index, BufferAccessStrategy strategy,
								  const HnswItemMap *map, HnswItemFn fn, void *arg);

/* Reachability of a whole on-disk index (graph.c, HnswComputeReach). */
typedef struct HnswReach
{
	HnswItemMap map;			/* numbers the arrays below */
	bool	   *seen;			/* reached from the entry point */
	bool	   *live;			/* well-formed and not deleted */
	int32	   *indegree;		/* layer-0 links to it from reached live elements */
} HnswReach;

extern void HnswComputeReach(Relation index, const HnswMetaPageData *meta,
							 BufferAccessStrategy strategy, HnswReach *reach);
extern void HnswItemTid(const HnswItemMap *map, uint32 n, ItemPointer tid);

/*
 * Relinking unreachable elements (graph.c, HnswRelinkUnreachable), the one
 * rule of the build's repair and VACUUM's.  It works on element numbers;
 * a layer-0 list is cap0 numbers, each an element's number (>= 0),
 * HNSW_RELINK_EMPTY for an empty slot, or HNSW_RELINK_OTHER for a link to
 * an item that is not numbered (not an element the caller knows).
 */
#define HNSW_RELINK_EMPTY	(-1)
#define HNSW_RELINK_OTHER	(-2)

typedef struct HnswRelinkOps
{
	/* Element u's layer-0 list into list[0..cap0). */
	void		(*own_list) (void *arg, uint32 u, int64 *list);

	/*
	 * The numbers of up to max elements nearest to u that a search from the
	 * entry point finds, nearest first (-1 for one not numbered); returns how
	 * many.  descend: the search an insert makes, down the upper layers and
	 * then on layer 0 from where that descent ends; otherwise on layer 0
	 * from the entry point itself, so that it finds only elements layer-0
	 * links from the entry point reach.  Called after own_list(u).
	 */
	int			(*search) (void *arg, uint32 u, bool descend, int64 *found, int max);

	/*
	 * Element c's layer-0 list into list[0..cap0), read for a change: held
	 * (locked) until the write_list that follows.
	 */
	void		(*read_list) (void *arg, uint32 c, int64 *list);

	/*
	 * Put element u into slot slot of the list read_list read and let it go;
	 * slot -1: let it go unchanged.
	 */
	void		(*write_list) (void *arg, uint32 c, int slot, uint32 u);
} HnswRelinkOps;

typedef struct HnswRelink
{
	const HnswRelinkOps *ops;
	void	   *arg;
	int			cap0;			/* layer-0 list capacity */
	int			ef;				/* most candidates a search gives */
	uint32		nelements;		/* numbers 0 .. nelements - 1 */
	bool	   *seen;			/* reached from the entry point */
	const bool *live;			/* an element that may link and be linked */
	const bool *skip;			/* not to be linked (NULL: none) */
	int32	   *indegree;		/* layer-0 links to it from reached live elements */
	uint32		risky;			/* out: links replaced on in-degrees alone */
} HnswRelink;

extern uint32 HnswRelinkUnreachable(HnswRelink *rl, uint32 *missing);

/*
 * What an index's elements hold and how to compare them (quantize.c): the
 * opclass's stored forms (quantization none), or RaBitQ codes, searched
 * with a prepared query and re-ranked with exact distances from the heap.
 */
typedef struct HnswQuant
{
	const VaIndexOps *ops;		/* the opclass's, on exact stored forms */
	const VaIndexOps *graph_ops;	/* on what elements hold */
	int			quantization;	/* HNSW_QUANTIZATION_* */
	int			bits;
	uint64		seed;
	int			m;				/* of the index: elements must fit a page */
	int			dims;			/* rq's dimensions; -1 before set up */
	MemoryContext cxt;			/* where rq is set up */
	bool		centred;		/* codes are taken about centre */
	int			centre_dims;
	float	   *centre;			/* centre_dims floats (in cxt), or NULL */
	VaRabitq	rq;
} HnswQuant;

extern void HnswQuantInit(HnswQuant *hq, Relation index, const HnswMetaPageData *meta);
extern void HnswQuantLoadCentre(HnswQuant *hq, Relation index);
extern void HnswQuantBuildCentre(HnswQuant *hq, Relation heap, Relation index,
								 IndexInfo *indexInfo);
extern void HnswQuantCheckSupported(Relation index, const VaIndexOps *ops, int quantization);
extern const void *HnswQuantElement(HnswQuant *hq, const void *stored, int dims);
extern const void *HnswQuantQuery(HnswQuant *hq, const void *stored, int dims);
extern Size HnswQuantElementSize(HnswQuant *hq, int dims, Size stored_size);
extern const VaIndexOps *HnswGraphOps(Relation index, const HnswMetaPageData *meta);

/* hnsw.iterative_scan */
typedef enum HnswIterativeScan
{
	HNSW_ITERATIVE_SCAN_OFF,
	HNSW_ITERATIVE_SCAN_RELAXED,
	HNSW_ITERATIVE_SCAN_STRICT
} HnswIterativeScan;

#define HNSW_DEFAULT_MAX_SCAN_TUPLES	20000
#define HNSW_DEFAULT_SCAN_MEM_MULTIPLIER 1.0

/*
 * The access method's callbacks: hnswhandler (hnsw.c), hnswbuild and
 * hnswbuildempty (build.c), hnswinsert (insert.c), hnswbeginscan and
 * hnswgettuple (scan.c), hnswbulkdelete and hnswvacuumcleanup (vacuum.c).
 */
VA_DECLARE_AM_CALLBACKS(hnsw);

/* hnsw.c */
extern void HnswInit(void);		/* the GUCs; from _PG_init */
extern int	hnsw_ef_search;
extern int	hnsw_layer1_ef;
extern int	hnsw_iterative_scan;
extern int	hnsw_max_scan_tuples;
extern int	hnsw_rerank_candidates;
extern double hnsw_scan_mem_multiplier;
extern const VaIndexOps *HnswGetIndexOps(Relation index);
extern HnswOptions HnswGetOptions(Relation index);

/* build.c */
extern void HnswWriteMetaPage(Relation index, ForkNumber fork, int m, int ef_construction,
							  int quantization, int bits);

/* insert.c */
extern bool HnswAddBacklink(Relation index, const VaIndexOps *ops, int m,
							const ItemPointerData *nbtid,
							const ItemPointerData *newtid,
							const void *newvec, int layer,
							bool building, bool force);
extern void HnswInsertStored(Relation index, const VaIndexOps *ops,
							 const void *stored, Size vector_size,
							 const void *query, int dimensions,
							 ItemPointer heap_tid, bool building,
							 VaRandomState *rng);
extern void HnswInsertValue(Relation index, const VaIndexOps *ops,
							const void *stored, ItemPointer heap_tid,
							bool building, VaRandomState *rng);

/*
 * The largest item (bytes, compare with MAXALIGN of the item's size) that a
 * new element or duplicate item could take on page: a slot VACUUM freed
 * (HNSW_ELEMENT_FREE) grown into the page's unused middle, or a new item
 * there.  What the free space map records for each page.
 */
extern Size HnswPageRoom(Page page);

#endif							/* HNSW_H */
