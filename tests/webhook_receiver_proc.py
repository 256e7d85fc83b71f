"""One webhook receiver in its own process, for the several-receivers test.

``python webhook_receiver_proc.py APP_KEY APP_SECRET DB REDIS_URL LOG`` serves a
WebhookReceiver on a free loopback port (printed as ``PORT <n>``), remembers accepted
events in Redis (shared with the other receivers), stores them in its own SQLite inbox and
appends each processed event id to LOG. It stops when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web
from redis.asyncio import Redis

from temu_async.webhooks import InboxEvent, RedisReplayCache, WebhookReceiver


async def main(app_key: str, secret: str, db: str, redis_url: str, log: str) -> None:
    redis = Redis.from_url(redis_url)

    async def on_event(event: InboxEvent) -> None:
        with open(log, "a") as out:
            out.write(event.event_id + "\n")

    receiver = WebhookReceiver(
        app_key, secret, on_event, db=db, replay_cache=RedisReplayCache(redis)
    )
    app = web.Application()
    app.router.add_post("/hook", receiver.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await receiver.start(poll_interval=0.05)
    print("PORT", runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await receiver.close()
    await runner.cleanup()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
