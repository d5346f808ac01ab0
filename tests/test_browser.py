"""Athena as a person meets it in Home Assistant's UI, in a real browser.

scripts/develop runs as a process with its own config folder and ports (a real HA
with the demo devices, Athena on llama.cpp + SmolLM2); Playwright drives Debian's
Chromium (/usr/bin/chromium, installed by scripts/setup; Playwright never downloads
a browser here). Logged in as the dev user, the test opens Athena's integration page
and its add-agent form, then the Assist dialog, and asks "turn on the kitchen
lights" and "who wrote hamlet". It checks what HA's own UI shows: no "This assistant
cannot control your home.", the replies, the light on, the brand icon served by HA,
the titles and button names, no raw translation key on any page.

Screenshots go to .cache/browser/; with ATHENA_SCREENSHOTS=docs the README's two
(docs/ui-integration.png, docs/ui-assist.png) are refreshed too.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import time
import urllib.request

from playwright.sync_api import Page, Response, expect, sync_playwright
import pytest

from .real_llm import ROOT, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (ROOT / ".venv-llm" / "bin" / "python").exists(),
        reason="needs .venv-llm (scripts/setup)",
    ),
]

CHROMIUM = "/usr/bin/chromium"
# Headless flags that work offline on these machines: without the background
# networking ones Chromium keeps calling Google's hosts, refused here.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Two cores, shared with HA, llama.cpp and Chromium: the UI may take its time.
expect.set_options(timeout=30_000)
SHOTS = ROOT / ".cache" / "browser"
DOCS = ROOT / "docs"
LIGHT = "light.kitchen_lights"
USER, PASSWORD = "athena", "athena-dev"  # scripts/bootstrap_dev.py's dev user
NO_CONTROL = "This assistant cannot control your home."
SERVER_DEVICE_NAME = (
    "{{ device_attr(device_id("
    "'sensor.athena_backend_openai_compatible_average_tokens_per_second'), 'name')"
    " | tojson }}"
)
# A translation key the frontend could not translate shows as the key itself:
# "component.athena.config.step.user.title", "ui.panel...", "[%key:...%]".
RAW_KEY = re.compile(
    r"\b(?:component|ui|state_attributes)\.[a-z0-9_]+\.[a-z0-9_.]+|\[%key:"
)

# Every text node of the page, shadow roots included (HA's UI is web components).
DEEP_TEXT = """() => {
  const out = [];
  const walk = (root) => {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (it.nextNode()) {
      const tag = it.currentNode.parentNode && it.currentNode.parentNode.nodeName;
      if (tag !== 'SCRIPT' && tag !== 'STYLE') out.push(it.currentNode.nodeValue);
    }
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document.body);
  return out.join(' ').replace(/\\s+/g, ' ');
}"""

# The Assist dialog's messages: [who, text] each, from ha-assist-chat's shadow root.
ASSIST_MESSAGES = """() => {
  const find = (root) => {
    const hit = root.querySelector('ha-assist-chat');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; }
    }
    return null;
  };
  const text = (node) => {
    let s = '';
    const walk = (root) => {
      const it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      while (it.nextNode()) s += it.currentNode.nodeValue;
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(node);
    return s.replace(/\\s+/g, ' ').trim();
  };
  const chat = find(document);
  if (!chat) return [];
  return [...chat.shadowRoot.querySelectorAll('.message-container')].map(
    (c) => [c.classList.contains('user') ? 'user' : 'hass', text(c)]);
}"""


class Develop:
    """scripts/develop running: its URL and the dev instance's long-lived token."""

    def __init__(self, url: str, config: Path) -> None:
        self.url = url
        self.token = (config / ".athena_token").read_text().strip()

    def rest(self, path: str, body: dict[str, object] | None = None) -> object:
        """Call HA's REST API (POST when `body` is given); the decoded JSON."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def state(self) -> str:
        """HA's run state ("NOT_RUNNING", "STARTING", "RUNNING"...)."""
        config = self.rest("/api/config")
        assert isinstance(config, dict)
        return str(config["state"])

    def server_device(self) -> str:
        """The llama.cpp server device's name in HA's device registry."""
        return str(self.rest("/api/template", {"template": SERVER_DEVICE_NAME}))

    def light(self) -> str:
        """The kitchen light's state."""
        state = self.rest(f"/api/states/{LIGHT}")
        assert isinstance(state, dict)
        return str(state["state"])


