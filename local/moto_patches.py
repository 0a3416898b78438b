"""Local stack and unit tests: every change this project makes inside moto, in one place, for the moto it was
written against (MOTO_VERSION; `install` refuses any other, so an upgrade is a decision, not a surprise).

- **Rollback by touched items** (`_transact_write_items`): moto rolls a cancelled TransactWriteItems back by
  deep-copying every table the transaction names, before it starts - O(table size) for every transaction
  (docs/SCALING.md, "What the local stack's settings stand on"). Keeping the items the transaction touches is
  enough, because nothing else enters moto meanwhile (SerializedApp in the stack; one thread in unit tests).
- **Answers as JSON** (`answer_as_json`): moto answers a DynamoDB read by walking botocore's output model member
  by member for every attribute value; the data-plane results and the stream's records are written here by a
  walker over the same model that knows the one shape that dominates (AttributeValue), handing anything else to
  moto's serializer.
- **Queries by partition** (`query_partitions`): moto runs a Query by sorting every item of the table; here a
  Query reads one partition, kept sorted in moto's own order between writes, cut by bisection to the key
  condition, ExclusiveStartKey and Limit + 1, and hands that slice to moto's own Query.
- **Condition expressions parsed once** (`_parse`): moto lexes and parses a ConditionExpression anew for each
  request, and twice for a transaction's (about two fifths of the DynamoDB process under sign-ups); here the
  syntax tree is kept per expression, names and value names, and only the values are put into it afresh.
- **Forgetting stream records** (`forget_records`): moto keeps every write's images for ever.

tests/checks/test_local_moto_shortcuts.py checks the answers against unpatched moto's.
"""
from __future__ import annotations

import base64
import bisect
import copy
import json
from collections.abc import Callable
from typing import Any

import moto
import moto.dynamodb.models as moto_dynamodb
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult
from moto.core.serialize import JSONSerializer, TimestampSerializer
from moto.dynamodb.comparisons import ConditionExpressionParser, Func, Op
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
from moto.dynamodb.responses import DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

# Operations whose output holds items: where moto's generic serializer spends its time.
JSON_OPERATIONS = frozenset({
    "BatchGetItem", "BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "TransactGetItems",
    "TransactWriteItems", "UpdateItem", "GetRecords",
})

_moto_execute_result = DynamoResult.execute_result
_moto_query = Table.query
_moto_get_records = DynamoDBStreamsHandler.get_records
_timestamps = TimestampSerializer(JSONSerializer.DEFAULT_TIMESTAMP_FORMAT)  # moto's own, for the same text


class _Unexpected(Exception):
    """A value the walker does not know how moto would write: moto's serializer writes it instead."""


# --- answers ---------------------------------------------------------------------------------------


def _execute_result(self: ActionResult, context: Any) -> TYPE_RESPONSE:
    operation = context.operation_model
    if operation.name in JSON_OPERATIONS and context.serializer_class is JSONSerializer \
            and isinstance(self.result, dict) and operation.output_shape is not None:
        try:
            body = _structure(self.result, operation.output_shape)
        except _Unexpected:
            pass
        else:
            version = operation.service_model.metadata.get("jsonVersion", "1.0")
            status = operation.http.get("responseCode", 200)
            return status, {"Content-Type": f"application/x-amz-json-{version}"}, json.dumps(body)
    return _moto_execute_result(self, context)


def _value(value: Any, shape: Any) -> Any:
    """What moto's JSON serializer writes for `value` under `shape` (moto/core/serialize.py, BaseJSONSerializer)."""
    if shape.name == "AttributeValue":
        return _attribute_value(value)
    kind = shape.type_name
    if kind == "structure":
        return _structure(value, shape)
    if kind == "map":
        if not isinstance(value, dict):
            raise _Unexpected
        return {key: _value(item, shape.value) for key, item in value.items()}
    if kind == "list":
        if not isinstance(value, list):
            raise _Unexpected
        return [_list_item(item, shape.member) for item in value]
    if kind == "string":
        return str(value) if value not in (None, {}, []) else value
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "boolean":
        return value
    if kind == "blob":
        return _base64(value)
    if kind == "timestamp":
        written: dict[str, Any] = {}
        _timestamps.serialize(written, value, shape, "at")
        return written["at"]
    raise _Unexpected  # the rest: not in these operations' outputs


def _list_item(item: Any, shape: Any) -> Any:
    # moto keeps a list member that serializes to nothing (a None structure) as it came.
    return item if item is None and shape.type_name == "structure" else _value(item, shape)


