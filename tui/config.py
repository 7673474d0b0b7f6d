"""The one typed, frozen settings object, read from strict TOML.

Where the file comes from: ``--config PATH``, else ``$LOCKSTEP_CONFIG``, else
``config.toml`` in the platform config directory (absent means defaults). Unknown
keys and bad values are errors that name the file, the key and the problem.
"""

from __future__ import annotations

import ast
import inspect
import ipaddress
import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import platformdirs

from feeds.alerts.settings import AlertsSettings
from feeds.history.settings import HistorySettings
from feeds.hub.settings import HubSettings
from feeds.quotes.settings import QuotesSettings
from feeds.rates.settings import FedOddsSettings
from feeds.tbills.settings import TbillsSettings

APP_NAME = "lockstep"


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the file."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each source lives. Override any of them for a proxy, a mirror or the
    simulated market. Plain ws:// and http:// are refused except on loopback."""

    coinbase_ws: str = "wss://ws-feed.exchange.coinbase.com"
    """Coinbase Exchange websocket feed (BTC ticker + heartbeat)."""
    kraken_ws: str = "wss://ws.kraken.com/v2"
    """Kraken WebSocket v2 (BTC/USD ticker), the second venue."""
    coinbase_rest: str = "https://api.exchange.coinbase.com"
    """Coinbase Exchange REST (daily candles for BTC history)."""
    yahoo: str = "https://query2.finance.yahoo.com"
    """Yahoo Finance chart API (index, ETF and futures quotes; history)."""
    cboe: str = "https://cdn.cboe.com"
    """Cboe delayed quotes (fallback when Yahoo fails)."""
    kalshi: str = "https://api.elections.kalshi.com/trade-api/v2"
    """Kalshi market data (Fed decision odds)."""
    polymarket: str = "https://gamma-api.polymarket.com"
    """Polymarket Gamma API (Fed odds cross-check and fallback)."""
    nyfed: str = "https://markets.newyorkfed.org"
    """NY Fed Markets API (EFFR and target range; Treasury operations)."""
    nyfed_web: str = "https://www.newyorkfed.org"
    """NY Fed website (the monthly tentative T-bill purchase schedule)."""
    fred: str = "https://fred.stlouisfed.org"
    """FRED keyless CSV (target range fallback; reserves, ON RRP, TGA)."""


