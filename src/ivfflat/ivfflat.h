/*
 * ivfflat.h
 *	  IVFFlat index access method (the inverted file with exact distances of
 *	  Jégou, Douze & Schmid, "Product quantization for nearest neighbor
 *	  search", IEEE TPAMI 2011, without the quantizer): on-disk structures,
 *	  options and the functions the AM's files share.  README.md beside
 *	  this file draws the page layout and states the locking and WAL rules.
 */
#ifndef IVFFLAT_H
#define IVFFLAT_H

#include "vectorann.h"

#include "access/amapi.h"
#include "common/am.h"
#include "common/candidates.h"
#include "indexops.h"
#include "common/page.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"

/* Options and settings */
#define IVFFLAT_DEFAULT_LISTS		100
#define IVFFLAT_MIN_LISTS			1
#define IVFFLAT_MAX_LISTS			32768
#define IVFFLAT_DEFAULT_PROBES		1
#define IVFFLAT_MAX_PROBES			IVFFLAT_MAX_LISTS

/*
 * quantization (index option): what a list item holds after the heap TID.
 * The numbers are stored in the metapage (0 in indexes written before the
 * option existed); a new quantizer takes the next one and an entry in
 * codec.c's table.
 */
#define IVFFLAT_QUANTIZATION_NONE	0	/* the stored form itself */
#define IVFFLAT_QUANTIZATION_RABITQ 1	/* RaBitQ code of the residual */
#define IVFFLAT_QUANTIZATION_PQ		3	/* product-quantization code of the
										 * residual and its error (2: codes
										 * without it, development builds
										 * before 2026-12-03; REINDEX) */
#define IVFFLAT_DEFAULT_BITS		4
#define IVFFLAT_DEFAULT_RERANK		0	/* ivfflat.rerank_candidates */
#define IVFFLAT_MAX_RERANK			1000
/* the rotation of every RaBitQ-quantized index (recorded in its metapage) */
#define IVFFLAT_ROTATION_SEED		UINT64CONST(0x49766652614251)
/* pq_m: 0 picks VaPqDefaultM(dimensions); at most this many code bytes */
#define IVFFLAT_MAX_PQ_M			8000
/* the k-means seed of every PQ index's codebooks (recorded in its metapage) */
#define IVFFLAT_PQ_SEED				UINT64CONST(0x5051495646)

/*
 * The most bytes of centroids and codecs' list data a backend keeps per
 * index (scan.c's centroid cache, whose CENTROID_CACHE_MAX a build may set
 * otherwise to test the uncached path); beyond it both are read per scan.
 */
#define IVFFLAT_CENTROID_CACHE_MAX	(16 * 1024 * 1024)

/* ivfflat.iterative_scan */
typedef enum IvfflatIterativeScan
{
	IVFFLAT_ITERATIVE_SCAN_OFF,
	IVFFLAT_ITERATIVE_SCAN_RELAXED
} IvfflatIterativeScan;

/* k-means: training rows per list, and Lloyd iterations at most */
#define IVFFLAT_SAMPLES_PER_LIST	50
#define IVFFLAT_KMEANS_ITERATIONS	10

/* On-disk format */
#define IVFFLAT_MAGIC				0x56414E49	/* "VANI" */
#define IVFFLAT_VERSION				1
#define IVFFLAT_METAPAGE_BLKNO		VA_METAPAGE_BLKNO
#define IVFFLAT_FIRST_CENTROID_BLKNO 1

/* Page kinds, in the special area's flags */
#define IVFFLAT_PAGE_META			1
#define IVFFLAT_PAGE_CENTROIDS		2
#define IVFFLAT_PAGE_LIST			3
#define IVFFLAT_PAGE_CODEC			4	/* a codec's trained state (PQ
										 * codebooks) */

/* support function numbers */
#define IVFFLAT_INDEX_OPS_PROC		1
#define IVFFLAT_NPROCS				1
/* operator strategy numbers: 1, the distance ORDER BY operator */
#define IVFFLAT_NSTRATEGIES			1

