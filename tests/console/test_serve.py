import shlex
import sys

from console.serve import WARNING, console_command


def test_served_command_uses_this_interpreter_by_absolute_path_and_keeps_arguments():
    argv = shlex.split(console_command(["--venue", "sim", "--symbol", "ETH"]))
    assert argv[:3] == [sys.executable, "-m", "console"]
    assert argv[3:] == ["--venue", "sim", "--symbol", "ETH"]


def test_warning_says_there_is_no_login():
    assert "NO LOGIN" in WARNING.format(url="http://127.0.0.1:8000")
