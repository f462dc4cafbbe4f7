// A citation's passage opens over the answer that cites it (a dialog), on a phone as on a desktop.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "passage") return;
  const dialog = document.getElementById("passage-dialog");
  if (dialog && !dialog.open) dialog.showModal();
});
document.addEventListener("click", (event) => {
  const dialog = document.getElementById("passage-dialog");
  if (dialog && event.target === dialog) dialog.close();
});
