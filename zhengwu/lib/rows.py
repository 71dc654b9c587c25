"""Lean single-row statements for hot paths: the ORM's SQL, built once per shape.

Django builds and compiles every query anew. For one row of a wide model that is 0.2–0.7 ms of Python
on the reference machine, against ~0.03 ms for SQLite to run the statement, so a process step of a dozen
statements spent most of its time compiling SQL it had compiled a moment before. These helpers build the
statement once per (model, columns, database) and convert every value with the fields' own methods —
``get_db_prep_save`` on the way in, the backend's and the field's converters on the way out — so JSON,
UUIDs, aware datetimes and encrypted text read and write exactly as through the ORM.

What they skip, on purpose: model signals and overridden ``save()`` methods. Use them only for models
whose ``save()`` adds nothing and that no signal handler watches (the flow, trail and notice rows).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.constants import OnConflict

M = TypeVar("M", bound=models.Model)

# Per connection (converters are bound to the backend's operations): shape → prepared statement.
_prepared: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()


def _cache(connection: Any) -> dict[tuple[Any, ...], Any]:
    cache = _prepared.get(connection)
    if cache is None:
        cache = _prepared[connection] = {}
    return cache


def _part(model: type[models.Model], alias: str, start: int, fk: Any, connection: Any) -> tuple[Any, ...]:
    """A model's share of a SELECT: its qualified columns, and how to read them back — attribute names
    in ``Model.from_db`` order, the first column's position, (position, converters, column) for each
    field that has converters, and the foreign key it is joined through."""
    qn = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converting = []
    for i, field in enumerate(fields):
        col = field.get_col(alias)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            converting.append((i, converters, col))
    columns = [f"{qn(alias)}.{qn(f.column)}" for f in fields]
    return columns, (model, [f.attname for f in fields], start, converting, fk)


def rows_select(
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    related: Sequence[str] = (),
    extra: dict[str, str] | None = None,
    lock: bool = False,
    lock_related: Sequence[str] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> list[M]:
    """Rows of ``model`` matching ``where`` (SQL over the alias ``t``, e.g. ``"t.id = %s"``).

    ``related`` names foreign keys to fetch in the same statement (as ``select_related``, joined as
    ``r1``, ``r2`` … in that order); ``extra`` maps attribute names to SQL expressions set on each row
    object; ``lock`` locks the rows of ``t`` for the transaction (``SELECT … FOR UPDATE OF t``; SQLite's
    write transaction already excludes other writers). ``lock_related`` names joined rows (non-null
    foreign keys from ``related``) to lock as well, *before* ``t`` and in the order given: PostgreSQL
    locks a statement's rows in the order of its ``FOR UPDATE OF`` list, so ``lock_related=["instance"]``
    takes the parent's lock first, as two separate statements would.
    """
    connection = connections[using]
    key = ("select", model, where, tuple(related), tuple((extra or {}).items()), lock, tuple(lock_related))
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        prepared = cache[key] = _prepare_select(
            model, where, related, extra or {}, lock, lock_related, connection
        )
    sql, parts, extra_names = prepared
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    out: list[M] = []
    for row in fetched:
        obj: Any = None
        for part_model, attnames, start, converting, fk in parts:
            values = list(row[start : start + len(attnames)])
            for i, converters, col in converting:
                for converter in converters:
                    values[i] = converter(values[i], col, connection)
            if fk is None:
                obj = part_model.from_db(using, attnames, values)
            else:  # a joined row (None for an empty nullable foreign key)
                fk.set_cached_value(
                    obj, part_model.from_db(using, attnames, values) if values[0] is not None else None
                )
        for i, name in enumerate(extra_names, start=len(row) - len(extra_names)):
            setattr(obj, name, row[i])
        out.append(obj)
    return out


def _prepare_select(
    model: type[models.Model],
    where: str,
    related: Sequence[str],
    extra: dict[str, str],
    lock: bool,
    lock_related: Sequence[str],
    connection: Any,
) -> tuple[str, list[tuple[Any, ...]], list[str]]:
    assert not lock_related or lock, "lock_related locks joined rows together with the row itself"
    qn = connection.ops.quote_name
    columns, part = _part(model, "t", 0, None, connection)
    parts = [part]
    joins = []
    for n, name in enumerate(related, start=1):
        fk = model._meta.get_field(name)
        target = fk.related_model
        assert isinstance(fk, models.ForeignKey) and isinstance(target, type)
        alias = f"r{n}"
        kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
        joins.append(
            f"{kind} {qn(target._meta.db_table)} {qn(alias)} "
            f"ON {qn(alias)}.{qn(fk.target_field.column)} = {qn('t')}.{qn(fk.column)}"
        )
        more, part = _part(target, alias, len(columns), fk, connection)
        columns += more
        parts.append(part)
    columns += list(extra.values())
    table = qn(model._meta.db_table)
    sql = f"SELECT {', '.join(columns)} FROM {table} {qn('t')} {' '.join(joins)} WHERE {where}"
    if lock and connection.features.has_select_for_update:
        of: tuple[str, ...] = ()
        if joins and connection.features.has_select_for_update_of:
            for name in lock_related:
                fk = model._meta.get_field(name)
                assert not fk.null, f"{name}: the locked side of an outer join cannot be locked"
                of += (qn(f"r{list(related).index(name) + 1}"),)
            of += (qn("t"),)
        sql += " " + connection.ops.for_update_sql(of=of)
    return sql, parts, list(extra)


# Field classes whose conversion of these exact value types is the identity on every backend. Exact
# classes only: a subclass (an encrypted text field …) converts its values and always goes the long way,
# and so does any other value (a lazy translation, an int for a boolean column …).
_NONE = type(None)
_PLAIN: dict[type[models.Field], tuple[type, ...]] = {
    models.AutoField: (int, _NONE),
    models.BigAutoField: (int, _NONE),
    models.BigIntegerField: (int, _NONE),
    models.IntegerField: (int, _NONE),
    models.PositiveIntegerField: (int, _NONE),
    models.PositiveSmallIntegerField: (int, _NONE),
    models.SmallIntegerField: (int, _NONE),
    models.BooleanField: (bool, _NONE),
    models.CharField: (str, _NONE),
    models.SlugField: (str, _NONE),
    models.TextField: (str, _NONE),
}


def _plan(fields: Sequence[Any]) -> list[tuple[Any, str, tuple[type, ...]]]:
    """(field, attribute, value types passed as they are) per field."""
    out = []
    for f in fields:
        target = f.target_field if isinstance(f, models.ForeignKey) else f
        out.append((f, f.attname, _PLAIN.get(type(target), ())))
    return out


def _values(
    obj: models.Model, plan: Sequence[tuple[Any, str, tuple[type, ...]]], connection: Any, *, add: bool
) -> list[Any]:
    values = []
    for field, attname, plain in plan:
        if plain:
            value = getattr(obj, attname)
            if type(value) in plain:
                values.append(value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(obj, add), connection))
    return values


def row_insert(obj: models.Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT one new row (auto primary key) and set its ``pk``, as ``save(force_insert=True)``."""
    connection = connections[using]
    model = type(obj)
    key = ("insert", model)
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        prepared = cache[key] = _prepare_insert(model, 1, None, connection)
    sql, fields, returning = prepared
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields, connection, add=True))
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column or "id")
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


