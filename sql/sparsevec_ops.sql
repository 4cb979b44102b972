-- sparsevec_ops: comparison and the btree operator class, distances on the
-- non-zeros, norms.  Small integer inputs keep every result exact.

SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
       a > b AS gt, a >= b AS ge, sparsevec_cmp(a, b) AS cmp
FROM (VALUES ('{1:1,3:2}/3'::sparsevec, '{1:1,3:2}/3'::sparsevec),
             ('{1:1,3:2}/3', '{1:1,3:3}/3'),
             ('{1:1,3:2}/3', '{1:1,2:1}/3'),
             ('{1:1,3:-2}/3', '{1:1}/3'),
             ('{}/3', '{}/4'),
             ('{1:1}/3', '{1:1}/2'),
             ('{2:5}/3', '{2:5}/2'),
             ('{3:1}/5', '{1:-1}/5')) t(a, b);
-- comparison agrees with the dense vectors'
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE sparsevec_cmp(a::sparsevec, b::sparsevec) = vector_cmp(a, b)) AS agree
FROM (SELECT ARRAY[i % 3 - 1, i / 3 % 3 - 1]::vector AS a FROM generate_series(0, 8) i) s1,
     (SELECT ARRAY[i % 3 - 1, i / 3 % 3 - 1]::vector AS b FROM generate_series(0, 8) i) s2;

CREATE TABLE va_sops_t (id int, v sparsevec);
INSERT INTO va_sops_t VALUES (1, '{1:3}/2'), (2, '{1:1,2:2}/2'), (3, '{}/2'), (4, '{2:-1}/2'),
	(5, '{1:1,2:2}/2'), (6, '{1:1}/1'), (7, NULL);
SELECT id, v FROM va_sops_t ORDER BY v, id;
SELECT DISTINCT v FROM va_sops_t ORDER BY v;
CREATE INDEX va_sops_btree ON va_sops_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM va_sops_t WHERE v = '{1:1,2:2}/2';
SELECT id FROM va_sops_t WHERE v = '{1:1,2:2}/2' ORDER BY id;
RESET enable_seqscan;
DROP TABLE va_sops_t;
SELECT opcname, opcdefault, amname
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'sparsevec'::regtype AND amname IN ('btree', 'hnsw') ORDER BY amname, opcname;

-- distances: {1:1,3:2}/4 is [1,0,2,0], {2:3,3:4}/4 is [0,3,4,0]
SELECT l2_distance('{1:1,3:2}/4'::sparsevec, '{2:3,3:4}/4'), '{1:1,3:2}/4'::sparsevec <-> '{2:3,3:4}/4' AS op,
       '[1,0,2,0]'::vector <-> '[0,3,4,0]' AS dense;
SELECT sparsevec_l2_squared_distance('{1:1,3:2}/4', '{2:3,3:4}/4');
SELECT inner_product('{1:1,3:2}/4'::sparsevec, '{2:3,3:4}/4'), '{1:1,3:2}/4'::sparsevec <#> '{2:3,3:4}/4' AS op,
       sparsevec_negative_inner_product('{1:1,3:2}/4', '{2:3,3:4}/4');
SELECT cosine_distance('{1:1,3:2}/4'::sparsevec, '{2:3,3:4}/4'), '{1:1,3:2}/4'::sparsevec <=> '{2:3,3:4}/4' AS op,
       '[1,0,2,0]'::vector <=> '[0,3,4,0]' AS dense;
SELECT l1_distance('{1:1,3:2}/4'::sparsevec, '{2:3,3:4}/4'), '{1:1,3:2}/4'::sparsevec <+> '{2:3,3:4}/4' AS op;
-- disjoint and empty operands
SELECT '{1:3}/2'::sparsevec <-> '{2:4}/2' AS l2, '{1:3}/2'::sparsevec <#> '{2:4}/2' AS negip,
       '{1:3}/2'::sparsevec <+> '{2:4}/2' AS l1, '{}/2'::sparsevec <-> '{}/2' AS l2_empty,
       '{}/2'::sparsevec <=> '{1:1}/2' AS cos_zero;
-- a large, sparse pair: distances over a billion dimensions touch only the non-zeros
SELECT '{1:1,500000000:2,1000000000:3}/1000000000'::sparsevec <-> '{500000000:2,999999999:4}/1000000000' AS l2;
-- agreement with the dense vectors on 200 random pairs
SELECT setseed(0.5);
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a::sparsevec <-> b::sparsevec = a <-> b
                          AND a::sparsevec <#> b::sparsevec = a <#> b
                          AND a::sparsevec <+> b::sparsevec = a <+> b) AS agree
FROM (SELECT ARRAY(SELECT (floor(random() * 3) * floor(random() * 9 - 4))::int FROM generate_series(1, 40) WHERE g > 0)::vector AS a,
             ARRAY(SELECT (floor(random() * 3) * floor(random() * 9 - 4))::int FROM generate_series(1, 40) WHERE g > 0)::vector AS b
      FROM generate_series(1, 200) g) t;
SELECT oprname, oprcom::regoperator FROM pg_operator
WHERE oprleft = 'sparsevec'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>', '=', '<') ORDER BY oprname;

-- near the float4 limit the float8 sums stay finite
SELECT '{1:3e38}/1'::sparsevec <-> '{1:-3e38}/1' AS l2, '{1:3e38}/1'::sparsevec <#> '{1:3e38}/1' AS neg_ip,
       '{1:3e38}/1'::sparsevec <+> '{1:-3e38}/1' AS l1, '{1:3e38,2:1}/2'::sparsevec <=> '{1:3e38,2:2}/2' AS cosine;

-- norms
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_norm('{}/5'::sparsevec);
SELECT l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec),
       l2_normalize('{2:-7}/3'::sparsevec);
-- a value that underflows when normalised is dropped
SELECT l2_normalize('{1:1e-45,2:1e30}/2'::sparsevec);

-- function attributes
SELECT p.oid::regprocedure AS func, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'vectorann'
WHERE ('sparsevec'::regtype = ANY (p.proargtypes) OR p.prorettype = 'sparsevec'::regtype)
  AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's');
