// GOV.UK Frontend's components, started from a file (the CSP allows no inline script).
import { initAll } from "/assets/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// "Print this record": a button only where a script can print (hidden without one).
for (const button of document.querySelectorAll("[data-cp-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
