-- halfvec_errors: every way of building or combining halfvecs that must
-- fail, with its error; binary input is fed through binary COPY.

-- malformed text
SELECT ''::halfvec;
SELECT '1,2,3'::halfvec;
SELECT '[1,2,3'::halfvec;
SELECT '[1,2,3]x'::halfvec;
SELECT '[1,,2]'::halfvec;
SELECT '[1 2]'::halfvec;
SELECT '[1,2,]'::halfvec;
SELECT '[,1]'::halfvec;
SELECT '[abc]'::halfvec;
SELECT '[[1]]'::halfvec;
SELECT '['::halfvec;
SELECT '[1,'::halfvec;
SELECT '{1,2}'::halfvec;

-- empty, NaN, infinities, out of the float4 and half ranges
SELECT '[]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[1,-inf]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[1e-50,70000]'::halfvec;
-- (a number too small for a half is not an error: it reads as 0, halfvec_io)
SELECT '[65520]'::halfvec;
SELECT '[-70000]'::halfvec;
SELECT '[1,2,1e10]'::halfvec;

-- too many dimensions
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
SELECT array_fill(1::real, ARRAY[16001])::halfvec;
SELECT array_fill(1::real, ARRAY[8001])::halfvec || array_fill(1::real, ARRAY[8000])::halfvec;

-- typmod
SELECT '[1,2]'::halfvec(0);
SELECT '[1,2]'::halfvec(16001);
SELECT '[1,2]'::halfvec(2, 3);
SELECT '[1,2]'::halfvec(3);
SELECT '[1,2]'::halfvec::halfvec(3);
SELECT ARRAY[1,2]::halfvec(3);
SELECT '[1,2]'::vector::halfvec(3);
SELECT '[1,2]'::halfvec::vector(3);
CREATE TABLE va_herr_t (v halfvec(3));
INSERT INTO va_herr_t VALUES ('[1,2]');
INSERT INTO va_herr_t VALUES ('[1,2,3,4]'::vector);
DROP TABLE va_herr_t;

-- casts: out of the half range, non-finite, nulls, shape
SELECT '[1,70000]'::vector::halfvec;
SELECT vector_to_halfvec('[-65520]', -1, false);
SELECT ARRAY[1,100000]::halfvec;
SELECT ARRAY[1e5]::float8[]::halfvec;
SELECT ARRAY[1e39]::float8[]::halfvec;
SELECT ARRAY[1e-50,1e5]::numeric[]::halfvec;
SELECT ARRAY[1e39]::numeric[]::halfvec;
SELECT ARRAY['NaN']::real[]::halfvec;
SELECT ARRAY['Infinity']::numeric[]::halfvec;
SELECT ARRAY[1,NULL]::halfvec;
SELECT '{}'::real[]::halfvec;
SELECT '{{1,2},{3,4}}'::real[]::halfvec;

-- different dimensions
SELECT '[1,2,3]'::halfvec <-> '[1,2]';
SELECT '[1,2,3]'::halfvec <#> '[1,2]';
SELECT '[1,2,3]'::halfvec <=> '[1,2]';
SELECT '[1,2,3]'::halfvec <+> '[1,2]';
SELECT halfvec_l2_squared_distance('[1]', '[1,2]');
SELECT inner_product('[1]'::halfvec, '[1,2]');
SELECT '[1,2,3]'::halfvec + '[1,2]';
SELECT '[1,2,3]'::halfvec - '[1,2]';
SELECT '[1,2,3]'::halfvec * '[1,2]';
SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(v);

-- arithmetic overflow and underflow (past 65504, below the smallest half)
SELECT '[60000]'::halfvec + '[10000]';
SELECT '[-60000]'::halfvec - '[10000]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[0.001]'::halfvec * '[0.00001]';
SELECT sum(v) FROM (VALUES ('[40000]'::halfvec), ('[40000]')) t(v);

-- subvector that leaves nothing
SELECT subvector('[1,2,3]'::halfvec, 4, 1);
SELECT subvector('[1,2,3]'::halfvec, 1, 0);
SELECT subvector('[1,2,3]'::halfvec, 2147483647, 2147483647);

