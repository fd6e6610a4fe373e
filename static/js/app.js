// HyperData pages: progressive enhancement only; every page and form also works without JavaScript.
//
// - Links with [data-dialog] open their form in a modal <dialog> instead of a new page: the form is fetched
//   with the X-Dialog header (the server answers the form alone), submitted with fetch; the server answers
//   {"redirect": url} when it worked, or the form again with the errors next to the fields (status 400).
// - Flash messages fade out after a few seconds.
// - Narrow screens (static/css/small-screens.css): the menu button opens and closes the side bar; Esc, a click
//   beside it or focus leaving it closes it, and focus goes back to the button.

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

// ------------------------------------------------------------------------------------- side bar on narrow screens

const NARROW = window.matchMedia("(max-width: 760px)"); // the breakpoint of static/css/small-screens.css

function sideMenu() {
  const button = document.getElementById("nav-toggle");
  const nav = document.getElementById("sidenav");
  const backdrop = document.getElementById("nav-backdrop");
  if (!button || !nav) return;
  const isOpen = () => nav.classList.contains("open");

  function setOpen(open, { focus = true } = {}) {
    nav.classList.toggle("open", open);
    document.body.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", String(open));
    if (backdrop) backdrop.hidden = !open;
    if (!focus) return;
    if (open) (nav.querySelector(".nav-item.active") || nav.querySelector("a, button"))?.focus();
    else button.focus();
  }

  button.addEventListener("click", () => setOpen(!isOpen()));
  backdrop?.addEventListener("click", () => setOpen(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      event.stopPropagation(); // Esc here closes the menu, not the page's own Esc action (the frame page's "back")
      setOpen(false);
    }
  }, true);
  // Tabbing out of the open side bar closes it (it covers the page), without pulling focus back.
  nav.addEventListener("focusout", (event) => {
    if (isOpen() && event.relatedTarget && !nav.contains(event.relatedTarget) && event.relatedTarget !== button) {
      setOpen(false, { focus: false });
    }
  });
  // Wide again: the side bar is always shown there, so forget the narrow screen's open state.
  NARROW.addEventListener("change", () => { if (!NARROW.matches && isOpen()) setOpen(false, { focus: false }); });
}

// The crumbs scroll sideways on narrow screens: show their end, the current page.
function crumbsToEnd() {
  const crumbs = document.querySelector(".topbar-context");
  if (crumbs && crumbs.scrollWidth > crumbs.clientWidth) crumbs.scrollLeft = crumbs.scrollWidth;
}

sideMenu();
crumbsToEnd();