def _structure(value: Any, shape: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Unexpected
    known = shape.members
    if any(key not in known for key in value):
        raise _Unexpected  # moto's picker may find it under another spelling (xform_name); let it
    out = {}
    for key, member in known.items():
        found = value.get(key)
        if found is not None:
            out[member.serialization.get("name", key)] = _value(found, member)
    return out


def _attribute_value(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise _Unexpected
    (kind, inner), = value.items()
    if kind in ("S", "N"):
        return {kind: str(inner) if inner not in (None, {}, []) else inner}
    if kind in ("BOOL", "NULL"):
        return {kind: inner}
    if kind == "B":
        return {kind: _base64(inner)}
    if kind in ("SS", "NS"):
        return {kind: [str(one) if one not in (None, {}, []) else one for one in inner]}
    if kind == "BS":
        return {kind: [_base64(one) for one in inner]}
    if kind == "M":
        return {kind: {name: _attribute_value(one) for name, one in inner.items()}}
    if kind == "L":
        return {kind: [_attribute_value(one) for one in inner]}
    raise _Unexpected


def _base64(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


class _StreamRecords(ActionResult):
    """GetRecords' answer (moto's plain ActionResult), written by the walker as the table's answers are."""

    execute_result = _execute_result


def _get_records(self: DynamoDBStreamsHandler) -> ActionResult:
    return _StreamRecords(_moto_get_records(self).result)


# --- queries ---------------------------------------------------------------------------------------

# (id(table), index name, hash key) -> (table, the partition's items in moto's order). Valid only while no
# write has happened: SerializedApp calls forget() around every request that may write, and the cache is
# read only inside a read-only request (reading(True)), where nothing changes the items.
_ordered: dict[tuple[int, str | None, DynamoType], tuple[Table, list[Any]]] = {}
_reading = False


def forget() -> None:
    _ordered.clear()


def reading(flag: bool) -> None:
    global _reading
    _reading = flag


def _query(self: Table, hash_key: DynamoType | None, range_comparison: str | None, range_objs: list[DynamoType],
           limit: int | None, exclusive_start_key: dict[str, Any] | None, scan_index_forward: bool,
           projection_expressions: Any, index_name: str | None = None, *args: Any, **kwargs: Any) -> Any:
    narrowed = _narrow(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                       index_name, kwargs)
    if narrowed is None:
        # moto: Table.query types limit and exclusive_start_key as never None; its own Query passes None for both.
        return _moto_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,  # type: ignore[arg-type]
                           scan_index_forward, projection_expressions, index_name, *args, **kwargs)
    # moto's Query reads candidates from all_items() and orders them with sorted_items(): it gets the slice,
    # already in the order it would have sorted it into. Only this request is inside moto (SerializedApp).
    # A method replaced on this one table for the one call (mypy refuses any assignment to a method).
    self.all_items = lambda: list(narrowed)  # type: ignore[method-assign]
    self.sorted_items = lambda hash_key_attrs, range_key_attrs, items: items  # type: ignore[method-assign]
    try:
        # moto: Table.query types limit and exclusive_start_key as never None; its own Query passes None for both.
        return _moto_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,  # type: ignore[arg-type]
                           scan_index_forward, projection_expressions, index_name, *args, **kwargs)
    finally:
        del self.all_items, self.sorted_items


# Range comparisons the bisection handles; moto's own code handles the rest.
_BOUNDS: dict[str, Callable[[Callable[..., int], list[DynamoType], int], tuple[int, int]]] = {
    "EQ": lambda cut, v, n: (cut(v[0], "left"), cut(v[0], "right")),
    "LT": lambda cut, v, n: (0, cut(v[0], "left")),
    "LE": lambda cut, v, n: (0, cut(v[0], "right")),
    "GT": lambda cut, v, n: (cut(v[0], "right"), n),
    "GE": lambda cut, v, n: (cut(v[0], "left"), n),
    "BETWEEN": lambda cut, v, n: (cut(v[0], "left"), cut(v[1], "right")),
}
_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def _narrow(table: Table, hash_key: DynamoType | None, range_comparison: str | None, range_objs: list[DynamoType],
            limit: int | None, exclusive_start_key: dict[str, Any] | None, forward: bool, index_name: str | None,
            kwargs: dict[str, Any]) -> list[Any] | None:
    """The candidates moto's Query would keep, in its order, or None where this cannot tell them exactly."""
    if hash_key is None or table.range_key_attr is None:
        return None
    extra = {key for key in kwargs if key not in ("consistent_read", "filter_expression", "hash_key_conditions",
                                                  "range_key_conditions")}
    if extra:  # legacy QueryFilter conditions skip candidates inside moto's loop: let it see them all
        return None
    range_conditions = kwargs.get("range_key_conditions") or []
    if len(kwargs.get("hash_key_conditions") or []) > 1 or len(range_conditions) > 1:
        return None  # multi-attribute keys
    if index_name is None:
        range_attr = table.range_key_attr
        sort_attrs = [range_attr]
    else:
        index = {each.name: each for each in table.all_indexes()}.get(index_name)
        if index is None or isinstance(index, GlobalSecondaryIndex):
            return None  # moto raises for an unknown index; a global index spans partitions
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if hashes != [table.hash_key_attr] or len(ranges) != 1:
            return None
        range_attr = ranges[0]
        sort_attrs = [range_attr, table.range_key_attr]
    if range_conditions and range_conditions[0][0] != range_attr:
        return None
    ordered = _partition(table, index_name, hash_key, range_attr)
    keys = [item.attrs[range_attr] for item in ordered]
    low, high = 0, len(ordered)
    if range_comparison:
        bounds = _BOUNDS.get(_OPERATORS.get(range_comparison, range_comparison))
        if bounds is None or not range_objs or any(one.type != keys[0].type for one in range_objs if keys):
            return None  # BEGINS_WITH, and comparisons across types, as moto decides them

        def cut(value: DynamoType, side: str) -> int:
            return (bisect.bisect_left if side == "left" else bisect.bisect_right)(keys, value)

        low, high = bounds(cut, range_objs, len(ordered))
        high = max(low, high)
    if exclusive_start_key is not None:
        try:
            start = tuple(DynamoType(exclusive_start_key[attr]) for attr in sort_attrs)
        except (KeyError, TypeError):
            return None
        full = [tuple(item.attrs[attr] for attr in sort_attrs) for item in ordered[low:high]]
        if forward:
            low += bisect.bisect_right(full, start)
        else:
            high = low + bisect.bisect_left(full, start)
    # moto stops at the first candidate past Limit and names the last item it kept, whether or not that candidate
    # meets the key condition: Limit + 1 candidates are enough, and where the range ends sooner, the one next to it.
    if forward:
        end = high if limit is None else min(high, low + limit + 1)
        return ordered[low:min(len(ordered), end + 1) if end == high else end]
    first = low if limit is None else max(low, high - limit - 1)
    return ordered[max(0, first - 1) if first == low else first:high]


def _partition(table: Table, index_name: str | None, hash_key: DynamoType, range_attr: str) -> list[Any]:
    """The partition's items that the index holds, in the order moto's Query sorts them into."""
    key = (id(table), index_name, hash_key)
    if _reading:
        cached = _ordered.get(key)
        if cached is not None and cached[0] is table:
            return cached[1]
    items = [item for item in table.items.get(hash_key, {}).values() if item.attrs.get(range_attr)]
    if index_name is None:
        items.sort(key=lambda item: item.range_key)
    else:
        items = _moto_sorted(table, [table.hash_key_attr, table.hash_key_attr], [range_attr, table.range_key_attr],
                             items)
    if _reading:
        _ordered[key] = (table, items)
    return items


_moto_sorted = Table.sorted_items


MOTO_VERSION = "5.2.5"  # pyproject.toml pins the same


class WrongMoto(RuntimeError):
    """moto is not the version these patches were written against."""


def install(*, shortcuts: bool = True) -> None:
    """Installs the rollback, the record forgetting's counterpart and (unless `shortcuts` is off: the benchmark's
    stock side) the two shortcuts in this process (idempotent)."""
    if moto.__version__ != MOTO_VERSION:
        raise WrongMoto(f"local/moto_patches.py was written for moto {MOTO_VERSION}, not {moto.__version__}: "
                        "check each patch against the new moto, then change MOTO_VERSION and the pin together")
    # Patches (mypy refuses assigning to a module's import or a class's method): moto's own functions replaced.
    moto_dynamodb.copy = _CopyAllButTables  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    if not shortcuts:
        return
    # Patches, as above: mypy refuses assigning to a method.
    DynamoResult.execute_result = _execute_result  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_records = _get_records  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    ConditionExpressionParser.parse = _parse  # type: ignore[method-assign]


def uninstall() -> None:
    """Puts moto back as it came (the benchmark's stock side and the tests' reference answers)."""
    # Putting moto's own methods back (mypy refuses assigning to a method).
    DynamoResult.execute_result = _moto_execute_result  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_records = _moto_get_records  # type: ignore[method-assign]
    Table.query = _moto_query  # type: ignore[method-assign]
    ConditionExpressionParser.parse = _moto_parse  # type: ignore[method-assign]
    forget()


# --- transactions: rolled back by the items they touch ---------------------------------------------

_moto_transact_write_items = DynamoDBBackend.transact_write_items


class _CopyAllButTables:
    """Stands in for the `copy` module inside moto.dynamodb.models, where only that rollback copies a Table."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    before = _touched_items(self, transact_items)
    # moto applies a transaction's writes one by one, each adding a stream record: a cancelled one's must go too,
    # or the stream would tell of writes that never happened (a promotion that was refused).
    streams = {id(table.stream_shard): (table.stream_shard, len(table.stream_shard.items))
               for table, _, _ in before if table.stream_shard is not None}
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        for (table, hash_key, range_key), item in before.items():
            _put_back(table, hash_key, range_key, item)
        for shard, length in streams.values():
            del shard.items[length:]
        raise


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> dict[tuple, Item | None]:
    """(table, hash key, range key) -> a copy of the item as it is now, or None where there is none."""
    before: dict[tuple, Item | None] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            attributes = op.get("Item") if op_type == "Put" else op.get("Key")
            if table is None or not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
                continue  # moto refuses this operation before it changes anything
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attributes:
                    continue
                range_key = DynamoType(attributes[table.range_key_attr])
            current = table.get_item(hash_key, range_key)
            before.setdefault((table, hash_key, range_key), copy.deepcopy(current))
    return before


def _put_back(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            # moto: Table.items is typed a dict of dicts; a table without a range key holds its Items there directly.
            table.items[hash_key] = item  # type: ignore[assignment]
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


# --- condition expressions: parsed once ------------------------------------------------------------

_moto_parse = ConditionExpressionParser.parse
_VALUE = ConditionExpressionParser.Kind.EXPRESSION_ATTRIBUTE_VALUE
# (expression, names, value names) -> moto's syntax tree and the names and values it found. The table's writes use a
# handful of expressions; a bound keeps a client that makes up new ones from growing the process.
_trees: dict[tuple, tuple[Any, list[str], list[str]]] = {}
_MOST_TREES = 512


def _parse(self: ConditionExpressionParser) -> Op | Func:
    """moto's ConditionExpressionParser.parse, the steps up to its syntax tree run once per expression: the tree
    depends on the expression and its names, and on the values only by their names (moto checks operand kinds,
    never a value's content), so the values are put into the kept tree for each request."""
    if not self.condition_expression:
        return _moto_parse(self)
    names = self.expression_attribute_names or {}
    values = self.expression_attribute_values or {}
    key = (self.condition_expression, tuple(sorted(names.items())), tuple(sorted(values)))
    kept = _trees.get(key)
    if kept is None:
        # The steps of moto's parse, as it runs them (moto/dynamodb/comparisons.py); errors are moto's own.
        nodes = self._lex_condition_expression()
        nodes = self._parse_paths(nodes)
        nodes = self._apply_functions(nodes)
        nodes = self._apply_comparator(nodes)
        nodes = self._apply_in(nodes)
        nodes = self._apply_between(nodes)
        nodes = self._apply_parens_and_booleans(nodes)
        node = nodes[0]
        self._assert_no_redundant_parentheses(node)
        kept = (node, self._find_literals(node), self._find_expr_attr_values(node))
        if len(_trees) >= _MOST_TREES:
            _trees.clear()
        _trees[key] = kept
    node, names_found, values_found = kept
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return self._make_op_condition(_with_values(node, values))


def _with_values(node: Any, values: dict[str, Any]) -> Any:
    """The kept tree with this request's values in its value leaves (moto's nodes are namedtuples)."""
    if node.kind == _VALUE:
        return node._replace(value=values[node.text])
    if not node.children:
        return node
    return node._replace(children=[_with_values(child, values) for child in node.children])


# --- the stream ---------------------------------------------------------------------------------------


def forget_records(shard: Any, before: int) -> None:
    """Drops a moto stream shard's records below sequence number `before`, which moto would otherwise keep for
    ever (every write's old and new image): moto numbers records by their place in its list, so its starting
    number moves up by as many as are dropped and the numbers still read go on unchanged."""
    dropped = max(0, min(before - shard.starting_sequence_number, len(shard.items)))
    if dropped:
        del shard.items[:dropped]
        shard.starting_sequence_number += dropped
