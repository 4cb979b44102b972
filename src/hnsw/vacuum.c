/*
 * vacuum.c
 *	  VACUUM for HNSW.  ambulkdelete visits every element page once and marks
 *	  the elements whose heap rows are dead as deleted (flag set, heap TID
 *	  cleared) in one WAL record per page.  Deleted elements stay in the graph
 *	  as routing points: searches pass through them but never return them, so
 *	  recall does not collapse while the graph is not yet repaired, and the
 *	  heap TID can be reused safely.  Graph repair and space reuse are not
 *	  done yet (see README.md).
 */
#include "hnsw/hnsw.h"

#include "commands/vacuum.h"
#include "common/wal.h"
#include "miscadmin.h"

IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		bool		dead = false;
		VaWal		wal;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && !dead; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
				callback(&tup->heaptid, callback_state))
				dead = true;
		}
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);

		if (dead)
		{
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			VaWalBegin(&wal, index, false);
			page = VaWalRegister(&wal, buf, false);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

				if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
					callback(&tup->heaptid, callback_state))
				{
					tup->flags |= HNSW_ELEMENT_DELETED;
					ItemPointerSetInvalid(&tup->heaptid);
					stats->tuples_removed++;
				}
			}
			VaWalFinish(&wal);
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}
	return stats;
}

/* amvacuumcleanup: count pages and live elements. */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	nblocks = RelationGetNumberOfBlocks(index);
	stats->num_pages = nblocks;
	stats->num_index_tuples = 0;
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED))
				stats->num_index_tuples++;
		}
		UnlockReleaseBuffer(buf);
	}
	return stats;
}
