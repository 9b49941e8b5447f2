"""MQTT 3.1.1 topic names, topic filters and matching (OASIS MQTT v3.1.1, section 4.7)."""

from __future__ import annotations


class TopicError(ValueError):
    """A topic name or filter that breaks the section 4.7 rules."""


def check_topic_name(topic: str) -> None:
    """Topic names (what is published to) are non-empty and carry no wildcards (4.7.1, 4.7.3)."""
    if not topic:
        raise TopicError("topic name is empty")
    if "+" in topic or "#" in topic:
        raise TopicError(f"topic name {topic!r} contains a wildcard")
    if "\x00" in topic or len(topic.encode("utf-8")) > 65535:
        raise TopicError("topic name has a NUL character or is longer than 65535 bytes")


def check_topic_filter(topic_filter: str) -> None:
    """``+`` fills a whole level; ``#`` fills a whole level and is the last one (4.7.1.2-3)."""
    if not topic_filter:
        raise TopicError("topic filter is empty")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise TopicError(f"'#' must be a whole last level in {topic_filter!r}")
        if "+" in level and level != "+":
            raise TopicError(f"'+' must be a whole level in {topic_filter!r}")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches ``topic_filter`` (both assumed valid).

    A filter starting with a wildcard does not match topics starting with
    ``$`` (4.7.2); ``sport/#`` also matches ``sport`` itself (4.7.1.2); levels
    may be empty (``a//b``), and ``+`` matches an empty level.
    """
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    for i, f in enumerate(f_levels):
        if f == "#":
            return True
        if i >= len(t_levels):
            return False
        if f != "+" and f != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)
