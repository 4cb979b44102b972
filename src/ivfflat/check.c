/*
 * check.c
 *	  ivfflat_check(regclass): walk an ivfflat index and report structural
 *	  violations, in the spirit of amcheck: pages that are not ours or not
 *	  of the kind their place calls for, chains that loop, leave the
 *	  relation or share a page with another chain, centroid and list items
 *	  of the wrong size or dimensions, rows filed under a list whose centroid
 *	  is not nearest to them, heap TIDs indexed twice, rows on pages no list
 *	  reaches, and a metapage whose count of lists disagrees with the
 *	  centroid pages.  In a quantized index, whose rows hold codes, the
 *	  list and the code of a sample of rows are checked against the value
 *	  of their heap rows.
 */
#include "ivfflat/ivfflat.h"

#include "access/table.h"
#include "common/heapvalue.h"
#include "common/report.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

typedef enum ProblemKind
{
	PROBLEM_METAPAGE,
	PROBLEM_PAGE,
	PROBLEM_CHAIN,
	PROBLEM_ITEM,
	PROBLEM_LIST,
	PROBLEM_DUPLICATE,
	PROBLEM_COUNT,
	PROBLEM_CODE,
	NUM_PROBLEM_KINDS
} ProblemKind;

static const char *const kind_names[NUM_PROBLEM_KINDS] = {
	"metapage", "page", "chain", "item", "list", "duplicate", "count", "code"
};

/* Rows of a quantized index checked against their heap rows, at most. */
#define IVFFLAT_CHECK_CODE_SAMPLE	1000

/* A row of a quantized index: where it is, for the code check (pass 5). */
typedef struct CodedRow
{
	BlockNumber blkno;
	OffsetNumber off;
	int32		list;
} CodedRow;

/* Who owns a block: not yet seen, the metapage, the centroid chain, list i */
#define OWNER_NONE		(-3)
#define OWNER_META		(-2)
#define OWNER_CENTROIDS	(-1)
#define OWNER_CODEC		(-4)	/* the codec's state (PQ codebooks) */

typedef struct CheckState
{
	Relation	index;
	const VaIndexOps *ops;
	IvfflatMetaPageData meta;
	BlockNumber nblocks;
	int32	   *owner;			/* by block: OWNER_* or list number */
	int			ncentroids;
	int			piece;			/* the next centroid item is this piece */
	char	   *centroids;		/* ncentroids * meta.vector_size */
	BlockNumber *startpage;		/* by list */
	BlockNumber *insertpage;	/* by list */
	uint64	   *tids;			/* every indexed heap TID (VaTidToId) */
	Size		ntids;
	Size		tidcap;
	Size		item_size;		/* bytes after a row's heap TID */
	bool		quantized;
	CodedRow   *coded;			/* quantized: where each row is, as tids */
	Size		state_bytes;	/* bytes on the codec state chain */
	VaReport	report;
} CheckState;

/*
 * Whether page (block blkno) is one of ours of kind flags; reports a
 * "page" problem when it is not.
 */
static bool
page_ok(CheckState *cs, Page page, BlockNumber blkno, uint16 flags, const char *what)
{
	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(VaPageOpaqueData)) ||
		VaPageGetOpaque(page)->page_id != VA_PAGE_ID_IVFFLAT)
	{
		VaReportProblem(&cs->report, PROBLEM_PAGE, "block %u (%s) is not an ivfflat page", blkno, what);
		return false;
	}
	if (VaPageGetOpaque(page)->flags != flags)
	{
		VaReportProblem(&cs->report, PROBLEM_PAGE, "block %u (%s) is of kind %u, not %u",
						blkno, what, VaPageGetOpaque(page)->flags, flags);
		return false;
	}
	return true;
}

/*
 * Whether the chain may go on to blkno, which `owner` is about to claim:
 * reports a "chain" problem (and stops the chain) for a link past the end,
 * to the metapage, or to a block another chain, or this one, already has.
 */
