-- vectorann_knn: kNN over a table's partitions, foreign ones on their servers.
-- The foreign partitions here are loopback tables of this database, searched
-- exactly (no index), so the answers equal the exact top k.
SET client_min_messages = warning;
\set VERBOSITY terse

CREATE TABLE knn_src (id bigint PRIMARY KEY, embedding vector(3));
INSERT INTO knn_src
SELECT i, ARRAY[(i * 37 % 101) / 10.0, (i * 53 % 97) / 10.0, (i * 71 % 89) / 10.0]::vector
FROM generate_series(1, 600) i;

-- a local partitioned table: equal to the exact answer, with and without an index
CREATE TABLE knn_local (id bigint, embedding vector(3)) PARTITION BY HASH (id);
CREATE TABLE knn_local_0 PARTITION OF knn_local FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE knn_local_1 PARTITION OF knn_local FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE knn_local_2 PARTITION OF knn_local FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO knn_local SELECT * FROM knn_src;

SELECT id, round(distance::numeric, 6) AS distance
FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 5);
SELECT id, round((embedding <-> '[1,2,3]')::numeric, 6) AS distance
FROM knn_src ORDER BY embedding <-> '[1,2,3]', id LIMIT 5;

-- every operator, against the exact answer (count of differences, 0 expected)
CREATE FUNCTION knn_differences(tbl regclass)
	RETURNS TABLE (op text, differences bigint) LANGUAGE sql AS $$
	SELECT o, (SELECT count(*) FROM (
		(SELECT k.id FROM vectorann_knn(tbl, '[1,-2,3]'::vector, 7, o) k)
		EXCEPT
		(SELECT s.id FROM knn_src s ORDER BY CASE o
			WHEN '<->' THEN s.embedding <-> '[1,-2,3]' WHEN '<#>' THEN s.embedding <#> '[1,-2,3]'
			WHEN '<=>' THEN s.embedding <=> '[1,-2,3]' ELSE s.embedding <+> '[1,-2,3]' END,
			s.id LIMIT 7)) d)
	FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) o ORDER BY o
$$;
SELECT * FROM knn_differences('knn_local');

CREATE INDEX ON knn_local USING hnsw (embedding vector_l2_ops);
SELECT count(*) AS differences FROM (
	(SELECT id FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 10))
	EXCEPT
	(SELECT id FROM knn_src ORDER BY embedding <-> '[1,2,3]', id LIMIT 10)) d;

-- other key and vector column names, a plain (unpartitioned) table
CREATE TABLE knn_named (item_id int, v vector(3));
INSERT INTO knn_named SELECT id, embedding FROM knn_src;
SELECT id FROM vectorann_knn('knn_named', '[1,2,3]'::vector, 3, '<->', 'item_id', 'v');

-- the function does not depend on the caller's search_path
SET search_path = pg_catalog;
SELECT id FROM public.vectorann_knn('public.knn_named', '[1,2,3]'::public.vector, 2, '<->', 'item_id', 'v');
RESET search_path;

-- errors
SELECT * FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 0);
SELECT * FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 3, '<<>>');
SELECT * FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 3, '<->', 'nope');
SELECT * FROM vectorann_knn('knn_local', '[1,2]'::vector, 3);
-- a NULL query gives no rows
SELECT count(*) FROM vectorann_knn('knn_local', NULL::vector, 3);

