/*
 * validate.c
 *	  amvalidate shared by the vectorann access methods (see validate.h).
 */
#include "common/validate.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

/* The operator class being checked, as the INFO messages name it. */
typedef struct OpclassCheck
{
	const char *amname;
	const char *opclassname;
	Oid			opfamilyoid;
	Oid			opcintype;		/* the class's input type */
} OpclassCheck;

/*
 * Check every support function of oc's operator family: a number in
 * 1..nprocs and the signature (internal) RETURNS internal; and that support
 * function 1 exists for the class's input type.  Each problem is reported
 * as an INFO (ERRCODE_INVALID_OBJECT_DEFINITION); returns whether none
 * were found.
 */
static bool
check_support_functions(const OpclassCheck *oc, int nprocs)
{
	bool		result = true;
	bool		have_ops_proc = false;
	CatCList   *proclist;

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(oc->opfamilyoid));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amprocnum < 1 || procform->amprocnum > nprocs)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains function %s with invalid support number %d",
							oc->amname, oc->opclassname,
							format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
			continue;
		}
		if (!check_amproc_signature(procform->amproc, INTERNALOID, false,
									1, 1, INTERNALOID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains function %s with wrong signature for support number %d",
							oc->amname, oc->opclassname,
							format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
		if (procform->amprocnum == 1 && procform->amproclefttype == oc->opcintype)
			have_ops_proc = true;
	}
	ReleaseSysCacheList(proclist);

	if (!have_ops_proc)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" is missing support function 1",
						oc->amname, oc->opclassname)));
		result = false;
	}
	return result;
}

/*
 * Check one operator (oprform, a pg_amop row) of oc's operator family: a
 * strategy number in 1..nstrategies, an ORDER BY operator returning double
 * precision whose sort family can sort double precision, and the class's
 * input type on the left.  Each problem is reported as an INFO
 * (ERRCODE_INVALID_OBJECT_DEFINITION); returns whether none were found.
 */
static bool
check_operator(const OpclassCheck *oc, Form_pg_amop oprform, int nstrategies)
{
	char	   *oprname = format_operator(oprform->amopopr);
	bool		ok = true;

	if (oprform->amopstrategy < 1 || oprform->amopstrategy > nstrategies)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" contains operator %s with invalid strategy number %d",
						oc->amname, oc->opclassname, oprname,
						oprform->amopstrategy),
				 nstrategies == 1 ?
				 errdetail("The only strategy number is 1.") :
				 errdetail("Strategy numbers go from 1 to %d.", nstrategies)));
		ok = false;
	}
	if (oprform->amoppurpose != AMOP_ORDER ||
		!check_amop_signature(oprform->amopopr, FLOAT8OID,
							  oprform->amoplefttype, oprform->amoprighttype))
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" contains operator %s that is not an ORDER BY operator returning double precision",
						oc->amname, oc->opclassname, oprname)));
		ok = false;
	}
	else if (!opfamily_can_sort_type(oprform->amopsortfamily, FLOAT8OID))
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" contains operator %s whose ORDER BY operator family cannot sort double precision",
						oc->amname, oc->opclassname, oprname),
				 errhint("Use FOR ORDER BY float_ops.")));
		ok = false;
	}
	if (oprform->amoplefttype != oc->opcintype)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" contains operator %s whose left type %s is not the operator class's input type %s",
						oc->amname, oc->opclassname, oprname,
						format_type_be(oprform->amoplefttype),
						format_type_be(oc->opcintype))));
		ok = false;
	}
	return ok;
}

/*
 * Check every operator of oc's operator family (check_operator), and that
 * at least one passes: the index is searched only through one.  Problems
 * are reported as INFOs (ERRCODE_INVALID_OBJECT_DEFINITION); returns
 * whether none were found.
 */
static bool
check_operators(const OpclassCheck *oc, int nstrategies)
{
	bool		result = true;
	bool		have_order_op = false;
	CatCList   *oprlist;

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(oc->opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (check_operator(oc, oprform, nstrategies))
			have_order_op = true;
		else
			result = false;
	}
	ReleaseSysCacheList(oprlist);

	if (!have_order_op)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" has no valid ORDER BY operator",
						oc->amname, oc->opclassname),
				 errdetail("An index of this access method is searched only through an ORDER BY operator of strategy 1 returning double precision.")));
		result = false;
	}
	return result;
}

bool
VaValidateOpclass(Oid opclassoid, const char *amname, int nprocs,
				  int nstrategies)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	OpclassCheck oc;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	oc.amname = amname;
	oc.opclassname = NameStr(classform->opcname);
	oc.opfamilyoid = classform->opcfamily;
	oc.opcintype = classform->opcintype;

	if (!check_support_functions(&oc, nprocs))
		result = false;
	if (!check_operators(&oc, nstrategies))
		result = false;

	ReleaseSysCache(classtup);
	return result;
}