static bool
claim(CheckState *cs, BlockNumber blkno, int32 owner, const char *what)
{
	if (blkno >= cs->nblocks || blkno == IVFFLAT_METAPAGE_BLKNO)
	{
		VaReportProblem(&cs->report, PROBLEM_CHAIN, "%s links to block %u, outside the relation's %u blocks "
						"or the metapage", what, blkno, cs->nblocks);
		return false;
	}
	if (cs->owner[blkno] == owner)
	{
		VaReportProblem(&cs->report, PROBLEM_CHAIN, "%s comes back to block %u (a loop)", what, blkno);
		return false;
	}
	if (cs->owner[blkno] != OWNER_NONE)
	{
		if (cs->owner[blkno] >= 0)
			VaReportProblem(&cs->report, PROBLEM_CHAIN, "%s links to block %u, which belongs to list %d",
							what, blkno, cs->owner[blkno]);
		else
			VaReportProblem(&cs->report, PROBLEM_CHAIN, "%s links to block %u, a centroid or codebook page", what, blkno);
		return false;
	}
	cs->owner[blkno] = owner;
	return true;
}

/* Checks one item of a chain's page (pinned and share-locked). */
typedef void (*CheckItemFn) (CheckState *cs, Page page, BlockNumber blkno,
							 OffsetNumber off, int32 owner);

/*
 * Walk the chain that starts at blkno, which owner (OWNER_CENTROIDS or a
 * list number; "what" names it in problems) has claimed: check that each
 * page is an ivfflat page of kind flags, call check_item for each of its
 * items and claim the next page; the chain stops at a problem.  Returns
 * whether block look_for was on it.
 */
static bool
walk_chain(CheckState *cs, BlockNumber blkno, int32 owner, uint16 flags,
		   const char *what, CheckItemFn check_item, BlockNumber look_for)
{
	bool		found = false;

	while (blkno != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(cs->index, blkno);
		Page		page;
		BlockNumber next = InvalidBlockNumber;

		CHECK_FOR_INTERRUPTS();
		if (blkno == look_for)
			found = true;
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (page_ok(cs, page, blkno, flags, what))
		{
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
				check_item(cs, page, blkno, off, owner);
			next = VaPageGetOpaque(page)->nextblkno;
		}
		UnlockReleaseBuffer(buf);
		if (next != InvalidBlockNumber && !claim(cs, next, owner, what))
			next = InvalidBlockNumber;
		blkno = next;
	}
	return found;
}

/*
 * The item at off on page (block blkno) if it is a normal item of size
 * bytes; otherwise NULL, with its size reported (PROBLEM_ITEM) as that of
 * a row of list, or of a centroid when list < 0.
 */
static void *
sized_item(CheckState *cs, Page page, BlockNumber blkno, OffsetNumber off,
		   int list, Size size)
{
	ItemId		iid = PageGetItemId(page, off);

	if (ItemIdIsNormal(iid) && ItemIdGetLength(iid) == size)
		return PageGetItem(page, iid);
	if (list < 0)
		VaReportProblem(&cs->report, PROBLEM_ITEM, "centroid (%u,%u) has %u bytes, not %zu",
						blkno, off, ItemIdGetLength(iid), size);
	else
		VaReportProblem(&cs->report, PROBLEM_ITEM, "row (%u,%u) of list %d has %u bytes, not %zu",
						blkno, off, list, ItemIdGetLength(iid), size);
	return NULL;
}

/*
 * CheckItemFn of the centroid chain: size, dimensions; kept for pass 2.  A
 * centroid in pieces (IvfflatCentroidPieces) is put together first; its
 * pieces after the first must not name pages.
 */
