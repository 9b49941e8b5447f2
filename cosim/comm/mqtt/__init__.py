"""MQTT semantics over the simulated network: topics, packets (with wire sizes), broker, client."""

from .broker import MqttBroker, json_schema_check
from .client import SimMqttClient
from .packets import Will
from .topics import TopicError, check_topic_filter, check_topic_name, topic_matches

__all__ = ["MqttBroker", "SimMqttClient", "Will", "TopicError", "check_topic_filter", "check_topic_name",
           "topic_matches", "json_schema_check"]
