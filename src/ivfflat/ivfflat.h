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
} IvfflatOptions;

/*
 * Metapage contents (block 0, after the page header).  lists is the option
 * the index was built with; nlists the number of lists it has (fewer when
 * the table had fewer rows than lists; 0 for an index built on no rows,
 * until the first insert creates one list).
 */
typedef struct IvfflatMetaPageData
{
	VaMetaPageHeader header;
	uint32		lists;
	uint32		nlists;
	int32		dimensions;		/* -1 until known */
	uint32		vector_size;	/* bytes of a stored vector, 0 until known */
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

/* One indexed row is one item on a list page: heap TID, then the vector. */
typedef struct IvfflatListTupleData
{
	ItemPointerData heaptid;
	uint16		unused;			/* keeps vector 4-byte aligned */
	char		vector[FLEXIBLE_ARRAY_MEMBER];
} IvfflatListTupleData;

typedef IvfflatListTupleData *IvfflatListTuple;

#define IVFFLAT_LIST_TUPLE_SIZE(vector_size) \
	(offsetof(IvfflatListTupleData, vector) + (vector_size))

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
extern const VaIndexOps *IvfflatGetIndexOps(Relation index);
extern int	IvfflatGetLists(Relation index);
extern void IvfflatReadMeta(Relation index, IvfflatMetaPageData *meta);
extern void IvfflatCheckVectorSize(Size vector_size);

/* kmeans.c */
extern Size IvfflatKmeansMemory(int nsamples, int k, int dims, Size vector_size);
extern int	IvfflatKmeans(const VaIndexOps *ops, const char *samples, int nsamples,
						  Size vector_size, int dims, int k, char *centroids);

/* insert.c */
typedef void (*IvfflatCentroidVisitor) (void *arg, int i, BlockNumber blkno,
										OffsetNumber off, IvfflatCentroidTuple ctup);
extern int	IvfflatForEachCentroid(Relation index, int cap, IvfflatCentroidVisitor visit,
								   void *arg);
extern int	IvfflatReadLists(Relation index, const VaIndexOps *ops, const void *query,
							 IvfflatListRef *refs, float *dists, int cap);
extern BlockNumber IvfflatAppend(Relation index, const IvfflatListRef *list,
								 IvfflatListTuple tup, Size size, bool building);

#endif							/* IVFFLAT_H */
