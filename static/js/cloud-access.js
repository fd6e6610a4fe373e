// Settings → Cloud access: the Test button of each row (POST, answer shown under the row) and the delete
// confirmation.

function csrfToken() {
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value
    || document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1] || "";
}

async function runTest(button) {
  const row = button.closest("tr");
  const result = document.querySelector(`[data-result-for="${row.dataset.credentialId}"]`);
  const text = result.querySelector(".test-result");
  result.hidden = false;
  text.className = "test-result";
  text.textContent = "Testing…";
  button.disabled = true;
  try {
    const response = await fetch(button.dataset.testUrl, { method: "POST", headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }, credentials: "same-origin" });
    const answer = await response.json();
    text.classList.add(answer.ok ? "ok" : "failed");
    text.textContent = `${answer.ok ? "✓" : "✕"} ${answer.message}`;
  } catch {
    text.classList.add("failed");
    text.textContent = "✕ The server did not answer.";
  } finally {
    button.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-test-url]")) button.addEventListener("click", () => runTest(button));
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