typedef struct IvfflatOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			lists;			/* number of inverted lists (k-means
								 * centroids) */
	int			quantization;	/* IVFFLAT_QUANTIZATION_* */
	int			bits;			/* code bits per dimension (rabitq) */
	int			pq_m;			/* PQ subspaces (code bytes); 0: default */
} IvfflatOptions;

/*
 * Metapage contents (block 0, after the page header).  lists is the option
 * the index was built with; nlists the number of lists it has (fewer when
 * the table had fewer rows than lists; 0 for an index built on no rows,
 * until the first insert creates one list).  quantization, bits and seed
 * say what list items hold (IVFFLAT_QUANTIZATION_*; bits and seed are the
 * quantizer's parameters, 0 for none); indexes written before they existed
 * read 0 there (the hole between pd_lower and pd_upper is zeros), i.e. none.
 * pq_m is the PQ option as given (0: the default for the dimensions, see
 * VaPqDefaultM), codec_blkno the first page of the chain holding the
 * codec's trained state (PQ: the codebooks; 0 for none: no codec state, or
 * an index built on no rows, whose PQ codebooks are all zeros).
 */
typedef struct IvfflatMetaPageData
{
	VaMetaPageHeader header;
	uint32		lists;
	uint32		nlists;
	int32		dimensions;		/* -1 until known */
	uint32		vector_size;	/* bytes of a stored vector, 0 until known */
	uint8		quantization;	/* IVFFLAT_QUANTIZATION_* */
	uint8		bits;			/* code bits per dimension */
	uint16		pq_m;			/* PQ subspaces as given; 0: the default */
	uint32		codec_blkno;	/* first page of the codec's state, or 0 */
	uint64		seed;			/* quantizer's seed (RaBitQ: the rotation) */
} IvfflatMetaPageData;

typedef IvfflatMetaPageData *IvfflatMetaPage;

#define IvfflatPageGetMeta(page) ((IvfflatMetaPage) PageGetContents(page))

/*
 * One list is one item on a centroid page (blocks 1.., chained by
 * nextblkno): where its chain of list pages starts, the page new rows go
 * to (a hint: the true tail is found by following nextblkno from it), and
 * the centroid in stored form.
 */
typedef struct IvfflatCentroidTupleData
{
	BlockNumber startpage;
	BlockNumber insertpage;
	char		centroid[FLEXIBLE_ARRAY_MEMBER];
} IvfflatCentroidTupleData;

typedef IvfflatCentroidTupleData *IvfflatCentroidTuple;

#define IVFFLAT_CENTROID_SIZE(vector_size) \
	(offsetof(IvfflatCentroidTupleData, centroid) + (vector_size))

/*
 * A centroid whose item would not fit a page (a quantized index's list
 * items hold codes, so its vectors may have up to VA_MAX_DIM dimensions,
 * 64,008 bytes of vector) is split into pieces: consecutive items of the
 * centroid chain, each an IvfflatCentroidTupleData holding the next up to
 * IVFFLAT_CENTROID_PIECE bytes of the centroid.  The first piece is the
 * list's item (its startpage and insertpage; what an IvfflatListRef
 * names); the others have InvalidBlockNumber there.  A centroid that fits
 * is one item, as in indexes written before pieces existed.
 */
#define IVFFLAT_CENTROID_PIECE \
	((VA_MAX_ITEM_SIZE - MAXALIGN(IVFFLAT_CENTROID_SIZE(0))) & ~((Size) MAXIMUM_ALIGNOF - 1))

/* The number of items (pieces) a centroid of vector_size bytes takes. */
static inline int
IvfflatCentroidPieces(Size vector_size)
{
	if (MAXALIGN(IVFFLAT_CENTROID_SIZE(vector_size)) <= VA_MAX_ITEM_SIZE)
		return 1;
	return (int) ((vector_size + IVFFLAT_CENTROID_PIECE - 1) / IVFFLAT_CENTROID_PIECE);
}

/* The bytes of centroid that piece k (0..pieces-1) holds. */
static inline Size
IvfflatCentroidPieceBytes(Size vector_size, int k)
{
	if (IvfflatCentroidPieces(vector_size) == 1)
		return vector_size;
	return Min(IVFFLAT_CENTROID_PIECE, vector_size - (Size) k * IVFFLAT_CENTROID_PIECE);
}

