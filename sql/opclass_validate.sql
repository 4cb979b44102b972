-- opclass_validate: amvalidate rejects broken operator classes and says why.
-- Every class below lacks or misuses one piece of a valid one, such as
--   OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
--   FUNCTION 1 (vector, vector) vector_l2_index_ops(internal)
-- and each access method must find the fault (INFO) and return false.

CREATE FUNCTION validate_opclass(am text, opclass text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
	WHERE a.amname = am AND c.opcname = opclass
$$;

-- (a support function number other than 1 is refused by CREATE OPERATOR
-- CLASS itself, since the access methods declare amsupport = 1)

-- a boolean operator on vectors, for a class whose operator is no ORDER BY one
CREATE FUNCTION vector_same_dims(vector, vector) RETURNS boolean
LANGUAGE sql IMMUTABLE AS 'SELECT vector_dims($1) = vector_dims($2)';
CREATE OPERATOR ~=~ (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_same_dims);

-- one valid class for reference
CREATE OPERATOR CLASS good_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'good_ops');

-- support function 1 missing
CREATE OPERATOR CLASS no_function_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops;
SELECT validate_opclass('hnsw', 'no_function_ops');

-- support function 1 with the wrong signature (not (internal) RETURNS internal)
CREATE OPERATOR CLASS bad_signature_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_dims(vector);
SELECT validate_opclass('hnsw', 'bad_signature_ops');

-- a search operator instead of an ORDER BY one
CREATE OPERATOR CLASS search_operator_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 ~=~ (vector, vector),
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'search_operator_ops');

-- no operator at all
CREATE OPERATOR CLASS no_operator_ops FOR TYPE vector USING hnsw AS
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'no_operator_ops');

-- the ORDER BY operator under strategy 2 (the access methods know only 1)
CREATE OPERATOR CLASS bad_strategy_ops FOR TYPE vector USING hnsw AS
	OPERATOR 2 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'bad_strategy_ops');

-- an ORDER BY family that cannot sort the operator's double precision result
CREATE OPERATOR CLASS bad_sort_family_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY text_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'bad_sort_family_ops');

-- an operator whose left type is not the class's input type
CREATE OPERATOR CLASS bad_left_type_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('hnsw', 'bad_left_type_ops');

-- ivfflat shares the checks
CREATE OPERATOR CLASS good_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'good_ops');
CREATE OPERATOR CLASS no_function_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops;
SELECT validate_opclass('ivfflat', 'no_function_ops');
CREATE OPERATOR CLASS bad_signature_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_dims(vector);
SELECT validate_opclass('ivfflat', 'bad_signature_ops');
CREATE OPERATOR CLASS search_operator_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 ~=~ (vector, vector),
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'search_operator_ops');
CREATE OPERATOR CLASS no_operator_ops FOR TYPE vector USING ivfflat AS
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'no_operator_ops');
CREATE OPERATOR CLASS bad_strategy_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 2 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'bad_strategy_ops');
CREATE OPERATOR CLASS bad_sort_family_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY text_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'bad_sort_family_ops');
CREATE OPERATOR CLASS bad_left_type_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);
SELECT validate_opclass('ivfflat', 'bad_left_type_ops');

-- the extension's own classes all pass (also checked per type elsewhere)
SELECT a.amname, count(*) AS classes, bool_and(amvalidate(c.oid)) AS valid
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname IN ('hnsw', 'ivfflat') AND c.opcname NOT IN
	('good_ops', 'no_function_ops', 'bad_signature_ops',
	 'search_operator_ops', 'no_operator_ops', 'bad_strategy_ops',
	 'bad_sort_family_ops', 'bad_left_type_ops')
GROUP BY a.amname ORDER BY a.amname;

DROP OPERATOR FAMILY good_ops USING hnsw;
DROP OPERATOR FAMILY no_function_ops USING hnsw;
DROP OPERATOR FAMILY bad_signature_ops USING hnsw;
DROP OPERATOR FAMILY search_operator_ops USING hnsw;
DROP OPERATOR FAMILY no_operator_ops USING hnsw;
DROP OPERATOR FAMILY bad_strategy_ops USING hnsw;
DROP OPERATOR FAMILY bad_sort_family_ops USING hnsw;
DROP OPERATOR FAMILY bad_left_type_ops USING hnsw;
DROP OPERATOR FAMILY good_ops USING ivfflat;
DROP OPERATOR FAMILY no_function_ops USING ivfflat;
DROP OPERATOR FAMILY bad_signature_ops USING ivfflat;
DROP OPERATOR FAMILY search_operator_ops USING ivfflat;
DROP OPERATOR FAMILY no_operator_ops USING ivfflat;
DROP OPERATOR FAMILY bad_strategy_ops USING ivfflat;
DROP OPERATOR FAMILY bad_sort_family_ops USING ivfflat;
DROP OPERATOR FAMILY bad_left_type_ops USING ivfflat;
DROP OPERATOR ~=~ (vector, vector);
DROP FUNCTION vector_same_dims(vector, vector);
DROP FUNCTION validate_opclass(text, text);
