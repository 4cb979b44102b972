-- vector_ops: comparison operators and the btree operator class (ORDER BY,
-- DISTINCT, UNIQUE), distance functions and operators, norms, arithmetic,
-- concatenation, subvector, binary_quantize and the sum/avg aggregates.
-- Inputs are small integers so every float8 result is exact on any CPU.

-- comparison: element by element, then the shorter vector first
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
       a > b AS gt, a >= b AS ge, vector_cmp(a, b) AS cmp
FROM (VALUES ('[1,2,3]'::vector, '[1,2,3]'::vector),
             ('[1,2,3]', '[1,2,4]'),
             ('[1,2,4]', '[1,2,3]'),
             ('[1,2]', '[1,2,3]'),
             ('[1,2,3]', '[1,2]'),
             ('[1,2,3]', '[2]'),
             ('[-1]', '[-2]'),
             ('[0]', '[-0]')) t(a, b);

-- btree: ORDER BY, DISTINCT, UNIQUE, index scans
CREATE TABLE va_ops_t (id int, v vector);
INSERT INTO va_ops_t VALUES
	(1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[-1,5]'), (5, '[1,2,3]'),
	(6, '[1,2]'), (7, '[1]'), (8, '[2,-7,0]'), (9, NULL), (10, '[1,2,2.5]');
SELECT id, v FROM va_ops_t ORDER BY v, id;
SELECT id, v FROM va_ops_t ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM va_ops_t ORDER BY v;
SELECT v, count(*) FROM va_ops_t GROUP BY v ORDER BY v;
SELECT min(id), max(id) FROM va_ops_t WHERE v = '[1,2,3]';
SELECT count(*) FROM va_ops_t WHERE v < '[1,2]';

CREATE INDEX va_ops_btree ON va_ops_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM va_ops_t WHERE v = '[1,2]';
SELECT id FROM va_ops_t WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM va_ops_t WHERE v >= '[1,2]' AND v < '[2]' ORDER BY v, id;
RESET enable_seqscan;
DROP INDEX va_ops_btree;

CREATE TABLE va_ops_u (v vector(2) UNIQUE);
INSERT INTO va_ops_u VALUES ('[1,2]'), ('[2,1]'), ('[0,0]');
INSERT INTO va_ops_u VALUES ('[1,2]');
INSERT INTO va_ops_u VALUES ('[-0,0]');
INSERT INTO va_ops_u VALUES ('[1,2.5]');
SELECT * FROM va_ops_u ORDER BY v;
DROP TABLE va_ops_u;

-- distances: [1,2,3] and [4,5,6] differ by 3 in every element
SELECT l2_distance('[1,2,3]', '[4,5,6]'), '[1,2,3]'::vector <-> '[4,5,6]' AS op,
       sqrt(27::float8) AS expected;
SELECT vector_l2_squared_distance('[1,2,3]', '[4,5,6]');
SELECT inner_product('[1,2,3]', '[4,5,6]'), '[1,2,3]'::vector <#> '[4,5,6]' AS op,
       vector_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,2,3]', '[4,5,6]'), '[1,2,3]'::vector <=> '[4,5,6]' AS op,
       1 - 32 / sqrt(14::float8 * 77) AS expected;
SELECT l1_distance('[1,2,3]', '[4,6,-1]'), '[1,2,3]'::vector <+> '[4,6,-1]' AS op;
SELECT '[3,4]'::vector <-> '[0,0]' AS l2, '[3,4]'::vector <+> '[0,0]' AS l1,
       '[3,4]'::vector <#> '[3,4]' AS negip, '[1,2]'::vector <=> '[2,4]' AS cos_parallel,
       '[1,0]'::vector <=> '[0,1]' AS cos_orthogonal, '[1,1]'::vector <=> '[-1,-1]' AS cos_opposite;
SELECT '[1,2,3]'::vector <-> '[1,2,3]' AS l2_self, '[1,2,3]'::vector <+> '[1,2,3]' AS l1_self,
       '[1,2,3]'::vector <=> '[1,2,3]' AS cos_self;
-- zero norm: cosine distance is NaN
SELECT '[0,0]'::vector <=> '[1,2]' AS a, '[1,2]'::vector <=> '[0,0]' AS b,
       cosine_distance('[0,0]', '[0,0]') AS c;
-- near the float4 limit the float8 sums stay finite (pgvector's overflow to
-- Infinity, or NaN for the cosine)
SELECT '[3e38]'::vector <-> '[-3e38]' AS l2, '[3e38]'::vector <#> '[3e38]' AS neg_ip,
       '[3e38]'::vector <+> '[-3e38]' AS l1, '[3e38,1]'::vector <=> '[3e38,2]' AS cosine;

