"""Packaging checked the way hassfest and HACS would: manifest, hacs.json, strings,
translations and services.yaml. No Home Assistant instance needed.
"""

from __future__ import annotations

import json
from pathlib import Path
import re

from awesomeversion import AwesomeVersion
import yaml

from homeassistant.const import __version__ as HA_VERSION

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components" / "athena"
MANIFEST = json.loads((COMPONENT / "manifest.json").read_text())

# From hassfest's manifest schema (script/hassfest/manifest.py in home-assistant/core).
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
    "virtual",
}


def _keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def test_manifest_like_hassfest() -> None:
    required = {"domain", "name", "codeowners", "documentation", "issue_tracker"}
    assert required <= set(MANIFEST)
    assert MANIFEST["domain"] == COMPONENT.name
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST["integration_type"] in INTEGRATION_TYPES
    assert MANIFEST["config_flow"] is True
    assert AwesomeVersion(MANIFEST["version"]).valid  # custom integrations need one
    # hassfest sorts the keys: domain, name, then alphabetical.
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_requirements_are_pinned_and_tested() -> None:
    tested = {
        line.split("==")[0].lower(): line.strip()
        for line in (ROOT / "requirements_test.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in MANIFEST["requirements"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", requirement)
        assert tested[requirement.split("==")[0].lower()] == requirement


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == MANIFEST["name"]
    assert hacs["render_readme"] is True
    assert hacs["content_in_root"] is False
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(HA_VERSION)


def test_translations_match_strings() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    english = json.loads((COMPONENT / "translations" / "en.json").read_text())
    assert _keys(strings) == _keys(english)


def test_services_are_described_and_translated() -> None:
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text())
    strings = json.loads((COMPONENT / "strings.json").read_text())["services"]
    assert set(services) == set(strings)
    for name, service in services.items():
        assert set(service.get("fields", {})) == set(strings[name]["fields"])
        assert strings[name]["name"]
        assert strings[name]["description"]


def test_every_translation_key_used_in_code_is_translated() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    code = "\n".join(p.read_text() for p in COMPONENT.glob("*.py"))
    used = set(re.findall(r'translation_key="([a-z_]+)"', code))
    used |= set(re.findall(r'_invalid\("([a-z_]+)"', code))
    used |= set(re.findall(r'SourceError\(\s*"([a-z_]+)"', code))
    assert used <= set(strings["exceptions"]) | set(strings["issues"]) | entity_keys