static void
check_centroid(CheckState *cs, Page page, BlockNumber blkno, OffsetNumber off,
			   int32 owner)
{
	Size		vs = cs->meta.vector_size;
	int			k = cs->piece;
	Size		bytes = IvfflatCentroidPieceBytes(vs, k);
	IvfflatCentroidTuple ctup;
	char	   *centroid;

	ctup = sized_item(cs, page, blkno, off, -1, IVFFLAT_CENTROID_SIZE(bytes));
	if (ctup == NULL)
		return;
	cs->piece = (k + 1) % IvfflatCentroidPieces(vs);
	if ((uint32) cs->ncentroids >= Max(cs->meta.nlists, 1))
	{
		if (cs->piece == 0)
			cs->ncentroids++;	/* counted, reported by check_centroids */
		return;
	}
	centroid = cs->centroids + (Size) cs->ncentroids * vs;
	memcpy(centroid + (Size) k * IVFFLAT_CENTROID_PIECE, ctup->centroid, bytes);
	if (k == 0)
	{
		cs->startpage[cs->ncentroids] = ctup->startpage;
		cs->insertpage[cs->ncentroids] = ctup->insertpage;
	}
	else if (ctup->startpage != InvalidBlockNumber || ctup->insertpage != InvalidBlockNumber)
		VaReportProblem(&cs->report, PROBLEM_ITEM, "centroid piece (%u,%u) names pages %u and %u",
						blkno, off, ctup->startpage, ctup->insertpage);
	if (cs->piece != 0)
		return;
	if (cs->ops->dims(centroid) != cs->meta.dimensions)
		VaReportProblem(&cs->report, PROBLEM_ITEM, "centroid of list %d has %d dimensions, not %d",
						cs->ncentroids, cs->ops->dims(centroid), cs->meta.dimensions);
	cs->ncentroids++;
}

/* Pass 1: the centroid chain from block 1 (lists, in order). */
static void
check_centroids(CheckState *cs)
{
	int			cap = Max(cs->meta.nlists, 1);

	cs->centroids = MemoryContextAllocHuge(CurrentMemoryContext,
										   (Size) cap * Max(cs->meta.vector_size, 1));
	cs->startpage = palloc(sizeof(BlockNumber) * cap);
	cs->insertpage = palloc(sizeof(BlockNumber) * cap);
	if (!claim(cs, IVFFLAT_FIRST_CENTROID_BLKNO, OWNER_CENTROIDS, "the centroid chain"))
		return;
	walk_chain(cs, IVFFLAT_FIRST_CENTROID_BLKNO, OWNER_CENTROIDS,
			   IVFFLAT_PAGE_CENTROIDS, "the centroid chain", check_centroid,
			   InvalidBlockNumber);
	if (cs->piece != 0)
		VaReportProblem(&cs->report, PROBLEM_ITEM, "the centroid chain ends with %d of a centroid's %d pieces",
						cs->piece, IvfflatCentroidPieces(cs->meta.vector_size));
	if ((uint32) cs->ncentroids != cs->meta.nlists)
		VaReportProblem(&cs->report, PROBLEM_COUNT, "the metapage says %u lists, the centroid pages hold %d",
						cs->meta.nlists, cs->ncentroids);
	cs->ncentroids = Min(cs->ncentroids, cap);
}

/* CheckItemFn of the codec state chain: adds up the bytes it holds. */
static void
count_state(CheckState *cs, Page page, BlockNumber blkno, OffsetNumber off,
			int32 owner)
{
	cs->state_bytes += ItemIdGetLength(PageGetItemId(page, off));
}

/*
 * Pass 1b: the chain of the codec's trained state (PQ codebooks), when the
 * metapage names one: its pages, and as many bytes as the codec's state
 * has.
 */
static void
check_codec_state(CheckState *cs)
{
	IvfflatCodec codec;
	Size		want;

	if (cs->meta.codec_blkno == 0)
		return;
	if (!claim(cs, cs->meta.codec_blkno, OWNER_CODEC, "the codebook chain"))
		return;
	walk_chain(cs, cs->meta.codec_blkno, OWNER_CODEC, IVFFLAT_PAGE_CODEC,
			   "the codebook chain", count_state, InvalidBlockNumber);
	if (!IvfflatCodecInit(&codec, cs->index, cs->ops, &cs->meta) ||
		codec.methods->state_size == NULL || cs->meta.dimensions < 1)
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "codebook chain at block %u for a codec without one",
						cs->meta.codec_blkno);
		return;
	}
	codec.state_blkno = 0;		/* sizes only: do not load */
	IvfflatCodecSetup(&codec, cs->meta.dimensions);
	want = codec.methods->state_size(&codec);
	if (cs->state_bytes != want)
		VaReportProblem(&cs->report, PROBLEM_COUNT, "the codebook chain holds %zu bytes, not %zu",
						cs->state_bytes, want);
}

