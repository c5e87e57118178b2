// WebAuthn for contactpoint: security keys and passkeys. The server sends options and
// checks the answer; this file only carries them between the server and the browser.
// Elements: [data-webauthn="get"|"create"] with data-options, data-verify, data-next.

const toBytes = (b64url) => {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};
const toB64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const csrfToken = () => {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
};

const post = async (url, body) => {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, data };
};

const creationOptions = (o) => ({
  ...o,
  challenge: toBytes(o.challenge),
  user: { ...o.user, id: toBytes(o.user.id) },
  excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
});
const requestOptions = (o) => ({
  ...o,
  challenge: toBytes(o.challenge),
  allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
});

const serialise = (credential) => {
  const r = credential.response;
  const response = { clientDataJSON: toB64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toB64url(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = toB64url(r.authenticatorData);
    response.signature = toB64url(r.signature);
    if (r.userHandle) response.userHandle = toB64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
};

const run = async (element) => {
  const error = element.querySelector("[data-webauthn-error]");
  error.hidden = true;
  try {
    const options = await post(element.dataset.options);
    if (!options.ok) throw new Error(options.data.error || "the server refused");
    const create = element.dataset.webauthn === "create";
    const credential = create
      ? await navigator.credentials.create({ publicKey: creationOptions(options.data) })
      : await navigator.credentials.get({ publicKey: requestOptions(options.data) });
    const nameInput = element.querySelector("input[name=key_name]");
    const body = { credential: serialise(credential), name: nameInput ? nameInput.value : "" };
    const url = element.dataset.verify + "?next=" + encodeURIComponent(element.dataset.next || "");
    const answer = await post(url, body);
    if (!answer.ok) throw new Error(answer.data.error || "the security key was not accepted");
    window.location.assign(answer.data.redirect || "/account");
  } catch (exc) {
    error.textContent = "Your security key did not work: " + (exc.message || "try again");
    error.hidden = false;
  }
};

if (window.PublicKeyCredential) {
  for (const element of document.querySelectorAll("[data-webauthn]")) {
    element.hidden = false;
    element.querySelector("button").addEventListener("click", () => run(element));
  }
}
