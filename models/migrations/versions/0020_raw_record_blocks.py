"""Raw records leave the lead table for compressed blocks per delivery (issue 15)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08

A lead's raw record (its row as delivered, as JSON text) was a column of the lead table: bound row
by row and written twice through SQLite's WAL, about a fifth of the time a large delivery took to
store. Each delivery's raw records are now kept in ``raw_record_block`` rows: blocks of up to 20,000
rows, each an Arrow IPC stream (zstd) of ``row_number`` and ``raw_record``. The upgrade moves every
stored record into blocks, delivery by delivery, and drops the column; an erased lead (NULL) gets no
record. The downgrade puts them back. The encoding is written out here, not imported, so that this
migration keeps working whatever the code becomes.
"""
from alembic import op
import numpy as np
import pyarrow as pa
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BLOCK_ROWS = 20_000
SCHEMA = pa.schema([("row_number", pa.int32()), ("raw_record", pa.large_string())])
FETCH = 20_000


def _encode(numbers: list[int], records: list[str | None]) -> bytes:
    table = pa.Table.from_arrays([pa.array(np.asarray(numbers, dtype=np.int32)),
                                  pa.array(records, pa.large_string())], schema=SCHEMA)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def upgrade() -> None:
    op.create_table(
        'raw_record_block',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('first_row', sa.Integer(), nullable=False),
        sa.Column('last_row', sa.Integer(), nullable=False),
        sa.Column('records', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'],
                                name=op.f('fk_raw_record_block_delivery_id_delivery')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_record_block')),
        sa.UniqueConstraint('delivery_id', 'first_row', name=op.f('uq_raw_record_block_delivery_id_first_row')),
    )
    _move_records_to_blocks(op.get_bind())
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_column('raw_record')


def _move_records_to_blocks(connection: sa.Connection) -> None:
    """Stream the stored records in (delivery, row) order and write a block each time one is full or
    its delivery ends: memory holds one block, whatever the database's size."""
    insert = sa.text("INSERT INTO raw_record_block (delivery_id, first_row, last_row, records) "
                     "VALUES (:delivery_id, :first_row, :last_row, :records)")
    result = connection.execute(sa.text(
        "SELECT delivery_id, row_number, raw_record FROM lead WHERE raw_record IS NOT NULL "
        "ORDER BY delivery_id, row_number").execution_options(stream_results=True))
    delivery: int | None = None
    numbers: list[int] = []
    texts: list[str] = []

    def flush() -> None:
        if numbers:
            connection.execute(insert, [{"delivery_id": delivery, "first_row": numbers[0], "last_row": numbers[-1],
                                         "records": _encode(numbers, texts)}])
            numbers.clear()
            texts.clear()

    while rows := result.fetchmany(FETCH):
        for delivery_id, number, text in rows:
            if delivery_id != delivery or len(numbers) >= BLOCK_ROWS:
                flush()
                delivery = int(delivery_id)
            numbers.append(int(number))
            texts.append(str(text))
    flush()


def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_record', sa.Text(), nullable=True))
    connection = op.get_bind()
    blocks = connection.execute(sa.text("SELECT delivery_id, records FROM raw_record_block ORDER BY id")).all()
    update = sa.text("UPDATE lead SET raw_record = :raw_record WHERE delivery_id = :delivery_id "
                     "AND row_number = :row_number")
    for delivery_id, blob in blocks:
        table = pa.ipc.open_stream(pa.py_buffer(bytes(blob))).read_all()
        rows = [{"raw_record": text, "delivery_id": delivery_id, "row_number": number}
                for number, text in zip(table.column("row_number").to_pylist(),
                                        table.column("raw_record").to_pylist(), strict=True) if text is not None]
        if rows:
            connection.execute(update, rows)
    op.drop_table('raw_record_block')