/* Whether a centroid other than list's own is strictly nearer to vector. */
static int
nearer_list(CheckState *cs, const void *vector, int list)
{
	Size		vs = cs->meta.vector_size;
	float		own = cs->ops->distance(vector, cs->centroids + (Size) list * vs);
	int			best = -1;
	float		bestd = own;

	for (int j = 0; j < cs->ncentroids; j++)
	{
		float		d;

		if (j == list)
			continue;
		d = cs->ops->distance(vector, cs->centroids + (Size) j * vs);
		if (d < bestd)
		{
			bestd = d;
			best = j;
		}
	}
	return best;
}

/*
 * CheckItemFn of list `list`'s chain: size, dimensions, heap TID, nearest
 * centroid; the heap TID is kept for pass 4.
 */
static void
check_row(CheckState *cs, Page page, BlockNumber blkno, OffsetNumber off,
		  int32 list)
{
	IvfflatListTuple tup;
	int			other = -1;

	if (!ItemIdIsUsed(PageGetItemId(page, off)))
		return;					/* removed by VACUUM */
	tup = sized_item(cs, page, blkno, off, list,
					 IVFFLAT_LIST_TUPLE_SIZE(cs->item_size));
	if (tup == NULL)
		return;
	if (!cs->quantized && cs->ops->dims(tup->vector) != cs->meta.dimensions)
	{
		VaReportProblem(&cs->report, PROBLEM_ITEM, "row (%u,%u) of list %d has %d dimensions, not %d",
						blkno, off, list, cs->ops->dims(tup->vector),
						cs->meta.dimensions);
		return;
	}
	if (!ItemPointerIsValid(&tup->heaptid))
		VaReportProblem(&cs->report, PROBLEM_ITEM, "row (%u,%u) of list %d has an invalid heap TID",
						blkno, off, list);
	if (!cs->quantized)
		other = nearer_list(cs, tup->vector, list);
	if (other >= 0)
		VaReportProblem(&cs->report, PROBLEM_LIST,
						"row (%u,%u) for heap row (%u,%u) is in list %d, but the "
						"centroid of list %d is nearer", blkno, off,
						ItemPointerGetBlockNumberNoCheck(&tup->heaptid),
						ItemPointerGetOffsetNumberNoCheck(&tup->heaptid),
						list, other);
	if (cs->ntids >= cs->tidcap)
	{
		cs->tidcap = Max(cs->tidcap * 2, 1024);
		cs->tids = cs->tids == NULL ?
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * cs->tidcap) :
			repalloc_huge(cs->tids, sizeof(uint64) * cs->tidcap);
		if (cs->quantized)
			cs->coded = cs->coded == NULL ?
				MemoryContextAllocHuge(CurrentMemoryContext, sizeof(CodedRow) * cs->tidcap) :
				repalloc_huge(cs->coded, sizeof(CodedRow) * cs->tidcap);
	}
	if (cs->quantized)
	{
		cs->coded[cs->ntids].blkno = blkno;
		cs->coded[cs->ntids].off = off;
		cs->coded[cs->ntids].list = list;
	}
	cs->tids[cs->ntids++] = VaTidToId(&tup->heaptid);
}

/* Pass 2: every list's chain, its pages and rows. */
static void
check_lists(CheckState *cs)
{
	for (int list = 0; list < cs->ncentroids; list++)
	{
		char		what[64];

		snprintf(what, sizeof(what), "list %d", list);
		if (!claim(cs, cs->startpage[list], list, what))
			continue;
		if (!walk_chain(cs, cs->startpage[list], list, IVFFLAT_PAGE_LIST, what,
						check_row, cs->insertpage[list]))
			VaReportProblem(&cs->report, PROBLEM_CHAIN, "the insert page %u of list %d is not on its chain",
							cs->insertpage[list], list);
	}
}

