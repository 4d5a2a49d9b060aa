"""The generated parts of infra/gridtape.yaml: committed text equals a fresh generation from the
ISO table and metrics.py, a change to either is caught, and the YAML writer round-trips."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.stack import cfn_yaml, template_gen
from app.stack import template as tpl
from gridtape import isos


def test_committed_template_is_freshly_generated() -> None:
    assert template_gen.stale() == [], "infra/gridtape.yaml is stale: run `gridtape stack generate`"


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / "gridtape.yaml"
    path.write_text(tpl.TEMPLATE.read_text())
    return path


def test_a_hand_edit_inside_a_generated_section_is_stale(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text()
    edited = text.replace("ScheduleExpression: rate(1 minute)", "ScheduleExpression: rate(5 minutes)", 1)
    assert edited != text
    path.write_text(edited)
    assert template_gen.stale(path) == ["pollers"]
    assert template_gen.write(path) is True
    assert path.read_text() == text
    assert template_gen.write(path) is False


def test_a_new_iso_table_row_makes_the_template_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _copy(tmp_path)
    extra = dataclasses.replace(isos.BY_CODE["SPP"], code="ZZISO", name="Test ISO")
    monkeypatch.setattr(isos, "TABLE", (*isos.TABLE, extra))
    assert set(template_gen.stale(path)) == {"pollers", "alarms", "outputs"}
    template_gen.write(path)
    resources = tpl.load_template(path)["Resources"]
    assert {"PollZzisoFunction", "PollZzisoRole", "ZzisoLmpDataAgeAlarm", "ZzisoLoadDataAgeAlarm"} <= set(resources)


def test_hand_written_text_outside_the_markers_is_kept(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text().replace("Description: Deployment name", "Description: Deployment NAME", 1)
    path.write_text(text)
    assert template_gen.stale(path) == []
    assert template_gen.render(text) == text


def test_a_missing_marker_is_an_error(tmp_path: Path) -> None:
    text = tpl.TEMPLATE.read_text().replace("  # <<< generated: alarms\n", "")
    with pytest.raises(tpl.DeployError, match="alarms"):
        template_gen.render(text)


def test_yaml_writer_round_trips_the_short_forms() -> None:
    value = {
        "R": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "A": cfn_yaml.Ref("EnvName"),
                "B": cfn_yaml.Sub("arn:${AWS::Partition}:logs:*:log-group:/x-${EnvName}:*"),
                "C": cfn_yaml.GetAtt("DataKey.Arn"),
                "D": cfn_yaml.If(["OnAws", {"S3Key": "k"}, {"ZipFile": "x\n  y\n"}]),
                "E": cfn_yaml.Join([",", [cfn_yaml.Ref("A"), cfn_yaml.Ref("B")]]),
                "F": ["*", "$LATEST", "2012-10-17", "yes", 60, True],
            },
        }
    }
    text = cfn_yaml.dump(value)
    assert "!Ref EnvName" in text and "!GetAtt DataKey.Arn" in text
    assert cfn_yaml.load(text) == {
        "R": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "A": {"Ref": "EnvName"},
                "B": {"Fn::Sub": "arn:${AWS::Partition}:logs:*:log-group:/x-${EnvName}:*"},
                "C": {"Fn::GetAtt": ["DataKey", "Arn"]},
                "D": {"Fn::If": ["OnAws", {"S3Key": "k"}, {"ZipFile": "x\n  y\n"}]},
                "E": {"Fn::Join": [",", [{"Ref": "A"}, {"Ref": "B"}]]},
                "F": ["*", "$LATEST", "2012-10-17", "yes", 60, True],
            },
        }
    }


def test_cli_check_reports_staleness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.commands import stack as command

    path = _copy(tmp_path)
    monkeypatch.setattr(template_gen, "TEMPLATE", path)
    assert command._generate(check=True) == 0
    path.write_text(path.read_text().replace("MemorySize: 512", "MemorySize: 1024", 1))
    assert command._generate(check=True) == 1
    assert "pollers" in capsys.readouterr().out
    assert command._generate(check=False) == 0
    assert command._generate(check=True) == 0
