// The console's one script: drag a workflow's stages into a new order. The up and
// down buttons do the same without a mouse (touch, keyboard, no script at all).
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("stages");
    var form = document.getElementById("reorder-form");
    if (!list || !form) return;
    var dragged = null;

    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest(".stage-row");
      if (!dragged) return;
      dragged.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.pk);
    });

    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var over = e.target.closest(".stage-row");
      if (!over || over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });

    list.addEventListener("drop", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var order = Array.prototype.map.call(list.querySelectorAll(".stage-row"), function (row) {
        return row.dataset.pk;
      });
      form.elements.order.value = order.join(",");
      form.submit();
    });

    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
    });
  });
})();