/*
 * Whether page, which no chain reaches, is a centroid page holding only
 * pieces after a centroid's first: what the first insert into an index
 * built empty writes before the record that links them (insert.c,
 * write_centroid_tail), so what a crash between the two leaves.  No scan
 * reaches it; it is not a problem.
 */
static bool
orphan_piece_page(CheckState *cs, Page page)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(VaPageOpaqueData)) ||
		VaPageGetOpaque(page)->page_id != VA_PAGE_ID_IVFFLAT ||
		VaPageGetOpaque(page)->flags != IVFFLAT_PAGE_CENTROIDS ||
		IvfflatCentroidPieces(cs->meta.vector_size) < 2 || maxoff < FirstOffsetNumber)
		return false;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		IvfflatCentroidTuple ctup;

		if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < IVFFLAT_CENTROID_SIZE(0))
			return false;
		ctup = (IvfflatCentroidTuple) PageGetItem(page, iid);
		if (ctup->startpage != InvalidBlockNumber || ctup->insertpage != InvalidBlockNumber)
			return false;
	}
	return true;
}

/*
 * Pass 3: blocks no chain reached.  A page an insert extended the relation
 * with but could not link (an error in between) is empty and harmless, and
 * so are centroid pieces a crash left unlinked (orphan_piece_page); a page
 * that holds rows hides them from every scan.
 */
static void
check_unreached(CheckState *cs)
{
	for (BlockNumber blkno = 0; blkno < cs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		if (cs->owner[blkno] != OWNER_NONE)
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && orphan_piece_page(cs, page))
		{
			/* left by a crash during a first insert: unused, not wrong */
		}
		else if (!PageIsNew(page) && page_ok(cs, page, blkno, IVFFLAT_PAGE_LIST, "no chain") &&
				 PageGetMaxOffsetNumber(page) > 0)
		{
			int			used = 0;

			for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
				if (ItemIdIsUsed(PageGetItemId(page, off)))
					used++;
			if (used > 0)
				VaReportProblem(&cs->report, PROBLEM_CHAIN, "block %u holds %d rows but no list links to it",
								blkno, used);
		}
		UnlockReleaseBuffer(buf);
	}
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Pass 5, quantized indexes: up to IVFFLAT_CHECK_CODE_SAMPLE rows, spread
 * evenly over the lists, against the value of their heap rows (fetched
 * with the active snapshot; a row it does not see is skipped): the row
 * must be in the list of the value's nearest centroid (as check_row checks
 * an unquantized row) and hold the code the codec makes of the value and
 * that centroid, byte for byte (encoding is deterministic).  Runs before
 * pass 4, which sorts the TIDs.
 */
