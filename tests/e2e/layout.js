// Measures one page for tests/e2e/test_layout.py and returns the problems found, as sentences.
// Hidden elements (display: none, zero size, a closed <details> or menu) are skipped.
({ menuOnOneLine, minChartFont }) => {
  const problems = [];
  const width = window.innerWidth;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== "hidden";
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    const classes = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\s+/).slice(0, 3).join(".") : "";
    return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}> "${text.slice(0, 40)}"`;
  };
  // The nearest ancestor that scrolls or clips sideways: what sticks out inside it is that box's business.
  const clippedBy = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(a).overflowX)) return a;
    }
    return null;
  };
  // Bootstrap asks for smooth scrolling; measurements need the page where it is now.
  const scrollTo = (top) => window.scrollTo({ top, left: 0, behavior: "instant" });

  // 1. The page itself never scrolls sideways.
  if (document.documentElement.scrollWidth > width) {
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => visible(el) && el.getBoundingClientRect().right > width + 1 && !clippedBy(el))
      .filter((el, _, all) => !all.some((other) => other !== el && other.contains(el)))
      .slice(0, 5).map(name);
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide in ${width}px: ${wide.join(", ")}`);
  }

  // 2. At a laptop's width, on the portal's pages: each menu item on one line, each list of the
  //    menu on one row.
  const navbar = document.querySelector(".navbar");
  if (menuOnOneLine && navbar) {
    const items = [...navbar.querySelectorAll(".nav-link, .navbar-text, .btn, .navbar-brand")]
      .filter(visible).filter((el) => !el.closest(".dropdown-menu"));
    if (!items.length || !visible(navbar.querySelector(".navbar-nav"))) problems.push("the menu is folded");
    for (const el of items) {
      const cs = getComputedStyle(el);
      const line = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5;
      const padding = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"]
        .reduce((sum, side) => sum + parseFloat(cs[side]), 0);
      const lines = (el.getBoundingClientRect().height - padding) / line;
      if (lines > 1.5) problems.push(`menu item on ${Math.round(lines)} lines: ${name(el)}`);
    }
    for (const list of navbar.querySelectorAll(".navbar-nav")) {
      const middles = items.filter((el) => list.contains(el))
        .map((el) => { const r = el.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
      if (Math.max(...middles) - Math.min(...middles) > 12) problems.push(`the menu wraps: ${name(list)}`);
    }
  }

  // 3. A select shows its whole choice, unless that choice is wider than the page's column
  //    (a unit's full name on a phone): Bootstrap's arrow takes the right padding.
  const column = (document.querySelector("main, #content") || document.body).clientWidth;
  const ctx = document.createElement("canvas").getContext("2d");
  for (const select of document.querySelectorAll("main select, #content select")) {
    if (!visible(select) || select.multiple || select.size > 1 || select.selectedIndex < 0) continue;
    const cs = getComputedStyle(select);
    ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const text = select.options[select.selectedIndex].text.trim();
    const padding = parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight);
    const needed = ctx.measureText(text).width;
    if (needed > select.clientWidth - padding + 1 && needed + padding <= column) {
      problems.push(`select cuts "${text}" (${Math.round(needed)}px of text, ${select.clientWidth}px box): ${name(select)}`);
    }
  }

  // 4. The main actions are reached by scrolling down only: inside the window sideways, not covered.
  const actions = [...document.querySelectorAll(
    "main button, main .btn, #content input[type=submit], #content .button, #content button")]
    .filter(visible).filter((el) => !el.closest("details:not([open]), .dropdown-menu, .collapse:not(.show)"));
  for (const el of actions) {
    scrollTo(window.scrollY + el.getBoundingClientRect().top - window.innerHeight / 2);
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.right > width + 1) {
      problems.push(`action outside the window (${Math.round(r.left)} to ${Math.round(r.right)}px): ${name(el)}`);
      continue;
    }
    const box = clippedBy(el)?.getBoundingClientRect();
    if (box && (r.left < box.left - 1 || r.right > box.right + 1)) {
      problems.push(`action hidden in a box scrolling sideways: ${name(el)}`);
      continue;
    }
    const x = Math.min(Math.max(r.left + r.width / 2, 0), width - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    if (hit && hit !== el && !el.contains(hit) && !hit.contains(el)) {
      problems.push(`action covered by ${name(hit)}: ${name(el)}`);
    }
  }
  scrollTo(0);

  // 5. Chart text at the size the reader sees it.
  for (const text of document.querySelectorAll("svg text")) {
    if (!visible(text)) continue;
    const ctm = text.getScreenCTM();
    const size = parseFloat(getComputedStyle(text).fontSize) * (ctm ? Math.hypot(ctm.a, ctm.b) : 1);
    if (size < minChartFont) {
      problems.push(`chart text at ${size.toFixed(1)}px: "${text.textContent.trim().slice(0, 30)}"`);
      break;
    }
  }
  return problems;
}