/*
 * One indexed row is one item on a list page: heap TID, then the vector
 * (quantization none) or the code the index's codec made of it (see
 * IvfflatCodec; code_size bytes).
 */
typedef struct IvfflatListTupleData
{
	ItemPointerData heaptid;
	uint16		unused;			/* keeps vector 4-byte aligned */
	char		vector[FLEXIBLE_ARRAY_MEMBER];
} IvfflatListTupleData;

typedef IvfflatListTupleData *IvfflatListTuple;

#define IVFFLAT_LIST_TUPLE_SIZE(vector_size) \
	(offsetof(IvfflatListTupleData, vector) + (vector_size))

/*
 * A list codec: what a quantizer must provide for list items to hold codes
 * instead of vectors (quantization other than none).  Codes are made of a
 * row's exact stored form and its list's centroid (typically the residual
 * o - c is encoded), and a scan bounds the opclass distance from the
 * query to the row behind each code from below; rows are re-ranked with
 * exact distances from the heap (scan.c) least bound first.  A scan calls
 * begin_scan once with the query, then begin_list before the items of each
 * list it reads, then lower_bound per item.
 *
 * Every method gets the IvfflatCodec; a quantizer keeps its state in
 * codec->state (allocated in codec->cxt).  A quantizer that learns from the
 * data (PQ) has train, and its trained state is kept in the index on a
 * chain of IVFFLAT_PAGE_CODEC pages (codec.c writes and reads them through
 * state_size, save and load); one that does not (RaBitQ) leaves those
 * NULL.  Per list, a quantizer may keep
 * list_data_size bytes derived from the centroid alone (RaBitQ: the rotated
 * centroid), which scans cache with the centroids (prepare_list fills them);
 * 0 when it needs none.
 */
typedef struct IvfflatCodec IvfflatCodec;

typedef struct IvfflatCodecMethods
{
	const char *name;			/* the option's value, e.g. "rabitq" */

	/*
	 * Bytes of a code for dims dimensions at bits with pq_m PQ subspaces (0:
	 * the default; the metapage's numbers; no state needed: the planner and
	 * ivfflat_check use it).
	 */
	Size		(*code_size) (int dims, int bits, int pq_m);

	/* Can values under the operator class ops be quantized? */
	bool		(*supports) (const VaIndexOps *ops);

	/*
	 * Set up for dims dimensions (codec->dims, bits, seed and code_size set,
	 * the code known to fit a page): allocate the state in codec->cxt and set
	 * codec->list_data_size.
	 */
	void		(*setup) (IvfflatCodec *codec);

	/*
	 * Optional: learn the quantizer from the build's sample (after setup,
	 * once, in the build's leader): nsamples exact stored forms vector_size
	 * bytes apart, and the index's nlists centroids (stored forms, as many
	 * bytes apart).  Without it (an index built on no rows) a quantizer with
	 * train must still encode and estimate, if uselessly.
	 */
	void		(*train) (IvfflatCodec *codec, const char *samples, int nsamples,
						  Size vector_size, const char *centroids, int nlists);

	/*
	 * Optional, with train: the trained state's bytes (state_size, fixed by
	 * setup), written to them by save and read back from them by load (in a
	 * later setup of the same index: a scan, an insert, a parallel build's
	 * worker).
	 */
	Size		(*state_size) (const IvfflatCodec *codec);
	void		(*save) (const IvfflatCodec *codec, char *out);
	void		(*load) (IvfflatCodec *codec, const char *in);

	/*
	 * code[0..code_size) := the code of the row with exact stored form stored
	 * in the list whose centroid (stored form) is centroid.
	 */
	void		(*encode) (IvfflatCodec *codec, const void *stored,
						   const void *centroid, void *code);

	/*
	 * Optional, for the build's blocks of rows: codes[r * code_size ..) :=
	 * encode of row r (the exact stored form at stored + r * vector_size) in
	 * list lists[r] (centroid at centroids + lists[r] * vector_size), for r <
	 * n: the same bytes as n calls of encode, in less time.
	 */
	void		(*encode_block) (IvfflatCodec *codec, const char *stored, int n,
								 Size vector_size, const char *centroids,
								 const int *lists, char *codes);

	/* data[0..list_data_size) := what begin_list needs of centroid. */
	void		(*prepare_list) (IvfflatCodec *codec, const void *centroid, void *data);

	/* A scan's query, as an exact stored form of dims dimensions. */
	void		(*begin_scan) (IvfflatCodec *codec, const void *query);

	/*
	 * The next items belong to the list with prepared data (prepare_list) and
	 * opclass distance centroid_distance from the query to its centroid.
	 */
	void		(*begin_list) (IvfflatCodec *codec, const void *data,
							   float centroid_distance);

	/*
	 * A lower bound on the opclass distance the scan computes exactly for the
	 * row behind code (an item of the current list): the codec's estimate of
	 * that distance less how far the true distance may lie below it (RaBitQ:
	 * its error bound, 3 standard deviations; PQ: from the reconstruction
	 * error stored with the code; sure under inner product, with high
	 * probability otherwise).  The scan re-ranks rows in order of this bound
	 * and returns a row once no row left can be nearer (scan.c).  Takes the
	 * codec as const void * so that a scan calls it exactly as it calls an
	 * opclass distance.  The hot path: no allocation.
	 */
	float		(*lower_bound) (const void *codec, const void *code);

	/*
	 * About how many rows a scan re-ranks per row the query wants, as
	 * measured (README), for the cost estimate: RaBitQ's bound is tight, PQ's
	 * several times looser.
	 */
	double		rerank_per_row;
} IvfflatCodecMethods;