PREPARED_ROWS = 20


def rows_insert(
    objs: Sequence[models.Model], *, ignore_conflicts: bool = False, using: str = DEFAULT_DB_ALIAS
) -> None:
    """INSERT new rows of one model in one statement, as ``bulk_create`` (primary keys are not read
    back). With ``ignore_conflicts``, rows that would break a unique constraint are skipped.

    Up to ``PREPARED_ROWS`` rows; more go through ``bulk_create`` itself, which on PostgreSQL binds one
    array per column (``UNNEST``) instead of a parameter per value — twice as fast at 500 rows."""
    if not objs:
        return
    model = type(objs[0])
    if len(objs) > PREPARED_ROWS:
        model._default_manager.using(using).bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    connection = connections[using]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    key = ("insert", model, len(objs), on_conflict)
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        prepared = cache[key] = _prepare_insert(model, len(objs), on_conflict, connection)
    sql, fields, _returning = prepared
    params: list[Any] = []
    for obj in objs:
        params += _values(obj, fields, connection, add=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rows_insert_select(
    obj: models.Model,
    field: str,
    select: str,
    params: Sequence[Any],
    *,
    ignore_conflicts: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """INSERT one row per row of ``select`` (a statement of one column): each a copy of ``obj`` whose
    ``field`` (e.g. a foreign key) is the selected value, in one ``INSERT … SELECT`` — the rows are
    written without reading the values first. As ``rows_insert`` otherwise (``ignore_conflicts`` skips
    rows that would break a unique constraint); the number of rows inserted."""
    connection = connections[using]
    model = type(obj)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    key = ("insert-select", model, field, select, on_conflict)
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        qn = connection.ops.quote_name
        chosen = model._meta.get_field(field)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key and f is not chosen]
        columns = [str(f.column) for f in [chosen, *fields]]
        sql = (
            f"{connection.ops.insert_statement(on_conflict=on_conflict)} {qn(model._meta.db_table)} "
            f"({', '.join(qn(c) for c in columns)}) "
            f"SELECT q.*, {', '.join(['%s'] * len(fields))} FROM ({select}) q"
        )
        if on_conflict is not None:
            suffix = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
            sql += f" {suffix}" if suffix else ""
        prepared = cache[key] = (sql, _plan(fields))
    sql, plan = prepared
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_values(obj, plan, connection, add=True), *params])
        return int(cursor.rowcount)


