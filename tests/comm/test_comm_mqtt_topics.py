"""MQTT 3.1.1 topic matching (OASIS MQTT v3.1.1, section 4.7) as a table."""

from __future__ import annotations

import pytest

from cosim.comm.mqtt import TopicError, check_topic_filter, check_topic_name, topic_matches

MATCHES = [
    # filter, topic, matches
    ("sport/tennis/player1", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1", True),          # 4.7.1.2: parent level too
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),
    ("#", "sport/tennis", True),
    ("#", "/", True),
    ("sport/tennis/+", "sport/tennis/player1", True),
    ("sport/tennis/+", "sport/tennis/player1/ranking", False),
    ("sport/+", "sport", False),                                       # 4.7.1.3
    ("sport/+", "sport/", True),                                       # + matches an empty level
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("+", "/finance", False),
    ("+/tennis/#", "sport/tennis/player1", True),
    ("sport/tennis", "sport/Tennis", False),                           # case sensitive
    ("a//b", "a//b", True),
    ("a/+/b", "a//b", True),
    ("#", "$SYS/broker/load", False),                                  # 4.7.2: $ topics
    ("+/monitor/Clients", "$SYS/monitor/Clients", False),
    ("$SYS/#", "$SYS/monitor/Clients", True),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
]


@pytest.mark.parametrize("topic_filter, topic, expected", MATCHES)
def test_topic_matching(topic_filter, topic, expected):
    assert topic_matches(topic_filter, topic) is expected


@pytest.mark.parametrize("topic_filter", ["sport/tennis#", "sport/#/ranking", "sport+", "", "#/x", "a/b+/c"])
def test_invalid_filters(topic_filter):
    with pytest.raises(TopicError):
        check_topic_filter(topic_filter)


@pytest.mark.parametrize("topic_filter", ["#", "+", "+/+", "a/+/b/#", "/", "$SYS/#"])
def test_valid_filters(topic_filter):
    check_topic_filter(topic_filter)


@pytest.mark.parametrize("topic", ["", "a/+", "a/#", "nul\x00"])
def test_invalid_topic_names(topic):
    with pytest.raises(TopicError):
        check_topic_name(topic)