struct IvfflatCodec
{
	const IvfflatCodecMethods *methods;
	const VaIndexOps *ops;		/* the opclass's, on exact stored forms */
	int			quantization;	/* IVFFLAT_QUANTIZATION_* */
	int			bits;
	uint64		seed;
	int			pq_m;			/* PQ subspaces; 0 until set up: the default */
	uint32		nlists;			/* the metapage's, 0 without one (a build) */
	Relation	index;			/* where trained state is read from */
	BlockNumber state_blkno;	/* first page of the trained state, or 0 */
	int			dims;			/* -1 until set up */
	Size		code_size;		/* bytes of a code */
	Size		list_data_size; /* bytes of a list's prepared data */
	MemoryContext cxt;			/* where the state lives */
	void	   *state;			/* the quantizer's */
};

/* Where a list's centroid item lives. */
typedef struct IvfflatListRef
{
	ItemPointerData centroid;	/* block and offset of the centroid item */
	BlockNumber startpage;
	BlockNumber insertpage;
} IvfflatListRef;

/*
 * The access method's callbacks: ivfflathandler (ivfflat.c), ivfflatbuild
 * and ivfflatbuildempty (build.c), ivfflatinsert (insert.c),
 * ivfflatbeginscan and ivfflatgettuple (scan.c), ivfflatbulkdelete and
 * ivfflatvacuumcleanup (vacuum.c).
 */
VA_DECLARE_AM_CALLBACKS(ivfflat);

/* ivfflat.c */
extern void IvfflatInit(void);	/* the GUCs; from _PG_init */
extern int	ivfflat_probes;
extern int	ivfflat_iterative_scan;
extern int	ivfflat_max_probes;
extern int	ivfflat_rerank_candidates;
extern bool ivfflat_check_nearest;
extern const VaIndexOps *IvfflatGetIndexOps(Relation index);
extern IvfflatOptions IvfflatGetOptions(Relation index);
extern void IvfflatReadMeta(Relation index, IvfflatMetaPageData *meta);
extern void IvfflatCheckVectorSize(Size vector_size, bool quantized,
								   const VaIndexOps *ops);

/* codec.c */
extern bool IvfflatCodecInit(IvfflatCodec *codec, Relation index,
							 const VaIndexOps *ops, const IvfflatMetaPageData *meta);
