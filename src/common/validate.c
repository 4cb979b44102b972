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

bool
VaValidateOpclass(Oid opclassoid, const char *amname, int nprocs,
				  int nstrategies)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		have_ops_proc = false;
	bool		have_order_op = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amprocnum < 1 || procform->amprocnum > nprocs)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains function %s with invalid support number %d",
							amname, opclassname,
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
							amname, opclassname,
							format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
		if (procform->amprocnum == 1 && procform->amproclefttype == opcintype)
			have_ops_proc = true;
	}
	ReleaseSysCacheList(proclist);

	if (!have_ops_proc)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" is missing support function 1",
						amname, opclassname)));
		result = false;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);
		char	   *oprname = format_operator(oprform->amopopr);
		bool		ok = true;

		if (oprform->amopstrategy < 1 || oprform->amopstrategy > nstrategies)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains operator %s with invalid strategy number %d",
							amname, opclassname, oprname,
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
							amname, opclassname, oprname)));
			ok = false;
		}
		else if (!opfamily_can_sort_type(oprform->amopsortfamily, FLOAT8OID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains operator %s whose ORDER BY operator family cannot sort double precision",
							amname, opclassname, oprname),
					 errhint("Use FOR ORDER BY float_ops.")));
			ok = false;
		}
		if (oprform->amoplefttype != opcintype)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains operator %s whose left type %s is not the operator class's input type %s",
							amname, opclassname, oprname,
							format_type_be(oprform->amoplefttype),
							format_type_be(opcintype))));
			ok = false;
		}
		if (ok)
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
						amname, opclassname),
				 errdetail("An index of this access method is searched only through an ORDER BY operator of strategy 1 returning double precision.")));
		result = false;
	}

	ReleaseSysCache(classtup);
	return result;
}
