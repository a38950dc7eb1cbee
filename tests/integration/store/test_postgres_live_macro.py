"""A live batch that brings one macro release is stored on PostgreSQL (a regression test).

The first live bar after 20 simulated sessions carries one ``SIM_RATE``
vintage. Its text columns came out of ``pyarrow.Table.from_pandas`` with
truncated offsets and no data buffer, the CSV COPY was sent NUL bytes, and the
whole batch was refused ("invalid byte sequence for encoding UTF8: 0x00").
"""

from __future__ import annotations

import asyncio

from nexus.ingest import Ingestor
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import PostgresStore


def test_a_live_batch_with_one_macro_release_is_stored(pg_url: str) -> None:
    market = SimulatorConfig(symbols=3, sectors=2, sessions=20, interval="5m", seed=3)
    with PostgresStore(pg_url) as store:
        Ingestor(store).run(SimulatorSource(market))
        before = len(store.read_macro())
        report = asyncio.run(Ingestor(store).run_live(SimulatorSource(market), max_batches=1))
        assert report.batches[0].macro == 1
        macro = store.read_macro()
        assert len(macro) == before + 1
        assert macro["series_id"].str.fullmatch(r"SIM_[A-Z]+").all()