extern bool IvfflatCodecValid(const IvfflatMetaPageData *meta, const VaIndexOps *ops);
extern bool IvfflatCodecAnySupports(const VaIndexOps *ops);
extern double IvfflatCodecRerankPerRow(int quantization);
extern void IvfflatCodecSetup(IvfflatCodec *codec, int dims);
extern void IvfflatCodecCheckSupported(Relation index, const VaIndexOps *ops,
									   int quantization);
extern Size IvfflatItemDataSize(const IvfflatMetaPageData *meta);
extern void IvfflatCodecFloats(IvfflatCodec *codec, const void *stored, float *out);
extern BlockNumber IvfflatCodecWriteState(IvfflatCodec *codec, Relation index,
										  ForkNumber fork, BlockNumber blkno);

/* codec_rabitq.c, codec_pq.c */
extern const IvfflatCodecMethods IvfflatRabitqCodec;
extern const IvfflatCodecMethods IvfflatPqCodec;

/* kmeans.c */
extern Size IvfflatKmeansMemory(int nsamples, int k, int dims, Size vector_size);
extern int	IvfflatKmeans(const VaIndexOps *ops, const char *samples, int nsamples,
						  Size vector_size, int dims, int k, char *centroids);

/*
 * nearest.c: the nearest centroid of blocks of rows (see its header).
 * Fields are private to nearest.c but for the counts.
 */
#define IVFFLAT_NEAREST_BLOCK	32
typedef struct IvfflatNearest
{
	const VaIndexOps *ops;
	const char *centroids;		/* nlists stored forms */
	int			nlists;
	Size		vector_size;
	int			dims;
	bool		blocked;		/* false: every pair by ops->distance */
	int			npanels;		/* centroids / 16, rounded up */
	float	   *panels;			/* the centroids in VaDotPanels's layout */
	float	   *cnorm2;			/* their squared norms */
	double		cmax;			/* the largest norm */
	float	   *rows;			/* a block of rows as floats */
	float	   *dots;			/* their inner products, then keys */
	/* l2 pruning by prefix lower bounds (0 prefix: off) */
	int			nstages;		/* prefixes tried before the full search */
	int			prefix[2];		/* their dimensions, multiples of 16 */
	float	   *ppanels[2];		/* prefix + rest norm, VaDotPanels's layout */
	float	   *prows;			/* a block of rows' prefixes + rest norms */
	float	   *zeros;			/* dims zeros */
	float	   *cmin;			/* each centroid's distance to its nearest
								 * other, or NULL */
	int			skip;			/* blocks left to search without pruning */
	int			backoff;		/* blocks skipped after the last bad block */
	uint64		tied_rows;		/* rows with near ties decided exactly */
	uint64		rechecked;		/* exact distances computed for them */
	uint64		pruned_rows;	/* rows decided by prefix bounds */
	uint64		survivors;		/* exact distances computed for them */
} IvfflatNearest;
extern void IvfflatNearestInit(IvfflatNearest *nn, const VaIndexOps *ops,
							   const char *centroids, int nlists, Size vector_size,
							   int dims);
extern void IvfflatNearestBlock(IvfflatNearest *nn, const char *stored, int n, int *lists);
extern void IvfflatNearestEnd(IvfflatNearest *nn);
extern int	IvfflatNearestExact(const VaIndexOps *ops, const char *centroids, int nlists,
								Size vector_size, const void *stored);

/* insert.c */
typedef void (*IvfflatCentroidVisitor) (void *arg, int i, const IvfflatListRef *list,
										const char *centroid);
extern int	IvfflatForEachCentroid(Relation index, Size vector_size, int cap,
								   IvfflatCentroidVisitor visit, void *arg);
extern void IvfflatReadCentroid(Relation index, Size vector_size, ItemPointer tid,
								char *out);
extern int	IvfflatReadLists(Relation index, Size vector_size, const VaIndexOps *ops,
							 const void *query, IvfflatListRef *refs, float *dists, int cap);
extern BlockNumber IvfflatAppend(Relation index, const IvfflatListRef *list,
								 IvfflatListTuple tup, Size size, bool building,
								 Buffer *recent);

#endif							/* IVFFLAT_H */
