"""compose.yaml parses, and every chainwatch service runs a real `chainwatch` command with real options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from streams.cli.main import app

REPO = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def resolve(argv: list[str]) -> Any:
    """The command `chainwatch ARGV…` would run; fails on an unknown command or option."""
    command: Any = typer.main.get_command(app)
    args = list(argv)
    # typer may vendor its own click, so groups are recognised by what they do, not by class
    while hasattr(command, "get_command") and args and not args[0].startswith("-"):
        name = args.pop(0)
        sub = command.get_command(command.context_class(command), name)
        assert sub is not None, f"`chainwatch {' '.join(argv)}`: no command {name!r}"
        command = sub
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=", 1)[0] in known, f"`chainwatch {' '.join(argv)}`: no option {arg}"
    return command


def test_compose_has_the_topology_with_health_checks_and_a_named_volume() -> None:
    data = compose()
    services = data["services"]
    assert {"kafka", "topics", "worker", "loader"} <= set(services)
    assert "healthcheck" in services["kafka"] and "healthcheck" in services["worker"]
    assert "lake" in data["volumes"]
    for reader_or_writer in ("loader", "ui"):  # the page reads the lake the loader writes
        assert any(v.startswith("lake:/lake") for v in services[reader_or_writer]["volumes"])
    assert services["loader"]["command"][:3] == ["load", "--lake", "/lake/catalog.sqlite"]
    assert services["ui"]["command"][:3] == ["ui", "--lake", "/lake/catalog.sqlite"]
    assert services["receiver"]["command"][0] == "receive"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_every_chainwatch_service_runs_a_real_command() -> None:
    services = compose()["services"]
    checked = 0
    for name, service in services.items():
        if service.get("image") != "chainwatch:local":
            continue
        command = service["command"]
        assert isinstance(command, list), f"{name}: give the command as a list"
        resolve(command)
        checked += 1
    assert checked >= 4


def test_the_resolver_rejects_unknown_commands_and_options() -> None:
    for argv in (["nonsense"], ["load", "--no-such-option"]):
        try:
            resolve(argv)
        except AssertionError:
            continue
        raise AssertionError(f"{argv} was accepted")


def test_compose_settings_are_real_settings_fields() -> None:
    from streams.alerts.ui.server import TOKEN_ENV
    from streams.settings import Settings

    for name, service in compose()["services"].items():
        for key in service.get("environment") or {}:
            if not key.startswith("CHAINWATCH_") or key == TOKEN_ENV:  # the page reads its token itself
                continue
            path = key.removeprefix("CHAINWATCH_").lower().split("__")
            model: Any = Settings
            for part in path:
                assert part in model.model_fields, f"{name}: {key} is not a setting"
                model = model.model_fields[part].annotation
