// Streams an answer into the page: the server sends JSON lines (start, text..., done | error).
(function () {
  const form = document.querySelector("form.ask");
  if (!form) return;
  const answers = document.getElementById("answers");
  const errors = form.querySelector(".errors");
  const button = form.querySelector("button[type=submit]");

  function pendingCard() {
    const card = document.createElement("article");
    card.className = "card answer";
    card.innerHTML = '<div class="text streaming"></div>';
    answers.prepend(card);
    return card;
  }

  function replace(card, html) {
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const finished = holder.firstElementChild;
    card.replaceWith(finished);
    if (window.htmx) window.htmx.process(finished);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    errors.textContent = "";
    button.disabled = true;
    let card = null;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value },
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        errors.textContent = Object.values(body.errors || { error: ["The answer failed (" + response.status + ")."] }).flat().join(" ");
        return;
      }
      card = pendingCard();
      const text = card.querySelector(".text");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const message = JSON.parse(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          if (message.event === "text") text.textContent += message.text;
          else if (message.event === "done" || message.event === "error") replace(card, message.html);
        }
      }
      form.querySelector("textarea").value = "";
    } catch (failure) {
      errors.textContent = "The connection to the server was lost; try again.";
      if (card) card.remove();
    } finally {
      button.disabled = false;
    }
  });
})();
