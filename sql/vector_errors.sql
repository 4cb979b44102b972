-- vector_errors: every way of building or combining vectors that must fail,
-- with its error code.  (VERBOSITY verbose would print C source locations,
-- so SQLSTATEs are shown by catching the errors in a PL/pgSQL function.)

-- malformed text
SELECT ''::vector;
SELECT '1,2,3'::vector;
SELECT '[1,2,3'::vector;
SELECT '[1,2,3]x'::vector;
SELECT '[1,2,3] ]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1 2]'::vector;
SELECT '[1,2,]'::vector;
SELECT '[,1]'::vector;
SELECT '[1;2]'::vector;
SELECT '[abc]'::vector;
SELECT '[1e]'::vector;
SELECT '[[1]]'::vector;
SELECT '[1]]'::vector;
SELECT '['::vector;
SELECT '[1,'::vector;
SELECT '[+]'::vector;
SELECT '(1,2)'::vector;
SELECT '{1,2}'::vector;

-- empty, NaN, infinities, out of range
SELECT '[]'::vector;
SELECT '[   ]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,nan,2]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[1,-inf]'::vector;
SELECT '[1e39]'::vector;
SELECT '[-1e39]'::vector;
SELECT '[3.5e38]'::vector;
SELECT '[1e-50,1e39]'::vector;
-- (a number too small for a float4 is not an error: it reads as 0, vector_io)

-- too many dimensions, through text and arrays
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
SELECT array_fill(1::real, ARRAY[16001])::vector;
SELECT array_fill(1::real, ARRAY[8001])::vector || array_fill(1::real, ARRAY[8000])::vector;

-- typmod
SELECT '[1,2]'::vector(0);
SELECT '[1,2]'::vector(-1);
SELECT '[1,2]'::vector(16001);
SELECT '[1,2]'::vector(2, 3);
CREATE TABLE va_err_bad (v vector(a));
SELECT '[1,2]'::vector(3);
SELECT '[1,2,3,4]'::vector(3);
SELECT '[1,2]'::vector::vector(3);
SELECT ARRAY[1,2]::vector(3);
SELECT ARRAY[1,2]::real[]::vector(1);
CREATE TABLE va_err_t (v vector(3));
INSERT INTO va_err_t VALUES ('[1,2]');
INSERT INTO va_err_t VALUES (ARRAY[1,2,3,4]);
INSERT INTO va_err_t VALUES ('[1,2,3]'::vector(3) || '[4]');
UPDATE va_err_t SET v = '[1]';
SELECT count(*) FROM va_err_t;
DROP TABLE va_err_t;

-- arrays: nulls, shape, non-finite and out-of-range elements
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY[NULL]::real[]::vector;
SELECT '{}'::real[]::vector;
SELECT '{{1,2},{3,4}}'::real[]::vector;
SELECT ARRAY[[1]]::integer[]::vector;
SELECT ARRAY['NaN']::real[]::vector;
SELECT ARRAY[1, 'Infinity']::real[]::vector;
SELECT ARRAY['-Infinity']::float8[]::vector;
SELECT ARRAY['NaN']::float8[]::vector;
SELECT ARRAY[1e39]::float8[]::vector;
SELECT ARRAY[1e-50,-3.5e38]::float8[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
SELECT ARRAY['Infinity']::numeric[]::vector;
SELECT ARRAY['-Infinity']::numeric[]::vector;
SELECT ARRAY[1e39]::numeric[]::vector;
SELECT ARRAY[1e-50,-3.5e38]::numeric[]::vector;
SELECT array_to_vector(ARRAY['a']::text[]::integer[], -1, false);

-- different dimensions
SELECT '[1,2,3]'::vector <-> '[1,2]';
SELECT '[1,2,3]'::vector <#> '[1,2]';
SELECT '[1,2,3]'::vector <=> '[1,2]';
SELECT '[1,2,3]'::vector <+> '[1,2]';
SELECT l2_distance('[1]', '[1,2]');
SELECT vector_l2_squared_distance('[1]', '[1,2]');
SELECT inner_product('[1]', '[1,2]');
SELECT vector_negative_inner_product('[1]', '[1,2]');
SELECT cosine_distance('[1]', '[1,2]');
SELECT l1_distance('[1]', '[1,2]');
SELECT '[1,2,3]'::vector + '[1,2]';
SELECT '[1,2,3]'::vector - '[1,2]';
SELECT '[1,2,3]'::vector * '[1,2]';
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT vector_combine('{1,2}', '{1,2,3}');

-- arithmetic overflow and underflow
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e20]'::vector * '[1e20]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);

-- subvector that leaves nothing
SELECT subvector('[1,2,3]', 4, 1);
SELECT subvector('[1,2,3]', 0, 1);
SELECT subvector('[1,2,3]', 1, 0);
SELECT subvector('[1,2,3]', 2, -5);
SELECT subvector('[1,2,3]', 2147483647, 2147483647);
SELECT subvector('[1,2,3]', -2147483648, 2);

