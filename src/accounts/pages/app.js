// The verify-email and reset-password pages: read the token from the fragment, spend it only on the user's action.
// A plain script from this server's own origin, under a CSP without 'unsafe-inline': it writes text only
// (textContent, never HTML) and talks only to /graphql on the same origin.
(function () {
  "use strict";

  const MIN_LENGTH = 8;
  const MAX_LENGTH = 1024;

  const PAGES = {
    "verify-email": {
      field: "verifyEmail",
      query: "mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }",
      success: "Your email address is verified. You can close this page.",
    },
    "reset-password": {
      field: "resetPassword",
      query: [
        "mutation ResetPassword($token: String!, $newPassword: String!) {",
        "resetPassword(token: $token, newPassword: $newPassword) }",
      ].join(" "),
      success: "Your password has been changed. You can now log in with your new password.",
    },
  };

  const kind = document.getElementById("page").getAttribute("data-page");
  const form = document.getElementById("form");
  const submit = document.getElementById("submit");
  const message = document.getElementById("message");
  const password = document.getElementById("new-password");
  const confirmation = document.getElementById("confirm-password");

  // The token travels in the fragment, which a browser never sends: not with this page's request, not in a
  // Referer. It is read once and taken out of the address bar, so history and bookmarks do not keep it.
  let token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);

  /** Puts a message in the live region; `tone` is "error", "success" or "pending". */
  function show(text, tone) {
    message.textContent = text;
    message.className = "message " + tone;
  }

  if (!token) {
    const missing = "This link is incomplete: it has no token. Open the link from the email again, whole.";
    show(missing, "error");
    return;
  }
  form.classList.remove("hidden");

  /** The reset form's own checks, before anything is sent: { field, text } for the first one broken. */
  function fieldProblem() {
    if (!password) return undefined;
    password.removeAttribute("aria-invalid");
    confirmation.removeAttribute("aria-invalid");
    // Counted in characters (code points), as the server counts them.
    const length = Array.from(password.value).length;
    const tooShort = `The password must be at least ${MIN_LENGTH} characters.`;
    const tooLong = `The password must be at most ${MAX_LENGTH} characters.`;
    if (length < MIN_LENGTH) return { field: password, text: tooShort };
    if (length > MAX_LENGTH) return { field: password, text: tooLong };
    if (confirmation.value !== password.value) return { field: confirmation, text: "The two passwords do not match." };
    return undefined;
  }

  /** Spends the token: the page's one mutation, as JSON (which Apollo's CSRF prevention accepts). */
  async function spend() {
    const variables = password ? { token, newPassword: password.value } : { token };
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: PAGES[kind].query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
    try {
      return await response.json();
    } catch {
      return { errors: [{ message: `The server answered ${response.status}. Try again later.` }] };
    }
  }

  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const problem = fieldProblem();
    if (problem) {
      problem.field.setAttribute("aria-invalid", "true");
      show(problem.text, "error");
      problem.field.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    show("Working…", "pending");
    let body;
    try {
      body = await spend();
    } catch {
      body = { errors: [{ message: "The server could not be reached. Check your connection and try again." }] };
    }
    busy = false;
    submit.disabled = false;
    if (body.data && body.data[PAGES[kind].field] === true) {
      // The token is spent: the form goes, and focus moves to the message that replaces it.
      token = null;
      form.remove();
      show(PAGES[kind].success, "success");
      message.focus();
      return;
    }
    // The server's own message, as it comes ("Invalid or expired token", "Password is too common", ...).
    const first = body.errors && body.errors[0];
    show(first && first.message ? first.message : "Something went wrong. Try again.", "error");
    // The live region reads it out; on the reset form focus goes back to the password, ready for another.
    (password || message).focus();
  });
})();
