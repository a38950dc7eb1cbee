"""open_bus picks the bus a URL names; both buses satisfy the Bus protocol."""

from __future__ import annotations

import asyncio

import pytest

from nexus.bus import Bus, BusError, InProcessBus, RedisBus, open_bus
from nexus.config import Settings
from nexus.errors import ConfigError, NexusError


@pytest.mark.parametrize("url", [None, "", "  ", "memory://", "memory://local"])
def test_no_url_or_memory_gives_the_in_process_bus(url: str | None) -> None:
    bus = open_bus(url)
    assert type(bus) is InProcessBus
    assert isinstance(bus, Bus)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:secret@cache:6380/1", "unix:///tmp/r.sock"]
)
def test_redis_urls_give_a_redis_bus_with_the_prefix(url: str) -> None:
    bus = open_bus(url, prefix="prod")
    assert type(bus) is RedisBus
    assert isinstance(bus, Bus)
    assert bus.channel("bars") == "prod:bars"
    assert "secret" not in str(bus.status())


def test_settings_bus_url_opens_the_bus_it_names() -> None:
    assert type(open_bus(Settings(home="/tmp/nx").bus_url)) is InProcessBus
    settings = Settings(home="/tmp/nx", bus_url="redis://127.0.0.1:6379/0")
    assert type(open_bus(settings.bus_url)) is RedisBus
    assert settings.bus_prefix == "nexus"
    unix = Settings(home="/tmp/nx", bus_url="unix:///tmp/r.sock", bus_prefix="desk-2")
    bus = open_bus(unix.bus_url, prefix=unix.bus_prefix)
    assert bus.channel("signals") == "desk-2:signals"


@pytest.mark.parametrize("prefix", ["", "has space", "a:b"])
def test_settings_refuse_a_bus_prefix_that_is_not_a_plain_name(prefix: str) -> None:
    with pytest.raises(ValueError, match="bus_prefix"):
        Settings(home="/tmp/nx", bus_prefix=prefix)


@pytest.mark.parametrize("url", ["kafka://broker:9092", "127.0.0.1:6379", "http://x"])
def test_unknown_scheme_is_a_config_error_naming_the_url_and_fix(url: str) -> None:
    with pytest.raises(ConfigError, match=r"bus URL .* unknown scheme; use redis://"):
        open_bus(url)


def test_redis_bus_rejects_a_bad_url_or_empty_prefix() -> None:
    with pytest.raises(ConfigError, match="not a Redis URL"):
        RedisBus("memory://")
    with pytest.raises(ConfigError, match="prefix is empty"):
        RedisBus("redis://127.0.0.1:6379/0", prefix="")


def test_redis_bus_publish_before_start_or_after_close_says_what_to_do() -> None:
    bus = RedisBus("redis://127.0.0.1:6379/0")
    with pytest.raises(BusError, match=r"before start\(\); await bus.start\(\)") as info:
        bus.publish("bars", object())
    assert isinstance(info.value, NexusError)
    asyncio.run(bus.close())  # closing a bus that never started is fine
    with pytest.raises(BusError, match=r"after close\(\); open a new bus"):
        bus.publish("bars", object())
    with pytest.raises(BusError, match="after close"):
        asyncio.run(bus.start())


def test_in_process_bus_start_close_and_context_manager_change_nothing() -> None:
    async def run() -> tuple[list, dict]:
        bus = InProcessBus()
        async with bus as entered:
            assert entered is bus
            sub = bus.subscribe("bars", maxsize=1)
            bus.publish("bars", 1)
            bus.publish("bars", 2)
        await bus.close()
        bus.publish("bars", 3)  # still delivers: the in-process bus has nothing to close
        return [await sub.get(), sub.pending()], bus.status()

    got, status = asyncio.run(run())
    assert got == [3, 0]
    assert status == {
        "backend": "memory",
        "connected": True,
        "subscribers": {"bars": 1},
        "dropped": 2,
    }
