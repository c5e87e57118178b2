# Seal each involvement's facts (role, category, basis), link (organisation and
# practitioner ids) and start day as one fixed-size value in `facts`
# (registry/involvement_facts.py, docs/adr/0013-lean-registry-layout.md): one nonce and one
# tag a row instead of three. A thousand involvements a transaction, in the order of their
# ids; a row already converted (its `link` and `start_date` empty and its `facts` of the
# new size) is left alone, so an interrupted migration simply runs again. A row whose
# child's key is gone (purged) cannot be opened: its sealed values are cleared, as
# nothing could ever open them. 0020 drops the emptied columns.
#
# Going back seals the three values apart again from the one value (a purged child's rows
# stay empty).

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.db import migrations, transaction

BATCH = 1000
FACTS_SIZE = 96  # the padded JSON facts and link of before
LINK_SIZE = 48


def _rows(apps: Any, schema_editor: Any) -> Any:
    """Each batch of involvements: (model, [(id, child_id, facts, link, start_date)])."""
    model = apps.get_model("registry", "Involvement")
    db = schema_editor.connection.alias
    after: uuid.UUID | None = None
    while True:
        rows = model.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows.values_list("id", "child_id", "facts", "link", "start_date")[:BATCH])
        if not chunk:
            return
        after = chunk[-1][0]
        yield model, chunk


def join(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher
    from contactpoint.registry.involvement_facts import BASES, CATEGORIES, LAYOUT, ROLES

    for model, chunk in _rows(apps, schema_editor):
        old = [r for r in chunk if r[3] is not None or r[4] is not None or _old(r[2])]
        ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys({r[1] for r in old}).items()}
        updates: list[tuple[bytes | None, uuid.UUID]] = []
        for pk, child, facts, link, start in old:
            cipher = ciphers.get(child)
            if cipher is None or facts is None or link is None:
                updates.append((None, pk))
                continue
            role, category, basis = json.loads(cipher.open_fixed_value(model, "facts", pk, facts))
            organisation, practitioner = json.loads(
                cipher.open_fixed_value(model, "link", pk, link)
            )
            day = cipher.open(model, "start_date", pk, start)
            packed = LAYOUT.pack(
                ROLES.index(role),
                CATEGORIES.index(category),
                BASES.index(basis),
                organisation,
                practitioner or 0,
                dt.date.fromisoformat(day).toordinal() if day else 0,
            )
            updates.append((cipher.seal_bytes(model, "facts", pk, packed), pk))
        _update(schema_editor, model, [(f, None, None, pk) for f, pk in updates])


def split(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher
    from contactpoint.registry.involvement_facts import BASES, CATEGORIES, LAYOUT, ROLES

    for model, chunk in _rows(apps, schema_editor):
        new = [r for r in chunk if r[2] is not None and not _old(r[2]) and r[3] is None]
        ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys({r[1] for r in new}).items()}
        updates: list[tuple[Any, Any, Any, uuid.UUID]] = []
        for pk, child, facts, _, _ in new:
            if (cipher := ciphers.get(child)) is None:
                updates.append((None, None, None, pk))
                continue
            plain = cipher.open_bytes(model, "facts", pk, facts)
            role, category, basis, organisation, practitioner, day = LAYOUT.unpack(plain)
            document = json.dumps(
                [ROLES[role], CATEGORIES[category], BASES[basis]], separators=(",", ":")
            )
            ids = json.dumps([organisation, practitioner or None], separators=(",", ":"))
            start = dt.date.fromordinal(day).isoformat() if day else None
            updates.append(
                (
                    cipher.seal_fixed(model, "facts", pk, document, FACTS_SIZE),
                    cipher.seal_fixed(model, "link", pk, ids, LINK_SIZE),
                    cipher.seal(model, "start_date", pk, start),
                    pk,
                )
            )
        _update(schema_editor, model, updates)


def _old(facts: bytes | None) -> bool:
    """Whether `facts` is sealed as before: padded JSON, longer than the new layout."""
    from contactpoint.registry.involvement_facts import LAYOUT

    return facts is not None and len(facts) > 1 + 12 + LAYOUT.size + 16


def _update(schema_editor: Any, model: Any, rows: list[tuple[Any, Any, Any, uuid.UUID]]) -> None:
    """One statement executed for each row, the batch in its own transaction."""
    if not rows:
        return
    connection = schema_editor.connection
    table = schema_editor.quote_name(model._meta.db_table)
    id_field = model._meta.pk
    prepared = [(f, li, s, id_field.get_db_prep_value(pk, connection)) for f, li, s, pk in rows]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET facts = %s, link = %s, start_date = %s WHERE id = %s",  # noqa: S608
            prepared,
        )


class Migration(migrations.Migration):
    atomic = False  # a transaction a batch: an interrupted run keeps what it did

    dependencies = [
        ("registry", "0018_short_record_refs"),
    ]

    operations = [
        migrations.RunPython(join, split),
    ]
