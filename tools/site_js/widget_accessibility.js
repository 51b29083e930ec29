// What ipywidgets' views leave out for assistive technology, added on the website's widget pages (the
// explorers of resnet_lib.widgets; myst-nb loads this after the widget manager, _config.yml nb_ipywidgets_js):
//
// * a slider's handle (noUiSlider, role "slider") has no accessible name, and for a SelectionSlider its
//   aria-valuetext is the option's index ("2"), not what the readout shows ("20"): the handle gets the
//   slider's description as aria-label and the readout's text as aria-valuetext, so that a screen reader
//   says "depth, slider, 20";
// * a toggle button does not say whether it is the chosen one: each gets aria-pressed, from ipywidgets'
//   "mod-active" class.
//
// The widgets' own code (the html-manager bundle from npm) is left as it is; this only adds attributes, and
// keeps them in step as the views render and change.
(function () {
  "use strict";
  function describe(root) {
    root.querySelectorAll(".widget-slider").forEach(function (slider) {
      var handle = slider.querySelector(".noUi-handle");
      if (!handle) return;
      var label = slider.querySelector(".widget-label");
      var readout = slider.querySelector(".widget-readout");
      var name = label ? label.textContent.trim() : "";
      if (name && handle.getAttribute("aria-label") !== name) handle.setAttribute("aria-label", name);
      var value = readout ? readout.textContent.trim() : "";
      if (value && handle.getAttribute("aria-valuetext") !== value) handle.setAttribute("aria-valuetext", value);
    });
    root.querySelectorAll(".widget-toggle-buttons button").forEach(function (button) {
      var pressed = String(button.classList.contains("mod-active"));
      if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    Promise.resolve().then(function () { pending = false; describe(document); });
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                        attributes: true, attributeFilter: ["class", "aria-valuetext"]});
  describe(document);
})();
