/*
 * vacuum.c
 *	  VACUUM for ivfflat.  ambulkdelete walks every list's chain of pages
 *	  once, removes the items whose heap rows are dead (one WAL record per
 *	  page that changes) and points the list's insertpage hint at the first
 *	  page with room, so that the list's next inserts refill what was freed;
 *	  pages stay in their list's chain.  Centroids are not recomputed
 *	  (REINDEX does that).
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

/*
 * Point list's insertpage hint at blkno (one WAL record for the centroid
 * page), unless it names that page already.  No list page is locked here.
 */
static void
set_insert_hint(Relation index, const IvfflatListRef *list, BlockNumber blkno)
{
	Buffer		cbuf = ReadBuffer(index, ItemPointerGetBlockNumber(&list->centroid));
	OffsetNumber coff = ItemPointerGetOffsetNumber(&list->centroid);
	Page		cpage;
	IvfflatCentroidTuple ctup;
	VaWal		wal;

	LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
	VaCheckPage(index, cbuf, VA_PAGE_ID_IVFFLAT);
	cpage = BufferGetPage(cbuf);
	ctup = (IvfflatCentroidTuple) PageGetItem(cpage, PageGetItemId(cpage, coff));
	if (ctup->insertpage != blkno)
	{
		VaWalBegin(&wal, index, false);
		cpage = VaWalRegister(&wal, cbuf, false);
		ctup = (IvfflatCentroidTuple) PageGetItem(cpage, PageGetItemId(cpage, coff));
		ctup->insertpage = blkno;
		VaWalFinish(&wal);
	}
	UnlockReleaseBuffer(cbuf);
}

/*
 * ambulkdelete: walk each list's chain of pages from its start page (one
 * page locked at a time, exclusively), delete the items whose heap row is
 * dead (one WAL record per page that changes), and point the list's
 * insertpage hint at the first page of its chain that now has room for a
 * row, so that inserts into that list fill the freed space before the
 * chain grows.  Every indexed row is on some list's chain.  Returns stats
 * with tuples_removed increased.
 */
IndexBulkDeleteResult *
ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	IvfflatMetaPageData meta;
	IvfflatListRef *refs;
	int			nlists;
	Size		rowsize;
	OffsetNumber *dead;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	IvfflatReadMeta(index, &meta);
	if (meta.nlists == 0)
		return stats;
	rowsize = MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(IvfflatItemDataSize(&meta)));
	refs = palloc(sizeof(IvfflatListRef) * meta.nlists);
	nlists = IvfflatReadLists(index, meta.vector_size, NULL, NULL, refs, NULL, meta.nlists);
	dead = palloc(sizeof(OffsetNumber) * MaxOffsetNumber);

	for (int i = 0; i < nlists; i++)
	{
		BlockNumber blkno = refs[i].startpage;
		BlockNumber first_room = InvalidBlockNumber;

		while (blkno != InvalidBlockNumber)
		{
			Buffer		buf;
			Page		page;
			OffsetNumber maxoff;
			int			ndead = 0;
			VaWal		wal;

			buf = VaVacuumReadBuffer(index, blkno, info->strategy, BUFFER_LOCK_EXCLUSIVE);
			if (!is_list_page(index, buf))
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("list %d of index \"%s\" leads to block %u, which is not a list page",
								i, RelationGetRelationName(index), blkno),
						 errhint("Please REINDEX it.")));
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
				page = BufferGetPage(buf);
			}
			if (first_room == InvalidBlockNumber && PageGetFreeSpace(page) >= rowsize)
				first_room = blkno;
			blkno = VaPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
		}

		/*
		 * The pages before first_room had no room when this walk passed them,
		 * and only VACUUM (one at a time) makes room, so the hint may move
		 * there whether it now names an earlier page or a later one (an
		 * insert may have moved it on meanwhile).
		 */
		if (first_room != InvalidBlockNumber)
			set_insert_hint(index, &refs[i], first_room);
	}
	pfree(dead);
	pfree(refs);
	return stats;
}

/* VaCountPageFn: the rows on a list page; other pages have none. */
static double
count_rows(Relation index, Buffer buf, Size *room)
{
	return is_list_page(index, buf) ? PageGetMaxOffsetNumber(BufferGetPage(buf)) : 0;
}

/* amvacuumcleanup: count pages and rows. */
IndexBulkDeleteResult *
ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	return VaVacuumCount(info, stats, IVFFLAT_FIRST_CENTROID_BLKNO, count_rows, false);
}
