"""Reading and validating request parameters.

GET endpoints read the query string (everything is a string there: "true"/"false"/"1"/"0" for
booleans, empty values count as absent); POST endpoints read a JSON object, where types are
checked the way the platform's Go JSON decoding would (a string is not an int).
"""
from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from . import readings
from .errors import invalid, missing

T = TypeVar("T")

# the 'loose' extension; without it booleans are read like Go's strconv.ParseBool
TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}
GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _loose() -> bool:
    return readings.current().has("loose")


class Params:
    def __init__(self, source: Mapping[str, Any], from_query: bool = False, prefix: str = "") -> None:
        self.source = source
        self.from_query = from_query
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def raw(self, key: str) -> Any:
        value = self.source.get(key)
        if value is None or (isinstance(value, str) and value == ""):
            return None
        return value

    def has(self, key: str) -> bool:
        return self.raw(key) is not None

    # --- scalars -----------------------------------------------------------------------
    def str(
        self,
        key: str,
        required: bool = True,
        default: str | None = None,
        choices: Sequence[str] | None = None,
        max_len: int = 256,
    ) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return default
        if not isinstance(value, str):
            raise invalid(self.name(key), "must be a string", "必须是字符串")
        if len(value) > max_len:
            raise invalid(self.name(key), f"longer than {max_len} characters", f"长度超过 {max_len} 个字符")
        if choices is not None and value not in choices:
            allowed = ", ".join(choices)
            raise invalid(self.name(key), f"must be one of: {allowed}", f"必须是以下之一：{allowed}")
        return value

    def req_str(self, key: str, **kwargs: Any) -> str:
        value = self.str(key, required=True, **kwargs)
        assert value is not None
        return value

    def int(
        self,
        key: str,
        required: bool = False,
        default: int = 0,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return default
        number: int
        if self.from_query and isinstance(value, str):
            try:
                number = int(value.strip() if _loose() else value)
            except ValueError:
                raise invalid(self.name(key), "must be an integer", "必须是整数") from None
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(self.name(key), "must be an integer", "必须是整数")
        elif isinstance(value, float):
            # Go's encoding/json refuses 4.0 for an int field
            if not value.is_integer() or not _loose():
                raise invalid(self.name(key), "must be an integer", "必须是整数")
            number = int(value)
        else:
            number = value
        check_range(self.name(key), number, minimum, maximum)
        return number

    def float(
        self,
        key: str,
        required: bool = False,
        default: float = 0.0,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return default
        number: float
        if self.from_query and isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise invalid(self.name(key), "must be a number", "必须是数字") from None
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(self.name(key), "must be a number", "必须是数字")
        else:
            number = float(value)
        if not math.isfinite(number):
            raise invalid(self.name(key), "must be a finite number", "必须是有限数字")
        check_range(self.name(key), number, minimum, maximum)
        return number

    def bool(self, key: str, required: bool = False, default: bool = False) -> bool:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and self.from_query:
            if not _loose():
                if value in GO_TRUE:
                    return True
                if value in GO_FALSE:
                    return False
                raise invalid(self.name(key), "must be a boolean (true or false)", "必须是布尔值（true 或 false）")
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        raise invalid(self.name(key), "must be a boolean (true or false)", "必须是布尔值（true 或 false）")

    # --- structured ----------------------------------------------------------------------
    def obj(self, key: str, required: bool = True) -> Params | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, dict):
            raise invalid(self.name(key), "must be a JSON object", "必须是 JSON 对象")
        return Params(value, prefix=f"{self.name(key)}.")

    def list(self, key: str, required: bool = True) -> list[Any]:
        value = self.raw(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return []
        if not isinstance(value, list):
            raise invalid(self.name(key), "must be a JSON array", "必须是 JSON 数组")
        if required and not value:
            raise missing(self.name(key))
        return value

    def item(self, key: str, index: int, value: Any) -> Params:
        if not isinstance(value, dict):
            raise invalid(f"{self.name(key)}[{index}]", "must be a JSON object", "必须是 JSON 对象")
        return Params(value, prefix=f"{self.name(key)}[{index}].")

    # --- addresses -------------------------------------------------------------------------
    def ip(self, key: str, required: bool = True) -> str | None:
        value = self.str(key, required=required, max_len=64)
        if value is None:
            return None
        return parse_ip(self.name(key), value)

    def req_ip(self, key: str) -> str:
        value = self.ip(key, required=True)
        assert value is not None
        return value

    def cidr(self, key: str) -> ipaddress.IPv4Interface:
        value = self.req_str(key, max_len=64)
        return parse_cidr(self.name(key), value)


def check_range(name: str, number: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and number < minimum:
        raise invalid(name, f"must be >= {minimum}", f"必须大于等于 {minimum}")
    if maximum is not None and number > maximum:
        raise invalid(name, f"must be <= {maximum}", f"必须小于等于 {maximum}")


def parse_ip(name: str, value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise invalid(name, f"'{value}' is not an IPv4 address", f"'{value}' 不是 IPv4 地址") from None


def parse_cidr(name: str, value: str) -> ipaddress.IPv4Interface:
    if "/" not in value:
        raise invalid(
            name,
            f"'{value}' is not an address in CIDR notation (e.g. 192.0.2.10/24)",
            f"'{value}' 不是 CIDR 格式的地址（例如 192.0.2.10/24）",
        )
    try:
        iface = ipaddress.IPv4Interface(value.strip())
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid IPv4 CIDR address", f"'{value}' 不是有效的 IPv4 CIDR 地址") from None
    net = iface.network
    if net.prefixlen < 8 or net.prefixlen > 30:
        raise invalid(name, "prefix length must be between 8 and 30", "前缀长度必须在 8 到 30 之间")
    if iface.ip in (net.network_address, net.broadcast_address):
        raise invalid(
            name,
            f"{iface.ip} is the network or broadcast address of {net}",
            f"{iface.ip} 是网络 {net} 的网络地址或广播地址",
        )
    return iface


def check_gateway(name: str, gateway: str, iface: ipaddress.IPv4Interface, cidr_name: str) -> None:
    gw = ipaddress.IPv4Address(gateway)
    if gw not in iface.network or gw in (iface.network.network_address, iface.network.broadcast_address):
        raise invalid(
            name,
            f"gateway {gw} is not a host address of the network {iface.network} of '{cidr_name}'",
            f"网关 {gw} 不在 '{cidr_name}' 的网络 {iface.network} 内",
        )
    if gw == iface.ip:
        raise invalid(name, f"gateway {gw} equals the address of '{cidr_name}'", f"网关 {gw} 与 '{cidr_name}' 的地址相同")


def paginate(items: list[T], page_num: int, page_size: int) -> list[T]:
    """One page under the simulator's reading (simulator/readings.py): ``page_size`` 0 is everything
    or a page of the default size; ``page_num`` counts from the page base (1: 0 is read as 1;
    0: page 0 is the first)."""
    reading = readings.current()
    if page_size <= 0:
        if reading.page_size_zero == "all":
            return items
        page_size = readings.DEFAULT_PAGE_SIZE
    page = max(page_num, reading.page_base) - reading.page_base
    start = page * page_size
    return items[start : start + page_size]


def page_params(params: Params) -> tuple[int, int]:
    return (
        params.int("page_num", minimum=0, maximum=10**9),
        params.int("page_size", minimum=0, maximum=10**6),
    )
