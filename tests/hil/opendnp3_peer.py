"""An opendnp3 master's callbacks (the yadnp3 bindings), shared by the HIL and conformance tests.

opendnp3 calls these from its own threads: :class:`Collector` keeps every
value it decoded, :class:`MasterApp` every task's result, and
:func:`command` waits for a control's per-object results.
"""

from __future__ import annotations

import threading
import time

import opendnp3 as dnp

from hiltools import wait_until


class Collector(dnp.ISOEHandler):
    """What the opendnp3 master decoded: (type, index, value, flags, time ms, event?, unsolicited?) per point, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[tuple[str, int, object, int, int, bool, bool]] = []
        self.unsolicited = False
        self.lock = threading.Lock()

    def BeginFragment(self, info):  # noqa: N802 (opendnp3's names)
        self.unsolicited = bool(info.unsolicited)

    def EndFragment(self, info):  # noqa: N802
        pass

    def Process(self, info, values):  # noqa: N802
        with self.lock:
            for v in values:
                flags = v.value.flags
                self.points.append((type(v).__name__, v.index, v.value.value, int(getattr(flags, "value", flags)),
                                    int(v.value.time.value), bool(info.isEventVariation), self.unsolicited))

    def latest(self, kind: str, index: int, event: bool | None = None):
        with self.lock:
            found = [p for p in self.points if p[0] == kind and p[1] == index and event in (None, p[5])]
        return found[-1] if found else None


class MasterApp(dnp.IMasterApplication):
    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[tuple[str, str]] = []

    def Now(self):  # noqa: N802
        return dnp.UTCTimestamp(int(time.time() * 1000))

    def OnReceiveIIN(self, iin):  # noqa: N802
        pass

    def OnTaskStart(self, task_type, task_id):  # noqa: N802
        pass

    def OnTaskComplete(self, info):  # noqa: N802
        self.tasks.append((info.type.name, info.result.name))

    def OnOpen(self):  # noqa: N802
        pass

    def OnClose(self):  # noqa: N802
        pass

    def AssignClassDuringStartup(self):  # noqa: N802
        return False


class Listener(dnp.IChannelListener):
    def OnStateChange(self, state):  # noqa: N802
        pass


def command(master_call, *args) -> list[tuple[str, str]]:
    results: list = []
    master_call(*args, lambda r: results.append([(p.status.name, p.state.name) for p in r.to_list()]))
    assert wait_until(lambda: bool(results), 10.0)
    return results[0]
