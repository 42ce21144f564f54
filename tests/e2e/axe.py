"""axe-core (from npm: `make node-deps`) run in the page by Playwright.

The Content-Security-Policy allows scripts from the portal's own origin only, and Playwright's
`add_script_tag(content=…/path=…)` writes an inline <script> that the policy blocks. Rather than
switching the policy off for these runs (`bypass_csp`, which would also let through any inline code a
page wrongly carries), the context answers a same-origin address with axe's file, and the page
loads it as an ordinary external script: the pages are checked under the policy they are served with.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Route

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__axe__/axe.min.js"  # answered by the browser context, never by the portal
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"critical", "serious"}


def serve_axe(context: BrowserContext) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `make node-deps` (npm ci)"
    source = AXE.read_bytes()
    context.route(f"**{AXE_PATH}", lambda route: _fulfil(route, source))


def _fulfil(route: Route, source: bytes) -> None:
    route.fulfill(status=200, body=source, content_type="application/javascript")


def violations(page: Page) -> list[dict]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now, each with its impact and nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_PATH)
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }""",
        TAGS,
    )


def report(where: str, found: list[dict]) -> list[str]:
    """One line per blocking (critical or serious) violation on a page, naming its first elements."""
    lines = []
    for violation in found:
        if violation["impact"] not in BLOCKING:
            continue
        nodes = violation["nodes"]
        targets = "; ".join(node["target"] for node in nodes[:4])
        if len(nodes) > 4:
            targets += f"; … ({len(nodes)} in all)"
        summary = " ".join(nodes[0]["summary"].split())[:300]
        impact, rule = violation["impact"], violation["id"]
        lines.append(f"{where}: [{impact}] {rule} ({violation['help']}) at {targets}: {summary}")
    return lines
