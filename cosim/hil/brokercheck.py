"""Before a serve starts: can the bench's MQTT broker be reached, and does it let us in?

The serve's clients connect asynchronously and retry with backoff for ever,
which is right once a bench is running (a broker restart is survived) and
wrong at the start: a wrong password, a wrong CA file, plain TCP against a TLS
port or no broker at all would otherwise give a run that "completed" with
nothing delivered. One blocking CONNECT with the bench's own credentials and
TLS settings, within ``connect_timeout_s`` wall seconds, tells them apart.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from typing import Any

from .config import MqttBrokerConfig
from .mqtt import make_paho_client

_AUTH_CODES = {4, 5, 134, 135}  # MQTT 3.1.1 CONNACK 4/5, MQTT 5 0x86/0x87: bad credentials, not authorised


def probe_broker(config: MqttBrokerConfig) -> str | None:
    """None when the broker accepts a CONNECT within ``config.connect_timeout_s``; else why not, in one line."""
    where = f"{config.host}:{config.port}"
    client = make_paho_client(f"{config.client_id_prefix}cosim-probe-{os.getpid()}", config, clean_session=True)
    client.connect_timeout = config.connect_timeout_s
    answer: dict[str, Any] = {}
    client.on_connect = lambda c, userdata, flags, reason, properties: answer.setdefault("reason", reason)
    client.on_disconnect = lambda c, userdata, flags, reason, properties: answer.setdefault("closed", reason)
    try:
        client.connect(config.host, config.port, keepalive=max(config.keepalive_s, 5))
    except ssl.SSLCertVerificationError as error:
        return f"MQTT broker {where}: TLS verification failed ({error.verify_message})"
    except ssl.SSLError as error:
        return f"MQTT broker {where}: TLS handshake failed ({error.reason or error}); is it a TLS port?"
    except (socket.timeout, TimeoutError):
        return f"MQTT broker {where} unreachable: no answer within {config.connect_timeout_s:g} s"
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as error:
        if config.tls is not None:  # the TCP connection was made; the peer dropped the TLS handshake
            return f"MQTT broker {where}: TLS handshake failed ({error.strerror or error}); is it a TLS port?"
        return f"MQTT broker {where}: connection dropped ({error.strerror or error})"
    except OSError as error:
        return f"MQTT broker {where} unreachable: {error.strerror or error}"
    try:
        deadline = time.monotonic() + config.connect_timeout_s
        while "reason" not in answer and "closed" not in answer and time.monotonic() < deadline:
            client.loop(timeout=0.1)
    except (OSError, ssl.SSLError) as error:
        return f"MQTT broker {where}: connection failed ({error})"
    finally:
        if "reason" in answer and not answer["reason"].is_failure:
            client.disconnect()
        sock = client.socket()
        if sock is not None:
            sock.close()
    reason = answer.get("reason")
    if reason is None:
        return (f"MQTT broker {where}: no CONNACK within {config.connect_timeout_s:g} s "
                "(plain TCP to a TLS port, or not an MQTT broker)")
    if reason.is_failure:
        if reason.value in _AUTH_CODES:
            return f"MQTT broker {where}: authentication refused ({reason})"
        return f"MQTT broker {where}: connection refused ({reason})"
    return None