-- operators commute
SELECT oprname, oprcom::regoperator
FROM pg_operator
WHERE oprleft = 'vector'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>', '=', '<>', '<', '>', '+', '*')
ORDER BY oprname;
-- a longer vector exercises the SIMD body and its tail (35 = 4 * 8 + 3)
SELECT l2_distance(a, b), vector_l2_squared_distance(a, b), inner_product(a, b),
       cosine_distance(a, a), l1_distance(a, b), vector_norm(a)
FROM (SELECT array_agg(i)::vector AS a, array_agg(36 - 2 * i)::vector AS b
      FROM generate_series(1, 35) i) t;
SELECT sum((i - (36 - 2 * i)) ^ 2) AS l2sq, sum(i * (36 - 2 * i)) AS ip,
       sum(abs(i - (36 - 2 * i))) AS l1, sum(i * i) AS normsq
FROM generate_series(1, 35) i;
-- ordering by distance
SELECT id, v <-> '[1,2]' AS dist FROM va_ops_t WHERE vector_dims(v) = 2 ORDER BY v <-> '[1,2]', id;

-- norms and dimensions
SELECT vector_dims('[1,2,3]'), vector_dims('[5]'),
       vector_dims(array_fill(1::real, ARRAY[16000])::vector);
SELECT vector_norm('[3,4]'), vector_norm('[0,0,0]'), vector_norm('[-2]'), vector_norm('[1,2,2,4]');
SELECT l2_normalize('[3,4]'), l2_normalize('[0,0]'), l2_normalize('[-5]'), l2_normalize('[0,0,2]');
SELECT vector_norm(l2_normalize('[1,2,2]'));

-- arithmetic, concatenation, slicing, quantization
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,-6]';
SELECT vector_add('[0.5]', '[0.25]'), vector_sub('[1]', '[1]'), vector_mul('[3]', '[0]');
SELECT '[1,2]'::vector || '[3]', vector_concat('[4]', '[5,6]');
SELECT vector_dims(array_fill(1::real, ARRAY[8000])::vector || array_fill(2::real, ARRAY[8000])::vector);
SELECT subvector('[1,2,3,4,5]', 2, 3), subvector('[1,2,3,4,5]', 1, 5), subvector('[1,2,3,4,5]', 4, 10),
       subvector('[1,2,3,4,5]', -1, 4), subvector('[1,2,3,4,5]', 5, 1);
SELECT binary_quantize('[1,-2,0,3.5,-0.1,0,7,8,9]'), binary_quantize('[1]'), binary_quantize('[-1,-1]');

-- aggregates
CREATE TABLE va_ops_agg (g int, v vector);
INSERT INTO va_ops_agg VALUES (1, '[1,2,3]'), (1, '[3,2,1]'), (1, '[2,5,-1]'), (1, NULL),
	(2, '[10]'), (2, '[11]'), (3, NULL);
SELECT g, sum(v), avg(v), count(v) FROM va_ops_agg GROUP BY g ORDER BY g;
SELECT sum(v), avg(v) FROM va_ops_agg WHERE g = 1;
SELECT sum(v), avg(v) FROM va_ops_agg WHERE false;
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[2,2]'), ('[2,2]')) t(v);
-- the avg state and its combine step (used by parallel aggregation)
SELECT vector_accum('{0}', '[1,2]'), vector_accum(vector_accum('{0}', '[1,2]'), '[3,5]');
SELECT vector_combine('{2,4,6}', '{1,1,1}'), vector_combine('{0}', '{1,5}'), vector_combine('{1,5}', '{0}');
-- a state with sums but count 0 is a state of that many dimensions
SELECT vector_accum('{0,0,0}', '[1,2]'), vector_combine('{0,0,0}', '{1,1,2}'), vector_combine('{0}', '{0}');
SELECT vector_avg('{0,1,2}') IS NULL AS no_values, vector_avg('{0}') IS NULL AS initial;
SELECT vector_avg('{4,2,6}'), vector_avg('{0}');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE va_ops_par AS SELECT ARRAY[i, i % 7, -i]::vector AS v FROM generate_series(1, 3000) i;
ANALYZE va_ops_par;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v), count(*) FROM va_ops_par;
SELECT avg(v), sum(v), count(*) FROM va_ops_par;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE va_ops_par, va_ops_agg;

-- every vector function is IMMUTABLE STRICT PARALLEL SAFE; the index-ops
-- functions are PARALLEL SAFE and deliberately not STRICT
SELECT p.oid::regprocedure AS func, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'vectorann'
WHERE ('vector'::regtype = ANY (p.proargtypes) OR p.prorettype = 'vector'::regtype
       OR p.proname LIKE 'vector\_%\_index\_ops' OR p.proname IN ('vector_combine', 'vector_avg'))
  AND p.prokind = 'f'
  AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')
ORDER BY p.proname COLLATE "C";

-- the btree operator class
SELECT opcname, opcdefault, amname
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'vector'::regtype AND amname = 'btree';

DROP TABLE va_ops_t;
