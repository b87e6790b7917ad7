import logging

from execution.listeners import Listeners


def test_a_failing_listener_is_counted_and_the_others_still_hear():
    heard: list[int] = []
    fan: Listeners[[int]] = Listeners("test")

    def bad(_: int) -> None:
        raise RuntimeError("boom")

    fan.add(bad)
    fan.add(heard.append)
    fan.emit(7)
    assert heard == [7]
    assert fan.errors == 1


def test_adding_twice_calls_once_and_removing_an_absent_listener_is_fine():
    heard: list[int] = []
    fan: Listeners[[int]] = Listeners("test")
    fan.add(heard.append)
    fan.add(heard.append)
    fan.emit(1)
    fan.remove(heard.append)
    fan.remove(heard.append)
    fan.emit(2)
    assert heard == [1]
    assert not fan


def test_a_listener_may_remove_itself_while_being_called(caplog):
    fan: Listeners[[]] = Listeners("test")
    calls: list[str] = []

    def once() -> None:
        calls.append("once")
        fan.remove(once)

    fan.add(once)
    fan.add(lambda: calls.append("other"))
    with caplog.at_level(logging.ERROR):
        fan.emit()
        fan.emit()
    assert calls == ["once", "other", "other"]
    assert fan.errors == 0
