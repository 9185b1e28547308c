import json

import pytest

from healthbot.cli import main


def test_red_flags_json(capsys):
    assert main(["red-flags", "--json", "my", "dad", "collapsed"]) == 1
    flags = json.loads(capsys.readouterr().out)
    assert flags and flags[0]["id"].startswith("RF")


def test_no_red_flags(capsys):
    assert main(["red-flags", "no chest pain, just a cold"]) == 0
    assert "no red flags" in capsys.readouterr().out


def test_help_everywhere(capsys):
    for argv in (["--help"], ["red-flags", "--help"], ["triage", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
    assert "triage" in capsys.readouterr().out