-- avg states of other dimensions than the value: {0} alone takes any
-- value, a state with sums (even with count 0) only its own dimensions
SELECT halfvec_accum('{0,0}', '[1,2,3]');
SELECT halfvec_accum('{2,1,1}', '[1,2,3]');
SELECT avg(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[1]')) t(v);
-- bad avg states
SELECT halfvec_avg('{}');
SELECT halfvec_avg('{1,NULL}');
SELECT halfvec_avg('{1,1e10}');
SELECT halfvec_avg('{-2,1}');
SELECT halfvec_avg('{2}');
SELECT halfvec_accum('{}', '[1]');
SELECT halfvec_accum('{{0}}', '[1]');
SELECT halfvec_accum('{0,NULL}', '[1]');
SELECT halfvec_accum('{1,Infinity}', '[1]');

-- binary input through binary COPY of crafted bytes
CREATE TABLE va_herr_raw (b bytea);
CREATE TABLE va_herr_vec (v halfvec);
CREATE TABLE va_herr_vec2 (v halfvec(2));
CREATE FUNCTION va_herr_recv(raw bytea, target text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE va_herr_raw;
	INSERT INTO va_herr_raw VALUES (raw);
	COPY va_herr_raw TO '/tmp/vectorann_regress_herr.bin' (FORMAT binary);
	EXECUTE format('TRUNCATE %I', target);
	EXECUTE format('COPY %I FROM %L (FORMAT binary)', target, '/tmp/vectorann_regress_herr.bin');
	RETURN (SELECT string_agg(v::text, ' ') FROM va_herr_vec) || ' / '
		|| coalesce((SELECT string_agg(v::text, ' ') FROM va_herr_vec2), '');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- well-formed: [1,2]
SELECT va_herr_recv('\x000200003c004000', 'va_herr_vec');
SELECT va_herr_recv('\x000200003c004000', 'va_herr_vec2');
-- zero, negative and too many dimensions
SELECT va_herr_recv('\x00000000', 'va_herr_vec');
SELECT va_herr_recv('\xffff0000', 'va_herr_vec');
SELECT va_herr_recv('\x3e810000', 'va_herr_vec');
-- reserved field not zero
SELECT va_herr_recv('\x000100013c00', 'va_herr_vec');
-- fewer bytes than the header promises
SELECT va_herr_recv('\x000200003c00', 'va_herr_vec');
SELECT va_herr_recv('\x0001', 'va_herr_vec');
-- trailing bytes
SELECT va_herr_recv('\x000100003c0000', 'va_herr_vec');
-- NaN, +Infinity, -Infinity
SELECT va_herr_recv('\x000100007e00', 'va_herr_vec');
SELECT va_herr_recv('\x000100007c00', 'va_herr_vec');
SELECT va_herr_recv('\x00010000fc00', 'va_herr_vec');
-- typmod mismatch
SELECT va_herr_recv('\x000100003c00', 'va_herr_vec2');
DROP FUNCTION va_herr_recv(bytea, text);
DROP TABLE va_herr_raw, va_herr_vec, va_herr_vec2;

-- SQLSTATEs of the main error classes
CREATE FUNCTION va_herr_state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT q, va_herr_state(q) FROM (VALUES
	('SELECT ''[1,,2]''::halfvec'),
	('SELECT ''[65520]''::halfvec'),
	('SELECT ''[1e39]''::halfvec'),
	('SELECT ''[nan]''::halfvec'),
	('SELECT ''[]''::halfvec'),
	('SELECT array_fill(1::real, ARRAY[16001])::halfvec'),
	('SELECT ''[1,2]''::halfvec(3)'),
	('SELECT ''[1]''::halfvec <-> ''[1,2]'''),
	('SELECT ''[60000]''::halfvec + ''[10000]'''),
	('SELECT halfvec_accum(''{0,0}'', ''[1,2,3]'')'),
	('SELECT halfvec_avg(''{}'')')) t(q);
DROP FUNCTION va_herr_state(text);

-- nothing above crashed the backend
SELECT '[1,2,3]'::halfvec <-> '[3,2,1]' AS still_alive;
