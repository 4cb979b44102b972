/*
 * report.h
 *	  The problem list of an index check function (hnsw_check,
 *	  ivfflat_check): rows (problem, detail), at most VA_REPORT_MAX_PER_KIND
 *	  of one kind and then one row with the kind's total.
 */
#ifndef VA_REPORT_H
#define VA_REPORT_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/pg_list.h"

#define VA_REPORT_MAX_KINDS 16
#define VA_REPORT_MAX_PER_KIND 50

typedef struct VaReport
{
	const char *const *kind_names;	/* [nkinds] */
	int			nkinds;
	int			counts[VA_REPORT_MAX_KINDS];
	List	   *problems;		/* of char *: "kind\tdetail" */
} VaReport;

extern void VaReportInit(VaReport *r, const char *const *kind_names, int nkinds);
extern void VaReportProblem(VaReport *r, int kind, const char *fmt,...) pg_attribute_printf(3, 4);
extern void VaReportReturn(FunctionCallInfo fcinfo, VaReport *r);

#endif							/* VA_REPORT_H */
