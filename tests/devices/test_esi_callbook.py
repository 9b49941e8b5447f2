"""The ESI model's call book: the newest instruction per call holds, whatever order retransmissions arrive in.

References are the signals' own fields and RFC 1982 serial-number order for
16-bit ids (65535 is followed by 0).
"""

from devices.esi_signals import CallBook, DrSignal, is_newer_event_id


def test_a_late_retransmission_does_not_undo_a_newer_instruction():
    book = CallBook()
    assert book.receive(DrSignal(41, 600.0, 0.0, 100.0, label="econ"), 0.0) is not None
    assert book.receive(DrSignal(42, 300.0, 300.0, 0.0, label="econ"), 300.0) is not None   # released
    assert book.receive(DrSignal(41, 600.0, 0.0, 100.0, label="econ"), 305.0) is None      # the old one, resent
    assert book.reduction_pct(310.0) == 0.0


def test_deepest_running_call_sets_the_reduction_and_ended_calls_are_forgotten():
    book = CallBook()
    book.receive(DrSignal(1, 3600.0, 100.0, 30.0, label="LM1"), 0.0)
    book.receive(DrSignal(2, 600.0, 200.0, 60.0, label="econ"), 0.0)
    assert [book.reduction_pct(t) for t in (50.0, 150.0, 500.0, 900.0, 3700.0)] == [0.0, 30.0, 60.0, 30.0, 0.0]
    assert book.calls == {}


def test_event_ids_wrap_as_serial_numbers():
    assert is_newer_event_id(0, 65535) and is_newer_event_id(5, 65530)
    assert not is_newer_event_id(65535, 0) and not is_newer_event_id(7, 7)


def test_an_opted_out_call_is_held_but_sheds_nothing_and_a_replacement_keeps_the_answer():
    book = CallBook()
    book.receive(DrSignal(3, 3600.0, 0.0, 40.0, label="LM1"), 0.0)
    assert book.respond(3, opt_in=False) is not None and book.respond(99, opt_in=True) is None
    assert book.reduction_pct(100.0) == 0.0 and book.in_force(100.0) is None
    extended = book.receive(DrSignal(4, 7200.0, 0.0, 40.0, label="LM1"), 200.0)   # the issuer extends the call
    assert extended is not None and extended.opt_in is False and book.in_force(300.0) is None
    book.respond(4, opt_in=True)
    assert book.reduction_pct(300.0) == 40.0


def test_ended_calls_are_handed_back_once_in_end_order():
    book = CallBook()
    book.receive(DrSignal(1, 600.0, 0.0, 20.0, label="a"), 0.0)
    book.receive(DrSignal(2, 300.0, 0.0, 50.0, label="b"), 0.0)
    assert book.next_change_s(0.0) == 300.0
    assert [c.key for c in book.expire(299.0)] == []
    assert [(c.key, c.end_s) for c in book.expire(600.0)] == [("b", 300.0), ("a", 600.0)]
    assert book.expire(700.0) == [] and book.calls == {}
