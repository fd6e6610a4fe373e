// HyperData pages: progressive enhancement only; every page and form also works without JavaScript.
//
// - Links with [data-dialog] open their form in a modal <dialog> instead of a new page: the form is fetched
//   with the X-Dialog header (the server answers the form alone), submitted with fetch; the server answers
//   {"redirect": url} when it worked, or the form again with the errors next to the fields (status 400).
// - Flash messages fade out after a few seconds.

const DIALOG_HEADERS = { "X-Dialog": "1", "X-Requested-With": "fetch" };

function modal() {
  let dialog = document.getElementById("app-dialog");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "app-dialog";
    dialog.className = "modal";
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
    document.body.append(dialog);
  }
  return dialog;
}

function show(dialog, html, url) {
  dialog.innerHTML = html;
  const form = dialog.querySelector("form");
  if (form) {
    form.action = url;
    form.addEventListener("submit", (event) => submit(event, dialog, url));
  }
  for (const close of dialog.querySelectorAll("[data-close]")) {
    close.addEventListener("click", (event) => {
      event.preventDefault();
      dialog.close();
    });
  }
  const focus = dialog.querySelector(".has-error input, .has-error textarea, [autofocus], input:not([type=hidden]), textarea, button[type=submit]");
  if (focus) focus.focus();
}

async function open(url) {
  const dialog = modal();
  dialog.classList.add("loading");
  dialog.innerHTML = "";
  if (!dialog.open) dialog.showModal();
  try {
    const response = await fetch(url, { headers: DIALOG_HEADERS, credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    show(dialog, await response.text(), url);
  } catch (error) {
    dialog.close();
    window.location.href = url; // fall back to the form's own page
  } finally {
    dialog.classList.remove("loading");
  }
}

async function submit(event, dialog, url) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const response = await fetch(url, { method: "POST", body: new FormData(form), headers: DIALOG_HEADERS, credentials: "same-origin" });
    const type = response.headers.get("Content-Type") || "";
    if (response.ok && type.includes("application/json")) {
      const { redirect } = await response.json();
      window.location.assign(redirect);
      return;
    }
    if (response.status === 400 && type.includes("text/html")) {
      show(dialog, await response.text(), url);
      return;
    }
    throw new Error(`${response.status} ${response.statusText}`);
  } catch (error) {
    form.submit(); // let the browser post the form as a page: the server shows what went wrong
  } finally {
    if (button) button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-dialog]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  open(link.href);
});

for (const message of document.querySelectorAll(".messages .message")) {
  setTimeout(() => message.classList.add("fade"), 4000);
  setTimeout(() => message.remove(), 4400);
}