-- avg states of other dimensions than the value: {0} alone takes any
-- value, a state with sums (even with count 0) only its own dimensions
SELECT vector_accum('{0,0}', '[1,2,3]');
SELECT vector_accum('{2,1,1}', '[1,2,3]');
SELECT vector_accum('{2,1,1,1,1}', '[1,2,3]');
SELECT vector_combine('{0,1}', '{1,1,2}');
SELECT vector_combine('{1,1,2}', '{0,5}');
SELECT avg(v) FROM (VALUES ('[1,2,3]'::vector), ('[1]')) t(v);
-- bad avg states
SELECT vector_avg('{}');
SELECT vector_avg('{{1,2}}');
SELECT vector_avg('{1,NULL}');
SELECT vector_accum('{}', '[1]');
SELECT vector_accum('{{0}}', '[1]');
SELECT vector_accum('{NULL}', '[1]');
SELECT vector_accum('{0,NULL}', '[1]');
SELECT vector_accum('{-1,1}', '[1]');
SELECT vector_accum('{1}', '[1]');
SELECT vector_accum('{NaN,1}', '[1]');
SELECT vector_combine('{0}', '{NULL}');
SELECT vector_combine('{1,Infinity}', '{0}');
SELECT vector_avg('{NaN,1}');
SELECT vector_avg('{1,NaN}');
SELECT vector_avg('{2}');
SELECT vector_avg(array_fill(1::float8, ARRAY[16002]));

-- binary input: craft the bytes as bytea, binary-COPY them out, read them
-- back into a vector column (binary COPY passes each field to vector_recv)
CREATE TABLE va_err_raw (b bytea);
CREATE TABLE va_err_vec (v vector);
CREATE TABLE va_err_vec2 (v vector(2));
CREATE FUNCTION va_err_recv(raw bytea, target text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE va_err_raw;
	INSERT INTO va_err_raw VALUES (raw);
	COPY va_err_raw TO '/tmp/vectorann_regress_err.bin' (FORMAT binary);
	EXECUTE format('TRUNCATE %I', target);
	EXECUTE format('COPY %I FROM %L (FORMAT binary)', target, '/tmp/vectorann_regress_err.bin');
	RETURN (SELECT string_agg(v::text, ' ') FROM va_err_vec) || ' / '
		|| coalesce((SELECT string_agg(v::text, ' ') FROM va_err_vec2), '');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- well-formed: [1,2]
SELECT va_err_recv('\x000200003f80000040000000', 'va_err_vec');
SELECT va_err_recv('\x000200003f80000040000000', 'va_err_vec2');
-- zero, negative and too many dimensions
SELECT va_err_recv('\x00000000', 'va_err_vec');
SELECT va_err_recv('\xffff0000', 'va_err_vec');
SELECT va_err_recv('\x3e810000', 'va_err_vec');
-- reserved field not zero
SELECT va_err_recv('\x000100013f800000', 'va_err_vec');
-- fewer bytes than the header promises, and none at all
SELECT va_err_recv('\x000200003f800000', 'va_err_vec');
SELECT va_err_recv('\x3e800000', 'va_err_vec');
SELECT va_err_recv('\x0001', 'va_err_vec');
SELECT va_err_recv('\x', 'va_err_vec');
-- trailing bytes after the last float
SELECT va_err_recv('\x000100003f80000000', 'va_err_vec');
-- NaN, +Infinity, -Infinity
SELECT va_err_recv('\x000100007fc00000', 'va_err_vec');
SELECT va_err_recv('\x000100007f800000', 'va_err_vec');
SELECT va_err_recv('\x00010000ff800000', 'va_err_vec');
-- typmod mismatch
SELECT va_err_recv('\x000100003f800000', 'va_err_vec2');
DROP FUNCTION va_err_recv(bytea, text);
DROP TABLE va_err_raw, va_err_vec, va_err_vec2;

-- SQLSTATEs of the main error classes
CREATE FUNCTION va_err_state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT q, va_err_state(q) FROM (VALUES
	('SELECT ''[1,,2]''::vector'),
	('SELECT ''[1e39]''::vector'),
	('SELECT ''[nan]''::vector'),
	('SELECT ''[inf]''::vector'),
	('SELECT ''[]''::vector'),
	('SELECT array_fill(1::real, ARRAY[16001])::vector'),
	('SELECT ''[1,2]''::vector(3)'),
	('SELECT ''[1]''::vector(0)'),
	('SELECT ARRAY[1,NULL]::vector'),
	('SELECT ''{{1},{2}}''::real[]::vector'),
	('SELECT ''[1]''::vector <-> ''[1,2]'''),
	('SELECT ''[3e38]''::vector + ''[3e38]'''),
	('SELECT ARRAY[1e39]::numeric[]::vector'),
	('SELECT vector_accum(''{0,0}'', ''[1,2,3]'')'),
	('SELECT vector_accum(''{NULL}'', ''[1]'')')) t(q);
DROP FUNCTION va_err_state(text);

-- nothing above crashed the backend
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS still_alive;
