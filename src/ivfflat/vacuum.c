/*
 * vacuum.c
 *	  VACUUM for ivfflat.  ambulkdelete visits every list page once and
 *	  removes the items whose heap rows are dead, one WAL record per page
 *	  that changes.  Pages emptied this way stay in their list's chain and
 *	  are refilled only if they are the tail; centroids are not recomputed
 *	  (REINDEX does both).
 */
#include "ivfflat/ivfflat.h"

#include "commands/vacuum.h"
#include "common/wal.h"
#include "miscadmin.h"

/*
 * Is buf (pinned and locked) a list page?  A page left all zeros by an
 * insert that failed right after extending the relation is not.
 */
static bool
is_list_page(Relation index, Buffer buf)
{
	if (PageIsNew(BufferGetPage(buf)))
		return false;
	VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
	return VaPageGetOpaque(BufferGetPage(buf))->flags == IVFFLAT_PAGE_LIST;
}

IndexBulkDeleteResult *
ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	OffsetNumber *dead = palloc(sizeof(OffsetNumber) * MaxOffsetNumber);

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	for (BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		int			ndead = 0;
		VaWal		wal;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (!is_list_page(index, buf))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			IvfflatListTuple tup =
				(IvfflatListTuple) PageGetItem(page, PageGetItemId(page, off));

			if (callback(&tup->heaptid, callback_state))
				dead[ndead++] = off;
		}
		if (ndead > 0)
		{
			VaWalBegin(&wal, index, false);
			page = VaWalRegister(&wal, buf, false);
			PageIndexMultiDelete(page, dead, ndead);
			VaWalFinish(&wal);
			stats->tuples_removed += ndead;
		}
		UnlockReleaseBuffer(buf);
	}
	pfree(dead);
	return stats;
}

/* amvacuumcleanup: count pages and rows. */
IndexBulkDeleteResult *
ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
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
	for (BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (is_list_page(index, buf))
			stats->num_index_tuples += PageGetMaxOffsetNumber(BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
	}
	return stats;
}
