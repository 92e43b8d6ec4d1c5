"""Supplied values leave the lead table for the delivery's blocks; a lead says whether it was erased (issue 15)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

Storing a delivery bound 36 columns per lead, row by row; half of them are values no query filters,
joins or sums on (company, person, target and consent fields). They now sit beside each block's raw
records, as a second Arrow IPC stream (zstd) of ``row_number`` and those twenty columns
(``raw_record_block.supplied_values``), and the lead table keeps its ids, keys, verdict, days, SIREN,
email and phone. With its values out of the table, "this lead still holds data" is no longer a test on
its columns: ``lead.erased`` says it (an erasure, the retention purge, or stored SUPPRESSED).

The upgrade fills every block's values from its rows' columns, marks erased the leads that held nothing
(no value, no key and no raw record: an erasure or a suppressed lead), then drops the columns. A lead
with no raw record was erased (the ingest always stores one): nothing of it is carried over. The
downgrade writes the values back into the columns and drops the blocks' values and the flag. The
encoding is written out here, not imported, so that this migration keeps working whatever the code
becomes.
"""
from alembic import op
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

TEXT = ('company_name', 'naf_code', 'legal_form', 'postal_code', 'department', 'country', 'first_name',
        'last_name', 'job_title', 'language', 'need', 'source', 'campaign', 'consent_proof')
SCHEMA = pa.schema([
    ('row_number', pa.int32()),
    ('collected_at', pa.timestamp('us')), ('company_name', pa.large_string()), ('naf_code', pa.large_string()),
    ('employees', pa.int64()), ('legal_form', pa.large_string()), ('postal_code', pa.large_string()),
    ('department', pa.large_string()), ('country', pa.large_string()), ('first_name', pa.large_string()),
    ('last_name', pa.large_string()), ('job_title', pa.large_string()), ('language', pa.large_string()),
    ('budget_eur', pa.float64()), ('project_horizon_months', pa.int64()), ('need', pa.large_string()),
    ('source', pa.large_string()), ('campaign', pa.large_string()), ('consent_at', pa.timestamp('us')),
    ('consent_proof', pa.large_string()), ('notice_sent_at', pa.timestamp('us')),
])
VALUES = SCHEMA.names[1:]
#: Each moved column's type in the lead table (SQLAlchemy's, so that days and times are parsed on SQLite).
TYPES: dict[str, sa.types.TypeEngine] = {
    **{name: sa.Text() for name in TEXT}, 'department': sa.String(3),
    'collected_at': sa.DateTime(), 'consent_at': sa.DateTime(), 'notice_sent_at': sa.DateTime(),
    'employees': sa.BigInteger(), 'project_horizon_months': sa.BigInteger(), 'budget_eur': sa.Float(),
}
#: The columns an erasure set to NULL before this revision, with the raw record: a lead with all of them
#: NULL and no raw record was erased (or stored SUPPRESSED).
HELD = (*VALUES, 'siren', 'email', 'phone', 'email_key', 'phone_key')
DECIDED = 'decided_on IS NOT NULL'

lead = sa.table('lead', sa.column('id', sa.Integer()), sa.column('delivery_id', sa.Integer()),
                sa.column('row_number', sa.Integer()), *(sa.column(name, TYPES[name]) for name in VALUES))
block = sa.table('raw_record_block', sa.column('id', sa.Integer()), sa.column('delivery_id', sa.Integer()),
                 sa.column('first_row', sa.Integer()), sa.column('last_row', sa.Integer()),
                 sa.column('records', sa.LargeBinary()), sa.column('supplied_values', sa.LargeBinary()))


def _decode(blob: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(bytes(blob))).read_all()


def _encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA, options=pa.ipc.IpcWriteOptions(compression='zstd')) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def upgrade() -> None:
    with op.batch_alter_table('raw_record_block', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplied_values', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased', sa.Boolean(), server_default=sa.false(), nullable=False))
    connection = op.get_bind()
    _fill_blocks(connection)
    _mark_erased(connection)
    # SQLite drops columns by copying the table: the partial index is dropped first and made again after.
    op.drop_index('ix_lead_supplier_id_decided_on', table_name='lead')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        for name in VALUES:
            batch_op.drop_column(name)
    op.create_index('ix_lead_supplier_id_decided_on', 'lead', ['supplier_id', 'decided_on'], unique=False,
                    sqlite_where=sa.text(DECIDED), postgresql_where=sa.text(DECIDED))
    with op.batch_alter_table('raw_record_block', schema=None) as batch_op:
        batch_op.alter_column('supplied_values', existing_type=sa.LargeBinary(), nullable=False)