@dataclass(frozen=True, slots=True)
class BtcSettings:
    """The live BTC stream."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "stale_after": (1.0, 300.0),
        "reconnect_after": (2.0, 600.0),
        "failback_after": (1.0, 3600.0),
        "backoff_base": (0.1, 60.0),
        "backoff_cap": (1.0, 3600.0),
        "healthy_after": (1.0, 3600.0),
        "max_attempts_per_minute": (1, 60),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    primary: str = "coinbase"
    """The venue shown while healthy: "coinbase" or "kraken"; the other is the failover."""
    stale_after: float = 5.0
    """Seconds with no message of any kind before a venue shows STALE."""
    reconnect_after: float = 10.0
    """Seconds with no message of any kind before the connection is dropped and reopened."""
    failback_after: float = 30.0
    """Seconds the primary must stay healthy before the panel returns to it."""
    backoff_base: float = 1.0
    """First reconnect backoff step, seconds (fully jittered, doubling)."""
    backoff_cap: float = 60.0
    """Largest reconnect backoff step, seconds."""
    healthy_after: float = 60.0
    """A connection that stayed up this long resets the backoff, seconds."""
    max_attempts_per_minute: int = 10
    """Hard cap on connection attempts per venue in any 60 seconds."""


@dataclass(frozen=True, slots=True)
class UiSettings:
    """The screen."""

    fps: float = 10.0
    """Repaints per second at most (1-30). Lower it over slow SSH links."""
    low_bandwidth: bool = False
    """Turn off sparklines, charts and flashes to save terminal bytes."""
    theme: str = "dark"
    """Colour theme: "dark", "light" (both paint their own background, so they read on
    any terminal) or "ansi" (the terminal's own 16 colours and background). `t` cycles."""
    up_color: str = ""
    """Colour for rising prices: a name ("green", "ansi_bright_green") or "#rrggbb".
    Empty: the theme's own."""
    down_color: str = ""
    """Colour for falling prices, as up_color. Empty: the theme's own."""
    compositor: str = "banded"
    """How the screen is redrawn: "banded" (renders only the widgets near each change)
    or "stock" (Textual's own compositor, if a Textual upgrade misbehaves). Restart to
    apply."""


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Where lockstep keeps its history database and log."""

    dir: str = ""
    """Data directory; empty means $LOCKSTEP_DATA_DIR, else the platform data directory."""


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    """Transport options. TLS verification is always on and cannot be turned off."""

    ca_file: str = ""
    """An extra CA bundle (PEM) to trust, e.g. a corporate proxy's. Adds trust only."""


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """`lockstep serve`: the dashboard in a browser."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"max_sessions": (1, 64)}
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    token: str = ""
    """Access token a browser must present (the URL's ?token=). Empty: `lockstep serve`
    makes a new one at each start when it listens beyond loopback. Set, it is required on
    every address. At least 16 characters: letters, digits, - and _."""
    max_sessions: int = 8
    """Browser sessions at once (1-64); each runs its own dashboard process. The next one
    is refused with a page that says so."""

    def __post_init__(self) -> None:
        if self.token and not re.fullmatch(r"[A-Za-z0-9_-]{16,200}", self.token):
            # The token travels in a URL and a cookie: URL-safe characters only, and long
            # enough not to be guessed (never echoed back in the message).
            raise ValueError(
                "serve.token must be 16-200 letters, digits, - or _ "
                '(or empty for a new one at each start: python3 -c "import secrets; '
                'print(secrets.token_urlsafe())")'
            )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, one table per section."""

    endpoints: Endpoints = field(default_factory=Endpoints)
    btc: BtcSettings = field(default_factory=BtcSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    quotes: QuotesSettings = field(default_factory=QuotesSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    fed: FedOddsSettings = field(default_factory=FedOddsSettings)
    tbills: TbillsSettings = field(default_factory=TbillsSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)


def config_path(cli_path: str | None, env: typing.Mapping[str, str]) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    if cli_path:
        return Path(cli_path).expanduser(), True
    if env.get("LOCKSTEP_CONFIG"):
        return Path(env["LOCKSTEP_CONFIG"]).expanduser(), True
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml", False


HUB_ENV = "LOCKSTEP_HUB"
"""The environment variable naming the desk hub (see :func:`hub_url`). It keeps a URL
with a Redis password off command lines, which ``ps`` shows every user; ``lockstep
serve`` hands its ``--hub`` to each browser session this way."""


def hub_url(cli_url: str | None, env: typing.Mapping[str, str], configured: str) -> str | None:
    """The hub to use: ``--hub``, else ``$LOCKSTEP_HUB``, else ``[hub] url``; None for
    none (a direct terminal)."""
    return cli_url or env.get(HUB_ENV) or configured or None


def load_settings(
    cli_path: str | None = None, env: typing.Mapping[str, str] | None = None
) -> tuple[Settings, Path | None]:
    """Read and validate the settings; returns them and the file used (None = defaults)."""
    env = os.environ if env is None else env
    path, named = config_path(cli_path, env)
    if not path.exists():
        if named:
            raise ConfigError(f"{path}: no such file")
        return Settings(), None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    settings = build(Settings, data, path, ())
    check_ranges(settings, path)
    validate(settings, path)
    return settings, path


def build(cls: type[Any], data: object, path: Path, where: tuple[str, ...]) -> Any:
    """Build dataclass ``cls`` from a TOML table, strictly."""
    label = ".".join(where)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{label}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for key in data:
        if key not in known:
            table = f"[{label}] " if label else ""
            choices = ", ".join(sorted(known))
            raise ConfigError(f"{path}: {table}unknown key {key!r} (known: {choices})")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        want = hints[f.name]
        raw = data[f.name]
        if is_dataclass(want):
            values[f.name] = build(typing.cast(type, want), raw, path, (*where, f.name))
        else:
            values[f.name] = _coerce(want, raw, path, ".".join((*where, f.name)))
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        # Sections check what ranges cannot express and name the key; some name it as
        # "fed.primary", so the table is said once, not twice.
        message = str(exc)
        if label and message.startswith(f"{label}."):
            message = message[len(label) + 1 :]
        prefix = f"[{label}] " if label else ""
        raise ConfigError(f"{path}: {prefix}{message}") from exc


def ranges(cls: type) -> dict[str, tuple[float, float]]:
    """A settings class's declared ``(lowest, highest)`` per key (its ``RANGES``)."""
    declared = getattr(cls, "RANGES", {})
    return dict(declared) if isinstance(declared, dict) else {}


def check_ranges(settings: Settings, path: Path | str) -> None:
    """The one range check: every key a section declares in ``RANGES`` must lie within
    its bounds. The error names the file, the key and the allowed range, once."""
    for section in fields(settings):
        table = getattr(settings, section.name)
        for key, (low, high) in ranges(type(table)).items():
            value = getattr(table, key)
            if not low <= value <= high:
                raise ConfigError(
                    f"{path}: {section.name}.{key} must be between {low:g} and {high:g} "
                    f"(got {value:g})"
                )


def _coerce(want: Any, raw: object, path: Path, key: str) -> object:
    bad = f"{path}: {key}"
    origin = typing.get_origin(want)
    if want is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{bad}: expected true or false, got {raw!r}")
        return raw
    if want is int:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ConfigError(f"{bad}: expected a whole number, got {raw!r}")
        if raw < 0 or raw > 10**9:
            raise ConfigError(f"{bad}: {raw} is out of range")
        return raw
    if want is float:
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise ConfigError(f"{bad}: expected a number, got {raw!r}")
        value = float(raw)
        if not (0 <= value <= 10**7):
            raise ConfigError(f"{bad}: {raw} is out of range")
        return value
    if want is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{bad}: expected a string, got {raw!r}")
        if len(raw) > 1000 or any(ord(c) < 0x20 for c in raw):
            raise ConfigError(f"{bad}: string too long or has control characters")
        return raw
    if origin is tuple:
        args = typing.get_args(want)
        if not isinstance(raw, list):
            raise ConfigError(f"{bad}: expected a list, got {raw!r}")
        if len(raw) > 200:
            raise ConfigError(f"{bad}: list too long ({len(raw)} items, at most 200)")
        return tuple(_coerce(args[0], item, path, f"{key}[{i}]") for i, item in enumerate(raw))
    if origin in (types.UnionType, typing.Union):
        raise ConfigError(f"{bad}: unsupported type")  # pragma: no cover - no such fields
    raise ConfigError(f"{bad}: unsupported setting type {want!r}")  # pragma: no cover


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, secure: str, plain: str) -> str | None:
    """A problem with an endpoint URL, or None. Plain schemes only on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in (secure, plain):
        return f"must start with {secure}:// (got {url!r})"
    if not parts.hostname:
        return f"has no host: {url!r}"
    if parts.username or parts.password:
        return "must not carry credentials"
    if parts.scheme == plain and not is_loopback(parts.hostname):
        return f"plain {plain}:// is only allowed to a loopback address; use {secure}://"
    return None


def validate(settings: Settings, path: Path | str) -> None:
    """Cross-field checks that types alone cannot express."""
    for f in fields(Endpoints):
        url = getattr(settings.endpoints, f.name)
        secure, plain = ("wss", "ws") if f.name.endswith("_ws") else ("https", "http")
        problem = check_url(url, secure, plain)
        if problem:
            raise ConfigError(f"{path}: endpoints.{f.name} {problem}")
    btc = settings.btc
    if btc.primary not in ("coinbase", "kraken"):
        raise ConfigError(f'{path}: btc.primary must be "coinbase" or "kraken"')
    if not 0 < btc.stale_after < btc.reconnect_after:
        raise ConfigError(f"{path}: btc.stale_after must be above 0 and below reconnect_after")
    if not 0 < btc.backoff_base <= btc.backoff_cap:
        raise ConfigError(f"{path}: btc.backoff_base must be above 0 and at most backoff_cap")
    if not 1 <= btc.max_attempts_per_minute <= 60:
        raise ConfigError(f"{path}: btc.max_attempts_per_minute must be 1-60")
    if not 1 <= settings.ui.fps <= 30:
        raise ConfigError(f"{path}: ui.fps must be between 1 and 30")
    if settings.ui.theme not in THEME_NAMES:
        raise ConfigError(f"{path}: ui.theme must be one of {', '.join(THEME_NAMES)}")
    if settings.ui.compositor not in ("banded", "stock"):
        raise ConfigError(f'{path}: ui.compositor must be "banded" or "stock"')
    for key in ("up_color", "down_color"):
        problem = color_problem(getattr(settings.ui, key))
        if problem:
            raise ConfigError(f"{path}: ui.{key} {problem}")
    if settings.network.ca_file and not Path(settings.network.ca_file).expanduser().is_file():
        raise ConfigError(f"{path}: network.ca_file {settings.network.ca_file!r} not found")


THEME_NAMES = ("dark", "light", "ansi")
"""The ``[ui] theme`` values, in the order ``t`` cycles them."""


def color_problem(value: str) -> str | None:
    """Why ``value`` is not a usable colour, or None (empty means the theme's own)."""
    if not value:
        return None
    from textual.color import Color, ColorParseError

    try:
        Color.parse(value)
    except ColorParseError:
        return f'is not a colour: {value!r} (use a name like "green" or "#1a7f37")'
    return None


def data_dir(settings: Settings, env: typing.Mapping[str, str] | None = None) -> Path:
    """The data directory: [storage] dir, else $LOCKSTEP_DATA_DIR, else the platform's."""
    env = os.environ if env is None else env
    if settings.storage.dir:
        return Path(settings.storage.dir).expanduser()
    if env.get("LOCKSTEP_DATA_DIR"):
        return Path(env["LOCKSTEP_DATA_DIR"]).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def with_endpoints(settings: Settings, **urls: str) -> Settings:
    """A copy with some endpoints replaced (the demo points them at the simulated market)."""
    return replace(settings, endpoints=replace(settings.endpoints, **urls))


def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass, read from its source."""
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for prev, node in zip(body, body[1:], strict=False):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[prev.target.id] = " ".join(node.value.value.split())
    return docs


def example_toml(cls: type = Settings) -> str:
    """A complete, commented config file with every default (``lockstep config``)."""
    lines = [
        "# lockstep configuration. Every key is optional; these are the defaults.",
        "# Unknown keys are errors. Durations are in seconds.",
    ]
    for f in fields(cls):
        sub = typing.get_type_hints(cls)[f.name]
        if not is_dataclass(sub):
            continue
        sub_t = typing.cast(type, sub)
        lines += ["", f"[{f.name}]"]
        doc = " ".join((sub_t.__doc__ or "").strip().split("\n\n")[0].split())
        if doc:
            lines.append(f"# {doc}")
        docs = _field_docs(sub_t)
        instance = sub_t()
        for g in fields(sub_t):
            if g.default is MISSING and g.default_factory is MISSING:  # pragma: no cover
                continue
            if g.name in docs:
                lines.append(f"# {docs[g.name]}")
            lines.append(f"{g.name} = {_toml_value(getattr(instance, g.name))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)  # pragma: no cover