static void
check_codes(CheckState *cs)
{
	Relation	heap;
	IvfflatCodec codec;
	VaHeapValues hv;
	MemoryContext ctx;
	Size		step;
	char	   *made;

	if (!cs->quantized || cs->ntids == 0)
		return;
	step = Max(cs->ntids / IVFFLAT_CHECK_CODE_SAMPLE, 1);
	heap = table_open(cs->index->rd_index->indrelid, AccessShareLock);
	IvfflatCodecInit(&codec, cs->index, cs->ops, &cs->meta);
	IvfflatCodecSetup(&codec, cs->meta.dimensions);
	made = palloc(codec.code_size);
	VaHeapValuesBegin(&hv, heap, cs->index, cs->ops);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat_check codes",
								ALLOCSET_DEFAULT_SIZES);
	for (Size i = 0; i < cs->ntids; i += step)
	{
		const CodedRow *row = &cs->coded[i];
		ItemPointerData heaptid;
		MemoryContext old;
		Buffer		buf;
		Page		page;
		char	   *held;
		void	   *stored;
		bool		seen;
		bool		bad_value;
		bool		wrong;
		int			other;

		CHECK_FOR_INTERRUPTS();
		VaIdToTid(cs->tids[i], &heaptid);
		/* per row in ctx; problems are reported in the caller's context */
		old = MemoryContextSwitchTo(ctx);
		stored = VaHeapValue(&hv, &heaptid, GetActiveSnapshot(), &seen);
		bad_value = seen && (stored == NULL || cs->ops->dims(stored) != cs->meta.dimensions);
		other = -1;
		wrong = false;
		if (seen && !bad_value)
		{
			other = nearer_list(cs, stored, row->list);
			codec.methods->encode(&codec, stored,
								  cs->centroids + (Size) row->list * cs->meta.vector_size,
								  made);
			/* the held code, as pass 2 saw it (ShareLock keeps it in place) */
			buf = ReadBuffer(cs->index, row->blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			held = ((IvfflatListTuple) PageGetItem(page, PageGetItemId(page, row->off)))->vector;
			wrong = memcmp(held, made, codec.code_size) != 0;
			UnlockReleaseBuffer(buf);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
		if (bad_value)
			VaReportProblem(&cs->report, PROBLEM_CODE, "row (%u,%u) of list %d indexes heap row (%u,%u), whose value is NULL, not indexable or of other dimensions",
							row->blkno, row->off, row->list,
							ItemPointerGetBlockNumber(&heaptid), ItemPointerGetOffsetNumber(&heaptid));
		if (other >= 0)
			VaReportProblem(&cs->report, PROBLEM_LIST,
							"row (%u,%u) for heap row (%u,%u) is in list %d, but the "
							"centroid of list %d is nearer", row->blkno, row->off,
							ItemPointerGetBlockNumber(&heaptid),
							ItemPointerGetOffsetNumber(&heaptid), row->list, other);
		if (wrong)
			VaReportProblem(&cs->report, PROBLEM_CODE, "row (%u,%u) of list %d: its code is not the code of heap row (%u,%u)'s value",
							row->blkno, row->off, row->list,
							ItemPointerGetBlockNumber(&heaptid), ItemPointerGetOffsetNumber(&heaptid));
	}
	VaHeapValuesEnd(&hv);
	MemoryContextDelete(ctx);
	table_close(heap, AccessShareLock);
}

/* Pass 4: no heap TID indexed twice. */
static void
check_duplicates(CheckState *cs)
{
	if (cs->ntids < 2)
		return;
	qsort(cs->tids, cs->ntids, sizeof(uint64), cmp_uint64);
	for (Size i = 1; i < cs->ntids; i++)
		if (cs->tids[i] == cs->tids[i - 1] && (i < 2 || cs->tids[i - 2] != cs->tids[i]))
		{
			ItemPointerData tid;

			VaIdToTid(cs->tids[i], &tid);
			VaReportProblem(&cs->report, PROBLEM_DUPLICATE, "heap row (%u,%u) is indexed more than once",
							ItemPointerGetBlockNumberNoCheck(&tid),
							ItemPointerGetOffsetNumberNoCheck(&tid));
		}
}

/*
 * The metapage, read as a problem rather than an ERROR; false when it is
 * not ours (nothing else can then be checked).
 */
static bool
check_metapage(CheckState *cs)
{
	Buffer		buf;
	Page		page;
	bool		ok;

	if (cs->nblocks == 0)
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "the index has no blocks");
		return false;
	}
	buf = ReadBuffer(cs->index, IVFFLAT_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ok = page_ok(cs, page, IVFFLAT_METAPAGE_BLKNO, IVFFLAT_PAGE_META, "metapage");
	if (ok)
		memcpy(&cs->meta, PageGetContents(page), sizeof(IvfflatMetaPageData));
	UnlockReleaseBuffer(buf);
	if (!ok)
		return false;
	cs->owner[IVFFLAT_METAPAGE_BLKNO] = OWNER_META;
	if (cs->meta.header.magic != IVFFLAT_MAGIC || cs->meta.header.version != IVFFLAT_VERSION)
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "magic 0x%08X version %u, not 0x%08X version %u",
						cs->meta.header.magic, cs->meta.header.version,
						IVFFLAT_MAGIC, IVFFLAT_VERSION);
		return false;
	}
	if (cs->meta.nlists > IVFFLAT_MAX_LISTS || cs->meta.nlists > cs->meta.lists)
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "%u lists (option lists = %u, at most %d)",
						cs->meta.nlists, cs->meta.lists, IVFFLAT_MAX_LISTS);
		return false;
	}
	if (!IvfflatCodecValid(&cs->meta, cs->ops))
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "quantization %u with %u bits",
						cs->meta.quantization, cs->meta.bits);
		return false;
	}
	cs->quantized = cs->meta.quantization != IVFFLAT_QUANTIZATION_NONE;
	cs->item_size = IvfflatItemDataSize(&cs->meta);
	if (cs->meta.nlists > 0 &&
		(cs->meta.dimensions < 1 || cs->meta.vector_size == 0 || cs->item_size == 0 ||
		 MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(cs->item_size)) > VA_MAX_ITEM_SIZE ||
		 cs->meta.vector_size > (Size) VA_MAX_DIM * sizeof(float) + 64 ||
		 (!cs->quantized && IvfflatCentroidPieces(cs->meta.vector_size) > 1)))
	{
		VaReportProblem(&cs->report, PROBLEM_METAPAGE, "%d dimensions, vector size %u, item size %zu",
						cs->meta.dimensions, cs->meta.vector_size, cs->item_size);
		return false;
	}
	return true;
}

