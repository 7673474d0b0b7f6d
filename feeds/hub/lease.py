"""The standby hub's lease: one hub publishes at a time.

A hub leads while it holds ``<prefix>:lease``, a key with a TTL holding
``<holder>:<token>``. The token comes from ``INCR <prefix>:fence``, so every new leader has
a larger one. The leader renews the lease on every heartbeat; a standby hub tries to take
it every second and gets it once the leader's has expired. Every publish is a Lua script
that first checks the lease still holds the publisher's own ``holder:token`` (the fencing
check) and writes nothing otherwise, so a hub that paused past its lease (a stopped
process, a long GC) and lost it cannot publish over the new leader, not even once.
"""

from __future__ import annotations

from typing import Any

ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur then
  if cur == ARGV[3] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {tonumber(string.match(cur, ':(%d+)$')), 0}
  end
  return {-1, 0}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return {token, 1}
"""
"""Take the lease if it is free, or renew it if it is ours (``ARGV[3]`` is our current
``holder:token``, or "" before we hold one). Returns ``{token, fresh}``: the token (-1 if
another hub holds the lease) and 1 when the lease was taken anew rather than renewed.
KEYS: lease, fence. ARGV: holder, ttl ms, current."""

PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  local entry = ARGV[4 + 2 * i]
  local key = ARGV[5 + 2 * i]
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', entry)
  if key ~= '' then redis.call('HSET', KEYS[3], key, entry) end
end
return n
"""
"""Fenced publish of ``n`` entries: each onto the stream and, with a key, into the latest
hash. KEYS: lease, stream, latest. ARGV: holder:token, maxlen, n, then entry and key
pairs. Returns n, or -1 (nothing written) when the lease is not ours."""

LATEST = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""
"""Fenced rewrite of the latest-value hash. KEYS: lease, latest. ARGV: holder:token, then
key and entry pairs."""

BEAT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
"""
"""Fenced heartbeat. KEYS: lease, heartbeat. ARGV: holder:token, value, ttl ms."""


class LeaseLost(Exception):
    """This hub no longer holds the lease: it must stop publishing."""


async def acquire(
    redis: Any, lease: str, fence: str, holder: str, ttl_ms: int, mine: str
) -> tuple[int, bool]:
    """Run :data:`ACQUIRE`: the token held (ours, new or renewed; -1 if another hub's),
    and whether the lease was taken anew (it had lapsed, or Redis lost it)."""
    reply = await redis.eval(ACQUIRE, 2, lease, fence, holder, ttl_ms, mine)
    token, fresh = (reply[0], reply[1]) if isinstance(reply, list) and len(reply) == 2 else (-1, 0)
    return int(token), bool(int(fresh))


RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""
"""On a clean stop: give the lease up and take the heartbeat down, if still ours (a
standby then takes over at once). KEYS: lease, heartbeat. ARGV: holder:token."""
