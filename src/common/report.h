/*
 * report.h
 *	  What the index check functions (hnsw_check, ivfflat_check) share:
 *	  opening the index they are asked to check, and the problem list, rows
 *	  (problem, detail), at most VA_REPORT_MAX_PER_KIND of one kind and then
 *	  one row with the kind's total.
 */
#ifndef VA_REPORT_H
#define VA_REPORT_H

#include "postgres.h"

#include "access/amapi.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/rel.h"

#define VA_REPORT_MAX_KINDS 16
#define VA_REPORT_MAX_PER_KIND 50

typedef struct VaReport
{
	const char *const *kind_names;	/* [nkinds] */
	int			nkinds;
	int			counts[VA_REPORT_MAX_KINDS];
	List	   *problems;		/* of char *: "kind\tdetail" */
} VaReport;

/*
 * The start of the check function of access method amname, whose ambuild
 * is ambuild, called as fname(index regclass): *report made empty for
 * problems of the kinds kind_names[0..nkinds) (VaReportInit), and the
 * index opened with lockmode and returned.  Errors: WRONG_OBJECT_TYPE
 * ("\"<name>\" is not an <amname> index") for a relation that is not an
 * index of that access method; those of relation_open.
 */
extern Relation VaCheckBegin(FunctionCallInfo fcinfo, VaReport *report,
							 const char *const *kind_names, int nkinds,
							 LOCKMODE lockmode, ambuild_function ambuild,
							 const char *amname);

/*
 * The end of a check function: close index (lockmode as given to
 * VaCheckBegin) and return the report's rows (VaReportReturn).
 */
extern Datum VaCheckEnd(FunctionCallInfo fcinfo, Relation index,
						LOCKMODE lockmode, VaReport *report);

extern void VaReportInit(VaReport *r, const char *const *kind_names, int nkinds);
extern void VaReportProblem(VaReport *r, int kind, const char *fmt,...) pg_attribute_printf(3, 4);
extern void VaReportReturn(FunctionCallInfo fcinfo, VaReport *r);

#endif							/* VA_REPORT_H */