@pytest.fixture
def develop(tmp_path: Path, socket_enabled: None) -> Iterator[Develop]:
    """scripts/develop on free ports with a fresh config folder, until it is ready."""
    config = tmp_path / "config"
    port = free_port()
    env = {
        **os.environ,
        "ATHENA_DEV_CONFIG": str(config),
        "ATHENA_HA_PORT": str(port),
        "ATHENA_LLM_PORT": str(free_port()),
        "ATHENA_DEV_SETUP": "0",  # the environments exist; a test must not rebuild them
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"scripts/develop exited {proc.wait()}:\n{''.join(output)}")
            output.append(line)
            if line.startswith("Home Assistant is ready"):
                break
        else:
            pytest.fail(f"scripts/develop not ready in 300 s:\n{''.join(output)}")
        instance = Develop(f"http://127.0.0.1:{port}", config)
        # Athena answers before HA has finished starting (onboarding's integrations
        # wait for a network this machine has not): wait, so no startup toast shows.
        while instance.state() != "RUNNING":
            if time.monotonic() > deadline:
                pytest.fail(f"HA still {instance.state()} after 300 s")
            time.sleep(1)
        yield instance
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


@pytest.fixture
def page(develop: Develop) -> Iterator[Page]:
    """A logged-in page of the dev instance in Debian's Chromium."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(30_000)
        page.goto(f"{develop.url}/")
        page.locator("input[name=username]").fill(USER)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{develop.url}/home/**")
        yield page
        browser.close()


def shoot(page: Page, name: str, docs: str | None = None) -> None:
    """Save a screenshot under .cache/browser/ (and docs/`docs` when asked).

    A toast of HA's startup ("Starting Radio Browser...": onboarding's integrations
    wait for a network this machine has not) is dismissed first.
    """
    dismiss = page.get_by_role("button", name="Dismiss")
    if dismiss.count():
        dismiss.first.click()
        expect(dismiss).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png")
    if docs and os.environ.get("ATHENA_SCREENSHOTS") == "docs":
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=DOCS / docs)


def deep_text(page: Page) -> str:
    """All the text the page shows, shadow roots included."""
    return str(page.evaluate(DEEP_TEXT))


def assert_translated(page: Page) -> None:
    """No translation key shows raw on the page."""
    assert not RAW_KEY.findall(deep_text(page)), RAW_KEY.findall(deep_text(page))


def test_athena_in_home_assistants_ui(page: Page, develop: Develop) -> None:
    base = develop.url
    brand: list[Response] = []
    page.on(
        "response",
        lambda r: (
            brand.append(r) if "/api/brands/integration/athena/" in r.url else None
        ),
    )

    # The integration page: the owl, the server titled by what it is, two buttons
    # that say what they add, the agent.
    page.goto(f"{base}/config/integrations/integration/athena")
    expect(page.get_by_text("llama.cpp on 127.0.0.1").first).to_be_visible()
    expect(page.get_by_role("button", name="Add LLM server")).to_be_visible()
    add_agent = page.get_by_role("button", name="Add conversation agent")
    expect(add_agent).to_be_visible()
    icon = page.locator("img[src*='/api/brands/integration/athena/icon']").first
    expect(icon).to_be_visible()
    assert icon.evaluate("img => img.complete && img.naturalWidth") >= 256
    assert any(r.status == 200 for r in brand), [(r.status, r.url) for r in brand]
    assert_translated(page)
    shoot(page, "integration", docs="ui-integration.png")

    # The add-agent form: titled, described, a name that is not taken yet.
    add_agent.click()
    expect(page.get_by_text("An agent answers in Assist with its own")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name")).to_have_value("Athena 2")
    expect(page.get_by_text("How freely the model picks its words")).to_be_visible()
    shown = deep_text(page)
    assert "Conversation agent" in shown
    assert "Keep alive" not in shown  # Ollama only; this is llama.cpp
    assert_translated(page)
    shoot(page, "add-agent")
    page.keyboard.press("Escape")

    # Assist: Athena is the preferred pipeline's agent and may control the home.
    develop.rest("/api/services/light/turn_off", {"entity_id": LIGHT})
    assert develop.light() == "off"
    page.goto(f"{base}/home/overview")
    page.get_by_role("button", name="Assist (A)").click()
    request = page.get_by_role("textbox", name="Enter a request")
    expect(request).to_be_visible()
    replies: list[str] = []
    for text in ("turn on the kitchen lights", "who wrote hamlet"):
        request.fill(text)
        request.press("Enter")
        replies.append(reply_to(page, len(replies) + 1))
    assert "Turned on" in replies[0], replies
    assert replies[1] and "couldn't understand" not in replies[1], replies
    assert develop.light() == "on"
    assert NO_CONTROL not in deep_text(page)
    assert_translated(page)
    shoot(page, "assist")
    if os.environ.get("ATHENA_SCREENSHOTS") == "docs":
        box = page.locator("ha-voice-command-dialog dialog").bounding_box()
        assert box is not None
        page.screenshot(path=DOCS / "ui-assist.png", clip=_around(box, 24))

    # The server's device after those turns: short names, an icon each, figures
    # llama-cpp-python's server streams none of unavailable rather than Unknown.
    # A server too busy at setup to say what it is names its device at the next
    # health check (a minute later at most).
    deadline = time.monotonic() + 90
    while develop.server_device() != "llama.cpp on 127.0.0.1":
        assert time.monotonic() < deadline, develop.server_device()
        time.sleep(1)
    page.goto(f"{base}/config/integrations/integration/athena")
    page.get_by_text("llama.cpp on 127.0.0.1").nth(1).click()
    expect(page.get_by_text("llama-cpp-python")).to_be_visible()
    expect(page.get_by_text("Tokens per second")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the icons load on demand
    # A device card row reads "<state> <name>" in the page's text.
    shown = deep_text(page)
    diagnostic = shown[shown.index("Diagnostic") :]
    assert "Unavailable Evaluated tokens" in diagnostic, diagnostic
    assert "Unavailable Cached tokens" in diagnostic, diagnostic
    assert re.search(r"[\d.]+ tokens/s Tokens per second", diagnostic), diagnostic
    assert_translated(page)
    shoot(page, "device")


def reply_to(page: Page, turn: int, seconds: float = 60) -> str:
    """Wait for the reply of the `turn`-th request (greeting not counted) to stop
    growing (replies stream), and return its text.
    """
    deadline = time.monotonic() + seconds
    last, steady = "", 0
    while time.monotonic() < deadline:
        hass = [text for who, text in page.evaluate(ASSIST_MESSAGES) if who == "hass"]
        text = hass[turn] if len(hass) > turn else ""
        if text.strip(".… ") == "":  # HA's "…" while the agent thinks
            text = ""
        steady = steady + 1 if text and text == last else 0
        if steady >= 3:
            return text
        last = text
        page.wait_for_timeout(300)
    pytest.fail(f"no reply to request {turn} within {seconds} s: {last!r}")


def _around(box: dict[str, float], margin: float) -> dict[str, float]:
    """A clip rectangle `margin` pixels around `box`."""
    return {
        "x": max(box["x"] - margin, 0),
        "y": max(box["y"] - margin, 0),
        "width": box["width"] + 2 * margin,
        "height": box["height"] + 2 * margin,
    }
