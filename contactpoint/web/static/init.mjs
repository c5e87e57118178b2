// GOV.UK Frontend's components, started from a file (the CSP allows no inline script).
import { initAll } from "/assets/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