def _prepare_insert(
    model: type[models.Model], count: int, on_conflict: OnConflict | None, connection: Any
) -> tuple[str, list[Any], bool]:
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"{connection.ops.insert_statement(on_conflict=on_conflict)} {qn(model._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in fields)}) VALUES {', '.join([marks] * count)}"
    )
    if on_conflict is not None:
        suffix = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
        sql += f" {suffix}" if suffix else ""
    returning = count == 1 and on_conflict is None and connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {qn(model._meta.pk.column)}"
    return sql, _plan(fields), returning


def _prepared_update(model: type[models.Model], fields: Sequence[str], connection: Any) -> tuple[str, Any]:
    names = tuple(dict.fromkeys(fields))
    key = ("update", model, names)
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        qn = connection.ops.quote_name
        targets = [model._meta.get_field(name) for name in names]
        sets = ", ".join(f"{qn(f.column)} = %s" for f in targets)
        sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"
        prepared = cache[key] = (sql, _plan(targets))
    return prepared  # type: ignore[no-any-return]


def _update_params(obj: models.Model, plan: Any, connection: Any) -> list[Any]:
    return [*_values(obj, plan, connection, add=False), obj._meta.pk.get_db_prep_value(obj.pk, connection)]


def row_update(obj: models.Model, fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """UPDATE the named fields of one row by primary key, as ``save(update_fields=…)``; the row count."""
    connection = connections[using]
    sql, plan = _prepared_update(type(obj), fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, _update_params(obj, plan, connection))
        return int(cursor.rowcount)


def rows_update(
    first: models.Model,
    first_fields: Sequence[str],
    second: models.Model,
    second_fields: Sequence[str],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[int, int]:
    """``row_update(first, …)`` then ``row_update(second, …)``: on PostgreSQL one statement (two
    data-modifying WITHs), so one round trip instead of two; elsewhere the two statements. The row
    counts of both. Two different rows only (the two updates run on one snapshot: updating the same
    row twice in one statement is undefined), both already locked by the caller."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return row_update(first, first_fields, using=using), row_update(second, second_fields, using=using)
    first_sql, first_plan = _prepared_update(type(first), first_fields, connection)
    second_sql, second_plan = _prepared_update(type(second), second_fields, connection)
    sql = (
        f"WITH a AS ({first_sql} RETURNING 1), b AS ({second_sql} RETURNING 1)"
        " SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)"
    )
    params = [
        *_update_params(first, first_plan, connection),
        *_update_params(second, second_plan, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    return int(counts[0]), int(counts[1])


def row_insert_and_update(
    new: models.Model, obj: models.Model, fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """``row_insert(new)`` then ``row_update(obj, fields)``: on PostgreSQL one statement (a
    data-modifying WITH), so one round trip instead of two; elsewhere the two statements."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        row_insert(new, using=using)
        row_update(obj, fields, using=using)
        return
    model = type(new)
    key = ("insert", model)
    cache = _cache(connection)
    prepared = cache.get(key)
    if prepared is None:
        prepared = cache[key] = _prepare_insert(model, 1, None, connection)
    insert_sql, insert_plan, _returning = prepared  # ends with RETURNING the primary key
    update_sql, update_plan = _prepared_update(type(obj), fields, connection)
    sql = f"WITH inserted AS ({insert_sql}) {update_sql} RETURNING (SELECT * FROM inserted)"
    params = [*_values(new, insert_plan, connection, add=True), *_update_params(obj, update_plan, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:  # no row to update (the caller holds it locked, so this is a bug): fail the transaction
        raise ObjectDoesNotExist(f"{type(obj).__name__} {obj.pk} to update does not exist")
    new.pk = found[0]
    new._state.adding = False
    new._state.db = using


def values_select(sql: str, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
    """Plain rows of a plain statement (ids and the like: no conversion needed)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]