-- foreign partitions: loopback shards in this database
CREATE EXTENSION postgres_fdw;
DO $$
BEGIN
	EXECUTE format('CREATE SERVER knn_shard_a FOREIGN DATA WRAPPER postgres_fdw '
				   'OPTIONS (host %L, port %L, dbname %L, extensions %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_database(), 'vectorann');
	EXECUTE format('CREATE SERVER knn_shard_b FOREIGN DATA WRAPPER postgres_fdw '
				   'OPTIONS (host %L, port %L, dbname %L, extensions %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_database(), 'vectorann');
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER knn_shard_a;
CREATE USER MAPPING FOR CURRENT_USER SERVER knn_shard_b;
CREATE TABLE knn_remote_0 (id bigint, vec vector(3));
CREATE TABLE knn_remote_1 (id bigint, vec vector(3));
CREATE TABLE knn_sharded (id bigint, embedding vector(3)) PARTITION BY HASH (id);
CREATE FOREIGN TABLE knn_sharded_0 PARTITION OF knn_sharded FOR VALUES WITH (MODULUS 3, REMAINDER 0)
	SERVER knn_shard_a OPTIONS (table_name 'knn_remote_0');
ALTER FOREIGN TABLE knn_sharded_0 ALTER COLUMN embedding OPTIONS (column_name 'vec');
CREATE FOREIGN TABLE knn_sharded_1 PARTITION OF knn_sharded FOR VALUES WITH (MODULUS 3, REMAINDER 1)
	SERVER knn_shard_b OPTIONS (table_name 'knn_remote_1');
ALTER FOREIGN TABLE knn_sharded_1 ALTER COLUMN embedding OPTIONS (column_name 'vec');
CREATE TABLE knn_sharded_2 PARTITION OF knn_sharded FOR VALUES WITH (MODULUS 3, REMAINDER 2);

-- rows go through the coordinator to the shards (postgres_fdw routes inserts)
INSERT INTO knn_sharded SELECT * FROM knn_src;
SELECT (SELECT count(*) FROM knn_remote_0) + (SELECT count(*) FROM knn_remote_1)
	+ (SELECT count(*) FROM knn_sharded_2) AS rows_in_all_partitions;

SELECT id, round(distance::numeric, 6) AS distance
FROM vectorann_knn('knn_sharded', '[1,2,3]'::vector, 5);
SELECT * FROM knn_differences('knn_sharded');
-- the plain SQL form gives the same rows
SELECT count(*) AS differences FROM (
	(SELECT id FROM knn_sharded ORDER BY embedding <-> '[1,2,3]' LIMIT 10)
	EXCEPT
	(SELECT id FROM vectorann_knn('knn_sharded', '[1,2,3]'::vector, 10))) d;

-- a partition that is itself partitioned, with a foreign and a local leaf,
-- and a partitioned table without partitions
CREATE TABLE knn_remote_2 (id bigint, embedding vector(3));
CREATE TABLE knn_nested (id bigint, embedding vector(3)) PARTITION BY RANGE (id);
CREATE TABLE knn_nested_low PARTITION OF knn_nested FOR VALUES FROM (MINVALUE) TO (301)
	PARTITION BY HASH (id);
CREATE FOREIGN TABLE knn_nested_low_0 PARTITION OF knn_nested_low
	FOR VALUES WITH (MODULUS 2, REMAINDER 0) SERVER knn_shard_b OPTIONS (table_name 'knn_remote_2');
CREATE TABLE knn_nested_low_1 PARTITION OF knn_nested_low FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE knn_nested_high PARTITION OF knn_nested FOR VALUES FROM (301) TO (MAXVALUE);
INSERT INTO knn_nested SELECT * FROM knn_src;
SELECT (SELECT count(*) FROM knn_remote_2) > 0 AS rows_on_the_shard;
SELECT * FROM knn_differences('knn_nested');
CREATE TABLE knn_no_partitions (id bigint, embedding vector(3)) PARTITION BY HASH (id);
SELECT count(*) FROM vectorann_knn('knn_no_partitions', '[1,2,3]'::vector, 3);

-- a shard's error reaches the caller (knn_sharded_0 alone: a foreign table),
-- and the next call works
SELECT * FROM vectorann_knn('knn_sharded_0', '[1,2]'::vector, 3);
SELECT count(*) FROM vectorann_knn('knn_sharded', '[1,2,3]'::vector, 3);

-- 40 values of k: 40 prepared queries on the shard, more than are kept
SELECT count(*) AS rows_for_k_1_to_40
FROM generate_series(1, 40) kk, LATERAL vectorann_knn('knn_sharded_0', '[1,2,3]'::vector, kk);

-- a foreign table without a user mapping
DO $$
BEGIN
	EXECUTE format('CREATE SERVER knn_shard_c FOREIGN DATA WRAPPER postgres_fdw '
				   'OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_database());
END $$;
CREATE FOREIGN TABLE knn_unmapped (id bigint, embedding vector(3))
	SERVER knn_shard_c OPTIONS (table_name 'knn_remote_0');
DO $$
BEGIN
	PERFORM * FROM vectorann_knn('knn_unmapped', '[1,2,3]'::vector, 3);
EXCEPTION WHEN undefined_object THEN
	RAISE WARNING 'no user mapping: SQLSTATE %', SQLSTATE;
END $$;
DROP FOREIGN TABLE knn_unmapped;
-- not a table
SELECT * FROM vectorann_knn('knn_src_pkey', '[1,2,3]'::vector, 3);
SELECT * FROM vectorann_knn('knn_local', '[1,2,3]'::vector, 100001);

-- the shards get this session's search settings: a shard-side view whose key
-- is the shard's hnsw.ef_search
CREATE VIEW knn_settings_view AS
	SELECT current_setting('hnsw.ef_search')::bigint AS id, vec FROM knn_remote_0;
CREATE FOREIGN TABLE knn_settings (id bigint, vec vector(3))
	SERVER knn_shard_a OPTIONS (table_name 'knn_settings_view');
SET hnsw.ef_search = 77;
SELECT DISTINCT id AS ef_search_on_the_shard
FROM vectorann_knn('knn_settings', '[1,2,3]'::vector, 3, '<->', 'id', 'vec');
RESET hnsw.ef_search;

-- every query type is searched with its whole value, here and on a shard
-- (which gets it in binary form): halfvec, sparsevec and bit searches of a
-- local and of a foreign table give the distances of the same searches run
-- directly (distances, not keys: bit distances tie; a bit query was once cut
-- to bit(1))
CREATE TABLE knn_types (id bigint, h halfvec(3), s sparsevec(5), b bit(8));
INSERT INTO knn_types
SELECT i, ARRAY[i % 7, (i * 3) % 11 - 5.5, i % 5 + 0.25]::real[]::halfvec(3),
	format('{1:%s,4:%s}/5', i % 9 + 0.5, (i % 4) - 1.75)::sparsevec(5),
	(i * 37 % 256)::bit(8)
FROM generate_series(1, 60) i;
CREATE FOREIGN TABLE knn_types_remote (id bigint, h halfvec(3), s sparsevec(5), b bit(8))
	SERVER knn_shard_a OPTIONS (table_name 'knn_types');
CREATE FUNCTION knn_type_differences(tbl regclass, col name, q anyelement, op text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	answer float8[];
	here float8[];
BEGIN
	SELECT array_agg(distance ORDER BY distance) INTO answer
	FROM vectorann_knn(tbl, q, 7, op, 'id', col);
	EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT (%I %s $1)::float8 AS d '
				   'FROM knn_types ORDER BY 1 LIMIT 7) x', col, op) INTO here USING q;
	RETURN CASE WHEN answer = here THEN 0 ELSE 1 END;
END $$;
SELECT tbl, knn_type_differences(tbl, 'h', '[1,-2.5,3]'::halfvec, '<->') AS halfvec_l2,
	knn_type_differences(tbl, 'h', '[1,-2.5,3]'::halfvec, '<=>') AS halfvec_cosine,
	knn_type_differences(tbl, 's', '{1:2.5,3:1}/5'::sparsevec, '<#>') AS sparsevec_ip,
	knn_type_differences(tbl, 's', '{1:2.5,3:1}/5'::sparsevec, '<+>') AS sparsevec_l1,
	knn_type_differences(tbl, 'b', '10110010'::bit(8), '<~>') AS bit_hamming,
	knn_type_differences(tbl, 'b', '10110010'::bit(8), '<%>') AS bit_jaccard
FROM unnest('{knn_types,knn_types_remote}'::regclass[]) tbl;
DROP FUNCTION knn_type_differences(regclass, name, anyelement, text);
DROP FOREIGN TABLE knn_types_remote;
DROP TABLE knn_types;

DROP FOREIGN TABLE knn_settings;
DROP VIEW knn_settings_view;
DROP FUNCTION knn_differences(regclass);
DROP TABLE knn_sharded, knn_remote_0, knn_remote_1, knn_named, knn_local, knn_src;
DROP EXTENSION postgres_fdw CASCADE;
