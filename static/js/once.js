// One click, one write: a form marked data-once is sent once. The first submit goes through with
// the button that was pressed (its name tells "save draft" from "submit"); further clicks or Enter
// presses are ignored and the buttons are shown disabled. The server holds the guarantee anyway
// (the form's one-time token); this only spares the second request.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) {
    return;
  }
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.setAttribute("aria-busy", "true");
  // Disabled only after the browser has collected the form's data, which includes the pressed button.
  window.setTimeout(() => {
    for (const button of form.querySelectorAll("button[type=submit], input[type=submit]")) {
      button.disabled = true;
    }
  }, 0);
});
// Back to a page kept in the browser's cache: the form may be used again (the token then answers).
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-once]")) {
    delete form.dataset.sent;
    form.removeAttribute("aria-busy");
    for (const button of form.querySelectorAll("button[type=submit], input[type=submit]")) {
      button.disabled = false;
    }
  }
});
