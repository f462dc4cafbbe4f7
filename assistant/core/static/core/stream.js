// Streams a server's reply into the page. Any <form data-stream> posts with fetch; the server
// answers JSON lines: {"event": "start", "html"?}, {"event": "text", "text"} ..., then
// {"event": "done" | "error", "html"}. data-into names the container, data-order "append" or
// "prepend" (default), data-pending the class of the element the text streams into. Its own messages
// come in the page's language from the body's data-request-failed and data-connection-lost.
(function () {
  function fromHtml(html) {
    const holder = document.createElement("div");
    holder.innerHTML = html;
    return holder.firstElementChild;
  }

  function place(container, element, order) {
    if (order === "append") container.append(element);
    else container.prepend(element);
    if (window.htmx) window.htmx.process(element);
  }

  async function send(form) {
    const container = document.querySelector(form.dataset.into);
    const order = form.dataset.order || "prepend";
    const errors = form.querySelector(".errors") || document.querySelector(form.dataset.errors || ".errors");
    const button = form.querySelector("button[type=submit], button:not([type])");
    if (errors) errors.textContent = "";
    if (button) button.disabled = true;
    let pending = null;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value },
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        const failed = (document.body.dataset.requestFailed || "The request failed ({status}).").replace(
          "{status}",
          response.status,
        );
        const messages = Object.values(body.errors || { error: [failed] });
        if (errors) errors.textContent = messages.flat().join(" ");
        return;
      }
      const textarea = form.querySelector("textarea, input[type=text]");
      if (textarea) textarea.value = "";
      pending = document.createElement("article");
      pending.className = form.dataset.pending || "card answer";
      pending.innerHTML = '<div class="text streaming"></div>';
      const text = pending.querySelector(".text");
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
          if (message.event === "start") {
            if (message.html) place(container, fromHtml(message.html), order);
            place(container, pending, order);
          } else if (message.event === "text") {
            text.textContent += message.text;
          } else if (message.event === "done" || message.event === "error") {
            const finished = fromHtml(message.html);
            pending.replaceWith(finished);
            if (window.htmx) window.htmx.process(finished);
            pending = null;
          }
        }
      }
      if (order === "append") container.lastElementChild?.scrollIntoView({ block: "end" });
    } catch (failure) {
      if (errors) {
        errors.textContent =
          document.body.dataset.connectionLost || "The connection to the server was lost; try again.";
      }
      if (pending) pending.remove();
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-stream]");
    if (!form) return;
    event.preventDefault();
    send(form);
  });
})();