PG_FUNCTION_INFO_V1(ivfflat_check);

/*
 * ivfflat_check(index regclass) RETURNS SETOF (problem text, detail text):
 * one row per violation found (none for a sound index; at most 50 of one
 * kind individually, then one row with their total).  problem is the kind:
 *	 metapage	not ours, wrong magic or version, impossible counts or sizes
 *	 page		a block of a chain is not an ivfflat page of the kind expected
 *	 chain		a link past the end or to the metapage, a loop, a page on two
 *				chains, a list's insert page not on its chain, rows on a
 *				page no chain reaches
 *	 item		a centroid or row of the wrong size or dimensions, a row
 *				with an invalid heap TID
 *	 list		a row some other list's centroid is strictly nearer to than
 *				its own list's (opclass distance, as the build and inserts
 *				compute it; equal distances are fine)
 *	 duplicate	a heap TID indexed twice
 *	 count		the metapage's number of lists differs from the centroids'
 *	 code		quantized index: a sampled row's code is not the code of its
 *				heap row's value, or that value is NULL or not indexable
 *				(a quantized row's list is checked against its heap row's
 *				value too, reported as "list")
 * detail says where (block, offset; list numbers count centroids in chain
 * order from 0).  Errors: not an ivfflat index (wrong_object_type).  Takes
 * ShareLock on the index, so inserts and VACUUM wait until it is done;
 * scans go on.  Reads every page and computes one distance per row and
 * centroid (quantized: per sampled row, which is fetched from the heap).
 */
Datum
ivfflat_check(PG_FUNCTION_ARGS)
{
	CheckState	cs;

	memset(&cs, 0, sizeof(cs));
	cs.index = VaCheckBegin(fcinfo, &cs.report, kind_names, NUM_PROBLEM_KINDS,
							ShareLock, ivfflatbuild, "ivfflat");
	cs.ops = IvfflatGetIndexOps(cs.index);
	cs.nblocks = RelationGetNumberOfBlocks(cs.index);
	cs.owner = palloc(sizeof(int32) * Max(cs.nblocks, 1));
	for (BlockNumber b = 0; b < cs.nblocks; b++)
		cs.owner[b] = OWNER_NONE;
	if (check_metapage(&cs))
	{
		check_centroids(&cs);
		check_codec_state(&cs);
		check_lists(&cs);
		check_unreached(&cs);
		check_codes(&cs);
		check_duplicates(&cs);
	}
	return VaCheckEnd(fcinfo, cs.index, ShareLock, &cs.report);
}