def _fill_blocks(connection: sa.Connection) -> None:
    """Each block's values, from the lead rows of its records, in their order (a row of the block with
    no lead, which cannot happen, gets NULL values): the rows' columns become Arrow columns, taken in the
    block's order at once."""
    for block_id, delivery_id, first_row, last_row, records in connection.execute(
            sa.select(block.c.id, block.c.delivery_id, block.c.first_row, block.c.last_row, block.c.records)
            .order_by(block.c.id)).all():
        numbers = _decode(records).column('row_number').to_numpy().astype(np.int64)
        rows = connection.execute(
            sa.select(lead.c.row_number, *(lead.c[name] for name in VALUES))
            .where(lead.c.delivery_id == delivery_id, lead.c.row_number.between(first_row, last_row))).all()
        columns = list(zip(*rows, strict=True)) or [()] * (len(VALUES) + 1)
        stored = pa.Table.from_arrays([pa.array(columns[i], SCHEMA.field(name).type)
                                       for i, name in enumerate(VALUES, start=1)], names=list(VALUES))
        found = pd.Index(np.asarray(columns[0], dtype=np.int64)).get_indexer(numbers)  # -1: no such lead
        values = stored.take(pa.array(found, mask=found < 0))
        table = pa.Table.from_arrays([pa.array(numbers.astype(np.int32)), *values.columns], schema=SCHEMA)
        connection.execute(sa.update(block).where(block.c.id == block_id).values(supplied_values=_encode(table)))


def _mark_erased(connection: sa.Connection) -> None:
    """``erased`` for the leads that hold no value, no key and no raw record. Candidates are read first
    (every held column NULL: erased or suppressed leads, a few), then each candidate's record."""
    empty = sa.and_(*(sa.column(name).is_(None) for name in HELD))
    candidates = connection.execute(sa.select(sa.column('id'), sa.column('delivery_id'), sa.column('row_number'))
                                    .select_from(sa.table('lead')).where(empty)).all()
    by_delivery: dict[int, list[tuple[int, int]]] = {}
    for pk, delivery_id, number in candidates:
        by_delivery.setdefault(int(delivery_id), []).append((int(pk), int(number)))
    erased: list[int] = []
    for delivery_id, leads in by_delivery.items():
        held: set[int] = set()
        for (records,) in connection.execute(sa.select(block.c.records).where(block.c.delivery_id == delivery_id)):
            table = _decode(records)
            valid = np.asarray(table.column('raw_record').is_valid())
            held |= set(table.column('row_number').to_numpy()[valid].astype(int).tolist())
        erased += [pk for pk, number in leads if number not in held]
    for start in range(0, len(erased), 10_000):
        connection.execute(sa.text('UPDATE lead SET erased = :erased WHERE id IN :ids')
                           .bindparams(sa.bindparam('ids', expanding=True), sa.bindparam('erased', type_=sa.Boolean())),
                           {'erased': True, 'ids': erased[start:start + 10_000]})


def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        for name in VALUES:
            batch_op.add_column(sa.Column(name, TYPES[name], nullable=True))
    connection = op.get_bind()
    update = (sa.update(lead).where(lead.c.delivery_id == sa.bindparam('d'), lead.c.row_number == sa.bindparam('r'))
              .values({name: sa.bindparam(f'v_{name}') for name in VALUES}))
    for delivery_id, blob in connection.execute(sa.select(block.c.delivery_id, block.c.supplied_values)
                                                .order_by(block.c.id)).all():
        table = _decode(blob)
        columns = {name: table.column(name).to_pylist() for name in VALUES}
        rows = [{'d': delivery_id, 'r': number, **{f'v_{name}': columns[name][i] for name in VALUES}}
                for i, number in enumerate(table.column('row_number').to_pylist())
                if any(columns[name][i] is not None for name in VALUES)]
        if rows:
            connection.execute(update, rows)
    op.drop_index('ix_lead_supplier_id_decided_on', table_name='lead')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_column('erased')
    op.create_index('ix_lead_supplier_id_decided_on', 'lead', ['supplier_id', 'decided_on'], unique=False,
                    sqlite_where=sa.text(DECIDED), postgresql_where=sa.text(DECIDED))
    with op.batch_alter_table('raw_record_block', schema=None) as batch_op:
        batch_op.drop_column('supplied_values')
