/*
 * report.c
 *	  What the index check functions share (see report.h): opening the
 *	  index, the problem list.
 */
#include "common/report.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

Relation
VaCheckBegin(FunctionCallInfo fcinfo, VaReport *report,
			 const char *const *kind_names, int nkinds, LOCKMODE lockmode,
			 ambuild_function ambuild, const char *amname)
{
	Relation	index;

	VaReportInit(report, kind_names, nkinds);
	index = relation_open(PG_GETARG_OID(0), lockmode);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL || index->rd_indam->ambuild != ambuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an %s index",
						RelationGetRelationName(index), amname)));
	return index;
}

Datum
VaCheckEnd(FunctionCallInfo fcinfo, Relation index, LOCKMODE lockmode,
		   VaReport *report)
{
	relation_close(index, lockmode);
	VaReportReturn(fcinfo, report);
	return (Datum) 0;
}

/* An empty report whose problems are of the kinds kind_names[0..nkinds). */
void
VaReportInit(VaReport *r, const char *const *kind_names, int nkinds)
{
	Assert(nkinds <= VA_REPORT_MAX_KINDS);
	memset(r, 0, sizeof(*r));
	r->kind_names = kind_names;
	r->nkinds = nkinds;
}

/* Add a problem of kind with the detail fmt... (counted; listed up to the cap). */
void
VaReportProblem(VaReport *r, int kind, const char *fmt,...)
{
	va_list		args;
	StringInfoData buf;

	if (r->counts[kind]++ >= VA_REPORT_MAX_PER_KIND)
		return;
	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	r->problems = lappend(r->problems, psprintf("%s\t%s", r->kind_names[kind], buf.data));
}

/*
 * Return r as the rows (problem text, detail text) of the set-returning
 * function called through fcinfo (materialize mode), then one row per kind
 * with more problems than were listed: "N problems of this kind in all".
 */
void
VaReportReturn(FunctionCallInfo fcinfo, VaReport *r)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < r->nkinds; k++)
		if (r->counts[k] > VA_REPORT_MAX_PER_KIND)
			r->problems = lappend(r->problems,
								  psprintf("%s\t%d problems of this kind in all",
										   r->kind_names[k], r->counts[k]));
	foreach(lc, r->problems)
	{
		char	   *line = lfirst(lc);
		char	   *tab = strchr(line, '\t');
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(line, tab - line));
		values[1] = PointerGetDatum(cstring_to_text(tab + 1));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}
