"""Every command has help text and is documented in the README (as sqlite-utils does)."""

from pathlib import Path

from atlassian_posture.cli import main
from click.testing import CliRunner

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_command_has_help_and_is_in_the_readme():
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and len(command.help.strip()) > 20, name
        assert f"atlassian-posture {name}" in README, f"{name} is not documented in README.md"


def test_simulate_truth_writes_a_manifest(tmp_path):
    out = tmp_path / "truth.json"
    result = CliRunner().invoke(main, ["simulate-truth", "--size", "tiny", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert '"checks"' in out.read_text()


def test_simulate_refuses_a_non_loopback_address():
    result = CliRunner().invoke(main, ["simulate", "--host", "0.0.0.0", "--size", "tiny"])
    assert result.exit_code != 0
    assert "loopback" in result.output
