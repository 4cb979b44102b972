/*
 * parallel.h
 *	  The scaffolding the access methods' parallel builds share, so each
 *	  build only says what its participants do: entering parallel mode, the
 *	  snapshot the heap is scanned with (as nbtree: SnapshotAny for a plain
 *	  build, an MVCC snapshot under CONCURRENTLY), the DSM segment, and on
 *	  the worker side opening the relations with the locks the leader holds.
 */
#ifndef VA_PARALLEL_H
#define VA_PARALLEL_H

#include "vectorann.h"

#include "access/parallel.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* First member of each build's shared state: what a worker opens. */
typedef struct VaParallelShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
} VaParallelShared;

/* The leader's side of a parallel build. */
typedef struct VaParallelBuild
{
	ParallelContext *pcxt;
	Snapshot	snapshot;		/* for table_parallelscan_initialize */
} VaParallelBuild;

/* A worker's relations, opened by VaParallelWorkerOpen. */
typedef struct VaParallelWorker
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	LOCKMODE	heap_lockmode;
	LOCKMODE	index_lockmode;
} VaParallelWorker;

/*
 * The parallel heap scan descriptor that follows a build's shared state,
 * a struct of struct_size bytes (see VaParallelBuildInitDSM).
 */
#define VaParallelSharedScan(shared, struct_size) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(struct_size)))

extern void VaParallelBuildBegin(VaParallelBuild *pb, const char *entry, int nworkers,
								 IndexInfo *indexInfo);
extern void *VaParallelBuildInitDSM(VaParallelBuild *pb, Relation heap, Relation index,
									IndexInfo *indexInfo, Size struct_size,
									uint64 shared_key, const Size *chunk_sizes,
									int nchunks);

/*
 * Launch the workers of pb (after VaParallelBuildInitDSM and the caller's
 * own chunks) and wait until each one launched has attached, so that the
 * number of participants is known and no later wait hangs on a worker that
 * failed to start; then say at DEBUG1 "<amname> parallel build: <n> workers
 * launched" (the tests look for it).  Returns the participants: the
 * workers launched and the leader.
 */
extern int	VaParallelBuildLaunch(VaParallelBuild *pb, const char *amname);
extern void VaParallelBuildEnd(VaParallelBuild *pb);
extern void VaParallelWorkerOpen(const VaParallelShared *shared, VaParallelWorker *w);
extern void VaParallelWorkerClose(VaParallelWorker *w);

#endif							/* VA_PARALLEL_H */
