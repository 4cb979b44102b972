-- vector_search_path: the install script is safe against a hostile
-- search_path.  In a fresh database, a schema that comes first on the
-- installer's search_path holds decoys named like the catalog functions,
-- operator families and operators the script refers to; the extension is
-- installed into another schema, and every object its operators, casts,
-- aggregates and operator classes point to must be a catalog object or one
-- of the extension's own.
SET client_min_messages = warning;
\set origdb :DBNAME
CREATE DATABASE va_search_path_db;
\c va_search_path_db
SET client_min_messages = warning;
CREATE SCHEMA evil;
CREATE SCHEMA va;
-- decoys named like catalog objects the script uses, both in a schema ahead
-- on the installer's search_path and in the target schema itself
CREATE FUNCTION evil.dtof(float8) RETURNS real LANGUAGE sql AS 'SELECT 0::real';
CREATE FUNCTION evil.int4eq(integer, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, PROCEDURE = evil.int4eq);
CREATE OPERATOR FAMILY evil.float_ops USING btree;
CREATE TYPE evil.bit AS (x int);
CREATE FUNCTION va.dtof(float8) RETURNS real LANGUAGE sql AS 'SELECT 0::real';
CREATE OPERATOR FAMILY va.float_ops USING btree;
CREATE TYPE va.bit AS (x int);
CREATE TYPE va.real AS (x int);
SET search_path = evil, va, public;
CREATE EXTENSION vectorann SCHEMA va;
RESET search_path;

-- decoys any of the extension's catalog entries depend on (expect none)
WITH ext AS (
	SELECT objid, classid FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vectorann')
)
SELECT pg_describe_object(d.refclassid, d.refobjid, 0) AS foreign_dependency
FROM pg_depend d
JOIN ext ON ext.objid = d.objid AND ext.classid = d.classid
WHERE d.refclassid <> 'pg_extension'::regclass
  AND NOT EXISTS (SELECT 1 FROM ext e2 WHERE e2.objid = d.refobjid AND e2.classid = d.refclassid)
  AND pg_describe_object(d.refclassid, d.refobjid, 0) ~ '(evil\.|va\.(dtof|bit|real|float_ops)\M)'
ORDER BY 1;
SELECT count(*) AS evil_references
FROM pg_operator o
WHERE o.oprnamespace = 'va'::regnamespace
  AND (o.oprrest::oid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'evil'::regnamespace)
       OR o.oprjoin::oid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'evil'::regnamespace));
-- the bit operator classes, bit functions and ORDER BY sort families use
-- the catalog's type and families
SELECT a.amname, c.opcname, c.opcintype = 'pg_catalog.bit'::regtype AS catalog_bit
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE c.opcnamespace = 'va'::regnamespace AND c.opcname LIKE 'bit%' ORDER BY 1, 2;
SELECT count(*) AS functions_using_decoy_types
FROM pg_proc p, (SELECT ARRAY['va.bit'::regtype, 'va.bit[]'::regtype, 'va.real'::regtype,
                              'va.real[]'::regtype, 'evil.bit'::regtype, 'evil.bit[]'::regtype]::oid[] AS d) decoys
WHERE p.pronamespace = 'va'::regnamespace
  AND (p.prorettype = ANY (decoys.d) OR p.proargtypes::oid[] && decoys.d);
SELECT count(*) FILTER (WHERE p.prorettype = 'pg_catalog.bit'::regtype) AS returns_catalog_bit
FROM pg_proc p WHERE p.pronamespace = 'va'::regnamespace AND p.proname = 'binary_quantize';
SELECT DISTINCT (SELECT n.nspname FROM pg_namespace n JOIN pg_opfamily sf ON sf.opfnamespace = n.oid
                 WHERE sf.oid = amop.amopsortfamily) AS sort_family_schema
FROM pg_amop amop JOIN pg_opfamily f ON f.oid = amop.amopfamily
WHERE f.opfnamespace = 'va'::regnamespace AND amop.amoppurpose = 'o';
-- no cast involves a decoy type
SELECT count(*) AS casts_from_decoys FROM pg_cast
WHERE castsource IN ('va.real'::regtype, 'va.bit'::regtype, 'evil.bit'::regtype)
   OR casttarget IN ('va.real'::regtype, 'va.bit'::regtype, 'evil.bit'::regtype);

-- the extension works from a search_path that does not contain its schema
SET search_path = evil;
SELECT va.l2_distance('[1,2]'::va.halfvec, '[4,6]'::va.halfvec) AS l2,
       '[1,2]'::va.vector OPERATOR(va.<->) '[4,6]'::va.vector AS op,
       B'1010'::pg_catalog.bit OPERATOR(va.<~>) B'0110'::pg_catalog.bit AS hamming,
       '{1:3}/2'::va.sparsevec OPERATOR(va.<+>) '{2:4}/2'::va.sparsevec AS l1;
RESET search_path;

\c :origdb
DROP DATABASE va_search_path_db;
