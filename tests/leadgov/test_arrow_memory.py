"""Arrow's pool: reading a delivery switches to jemalloc with a short decay, unless the operator chose one."""

import pyarrow as pa
import pytest

from leadgov import arrow_memory


@pytest.fixture
def restore_pool():
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not _has_jemalloc(), reason="this pyarrow wheel has no jemalloc")
def test_reading_uses_jemalloc(restore_pool, monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pa.set_memory_pool(pa.system_memory_pool())
    from leadgov.reading import ReadOptions, read_delivery

    read_delivery(b"lead_id;email\nL1;a@x.fr\n", ReadOptions())
    assert pa.default_memory_pool().backend_name == "jemalloc"


def test_an_operators_choice_is_kept(restore_pool, monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    pa.set_memory_pool(pa.system_memory_pool())
    arrow_memory.use_returning_pool()
    assert pa.default_memory_pool().backend_name == "system"
