"""The asyncio face of a session: awaitable submits and an async map, on top of the threaded Session."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from hal.htc.client import Session


class AsyncSession:
    """``async with client.async_session("app", slots=4) as s: r = await s.submit(x)``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.id = session.id

    async def submit(self, x: Any, priority: int = 0) -> Any:
        return await asyncio.wrap_future(self.session.submit(x, priority))

    async def map(self, inputs: Iterable[Any], ordered: bool = True, priority: int = 0) -> AsyncIterator[Any]:
        """Keeps at most the session's window of tasks outstanding; yields in submission or completion order."""
        window = self.session.window
        pending: deque[asyncio.Future[Any]] = deque()
        for x in inputs:
            pending.append(asyncio.wrap_future(self.session.submit(x, priority)))
            if len(pending) >= window:
                async for value in self._drain(pending, ordered, 1):
                    yield value
        async for value in self._drain(pending, ordered, len(pending)):
            yield value

    @staticmethod
    async def _drain(pending: deque[asyncio.Future[Any]], ordered: bool, n: int) -> AsyncIterator[Any]:
        for _ in range(n):
            if ordered:
                yield await pending.popleft()
                continue
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            first = next(iter(done))
            pending.remove(first)
            yield first.result()

    def cancel(self) -> None:
        self.session.cancel()

    async def close(self) -> None:
        """Ends the session off the event loop (a round trip to the manager); an awaited task still outstanding
        raises SessionClosed, one still queued is cancelled: none stays pending (QA)."""
        await asyncio.get_running_loop().run_in_executor(None, self.session.close)

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            await asyncio.get_running_loop().run_in_executor(None, self.session.wait)
        await self.close()
