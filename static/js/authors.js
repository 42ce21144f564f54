// The authors (tác giả) of the initiative form. "Thêm dòng tác giả" adds a row here instead of
// sending the form (without this script it sends it and the page comes back one row longer, as
// typed); each row gets a "Xóa" button; the shares' running total is shown as one types and warns
// while it is not 100 %. The server still checks the shares: this only saves a round trip.
"use strict";
(() => {
  const box = document.querySelector("[data-author-rows]");
  if (!box) {
    return;
  }
  const prefix = box.dataset.prefix;
  const max = Number(box.dataset.max);
  const list = box.querySelector("[data-author-list]");
  const model = box.querySelector("template[data-author-template]").content.querySelector("[data-author-row]");
  const totalForms = box.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
  const add = box.querySelector("[data-add-author]");
  const limit = box.querySelector("[data-author-limit]");
  const summary = box.querySelector("[data-share-total]");
  const sum = box.querySelector("[data-share-sum]");
  const warning = box.querySelector("[data-share-warning]");
  // The labels of a row, with "__number__" where its number goes (taken from the template row).
  const rowLabel = model.getAttribute("aria-label");
  const removeLabel = model.querySelector("[data-remove-author]").getAttribute("aria-label");
  // "authors-3-" (or the template's "authors-__prefix__-") inside names, ids and label targets.
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const indexed = new RegExp(`${escaped}-(\\d+|__prefix__)-`, "g");
  const attributes = ["name", "id", "for", "aria-describedby"];

  const rows = () => Array.from(list.querySelectorAll("[data-author-row]"));

  // Rows numbered 0, 1, 2… as the formset reads them, and TOTAL_FORMS saying how many there are.
  function renumber() {
    const all = rows();
    all.forEach((row, index) => {
      const number = String(index + 1);
      row.setAttribute("aria-label", rowLabel.replace("__number__", number));
      for (const element of row.querySelectorAll("*")) {
        for (const attribute of attributes) {
          const value = element.getAttribute(attribute);
          if (value) {
            element.setAttribute(attribute, value.replace(indexed, `${prefix}-${index}-`));
          }
        }
      }
      const remove = row.querySelector("[data-remove-author]");
      remove.hidden = false;
      remove.setAttribute("aria-label", removeLabel.replace("__number__", number));
    });
    totalForms.value = String(all.length);
    add.disabled = all.length >= max;
    limit.hidden = all.length < max;
  }

  // A share as typed ("33,5" or "33.5") in hundredths of a percent; null when it is not a number.
  function hundredths(text) {
    const value = text.trim().replace(",", ".");
    return /^\d{1,3}(\.\d{1,2})?$/.test(value) ? Math.round(Number(value) * 100) : null;
  }

  function shown(total) {
    const whole = Math.trunc(total / 100);
    const rest = total % 100;
    return rest ? `${whole},${String(rest).padStart(2, "0").replace(/0$/, "")}` : String(whole);
  }

  function updateTotal() {
    let total = 0;
    let typed = false;
    let unreadable = false;
    for (const input of list.querySelectorAll(`input[name$="-share_percent"]`)) {
      if (input.value.trim() === "") {
        continue;
      }
      typed = true;
      const share = hundredths(input.value);
      if (share === null) {
        unreadable = true;
      } else {
        total += share;
      }
    }
    sum.textContent = shown(total);
    const wrong = typed && (unreadable || total !== 10000);
    warning.hidden = !wrong;
    summary.classList.toggle("text-danger", wrong);
    summary.classList.toggle("text-success", typed && !wrong);
  }

  function addRow() {
    if (rows().length >= max) {
      return;
    }
    const row = model.cloneNode(true);
    list.append(row);
    renumber();
    row.querySelector("input").focus();
  }

  function removeRow(row) {
    const all = rows();
    if (all.length === 1) {
      // The last row stays, emptied: an empty row is no author.
      for (const input of row.querySelectorAll("input")) {
        input.value = "";
      }
      row.querySelector("input").focus();
    } else {
      const next = all[all.indexOf(row) + 1] || all[all.indexOf(row) - 1];
      row.remove();
      renumber();
      next.querySelector("input").focus();
    }
    updateTotal();
  }

  // With the script the button only adds a row: as a plain button it is not the form's default
  // either, so Enter in a field still saves the draft.
  add.type = "button";
  box.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("[data-add-author]")) {
      event.preventDefault();
      addRow();
      return;
    }
    const remove = target && target.closest("[data-remove-author]");
    if (remove) {
      event.preventDefault();
      removeRow(remove.closest("[data-author-row]"));
    }
  });
  box.addEventListener("input", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name.endsWith("-share_percent")) {
      updateTotal();
    }
  });
  renumber();
  updateTotal();
  summary.hidden = false;
})();
