"""Reads py-spy's raw (collapsed) stacks: top frames by own and total time, and where time goes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
# A sample belongs to the area of its innermost frame that names one (py-spy writes paths
# relative to sys.path: "botocore/auth.py"). Event-loop and thread frames only count when
# nothing above them does, so a socket write made for a frame is a frame write.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("logging/",)),
    ("SigV4 signing (botocore signer)", ("botocore/auth.py", "botocore/signers.py", "sigv4.py")),
    (
        "publisher: HTTP client posting (aiohttp or botocore pipeline)",
        (
            "aiohttp/",
            "urllib3/",
            "http/client.py",
            "botocore/",
            "boto3/",
            "yarl/",
            "multidict/",
            "lean_publisher.py",
            "apigateway_publisher.py",
            "post_outcomes.py",
        ),
    ),
    ("gateway: WebSocket frames out and in", ("websockets/", "local_gateway/websocket/wire.py")),
    (
        "gateway: @connections HTTP server (h11, routing, checks)",
        (
            "h11/",
            "local_gateway/http_",
            "local_gateway/connections_api/management_api.py",
            "local_gateway/connections_api/posting.py",
        ),
    ),
    ("gateway: sessions, events, Lambda invoker", ("local_gateway/",)),
    (
        "handler, domain, memory store",
        ("domain/", "adapters/", "entrypoints/", "aws_lambda_powertools/", "dependency_injector/"),
    ),
]
FALLBACKS: list[tuple[str, tuple[str, ...]]] = [
    ("asyncio event loop (no project frame)", ("asyncio/", "selectors.py")),
    ("threads (no project frame)", ("threading.py", "concurrent/")),
]


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    def __str__(self) -> str:
        return f"{self.function} ({_short(self.file)})"


def parse(path: Path) -> list[tuple[list[Frame], int]]:
    """Each stack (root first) with its sample count."""
    stacks = []
    for line in path.read_text().splitlines():
        text, _, count = line.rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = []
        for part in text.split(";"):
            match = FRAME.match(part)
            if match:  # py-spy's "process"/"thread" headers do not match: skip them
                frames.append(Frame(match["function"], match["file"]))
        stacks.append((frames, int(count)))
    return stacks


def area_of(frames: list[Frame]) -> str:
    for areas in (AREAS, FALLBACKS):
        for frame in reversed(frames):
            path = "/" + frame.file
            for area, markers in areas:
                if any("/" + marker in path for marker in markers):
                    return area
    return "other"


def summarize(path: Path, top: int = 30) -> str:
    stacks = parse(path)
    total = sum(count for _, count in stacks) or 1
    own: Counter[Frame] = Counter()
    inclusive: Counter[Frame] = Counter()
    areas: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        areas[area_of(frames)] += count
    lines = [f"{total} samples", "", "Where the time goes (innermost matching frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {area}" for area, n in areas.most_common()]
    lines += ["", f"Top {top} frames by own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", f"Top {top} frames by total time (own + callees):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def area_shares(path: Path) -> dict[str, float]:
    stacks = parse(path)
    total = sum(count for _, count in stacks) or 1
    shares: Counter[str] = Counter()
    for frames, count in stacks:
        shares[area_of(frames)] += count
    return {area: 100 * n / total for area, n in shares.most_common()}


def _short(file: str) -> str:
    # site-packages/x/y.py -> x/y.py; /work/main/a/b.py -> a/b.py; stdlib -> its module path.
    for anchor in ("site-packages/", "/work/main/", "/lib/python3"):
        if anchor in file:
            rest = file.split(anchor, 1)[1]
            return rest.split("/", 1)[1] if anchor == "/lib/python3" and "/" in rest else rest
    return file
